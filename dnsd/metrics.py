"""CoreDNS's core metrics, with the same names, labels and buckets.

They live in prometheus_client's default registry (process-wide, as in
CoreDNS) and are exposed by the *prometheus* plugin. The server reports the
queries that never enter a chain (zone label ``dropped``); the *prometheus*
plugin reports the rest.

prometheus_client's ``*_created`` series are turned off: CoreDNS (Go's client)
exports none, and dashboards and alerts written for it do not expect them.
"""

from __future__ import annotations

import platform

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from dnsd import __version__, revision

NAMESPACE = "coredns"

_DURATION_BUCKETS = tuple(0.00025 * 2**n for n in range(16))
_SIZE_BUCKETS = (0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3)

#: Query types that keep their own ``type`` label value; others are ``other``.
MONITORED_TYPES = frozenset(
    "A AAAA MX SOA CNAME PTR TXT NS SRV DS DNSKEY RRSIG NSEC NSEC3 HTTPS IXFR AXFR ANY".split()
)

build_info = Gauge(
    "build_info",
    "A metric with a constant '1' value labeled by version, revision, and goversion from which "
    "CoreDNS was built.",
    ["version", "revision", "goversion"],
    namespace=NAMESPACE,
)
panics_total = Counter(
    "panics_total", "A metrics that counts the number of panics.", namespace=NAMESPACE
)
requests_total = Counter(
    "requests_total",
    "Counter of DNS requests made per zone, protocol and family.",
    ["server", "zone", "view", "proto", "family", "type"],
    namespace=NAMESPACE,
    subsystem="dns",
)
do_requests_total = Counter(
    "do_requests_total",
    "Counter of DNS requests with DO bit set per zone.",
    ["server", "view", "zone"],
    namespace=NAMESPACE,
    subsystem="dns",
)
request_duration = Histogram(
    "request_duration_seconds",
    "Histogram of the time (in seconds) each request took per zone.",
    ["server", "zone", "view"],
    namespace=NAMESPACE,
    subsystem="dns",
    buckets=_DURATION_BUCKETS,
)
request_size = Histogram(
    "request_size_bytes",
    "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
    ["server", "zone", "view", "proto"],
    namespace=NAMESPACE,
    subsystem="dns",
    buckets=_SIZE_BUCKETS,
)
response_size = Histogram(
    "response_size_bytes",
    "Size of the returned response in bytes.",
    ["server", "zone", "view", "proto"],
    namespace=NAMESPACE,
    subsystem="dns",
    buckets=_SIZE_BUCKETS,
)
responses_total = Counter(
    "responses_total",
    "Counter of response status codes.",
    ["server", "zone", "view", "rcode", "plugin"],
    namespace=NAMESPACE,
    subsystem="dns",
)
plugin_enabled = Gauge(
    "plugin_enabled",
    "A metric that indicates whether a plugin is enabled on per server and zone basis.",
    ["server", "zone", "view", "name"],
    namespace=NAMESPACE,
)

build_info.labels(__version__, revision(), "python" + platform.python_version()).set(1)
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client


def type_label(name: str) -> str:
    """The ``type`` label: the type's name for monitored types, else ``other``."""
    return name if name in MONITORED_TYPES else "other"


#: The label children one query touches, found once per label combination (``.labels()``
#: costs about a microsecond each: caching them took a report from 7.9µs to 3.1µs).
_Children = tuple[Counter, Histogram, Histogram, Counter, Histogram]
_children: dict[tuple[str, str, str, int, str, str, str], _Children] = {}
#: Combinations are bounded by the config (servers, zones, plugins) and the rcodes; the cap
#: only guards memory against a surprise. Past it, reports still work, uncached.
_CHILDREN_MAX = 10_000


def report(
    server: str,
    zone: str,
    proto: str,
    family: int,
    qtype: str,
    do: bool,
    req_size: int,
    rcode: str,
    plugin: str,
    resp_size: int,
    duration: float,
) -> None:
    """Record one query and its reply (CoreDNS's ``vars.Report``)."""
    typ = qtype if qtype in MONITORED_TYPES else "other"
    key = (server, zone, proto, family, typ, rcode, plugin)
    children = _children.get(key)
    if children is None:
        children = (
            requests_total.labels(server, zone, "", proto, str(family), typ),
            request_duration.labels(server, zone, ""),
            request_size.labels(server, zone, "", proto),
            responses_total.labels(server, zone, "", rcode, plugin),
            response_size.labels(server, zone, "", proto),
        )
        if len(_children) < _CHILDREN_MAX:
            _children[key] = children
    requests, durations, req_sizes, responses, resp_sizes = children
    requests.inc()
    if do:
        do_requests_total.labels(server, "", zone).inc()
    durations.observe(duration)
    req_sizes.observe(req_size)
    responses.inc()
    resp_sizes.observe(resp_size)


def forget_children() -> None:
    """Drop the cached label children; call it after removing or clearing a label set above."""
    _children.clear()
