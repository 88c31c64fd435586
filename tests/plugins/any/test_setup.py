"""Setup of *any*: no arguments, no block; one handler however often it is written."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.any import setup
from dnsd.plugins.any.handler import Any
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "any")


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    error: str | None = None


CASES = [
    SetupCase("plain", ". {\n    any\n}\n"),
    SetupCase("twice", ". {\n    any\n    any\n}\n"),
    SetupCase(
        "argument",
        ". {\n    any hinfo\n}\n",
        error="Corefile:2: any: wrong argument count or unexpected line ending after 'hinfo'",
    ),
    SetupCase(
        "block",
        ". {\n    any {\n        ttl 5\n    }\n}\n",
        error="Corefile:3: any: unknown property 'ttl'",
    ),
    SetupCase(
        "bad-second-line",
        ". {\n    any\n    any x\n}\n",
        error="Corefile:3: any: wrong argument count or unexpected line ending after 'x'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            setup(c)
        assert str(info.value) == case.error
        assert c.block.handlers == []
    else:
        setup(c)
        assert len(c.block.handlers) == 1
        assert isinstance(c.block.handlers[0], Any)
