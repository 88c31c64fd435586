"""Setup of *health*: the directive's syntax, and how blocks share one endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.instance import load
from dnsd.plugins.health.health import Health
from dnsd.plugins.health.setup import NAME, HealthOptions, parse
from dnsd.testing import check_parse


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: HealthOptions | None = None
    error: str | None = None


CASES = {
    "default": SetupCase(". {\n    health\n}\n", want=HealthOptions()),
    "address": SetupCase(
        ". {\n    health localhost:1234\n}\n", want=HealthOptions(addr="localhost:1234")
    ),
    "ipv6-address": SetupCase(
        ". {\n    health [::1]:8080\n}\n", want=HealthOptions(addr="[::1]:8080")
    ),
    "lameduck": SetupCase(
        ". {\n    health localhost:1234 {\n        lameduck 4s\n    }\n}\n",
        want=HealthOptions(addr="localhost:1234", lameduck=4.0),
    ),
    "lameduck-no-address": SetupCase(
        ". {\n    health {\n        lameduck 1m30s\n    }\n}\n",
        want=HealthOptions(lameduck=90.0),
    ),
    "lameduck-zero": SetupCase(
        ". {\n    health {\n        lameduck 0s\n    }\n}\n", want=HealthOptions()
    ),
    "last-occurrence-wins": SetupCase(
        ". {\n    health :8081 {\n        lameduck 2s\n    }\n    health :8082\n}\n",
        want=HealthOptions(addr=":8082"),
    ),
    "no-port": SetupCase(
        ". {\n    health bla\n}\n",
        error="Corefile:2: health: invalid address 'bla': want HOST:PORT or :PORT",
    ),
    "port-not-a-number": SetupCase(  # CoreDNS accepts it and fails at bind time
        ". {\n    health bla:a\n}\n",
        error="Corefile:2: health: invalid address 'bla:a': want HOST:PORT or :PORT",
    ),
    "two-addresses": SetupCase(
        ". {\n    health bla bla\n}\n",
        error="Corefile:2: health: wrong argument count or unexpected line ending after 'bla'",
    ),
    "bad-duration": SetupCase(
        ". {\n    health localhost:1234 {\n        lameduck a\n    }\n}\n",
        error="Corefile:3: health: unable to parse lameduck duration value: 'a'",
    ),
    "negative-duration": SetupCase(
        ". {\n    health {\n        lameduck -1s\n    }\n}\n",
        error="Corefile:3: health: lameduck duration must not be negative: '-1s'",
    ),
    "lameduck-without-value": SetupCase(
        ". {\n    health {\n        lameduck\n    }\n}\n",
        error="Corefile:3: health: wrong argument count or unexpected line ending after 'lameduck'",
    ),
    "lameduck-two-values": SetupCase(
        ". {\n    health {\n        lameduck 1s 2s\n    }\n}\n",
        error="Corefile:3: health: wrong argument count or unexpected line ending after '2s'",
    ),
    "unknown-property": SetupCase(
        ". {\n    health localhost:1234 {\n        lamedudk 4\n    }\n}\n",
        error="Corefile:3: health: unknown property 'lamedudk'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


@dataclass(frozen=True)
class ShareCase:
    corefile: str
    #: address -> the lame duck its shared endpoint ends up with
    want: dict[str, float]


SHARE_CASES = {
    "one-block": ShareCase(". {\n    health\n}\n", want={":8080": 0.0}),
    "same-address-largest-lameduck-wins": ShareCase(
        "a.org {\n    health {\n        lameduck 2s\n    }\n}\n"
        "b.org {\n    health {\n        lameduck 5s\n    }\n}\n"
        "c.org {\n    health\n}\n",
        want={":8080": 5.0},
    ),
    "different-addresses": ShareCase(
        "a.org {\n    health :8080 {\n        lameduck 1s\n    }\n}\n"
        "b.org {\n    health localhost:8091\n}\n",
        want={":8080": 1.0, "localhost:8091": 0.0},
    ),
}


@pytest.mark.parametrize("case", SHARE_CASES.values(), ids=SHARE_CASES.keys())
def test_blocks_share_one_endpoint_per_address(case: ShareCase) -> None:
    instance = load(case.corefile, "Corefile", dns_port="1053")
    shared = {k: v for k, v in instance.shared.items() if isinstance(v, Health)}
    assert {h.addr: h.lameduck for h in shared.values()} == case.want
    assert sorted(shared) == sorted(f"health:{addr}" for addr in case.want)
    for addr in case.want:
        assert list(instance.http[addr]) == ["/health"]
    # one start-up, shutdown and final-shutdown hook per endpoint, whatever the block count
    assert len(instance.startup) == len(instance.final_shutdown) == len(case.want)


def test_health_adds_no_handler() -> None:
    instance = load(". {\n    health\n}\n", "Corefile", dns_port="1053")
    assert instance.blocks[0].handlers == []
