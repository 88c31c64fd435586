"""CoreDNS's hosts metrics, read from the running hosts plugins when scraped.

``coredns_hosts_entries`` is the number of entries (addresses of every name plus every PTR
name, inline and file together, as CoreDNS counts them) and
``coredns_hosts_reload_timestamp_seconds`` the time the data now served were read. CoreDNS
keeps one process-wide value that the last reload of any *hosts* plugin overwrites; dnsd sums
the entries of the plugins running now and gives the latest reload. Nothing is exported while
no *hosts* plugin runs.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

NAMESPACE = "coredns_hosts"


class Source(Protocol):
    """A running hosts plugin's data, as the metrics see them."""

    @property
    def entries(self) -> int: ...

    @property
    def reloaded(self) -> float: ...


_LIVE: weakref.WeakSet[Source] = weakref.WeakSet()


def track(source: Source) -> None:
    """Count ``source`` while it runs."""
    _LIVE.add(source)


def untrack(source: Source) -> None:
    _LIVE.discard(source)


class _Collector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(_families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        entries, reloaded = _families()
        live = list(_LIVE)
        if live:
            entries.add_metric([], sum(s.entries for s in live))
            reloaded.add_metric([], max(s.reloaded for s in live))
        return iter((entries, reloaded))


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            f"{NAMESPACE}_entries", "The combined number of entries in hosts and Corefile."
        ),
        GaugeMetricFamily(
            f"{NAMESPACE}_reload_timestamp_seconds",
            "The timestamp of the last reload of hosts file.",
        ),
    )


REGISTRY.register(_Collector())
