"""Setup of *ready*: the directive's syntax and which blocks it watches."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.instance import load
from dnsd.plugins.ready.ready import Ready
from dnsd.plugins.ready.setup import NAME, ReadyOptions, parse
from dnsd.testing import check_parse


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: ReadyOptions | None = None
    error: str | None = None


CASES = {
    "default": SetupCase(". {\n    ready\n}\n", want=ReadyOptions()),
    "address": SetupCase(
        ". {\n    ready localhost:8091\n}\n", want=ReadyOptions(addr="localhost:8091")
    ),
    "monitor-continuously": SetupCase(
        ". {\n    ready {\n        monitor continuously\n    }\n}\n",
        want=ReadyOptions(monitor="continuously"),
    ),
    "monitor-until-ready": SetupCase(
        ". {\n    ready :8182 {\n        monitor until-ready\n    }\n}\n",
        want=ReadyOptions(addr=":8182", monitor="until-ready"),
    ),
    "twice": SetupCase(
        ". {\n    ready\n    ready :8182\n}\n",
        error="Corefile:3: ready: can only be used once per server block",
    ),
    "two-addresses": SetupCase(
        ". {\n    ready :8181 :8182\n}\n",
        error="Corefile:2: ready: wrong argument count or unexpected line ending after ':8182'",
    ),
    "no-port": SetupCase(
        ". {\n    ready localhost\n}\n",
        error="Corefile:2: ready: invalid address 'localhost': want HOST:PORT or :PORT",
    ),
    "unknown-monitor-type": SetupCase(
        ". {\n    ready {\n        monitor sometimes\n    }\n}\n",
        error="Corefile:3: ready: monitor type 'sometimes' not supported",
    ),
    "monitor-without-type": SetupCase(
        ". {\n    ready {\n        monitor\n    }\n}\n",
        error="Corefile:3: ready: wrong argument count or unexpected line ending after 'monitor'",
    ),
    "monitor-two-types": SetupCase(
        ". {\n    ready {\n        monitor until-ready continuously\n    }\n}\n",
        error="Corefile:3: ready: wrong argument count or unexpected line ending after "
        "'continuously'",
    ),
    "unknown-property": SetupCase(
        ". {\n    ready {\n        lameduck 5s\n    }\n}\n",
        error="Corefile:3: ready: unknown property 'lameduck'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def test_one_state_per_config_watching_the_blocks_with_ready() -> None:
    corefile = (
        "a.org {\n    ready\n}\n"
        "b.org {\n    whoami\n}\n"
        "c.org {\n    ready :8182 {\n        monitor continuously\n    }\n}\n"
    )
    instance = load(corefile, "Corefile", dns_port="1053")
    ready = instance.shared[NAME]
    assert isinstance(ready, Ready)
    watched = [(w.block.zones, w.continuously) for w in ready._watched]
    assert watched == [(["a.org."], False), (["c.org."], True)]
    assert list(instance.http) == [":8181", ":8182"]
    assert all(list(routes) == ["/ready"] for routes in instance.http.values())
    assert len(instance.final_shutdown) == 1
    assert all(block.handlers == [] for block in instance.blocks if "ready" in block.plugins)
