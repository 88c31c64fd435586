"""CoreDNS's cache metrics, counted as plain integers and exported when scraped.

Names, help texts and labels are those of CoreDNS's ``plugin/cache/metrics.go``.
The hit path only does ``counters.hits[kind] += 1``: a prometheus_client
``Counter.inc()`` takes a lock and costs several times that, on every hit. A
collector registered once reads the integers at scrape time;
``coredns_cache_requests_total`` is hits plus misses, as every request through
the cache is one or the other. The counters outlive reloads (like CoreDNS's
global metric vectors); ``coredns_cache_entries`` sums the caches running now.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

NAMESPACE = "coredns_cache"
SUCCESS, DENIAL = "success", "denial"
TYPES = (SUCCESS, DENIAL)


class Counters:
    """The counts for one (server, zones, view); lists are indexed by Entry.denial."""

    __slots__ = ("hits", "misses", "prefetch", "drops", "stale", "evictions")

    def __init__(self) -> None:
        self.hits = [0, 0]
        self.misses = 0
        self.prefetch = 0
        self.drops = 0
        self.stale = 0
        self.evictions = [0, 0]

    def memo_miss(self) -> None:
        """A memo hook (dnsd.fastpath): a remembered reply went past the cache again."""
        self.misses += 1


class Sized(Protocol):
    """A running cache, as the entries gauge sees it."""

    zones_label: str

    def servers(self) -> Iterable[str]: ...

    def size(self, denial: int) -> int: ...


_COUNTERS: dict[tuple[str, str, str], Counters] = {}
_LIVE: weakref.WeakSet[Sized] = weakref.WeakSet()


def counters(server: str, zones: str, view: str = "") -> Counters:
    """The counters of one label set, made on first use."""
    key = (server, zones, view)
    found = _COUNTERS.get(key)
    if found is None:
        found = _COUNTERS[key] = Counters()
    return found


def track(cache: Sized) -> None:
    """Count ``cache``'s entries in ``coredns_cache_entries`` while it runs."""
    _LIVE.add(cache)


def untrack(cache: Sized) -> None:
    _LIVE.discard(cache)


class _Collector(Collector):
    def describe(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        return iter(_families())

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        entries, requests, hits, misses, prefetch, drops, stale, evictions = _families()
        for (server, zones, view), c in list(_COUNTERS.items()):
            requests.add_metric([server, zones, view], c.hits[0] + c.hits[1] + c.misses)
            misses.add_metric([server, zones, view], c.misses)
            prefetch.add_metric([server, zones, view], c.prefetch)
            drops.add_metric([server, zones, view], c.drops)
            stale.add_metric([server, zones, view], c.stale)
            for denial, kind in enumerate(TYPES):
                hits.add_metric([server, kind, zones, view], c.hits[denial])
                evictions.add_metric([server, kind, zones, view], c.evictions[denial])
        sizes: dict[tuple[str, str, str], int] = {}
        for cache in list(_LIVE):
            for server in cache.servers():
                for denial, kind in enumerate(TYPES):
                    key = (server, kind, cache.zones_label)
                    sizes[key] = sizes.get(key, 0) + cache.size(denial)
        for (server, kind, zones), size in sizes.items():
            entries.add_metric([server, kind, zones, ""], size)
        return iter((entries, requests, hits, misses, prefetch, drops, stale, evictions))


def _families() -> tuple[
    GaugeMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
    CounterMetricFamily,
]:
    plain = ["server", "zones", "view"]
    typed = ["server", "type", "zones", "view"]
    return (
        GaugeMetricFamily(
            f"{NAMESPACE}_entries", "The number of elements in the cache.", labels=typed
        ),
        CounterMetricFamily(f"{NAMESPACE}_requests", "The count of cache requests.", labels=plain),
        CounterMetricFamily(f"{NAMESPACE}_hits", "The count of cache hits.", labels=typed),
        CounterMetricFamily(
            f"{NAMESPACE}_misses",
            "The count of cache misses. Deprecated, derive misses from cache hits/requests "
            "counters.",
            labels=plain,
        ),
        CounterMetricFamily(
            f"{NAMESPACE}_prefetch",
            "The number of times the cache has prefetched a cached item.",
            labels=plain,
        ),
        CounterMetricFamily(
            f"{NAMESPACE}_drops",
            "The number responses that are not cached, because the reply is malformed.",
            labels=plain,
        ),
        CounterMetricFamily(
            f"{NAMESPACE}_served_stale",
            "The number of requests served from stale cache entries.",
            labels=plain,
        ),
        CounterMetricFamily(
            f"{NAMESPACE}_evictions", "The count of cache evictions.", labels=typed
        ),
    )


REGISTRY.register(_Collector())
