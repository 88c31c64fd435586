"""CoreDNS's reload metrics (``plugin/reload/metrics.go``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

failed = Counter(
    "coredns_reload_failed",
    "Counter of the number of failed reload attempts.",
)
version_info = Gauge(
    "coredns_reload_version_info",
    "A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
    ["hash", "value"],
)


def running(digest: str) -> None:
    """Label ``coredns_reload_version_info`` with the digest of the config serving now."""
    version_info.clear()
    version_info.labels("sha512", digest).set(1)
