"""CoreDNS's acl metrics (``plugin/acl/metrics.go``): names, help texts and labels.

``view`` is always "" (dnsd has no *view* plugin). The allowed counter is bumped on every
query that goes on, so its child is looked up once per server label.
"""

from __future__ import annotations

from prometheus_client import Counter

blocked = Counter(
    "blocked_requests_total",
    "Counter of DNS requests being blocked.",
    ["server", "zone", "view"],
    namespace="coredns",
    subsystem="acl",
)
filtered = Counter(
    "filtered_requests_total",
    "Counter of DNS requests being filtered.",
    ["server", "zone", "view"],
    namespace="coredns",
    subsystem="acl",
)
allowed = Counter(
    "allowed_requests_total",
    "Counter of DNS requests being allowed.",
    ["server", "view"],
    namespace="coredns",
    subsystem="acl",
)
dropped = Counter(
    "dropped_requests_total",
    "Counter of DNS requests being dropped.",
    ["server", "zone", "view"],
    namespace="coredns",
    subsystem="acl",
)
