"""Setup of *prometheus*: ``prometheus [ADDRESS] { runtime_metrics }``, once per block."""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.prometheus.handler import Prometheus
from dnsd.plugins.prometheus.scrape import scrape

NAME = "prometheus"
DEFAULT_ADDR = "localhost:9153"


@dataclass(frozen=True)
class PrometheusOptions:
    """What one block asked for."""

    addr: str = DEFAULT_ADDR
    #: Accepted for CoreDNS compatibility (Go runtime metrics); Python's process and GC
    #: collectors are always exported, so it changes nothing.
    runtime_metrics: bool = False


def parse(c: Controller) -> PrometheusOptions:
    """Read the block's single ``prometheus`` directive."""
    opts = PrometheusOptions()
    while c.next_once():
        addr = c.addr_arg(DEFAULT_ADDR)
        runtime_metrics = False
        while c.next_block():
            if c.val() != "runtime_metrics":
                c.unknown_property()
            if c.remaining_args():
                c.arg_err()
            runtime_metrics = True
        opts = PrometheusOptions(addr=addr, runtime_metrics=runtime_metrics)
    return opts


def setup(c: Controller) -> None:
    """Count this block's queries; serve ``/metrics`` at the address (shared by every block)."""
    opts = parse(c)
    c.http_route(opts.addr, "/metrics", scrape)
    c.add_handler(Prometheus())
