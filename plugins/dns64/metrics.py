"""CoreDNS's dns64 metric (``plugin/dns64/metrics.go``)."""

from __future__ import annotations

from prometheus_client import Counter

translated = Counter(
    "requests_translated_total",
    "Counter of DNS requests translated by dns64.",
    ["server"],
    namespace="coredns",
    subsystem="dns64",
)
