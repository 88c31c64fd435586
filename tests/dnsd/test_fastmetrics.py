"""fastmetrics: the same exposition as prometheus_client's Counter and Histogram, fed the same."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

import dnsd.metrics  # noqa: F401  (turns off the *_created series, as dnsd does)
from dnsd.fastmetrics import FastCounter, FastHistogram

BUCKETS = (0, 100, 200, 511, 1023, 64e3)
DURATIONS = tuple(0.00025 * 2**n for n in range(16))

OBSERVATIONS = [
    ("empty", BUCKETS, []),
    ("on-the-bounds", BUCKETS, [0, 100, 200, 511, 1023, 64e3]),
    ("between-and-beyond", BUCKETS, [-1, 1, 99.5, 512, 70_000, 1e9]),
    ("durations", DURATIONS, [0.0, 0.00025, 0.0003, 0.001, 2.5, 8.192, 9.0, 123.0]),
]


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


@pytest.mark.parametrize(
    ("buckets", "values"), [c[1:] for c in OBSERVATIONS], ids=[c[0] for c in OBSERVATIONS]
)
def test_histogram_exposition_is_prometheus_clients(
    buckets: tuple[float, ...], values: list[float]
) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    hist = Histogram("x_seconds", "Doc.", ["server", "zone"], buckets=buckets, registry=theirs)
    fast = FastHistogram("x_seconds", "Doc.", ["server", "zone"], buckets, registry=ours)
    for n, value in enumerate(values):
        zone = "a." if n % 2 else "b."
        hist.labels("dns://:53", zone).observe(value)
        fast.child("dns://:53", zone).observe(value)
    mine = exposition(ours)
    assert mine == exposition(theirs)
    if values:
        assert 'le="+Inf"' in mine


def test_counter_exposition_is_prometheus_clients() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    counter = Counter("y_total", "Doc.", ["rcode"], registry=theirs)
    fast = FastCounter("y_total", "Doc.", ["rcode"], registry=ours)
    for rcode, times in (("NOERROR", 3), ("NXDOMAIN", 1)):
        for _ in range(times):
            counter.labels(rcode).inc()
            fast.child(rcode)[0] += 1
    assert exposition(ours) == exposition(theirs)
    assert fast.value("NOERROR") == 3 and fast.value("SERVFAIL") == 0


def test_registry_sample_values() -> None:
    registry = CollectorRegistry()
    fast = FastHistogram("z_bytes", "Doc.", ["proto"], (10, 20), registry=registry)
    fast.child("udp").observe(15)
    fast.child("udp").observe(25)
    assert registry.get_sample_value("z_bytes_bucket", {"proto": "udp", "le": "20.0"}) == 1
    assert registry.get_sample_value("z_bytes_count", {"proto": "udp"}) == 2
    assert registry.get_sample_value("z_bytes_sum", {"proto": "udp"}) == 40


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FastCounter("c_total", "D.", ["a"], registry=None).child(), "1 labels, got 0"),
        (lambda: FastHistogram("h", "D.", ["a"], (1,), registry=None).child("x", "y"), "got 2"),
        (lambda: FastHistogram("h", "D.", [], (2, 1), registry=None), "increasing"),
        (lambda: FastHistogram("h", "D.", [], (1, float("inf")), registry=None), "finite"),
    ],
)
def test_misuse_is_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
