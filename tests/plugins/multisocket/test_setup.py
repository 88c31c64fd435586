"""Setup of *multisocket*: CoreDNS's accepted and rejected forms, and the process-wide count."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.instance import load
from dnsd.plugins.multisocket.setup import (
    NAME,
    MultisocketOptions,
    default_num_sockets,
    parse,
)
from dnsd.testing import check_parse
from dnsd.workers import wanted


def block(line: str) -> str:
    return f".:53 {{\n    {line}\n    whoami\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: MultisocketOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("default", block("multisocket"), MultisocketOptions(default_num_sockets())),
    SetupCase("two", block("multisocket 2"), MultisocketOptions(2)),
    SetupCase("one", block("multisocket 1"), MultisocketOptions(1)),
    SetupCase("maximum", block("multisocket 1024"), MultisocketOptions(1024)),
    SetupCase(
        "text",
        block("multisocket text"),
        error='Corefile:2: multisocket: invalid num sockets: strconv.Atoi: parsing "text": '
        "invalid syntax",
    ),
    SetupCase(
        "zero",
        block("multisocket 0"),
        error="Corefile:2: multisocket: num sockets can not be zero or negative: 0",
    ),
    SetupCase(
        "negative",
        block("multisocket -1"),
        error="Corefile:2: multisocket: num sockets can not be zero or negative: -1",
    ),
    SetupCase(
        "too-many",
        block("multisocket 1025"),
        error="Corefile:2: multisocket: num sockets exceeds maximum (1024): 1025",
    ),
    SetupCase(
        "two-arguments",
        block("multisocket 2 2"),
        error="Corefile:2: multisocket: wrong argument count or unexpected line ending after '2'",
    ),
    SetupCase(
        "block",
        ".:53 {\n    multisocket 2 {\n        block\n    }\n}\n",
        error="Corefile:3: multisocket: unknown property 'block'",
    ),
    SetupCase(
        "twice",
        block("multisocket 2\n    multisocket 3"),
        error="Corefile:3: multisocket: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def test_default_is_the_usable_cpus() -> None:
    import os

    assert default_num_sockets() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("corefile", "count"),
    [
        (block("whoami"), 1),
        (block("multisocket 3"), 3),
        # Process-wide: the largest count of any block wins.
        (block("multisocket 2") + "example.org:54 {\n    multisocket 4\n    whoami\n}\n", 4),
        (block("multisocket 4") + "example.org:54 {\n    whoami\n}\n", 4),
    ],
)
def test_workers_wanted(corefile: str, count: int) -> None:
    assert wanted(load(corefile, "Corefile")) == count
