"""*debug* through the real server: DEBUG logging on and off, tracebacks of panics."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import dns.rcode
import pytest

from dnsd.testing import serve_corefile
from tests.integration.stubs import stub_plugin

PANIC = ". {{\n{debug}    stub raise\n}}\n"


@pytest.fixture(autouse=True)
def keep_root_level() -> Iterator[None]:
    """The runtime sets the root logger's level; put it back after each test."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
async def test_panic_traceback_only_with_debug(
    debug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    text = PANIC.format(debug="    debug\n" if debug else "")
    with stub_plugin(), caplog.at_level(logging.INFO, logger="dnsd"):
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL
    panics = [r for r in caplog.records if "Recovered from panic" in r.getMessage()]
    assert len(panics) == 1
    assert "plugin/stub" in panics[0].getMessage()
    assert (panics[0].exc_info is not None) == debug
    if debug:
        assert panics[0].exc_info is not None
        assert isinstance(panics[0].exc_info[1], RuntimeError)


async def test_debug_level_follows_reloads() -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    async with serve_corefile(". {\n    debug\n    whoami\n}\n") as srv:
        assert root.level == logging.DEBUG
        assert await srv.reload(". {\n    whoami\n}\n")
        assert root.level == logging.INFO
        assert await srv.reload(". {\n    debug\n    whoami\n}\n")
        assert root.level == logging.DEBUG
