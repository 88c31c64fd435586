"""Counters and histograms for the per-query metrics, counted in plain lists, read at scrape time.

prometheus_client takes a lock for every ``inc()`` and ``observe()``: five of them per query made
:func:`dnsd.metrics.report` cost 3.2 µs, as much as a whole memo hit. The query metrics are only
ever written by the event loop's thread (one per process; workers are processes), so they need no
lock: a child here is a list (a counter) or a list of bucket counts and a sum (a histogram), and a
collector registered in prometheus_client's registry turns them into the same families, names,
labels and ``le`` values at scrape time. Readers on other threads (the exposition) see a count
that is at most one query behind.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

__all__ = ["FastCounter", "FastHistogram", "HistogramChild"]

Labels = tuple[str, ...]


class FastCounter:
    """A labelled counter; :meth:`child` gives a one-element list to add to."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[Labels, list[float]] = {}
        if registry is not None:
            registry.register(self)

    def child(self, *labels: str) -> list[float]:
        """The cell of one label set: ``cell[0] += 1`` counts."""
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: {len(self.labelnames)} labels, got {len(labels)}")
        cell = self._children.get(labels)
        if cell is None:
            cell = self._children[labels] = [0.0]
        return cell

    def value(self, *labels: str) -> float:
        cell = self._children.get(labels)
        return cell[0] if cell is not None else 0.0

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, cell in list(self._children.items()):
            family.add_metric(labels, cell[0])
        yield family


class HistogramChild:
    """The buckets (not cumulated) and the sum of one label set."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        #: counts[i]: observations in (bounds[i-1], bounds[i]]; the last one is +Inf's own.
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class FastHistogram:
    """A labelled histogram with prometheus_client's bucket semantics (``le``: less or equal)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if list(bounds) != sorted(set(bounds)) or bounds[-1] == float("inf"):
            raise ValueError(f"{name}: buckets must be increasing and finite")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.bounds = bounds
        self._les = [floatToGoString(b) for b in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self._children: dict[Labels, HistogramChild] = {}
        if registry is not None:
            registry.register(self)

    def child(self, *labels: str) -> HistogramChild:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: {len(self.labelnames)} labels, got {len(labels)}")
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = HistogramChild(self.bounds)
        return child

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, child in list(self._children.items()):
            total = 0
            buckets = []
            for le, count in zip(self._les, list(child.counts), strict=True):
                total += count
                buckets.append((le, float(total)))
            family.add_metric(labels, buckets, child.sum)
        yield family
