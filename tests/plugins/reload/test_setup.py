"""Setup of *reload*: CoreDNS's accepted and rejected forms, defaults, the jitter cap."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.plugins.reload.setup import NAME, ReloadOptions, parse
from dnsd.testing import check_parse


def block(line: str) -> str:
    return f".:53 {{\n    {line}\n    whoami\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: ReloadOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("defaults", block("reload"), ReloadOptions(30.0, 15.0)),
    SetupCase("interval-caps-default-jitter", block("reload 10s"), ReloadOptions(10.0, 5.0)),
    SetupCase("both", block("reload 10s 2s"), ReloadOptions(10.0, 2.0)),
    SetupCase("minimum-zero-jitter", block("reload 2s 0s"), ReloadOptions(2.0, 0.0)),
    SetupCase("bare-zero-jitter", block("reload 2s 0"), ReloadOptions(2.0, 0.0)),
    SetupCase("jitter-capped", block("reload 10s 8s"), ReloadOptions(10.0, 5.0)),
    SetupCase("minutes", block("reload 1m30s 20s"), ReloadOptions(90.0, 20.0)),
    SetupCase(
        "bad-interval", block("reload foo"), error="Corefile:2: reload: invalid duration 'foo'"
    ),
    SetupCase(
        "bad-jitter", block("reload 10s foo"), error="Corefile:2: reload: invalid duration 'foo'"
    ),
    SetupCase(
        "too-many",
        block("reload 10s 5s foo"),
        error="Corefile:2: reload: wrong argument count or unexpected line ending after 'foo'",
    ),
    SetupCase(
        "interval-too-small",
        block("reload 1s"),
        error="Corefile:2: reload: interval value must be greater or equal to 2s",
    ),
    SetupCase(
        "interval-zero",
        block("reload 0s"),
        error="Corefile:2: reload: interval value must be greater or equal to 2s",
    ),
    SetupCase(
        "jitter-too-small",
        block("reload 3s 0.5s"),
        error="Corefile:2: reload: jitter value must be greater or equal to 1s",
    ),
    SetupCase(
        "jitter-negative",
        block("reload 3s -1s"),
        error="Corefile:2: reload: jitter value must be greater or equal to 1s",
    ),
    SetupCase(
        "jitter-garbage-sign",
        block("reload 3s -+0"),
        error="Corefile:2: reload: invalid duration '-+0'",
    ),
    SetupCase(
        "twice",
        ".:53 {\n    reload\n    reload\n}\n",
        error="Corefile:3: reload: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


@pytest.mark.parametrize(
    ("opts", "low", "high"),
    [(ReloadOptions(30.0, 15.0), 22.5, 37.5), (ReloadOptions(2.0, 0.0), 2.0, 2.0)],
)
def test_period_is_interval_plus_or_minus_half_the_jitter(
    opts: ReloadOptions, low: float, high: float
) -> None:
    draws = [opts.period() for _ in range(200)]
    assert all(low <= d <= high for d in draws)
    if opts.jitter:
        assert len(set(draws)) > 100  # drawn, not fixed
