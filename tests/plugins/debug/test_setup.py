"""Setup of *debug*: no arguments, no block; repeating it is allowed, as in CoreDNS."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from dnsd import corefile
from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.instance import Block, Instance
from dnsd.plugin import REGISTRY
from dnsd.plugins.debug import setup


def controller(text: str) -> Controller:
    sb = corefile.parse(text, "Corefile", directives=REGISTRY.names())[0]
    block = Block(keys=sb.keys, addrs=[], zones=["."], root=os.getcwd())
    return Controller("debug", sb.directives["debug"], block, Instance(filename="Corefile"))


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    error: str | None = None


CASES = [
    SetupCase("plain", ". {\n    debug\n}\n"),
    SetupCase("twice", ". {\n    debug\n    debug\n}\n"),
    SetupCase(
        "argument",
        ". {\n    debug off\n}\n",
        error="Corefile:2: debug: wrong argument count or unexpected line ending after 'off'",
    ),
    SetupCase(
        "block",
        ". {\n    debug {\n        pcap\n    }\n}\n",
        error="Corefile:3: debug: unknown property 'pcap'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            setup(c)
        assert str(info.value) == case.error
        assert "debug" not in c.block.settings
    else:
        setup(c)
        assert c.block.settings == {"debug": True}
        assert c.block.handlers == []
