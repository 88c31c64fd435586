"""Setup of *chaos*: VERSION and AUTHORS, defaults, once per block, no properties."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd import __version__
from dnsd.plugins.chaos import setup
from dnsd.plugins.chaos.handler import Chaos
from dnsd.plugins.chaos.setup import DEFAULT_AUTHORS, ChaosOptions, parse
from dnsd.testing import check_parse, setup_controller


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: ChaosOptions | None = None
    error: str | None = None


def line(args: str) -> str:
    return f". {{\n    chaos{args}\n}}\n"


CASES = [
    SetupCase("defaults", line(""), ChaosOptions(f"dnsd-{__version__}", DEFAULT_AUTHORS)),
    SetupCase("version", line(" v2"), ChaosOptions("v2", DEFAULT_AUTHORS)),
    SetupCase("version-author", line(' v3 "Miek Gieben"'), ChaosOptions("v3", ("Miek Gieben",))),
    SetupCase(
        "authors-sorted-deduplicated",
        line(" CoreDNS-001 zed alice bob alice"),
        ChaosOptions("CoreDNS-001", ("alice", "bob", "zed")),
    ),
    SetupCase("empty-version", line(' ""'), ChaosOptions("", DEFAULT_AUTHORS)),
    SetupCase(
        "empty-block", ". {\n    chaos v2 {\n    }\n}\n", ChaosOptions("v2", DEFAULT_AUTHORS)
    ),
    SetupCase(
        "property",
        ". {\n    chaos v2 {\n        unknown\n    }\n}\n",
        error="Corefile:3: chaos: unknown property 'unknown'",
    ),
    SetupCase(
        "twice",
        ". {\n    chaos v1\n    chaos v2\n}\n",
        error="Corefile:3: chaos: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, "chaos", parse, want=case.want, error=case.error)


def test_setup_adds_the_handler() -> None:
    c = setup_controller(line(" v9 b a"), "chaos")
    setup(c)
    [handler] = c.block.handlers
    assert isinstance(handler, Chaos)
    assert (handler.version, handler.authors) == (b"v9", (b"a", b"b"))
