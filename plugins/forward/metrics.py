"""The metrics of *forward*: CoreDNS's names, labels, help strings and buckets.

``coredns_forward_*`` come from plugin/forward/metrics.go, ``coredns_proxy_*``
from plugin/pkg/proxy/metrics.go (labelled ``proxy_name="forward"``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

NAMESPACE = "coredns"
PROXY_NAME = "forward"
#: CoreDNS's plugin.TimeBuckets: 0.25ms doubling 16 times.
TIME_BUCKETS = tuple(0.00025 * 2**n for n in range(16))

healthcheck_broken = Counter(
    "healthcheck_broken_total",
    "Counter of the number of complete failures of the healthchecks.",
    namespace=NAMESPACE,
    subsystem="forward",
)
max_concurrent_rejects = Counter(
    "max_concurrent_rejects_total",
    "Counter of the number of queries rejected because the concurrent queries were at maximum.",
    namespace=NAMESPACE,
    subsystem="forward",
)
request_duration = Histogram(
    "request_duration_seconds",
    "Histogram of the time each request took.",
    ["proxy_name", "to", "rcode"],
    namespace=NAMESPACE,
    subsystem="proxy",
    buckets=TIME_BUCKETS,
)
healthcheck_failures = Counter(
    "healthcheck_failures_total",
    "Counter of the number of failed healthchecks.",
    ["proxy_name", "to"],
    namespace=NAMESPACE,
    subsystem="proxy",
)
conn_cache_hits = Counter(
    "conn_cache_hits_total",
    "Counter of connection cache hits per upstream and protocol.",
    ["proxy_name", "to", "proto"],
    namespace=NAMESPACE,
    subsystem="proxy",
)
conn_cache_misses = Counter(
    "conn_cache_misses_total",
    "Counter of connection cache misses per upstream and protocol.",
    ["proxy_name", "to", "proto"],
    namespace=NAMESPACE,
    subsystem="proxy",
)
