"""Merging the workers' metrics: what is summed, what is kept once, what a dead worker leaves."""

from __future__ import annotations

from prometheus_client import generate_latest

from dnsd import worker_metrics as wm

WORKER = """\
# HELP coredns_dns_requests_total Counter of DNS requests.
# TYPE coredns_dns_requests_total counter
coredns_dns_requests_total{server="dns://:53",zone="."} 3.0
# HELP coredns_dns_request_duration_seconds Histogram.
# TYPE coredns_dns_request_duration_seconds histogram
coredns_dns_request_duration_seconds_bucket{le="0.001",zone="."} 2.0
coredns_dns_request_duration_seconds_bucket{le="+Inf",zone="."} 3.0
coredns_dns_request_duration_seconds_sum{zone="."} 0.5
coredns_dns_request_duration_seconds_count{zone="."} 3.0
# HELP coredns_cache_entries The number of elements in the cache.
# TYPE coredns_cache_entries gauge
coredns_cache_entries{type="success"} 7.0
# HELP coredns_build_info A metric with a constant '1' value.
# TYPE coredns_build_info gauge
coredns_build_info{version="0.1.0"} 1.0
# HELP coredns_plugin_enabled Whether a plugin is enabled.
# TYPE coredns_plugin_enabled gauge
coredns_plugin_enabled{name="whoami"} 1.0
"""


def value(families: wm.Families, family: str, sample: str, **labels: str) -> float:
    return families[family].samples[(sample, tuple(sorted(labels.items())))]


def test_two_workers_are_summed_and_info_kept_once() -> None:
    into: wm.Families = {}
    wm.add(into, wm.parse(WORKER))
    wm.add(into, wm.parse(WORKER))
    requests = "coredns_dns_requests_total"
    assert value(into, "coredns_dns_requests", requests, server="dns://:53", zone=".") == 6
    hist = "coredns_dns_request_duration_seconds"
    assert value(into, hist, hist + "_bucket", le="0.001", zone=".") == 4
    assert value(into, hist, hist + "_sum", zone=".") == 1.0
    assert value(into, hist, hist + "_count", zone=".") == 6
    assert value(into, "coredns_cache_entries", "coredns_cache_entries", type="success") == 14
    assert value(into, "coredns_build_info", "coredns_build_info", version="0.1.0") == 1
    assert value(into, "coredns_plugin_enabled", "coredns_plugin_enabled", name="whoami") == 1


def test_retired_worker_keeps_counters_not_gauges() -> None:
    merged = wm.Merged()
    merged.retire(wm.parse(WORKER))
    assert set(merged.retired) == {"coredns_dns_requests", "coredns_dns_request_duration_seconds"}
    view = merged.view([wm.parse(WORKER)])
    requests = "coredns_dns_requests_total"
    assert value(view, "coredns_dns_requests", requests, server="dns://:53", zone=".") == 6
    assert value(view, "coredns_cache_entries", "coredns_cache_entries", type="success") == 7


def test_encoded_view_parses_back() -> None:
    text = generate_latest(wm.registry(wm.parse(WORKER))).decode()
    assert 'coredns_dns_requests_total{server="dns://:53",zone="."} 3.0' in text
    assert wm.parse(text) == wm.parse(WORKER)
