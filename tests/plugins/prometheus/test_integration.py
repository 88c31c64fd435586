"""*prometheus* through the real server: queries, then a scrape of ``/metrics``."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import aiohttp
import dns.rcode
import pytest
from prometheus_client import REGISTRY as PROM
from prometheus_client.parser import text_string_to_metric_families

from dnsd import __version__, testing
from dnsd.testing import serve_corefile
from tests.integration.stubs import stub_plugin

Labels = dict[str, str]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(
    srv: testing.TestServer, addr: str = "localhost:9153", headers: dict[str, str] | None = None
) -> tuple[aiohttp.ClientResponse, bytes]:
    """GET /metrics with exactly ``headers`` (no Accept-Encoding unless given); raw body."""
    url = f"http://127.0.0.1:{srv.http_port(addr)}/metrics"
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(
            url, headers=headers or {}, skip_auto_headers=["Accept-Encoding"]
        ) as resp:
            return resp, await resp.read()


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, metric: str, **labels: str) -> float | None:
    return samples.get((metric, frozenset(labels.items())))


def before(name: str, **labels: str) -> float:
    """The registry's value now: server labels can repeat across tests (ports are reused)."""
    return PROM.get_sample_value(name, labels) or 0.0


@pytest.fixture
def stub() -> Iterator[None]:
    with stub_plugin("stub"):
        yield


COREFILE = ". {\n    prometheus\n    whoami\n}\n"


async def test_scrape_after_queries() -> None:
    async with serve_corefile(COREFILE) as srv:
        server = f"dns://127.0.0.1:{srv.port}"
        zone = {"server": server, "zone": ".", "view": ""}
        a_udp = {**zone, "proto": "udp", "family": "1", "type": "A"}
        aaaa_tcp = {**zone, "proto": "tcp", "family": "1", "type": "AAAA"}
        other = {**zone, "proto": "udp", "family": "1", "type": "other"}
        noerror = {**zone, "rcode": "NOERROR", "plugin": "whoami"}
        start = {
            "a": before("coredns_dns_requests_total", **a_udp),
            "aaaa": before("coredns_dns_requests_total", **aaaa_tcp),
            "other": before("coredns_dns_requests_total", **other),
            "noerror": before("coredns_dns_responses_total", **noerror),
            "do": before("coredns_dns_do_requests_total", server=server, view="", zone="."),
            "duration": before("coredns_dns_request_duration_seconds_count", **zone),
        }
        for _ in range(2):
            assert (await srv.query("example.org", "A")).rcode() == dns.rcode.NOERROR
        await srv.query("example.org", "AAAA", tcp=True)
        await srv.query("example.org", "NAPTR", use_edns=0, want_dnssec=True)
        resp, body = await scrape(srv)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    samples = parse(text)
    assert value(samples, "coredns_dns_requests_total", **a_udp) == start["a"] + 2
    assert value(samples, "coredns_dns_requests_total", **aaaa_tcp) == start["aaaa"] + 1
    assert value(samples, "coredns_dns_requests_total", **other) == start["other"] + 1
    assert value(samples, "coredns_dns_responses_total", **noerror) == start["noerror"] + 4
    do = value(samples, "coredns_dns_do_requests_total", server=server, view="", zone=".")
    assert do == start["do"] + 1
    count = value(samples, "coredns_dns_request_duration_seconds_count", **zone)
    assert count == start["duration"] + 4
    # labels come out sorted by name, as Go's client writes them
    line = (
        f'coredns_dns_requests_total{{family="1",proto="udp",server="{server}",type="A",'
        f'view="",zone="."}} {start["a"] + 2}'
    )
    assert line in text.splitlines()


HISTOGRAMS = {
    "request-duration": (
        "coredns_dns_request_duration_seconds",
        {},
        ["0.00025", "0.0005", "0.001", "4.096", "8.192", "+Inf"],
    ),
    "request-size": (
        "coredns_dns_request_size_bytes",
        {"proto": "udp"},
        ["0.0", "100.0", "511.0", "8291.0", "64000.0", "+Inf"],
    ),
    "response-size": (
        "coredns_dns_response_size_bytes",
        {"proto": "udp"},
        ["0.0", "100.0", "511.0", "8291.0", "64000.0", "+Inf"],
    ),
}


@pytest.mark.parametrize(("name", "extra", "bounds"), HISTOGRAMS.values(), ids=HISTOGRAMS.keys())
async def test_histograms(name: str, extra: Labels, bounds: list[str]) -> None:
    async with serve_corefile(COREFILE) as srv:
        labels = {"server": f"dns://127.0.0.1:{srv.port}", "zone": ".", "view": "", **extra}
        count = before(f"{name}_count", **labels)
        await srv.query("example.org", "A")
        _, body = await scrape(srv)
    samples = parse(body.decode())
    assert value(samples, f"{name}_count", **labels) == count + 1
    for le in bounds:
        assert value(samples, f"{name}_bucket", **labels, le=le) is not None, le
    assert value(samples, f"{name}_bucket", **labels, le="+Inf") == count + 1


@pytest.mark.parametrize(
    ("directive", "qname", "rcode", "plugin"),
    [
        pytest.param("whoami", "example.org", "NOERROR", "whoami", id="answered"),
        pytest.param("stub fail", "example.org", "SERVFAIL", "", id="plugin-error"),
        pytest.param("stub none", "example.org", "SERVFAIL", "", id="nothing-answered"),
        pytest.param("stub wire", "example.org", "NOERROR", "stub", id="wire-reply"),
    ],
)
async def test_responses_rcode_and_plugin(
    stub: None, directive: str, qname: str, rcode: str, plugin: str
) -> None:
    async with serve_corefile(f". {{\n    prometheus\n    {directive}\n}}\n") as srv:
        labels = {"server": f"dns://127.0.0.1:{srv.port}", "zone": ".", "view": ""}
        labels |= {"rcode": rcode, "plugin": plugin}
        start = before("coredns_dns_responses_total", **labels)
        await srv.query(qname, "A")
        _, body = await scrape(srv)
    assert value(parse(body.decode()), "coredns_dns_responses_total", **labels) == start + 1


async def test_panics_are_counted(stub: None) -> None:
    async with serve_corefile(". {\n    prometheus\n    stub raise\n}\n") as srv:
        start = before("coredns_panics_total")
        reply = await srv.query("example.org", "A")
        _, body = await scrape(srv)
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert value(parse(body.decode()), "coredns_panics_total") == start + 1


async def test_zone_label_is_the_block_zone() -> None:
    corefile = "example.org {\n    prometheus\n    whoami\n}\n. {\n    prometheus\n    whoami\n}\n"
    async with serve_corefile(corefile) as srv:
        server = f"dns://127.0.0.1:{srv.port}"
        zones = {"example.org.": "www.example.org", ".": "example.net"}
        start = {
            z: before(
                "coredns_dns_requests_total",
                server=server,
                zone=z,
                view="",
                proto="udp",
                family="1",
                type="A",
            )
            for z in zones
        }
        for qname in zones.values():
            await srv.query(qname, "A")
        _, body = await scrape(srv)
    samples = parse(body.decode())
    for zone in zones:
        got = value(
            samples,
            "coredns_dns_requests_total",
            server=server,
            zone=zone,
            view="",
            proto="udp",
            family="1",
            type="A",
        )
        assert got == start[zone] + 1, zone


async def test_blocks_without_prometheus_are_not_counted() -> None:
    corefile = "example.org {\n    whoami\n}\n. {\n    prometheus\n    whoami\n}\n"
    async with serve_corefile(corefile) as srv:
        labels = {"server": f"dns://127.0.0.1:{srv.port}", "zone": "example.org.", "view": ""}
        start = before("coredns_dns_request_duration_seconds_count", **labels)
        await srv.query("www.example.org", "A")
        _, body = await scrape(srv)
    assert (
        value(parse(body.decode()), "coredns_dns_request_duration_seconds_count", **labels) or 0.0
    ) == start


async def test_core_metrics_are_exported() -> None:
    text = ". {\n    prometheus\n    health\n    whoami\n}\nexample.org {\n    whoami\n}\n"
    async with serve_corefile(text) as srv:
        server = f"dns://127.0.0.1:{srv.port}"
        await srv.query("nowhere.", "A")
        _, body = await scrape(srv)
    samples = parse(body.decode())
    build = [labels for (name, labels) in samples if name == "coredns_build_info"]
    assert len(build) == 1
    assert dict(build[0])["version"] == __version__
    assert {k for k, _ in build[0]} == {"version", "revision", "goversion"}
    for plugin in ("prometheus", "whoami"):
        enabled = value(
            samples, "coredns_plugin_enabled", server=server, zone=".", view="", name=plugin
        )
        assert enabled == 1, plugin
    # As in CoreDNS: only plugins that add a handler to the chain.
    assert value(samples, "coredns_plugin_enabled", server=server, zone=".", name="health") is None
    unwatched = {"server": server, "zone": "example.org.", "view": "", "name": "whoami"}
    assert value(samples, "coredns_plugin_enabled", **unwatched) is None
    assert value(samples, "coredns_panics_total") is not None
    assert not [name for (name, _) in samples if name.endswith("_created")]


async def test_refused_queries_are_reported_as_dropped() -> None:
    async with serve_corefile("example.org {\n    prometheus\n    whoami\n}\n") as srv:
        labels = {"server": f"dns://127.0.0.1:{srv.port}", "zone": "dropped", "view": ""}
        labels |= {"rcode": "REFUSED", "plugin": ""}
        start = before("coredns_dns_responses_total", **labels)
        assert (await srv.query("example.net", "A")).rcode() == dns.rcode.REFUSED
        _, body = await scrape(srv)
    assert value(parse(body.decode()), "coredns_dns_responses_total", **labels) == start + 1


NEGOTIATION = {
    "text-by-default": ({}, "text/plain; version=0.0.4; charset=utf-8", False),
    "openmetrics-on-request": (
        {"Accept": "application/openmetrics-text; version=1.0.0"},
        "application/openmetrics-text",
        False,
    ),
    "gzip-when-accepted": (
        {"Accept-Encoding": "gzip, deflate"},
        "text/plain; version=0.0.4",
        True,
    ),
    "deflate-alone-is-not-used": ({"Accept-Encoding": "deflate"}, "text/plain", False),
}


@pytest.mark.parametrize(
    ("headers", "content_type", "gzipped"), NEGOTIATION.values(), ids=NEGOTIATION.keys()
)
async def test_negotiation(headers: dict[str, str], content_type: str, gzipped: bool) -> None:
    async with serve_corefile(COREFILE) as srv:
        resp, body = await scrape(srv, headers=headers)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith(content_type)
    assert (resp.headers.get("Content-Encoding") == "gzip") == gzipped
    text = (gzip.decompress(body) if gzipped else body).decode()
    assert "coredns_build_info" in text


async def test_endpoint_is_shared_and_survives_reload() -> None:
    corefile = "a.org {\n    prometheus :9253\n    whoami\n}\nb.org {\n    prometheus :9253\n}\n"
    async with serve_corefile(corefile) as srv:
        port = srv.http_port(":9253")
        assert await srv.reload(corefile.replace("b.org", "c.org"))
        assert srv.http_port(":9253") == port
        resp, body = await scrape(srv, ":9253")
        other = await scrape_path(port, "/health")
    assert resp.status == 200 and b"coredns_dns_requests_total" in body
    assert other == 404


async def scrape_path(port: int, path: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
            return resp.status
