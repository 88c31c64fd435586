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

from prometheus_client import Counter, Gauge, disable_created_metrics

from dnsd import __version__, revision
from dnsd.fastmetrics import FastCounter, FastHistogram, HistogramChild

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
# The per-query families: written on every query, so counted without prometheus_client's locks
# (:mod:`dnsd.fastmetrics`), exposed with the same names, labels and buckets.
requests_total = FastCounter(
    "coredns_dns_requests_total",
    "Counter of DNS requests made per zone, protocol and family.",
    ["server", "zone", "view", "proto", "family", "type"],
)
do_requests_total = FastCounter(
    "coredns_dns_do_requests_total",
    "Counter of DNS requests with DO bit set per zone.",
    ["server", "view", "zone"],
)
request_duration = FastHistogram(
    "coredns_dns_request_duration_seconds",
    "Histogram of the time (in seconds) each request took per zone.",
    ["server", "zone", "view"],
    _DURATION_BUCKETS,
)
request_size = FastHistogram(
    "coredns_dns_request_size_bytes",
    "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
    ["server", "zone", "view", "proto"],
    _SIZE_BUCKETS,
)
response_size = FastHistogram(
    "coredns_dns_response_size_bytes",
    "Size of the returned response in bytes.",
    ["server", "zone", "view", "proto"],
    _SIZE_BUCKETS,
)
responses_total = FastCounter(
    "coredns_dns_responses_total",
    "Counter of response status codes.",
    ["server", "zone", "view", "rcode", "plugin"],
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


#: The cells one query touches, found once per label combination.
_Cells = tuple[list[float], HistogramChild, HistogramChild, list[float], HistogramChild]
_cells: dict[tuple[str, str, str, int, str, str, str], _Cells] = {}
_do_cells: dict[tuple[str, str], list[float]] = {}
#: Combinations are bounded by the config (servers, zones, plugins) and the rcodes; the cap
#: only guards memory against a surprise. Past it, reports still work, uncached.
_CELLS_MAX = 10_000


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
    """Record one query and its reply (CoreDNS's ``vars.Report``); event loop thread only."""
    typ = qtype if qtype in MONITORED_TYPES else "other"
    key = (server, zone, proto, family, typ, rcode, plugin)
    cells = _cells.get(key)
    if cells is None:
        cells = (
            requests_total.child(server, zone, "", proto, str(family), typ),
            request_duration.child(server, zone, ""),
            request_size.child(server, zone, "", proto),
            responses_total.child(server, zone, "", rcode, plugin),
            response_size.child(server, zone, "", proto),
        )
        if len(_cells) < _CELLS_MAX:
            _cells[key] = cells
    requests, durations, req_sizes, responses, resp_sizes = cells
    requests[0] += 1
    if do:
        do_cell = _do_cells.get((server, zone))
        if do_cell is None:
            do_cell = do_requests_total.child(server, "", zone)
            if len(_do_cells) < _CELLS_MAX:
                _do_cells[(server, zone)] = do_cell
        do_cell[0] += 1
    durations.observe(duration)
    req_sizes.observe(req_size)
    responses[0] += 1
    resp_sizes.observe(resp_size)
