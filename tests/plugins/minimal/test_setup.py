"""Setup of *minimal*: no argument, no block property."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.plugins.minimal import setup
from dnsd.plugins.minimal.handler import Minimal
from dnsd.plugins.minimal.setup import MinimalOptions, parse
from dnsd.testing import check_parse, setup_controller


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: MinimalOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("bare", ". {\n    minimal\n}\n", MinimalOptions()),
    SetupCase("twice", ". {\n    minimal\n    minimal\n}\n", MinimalOptions()),
    SetupCase("empty-block", ". {\n    minimal {\n    }\n}\n", MinimalOptions()),
    SetupCase(
        "argument",
        ". {\n    minimal example.org\n}\n",
        error="Corefile:2: minimal: wrong argument count or unexpected line ending after "
        "'example.org'",
    ),
    SetupCase(
        "yes",
        ". {\n    minimal\n    minimal yes\n}\n",
        error="Corefile:3: minimal: wrong argument count or unexpected line ending after 'yes'",
    ),
    SetupCase(
        "property",
        ". {\n    minimal {\n        ignored\n    }\n}\n",
        error="Corefile:3: minimal: unknown property 'ignored'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, "minimal", parse, want=case.want, error=case.error)


def test_setup_adds_one_handler() -> None:
    c = setup_controller(". {\n    minimal\n    minimal\n}\n", "minimal")
    setup(c)
    [handler] = c.block.handlers
    assert isinstance(handler, Minimal)
