"""Setup of *prometheus*: the directive's syntax, the handler and the shared endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.instance import load
from dnsd.plugins.prometheus.handler import Prometheus
from dnsd.plugins.prometheus.scrape import scrape
from dnsd.plugins.prometheus.setup import NAME, PrometheusOptions, parse
from dnsd.testing import check_parse


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: PrometheusOptions | None = None
    error: str | None = None


CASES = {
    "default": SetupCase(". {\n    prometheus\n}\n", want=PrometheusOptions()),
    "address": SetupCase(
        ". {\n    prometheus localhost:9253\n}\n", want=PrometheusOptions(addr="localhost:9253")
    ),
    "any-host": SetupCase(". {\n    prometheus :9153\n}\n", want=PrometheusOptions(addr=":9153")),
    "runtime-metrics": SetupCase(
        ". {\n    prometheus {\n        runtime_metrics\n    }\n}\n",
        want=PrometheusOptions(runtime_metrics=True),
    ),
    "twice": SetupCase(
        ". {\n    prometheus\n    prometheus :9253\n}\n",
        error="Corefile:3: prometheus: can only be used once per server block",
    ),
    "two-addresses": SetupCase(
        ". {\n    prometheus :9153 :9253\n}\n",
        error="Corefile:2: prometheus: wrong argument count or unexpected line ending after "
        "':9253'",
    ),
    "no-port": SetupCase(
        ". {\n    prometheus localhost\n}\n",
        error="Corefile:2: prometheus: invalid address 'localhost': want HOST:PORT or :PORT",
    ),
    "runtime-metrics-with-argument": SetupCase(
        ". {\n    prometheus {\n        runtime_metrics yes\n    }\n}\n",
        error="Corefile:3: prometheus: wrong argument count or unexpected line ending after 'yes'",
    ),
    "unknown-property": SetupCase(
        ". {\n    prometheus {\n        path /m\n    }\n}\n",
        error="Corefile:3: prometheus: unknown property 'path'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def test_blocks_share_the_endpoint_and_each_get_a_handler() -> None:
    corefile = (
        "a.org {\n    prometheus\n    whoami\n}\n"
        "b.org {\n    prometheus\n    whoami\n}\n"
        "c.org {\n    prometheus :9253\n}\n"
        "d.org {\n    whoami\n}\n"
    )
    instance = load(corefile, "Corefile", dns_port="1053")
    assert instance.http == {"localhost:9153": {"/metrics": scrape}, ":9253": {"/metrics": scrape}}
    with_handler = [isinstance(b.handlers[0], Prometheus) for b in instance.blocks]
    assert with_handler == [True, True, True, False]
