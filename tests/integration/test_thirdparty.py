"""A plugin installed with pip is found through the dnsd.plugins entry point."""

from __future__ import annotations

import importlib.metadata

import dns.rcode
import pytest

from dnsd.plugin import REGISTRY
from dnsd.testing import serve_corefile


def _installed() -> None:
    names = {ep.name for ep in importlib.metadata.entry_points(group="dnsd.plugins")}
    if "hello" not in names:
        pytest.fail("tests/thirdparty/dnsd-hello is not installed: run the README's test command")


def test_entry_point_plugin_takes_its_place_in_the_order() -> None:
    _installed()
    names = REGISTRY.names()
    assert names.index("hello") == names.index("log") + 1


async def test_entry_point_plugin_serves() -> None:
    _installed()
    async with serve_corefile("example.org {\n    hello hi\n    whoami\n}\n") as srv:
        reply = await srv.query("hello.example.org", "TXT")
        assert reply.rcode() == dns.rcode.NOERROR
        assert [rd.strings for rrset in reply.answer for rd in rrset] == [(b"hi",)]
        other = await srv.query("other.example.org", "TXT")  # passed on to whoami
        assert other.answer == [] and other.additional
