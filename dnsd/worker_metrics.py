"""Merging the metrics of the worker processes into one ``/metrics`` view.

Each worker has its own prometheus_client registry; the supervisor fetches
their text exposition at scrape time and adds it to its own registry's samples:

- counters, histograms (buckets, sums, counts) and summaries are summed per
  identical label set;
- gauges are summed too (cache entries, open fds, resident memory: the server's
  total), except the info-style ones (:data:`KEEP_ONE`, names ending in
  ``_info``), where the supervisor's value is kept, or the first worker's when
  the supervisor has none.

A worker that exits leaves its last fetched counters and histograms behind
(:meth:`Merged.retire`), so the sums never go backwards when it is restarted;
only what it counted after its last scrape is lost, and that is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

#: Gauges that describe the process rather than count anything: kept once, never summed.
KEEP_ONE = frozenset(
    {
        "coredns_plugin_enabled",
        "process_start_time_seconds",
        "process_max_fds",
        "process_virtual_memory_max_bytes",
    }
)
_ADDITIVE_TYPES = frozenset({"counter", "histogram", "summary", "gaugehistogram"})

Labels = tuple[tuple[str, str], ...]
SampleKey = tuple[str, Labels]


@dataclass
class Family:
    """One metric family: its type, help text and samples keyed by name and labels."""

    name: str
    type: str
    documentation: str
    samples: dict[SampleKey, float] = field(default_factory=dict)

    @property
    def additive(self) -> bool:
        """Summed across processes (False: one process's value is kept)."""
        if self.type in _ADDITIVE_TYPES:
            return True
        info = self.name in KEEP_ONE or self.name.endswith("_info")
        return self.type == "gauge" and not info

    @property
    def monotonic(self) -> bool:
        """Kept from a dead worker (a gauge of a process that is gone means nothing)."""
        return self.type in _ADDITIVE_TYPES


Families = dict[str, Family]


def collect(metrics: Iterable[Metric]) -> Families:
    """Families from prometheus_client metric objects (a registry's ``collect()``)."""
    out: Families = {}
    for metric in metrics:
        family = out.setdefault(metric.name, Family(metric.name, metric.type, metric.documentation))
        for sample in metric.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            family.samples[key] = family.samples.get(key, 0.0) + sample.value
    return out


def local() -> Families:
    """This process's own registry."""
    return collect(REGISTRY.collect())


def parse(text: str) -> Families:
    """A worker's text exposition; raises ValueError if it does not parse."""
    return collect(text_string_to_metric_families(text))


def add(into: Families, other: Families, *, monotonic_only: bool = False) -> None:
    """Add ``other``'s samples to ``into`` per the rules above."""
    for name, family in other.items():
        if monotonic_only and not family.monotonic:
            continue
        mine = into.get(name)
        if mine is None:
            mine = into[name] = Family(name, family.type, family.documentation)
        for key, value in family.samples.items():
            if key not in mine.samples:
                mine.samples[key] = value
            elif mine.additive:
                mine.samples[key] += value


class _Static(Collector):
    def __init__(self, families: Families) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        for family in self.families.values():
            metric = Metric(family.name, family.documentation, family.type)
            for (sample, labels), value in family.samples.items():
                metric.add_sample(sample, dict(labels), value)
            yield metric


def registry(families: Families) -> CollectorRegistry:
    """A registry exposing ``families``, for prometheus_client's encoders."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Static(families))
    return reg


@dataclass
class Merged:
    """The merge state of the supervisor: what exited workers left behind."""

    retired: Families = field(default_factory=dict)

    def retire(self, last: Families) -> None:
        """A worker exited: keep its last counters and histograms in every future sum."""
        add(self.retired, last, monotonic_only=True)

    def view(self, workers: Iterable[Families]) -> Families:
        """The supervisor's samples plus every live worker's plus the retired ones."""
        out = local()
        for families in workers:
            add(out, families)
        add(out, self.retired)
        return out
