"""Setup of *debug*: no arguments, no block; repeating it is allowed, as in CoreDNS."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.debug import setup
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "debug")


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
