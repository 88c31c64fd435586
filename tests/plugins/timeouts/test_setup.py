"""Setup of *timeouts*: each option, CoreDNS's 1s..24h bounds, errors, the stored TcpLimits."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.instance import TcpLimits
from dnsd.plugins.timeouts import setup
from dnsd.plugins.timeouts.setup import TimeoutsOptions, parse
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "timeouts")


def block(*lines: str) -> str:
    body = "".join(f"        {line}\n" for line in lines)
    return f". {{\n    timeouts {{\n{body}    }}\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: TimeoutsOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("read", block("read 30s"), TimeoutsOptions(read=30.0)),
    SetupCase("read-write", block("read 1m", "write 2m"), TimeoutsOptions(read=60.0, write=120.0)),
    SetupCase("idle", block("idle 1h"), TimeoutsOptions(idle=3600.0)),
    SetupCase(
        "bare-seconds",
        block("read 10", "write 20", "idle 60"),
        TimeoutsOptions(read=10.0, write=20.0, idle=60.0),
    ),
    SetupCase("min-1s", block("idle 1s"), TimeoutsOptions(idle=1.0)),
    SetupCase("max-24h", block("idle 24h"), TimeoutsOptions(idle=86400.0)),
    SetupCase("compound", block("write 1m30s"), TimeoutsOptions(write=90.0)),
    SetupCase("maxtcpqueries", block("maxtcpqueries 128"), TimeoutsOptions(max_queries=128)),
    SetupCase("maxtcpqueries-unlimited", block("maxtcpqueries -1"), TimeoutsOptions()),
    SetupCase("max_queries-alias", block("max_queries 5"), TimeoutsOptions(max_queries=5)),
    SetupCase(
        "max_connections", block("max_connections 200"), TimeoutsOptions(max_connections=200)
    ),
    SetupCase(
        "everything",
        block("read 2s", "write 3s", "idle 4s", "maxtcpqueries 5", "max_connections 6"),
        TimeoutsOptions(read=2.0, write=3.0, idle=4.0, max_queries=5, max_connections=6),
    ),
    SetupCase("last-line-wins", block("idle 5s", "idle 6s"), TimeoutsOptions(idle=6.0)),
    SetupCase(
        "no-block",
        ". {\n    timeouts\n}\n",
        error="Corefile:2: timeouts: timeouts block with no timeouts or limits specified",
    ),
    SetupCase(
        "empty-block",
        block(),
        error="Corefile:3: timeouts: timeouts block with no timeouts or limits specified",
    ),
    SetupCase(
        "argument",
        ". {\n    timeouts 5s\n}\n",
        error="Corefile:2: timeouts: wrong argument count or unexpected line ending after '5s'",
    ),
    SetupCase(
        "unknown-option",
        block("read 10s", "giraffe 30s"),
        error="Corefile:4: timeouts: unknown property 'giraffe'",
    ),
    SetupCase(
        "two-values",
        block("read 10s 20s"),
        error="Corefile:3: timeouts: wrong argument count or unexpected line ending after '20s'",
    ),
    SetupCase(
        "no-value",
        block("idle"),
        error="Corefile:3: timeouts: wrong argument count or unexpected line ending after 'idle'",
    ),
    SetupCase(
        "bad-duration",
        block("write snake"),
        error="Corefile:3: timeouts: failed to parse duration 'snake'",
    ),
    SetupCase(
        "zero",
        block("idle 0s"),
        error="Corefile:3: timeouts: timeout provided '0s' needs to be between 1 second and"
        " 24 hours",
    ),
    SetupCase(
        "under-1s",
        block("read 500ms"),
        error="Corefile:3: timeouts: timeout provided '500ms' needs to be between 1 second and"
        " 24 hours",
    ),
    SetupCase(
        "over-24h",
        block("read 48h"),
        error="Corefile:3: timeouts: timeout provided '48h0m0s' needs to be between 1 second"
        " and 24 hours",
    ),
    SetupCase(
        "maxtcpqueries-zero",
        block("maxtcpqueries 0"),
        error="Corefile:3: timeouts: maxtcpqueries must be a positive integer or -1 (unlimited),"
        " got 0",
    ),
    SetupCase(
        "maxtcpqueries-word",
        block("maxtcpqueries many"),
        error="Corefile:3: timeouts: invalid integer 'many'",
    ),
    SetupCase(
        "max_connections-zero",
        block("max_connections 0"),
        error="Corefile:3: timeouts: max_connections must be a positive integer, got 0",
    ),
    SetupCase(
        "twice",
        ". {\n    timeouts {\n        read 5s\n    }\n    timeouts {\n        idle 5s\n    }\n}\n",
        error="Corefile:5: timeouts: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            parse(c)
        assert str(info.value) == case.error
    else:
        assert parse(c) == case.want


def test_defaults_are_the_servers() -> None:
    limits = TcpLimits()
    assert TimeoutsOptions().limits() == limits
    assert (limits.read, limits.write, limits.idle) == (3.0, 5.0, 10.0)
    assert (limits.max_queries, limits.max_connections) == (-1, 1000)


def test_setup_stores_tcp_limits() -> None:
    c = controller(block("idle 1m", "max_connections 7"))
    setup(c)
    assert c.block.settings["timeouts"] == TcpLimits(idle=60.0, max_connections=7)
    assert c.block.limits == TcpLimits(idle=60.0, max_connections=7)
    assert c.block.handlers == []
