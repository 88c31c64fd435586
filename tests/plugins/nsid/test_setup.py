"""Setup of *nsid*: DATA (arguments joined), the hostname by default, once per block."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from dnsd.plugins.nsid import setup
from dnsd.plugins.nsid.handler import Nsid
from dnsd.plugins.nsid.setup import NsidOptions, parse
from dnsd.testing import check_parse, setup_controller


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: NsidOptions | None = None
    error: str | None = None


def line(args: str) -> str:
    return f". {{\n    nsid{args}\n}}\n"


CASES = [
    SetupCase("default-hostname", line(""), NsidOptions(data=socket.gethostname())),
    SetupCase("data", line(" ps0"), NsidOptions(data="ps0")),
    SetupCase("joined", line(" ps0 'ps1'"), NsidOptions(data="ps0 'ps1'")),
    SetupCase("quoted", line(' "dns server 7"'), NsidOptions(data="dns server 7")),
    SetupCase("empty-block", ". {\n    nsid ps0 {\n    }\n}\n", NsidOptions(data="ps0")),
    SetupCase(
        "twice",
        ". {\n    nsid one\n    nsid two\n}\n",
        error="Corefile:3: nsid: can only be used once per server block",
    ),
    SetupCase(
        "property",
        ". {\n    nsid ps0 {\n        data x\n    }\n}\n",
        error="Corefile:3: nsid: unknown property 'data'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, "nsid", parse, want=case.want, error=case.error)


def test_default_is_the_hostname() -> None:
    assert NsidOptions().data == socket.gethostname()


def test_setup_adds_the_handler() -> None:
    c = setup_controller(line(" dnsd-7"), "nsid")
    setup(c)
    [handler] = c.block.handlers
    assert isinstance(handler, Nsid)
    assert handler.data == b"dnsd-7"
