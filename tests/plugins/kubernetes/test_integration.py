"""kubernetes end to end: the real server, the real client, a real HTTP fake API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    endpoint,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
)


def populate(api: FakeAPI) -> None:
    for ns in ("default", "demo", "kube-system"):
        api.add("Namespace", make_namespace(ns))
    api.add("Service", make_service("demo", "web", cluster_ips=["10.96.0.20", "fd00::20"]))
    api.add("Service", make_service("demo", "empty", cluster_ip="10.96.0.21"))
    api.add(
        "Service",
        make_service("demo", "db", cluster_ip="None", ports=[("postgres", 5432, "TCP")]),
    )
    api.add("Service", make_service("demo", "search", external_name="target.example."))
    api.add("Service", make_service("kube-system", "kube-dns", cluster_ip="10.96.0.10"))
    api.add(
        "EndpointSlice",
        make_slice("demo", "web", "web-1", endpoints=[endpoint("10.244.1.1", pod="web-abc")]),
    )
    api.add(
        "EndpointSlice",
        make_slice(
            "demo",
            "db",
            ports=[("postgres", 5432, "TCP")],
            endpoints=[
                endpoint("10.244.2.1", hostname="db-0"),
                endpoint("10.244.2.2", hostname="db-1"),
                endpoint("10.244.2.3", hostname="db-2", ready=False),
            ],
        ),
    )
    api.add("Pod", make_pod("demo", "web-abc", "10.244.1.1"))


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        populate(fake)
        yield fake


def corefile(api: FakeAPI, *options: str) -> str:
    extra = "".join(f"        {o}\n" for o in options)
    return (
        ". {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
        f"        endpoint {api.url}\n{extra}    }}\n"
        "    ready\n    stub tag 9\n}\ntarget.example {\n    stub tag 9\n}\n"
    )


@asynccontextmanager
async def k8s_server(api: FakeAPI, *options: str) -> AsyncIterator[TestServer]:
    from tests.integration.stubs import stub_plugin

    with stub_plugin():
        async with serve_corefile(corefile(api, *options)) as srv:
            yield srv


def rrs(reply: dns.message.Message, section: str = "answer") -> list[str]:
    out = []
    for rrset in getattr(reply, section):
        for rd in rrset:
            out.append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    return sorted(out)


MATRIX = [
    # (id, qname, qtype, rcode, answer records "name TYPE rdata", soa in authority)
    ("clusterip-a", "web.demo.svc.cluster.local", "A", "NOERROR",
     ["web.demo.svc.cluster.local. A 10.96.0.20"], False),
    ("clusterip-aaaa", "web.demo.svc.cluster.local", "AAAA", "NOERROR",
     ["web.demo.svc.cluster.local. AAAA fd00::20"], False),
    ("clusterip-case", "WEB.Demo.SVC.cluster.LOCAL", "A", "NOERROR",
     ["WEB.Demo.SVC.cluster.LOCAL. A 10.96.0.20"], False),
    ("clusterip-no-endpoints", "empty.demo.svc.cluster.local", "A", "NOERROR",
     ["empty.demo.svc.cluster.local. A 10.96.0.21"], False),
    ("v4-only-aaaa-nodata", "empty.demo.svc.cluster.local", "AAAA", "NOERROR", [], True),
    ("other-type-nodata", "web.demo.svc.cluster.local", "MX", "NOERROR", [], True),
    ("headless-a", "db.demo.svc.cluster.local", "A", "NOERROR",
     ["db.demo.svc.cluster.local. A 10.244.2.1", "db.demo.svc.cluster.local. A 10.244.2.2"], False),
    ("endpoint-hostname", "db-1.db.demo.svc.cluster.local", "A", "NOERROR",
     ["db-1.db.demo.svc.cluster.local. A 10.244.2.2"], False),
    ("endpoint-unready", "db-2.db.demo.svc.cluster.local", "A", "NXDOMAIN", [], True),
    ("endpoint-dashed-ip", "10-244-1-1.web.demo.svc.cluster.local", "A", "NOERROR",
     ["10-244-1-1.web.demo.svc.cluster.local. A 10.244.1.1"], False),
    ("srv-named-port", "_postgres._tcp.db.demo.svc.cluster.local", "SRV", "NOERROR",
     ["_postgres._tcp.db.demo.svc.cluster.local. SRV 0 50 5432 db-0.db.demo.svc.cluster.local.",
      "_postgres._tcp.db.demo.svc.cluster.local. SRV 0 50 5432 db-1.db.demo.svc.cluster.local."],
     False),
    ("srv-clusterip", "_http._tcp.empty.demo.svc.cluster.local", "SRV", "NOERROR",
     ["_http._tcp.empty.demo.svc.cluster.local. SRV 0 100 80 empty.demo.svc.cluster.local."],
     False),
    # dual stack: CoreDNS weighs one item per cluster IP (50) then merges the identical records
    ("srv-clusterip-dual-stack", "_http._tcp.web.demo.svc.cluster.local", "SRV", "NOERROR",
     ["_http._tcp.web.demo.svc.cluster.local. SRV 0 50 80 web.demo.svc.cluster.local."], False),
    ("externalname", "search.demo.svc.cluster.local", "A", "NOERROR",
     ["search.demo.svc.cluster.local. CNAME target.example.", "target.example. A 10.0.0.9"], False),
    ("externalname-cname", "search.demo.svc.cluster.local", "CNAME", "NOERROR",
     ["search.demo.svc.cluster.local. CNAME target.example."], False),
    ("ptr-clusterip", "10.0.96.10.in-addr.arpa", "PTR", "NOERROR",
     ["10.0.96.10.in-addr.arpa. PTR kube-dns.kube-system.svc.cluster.local."], False),
    ("ptr-endpoint", "2.2.244.10.in-addr.arpa", "PTR", "NOERROR",
     ["2.2.244.10.in-addr.arpa. PTR db-1.db.demo.svc.cluster.local."], False),
    ("ptr-unknown", "9.9.9.10.in-addr.arpa", "PTR", "NXDOMAIN", [], True),
    ("missing-service", "nope.demo.svc.cluster.local", "A", "NXDOMAIN", [], True),
    ("missing-namespace", "web.nope.svc.cluster.local", "A", "NXDOMAIN", [], True),
    ("namespace-nodata", "demo.svc.cluster.local", "A", "NOERROR", [], True),
    ("svc-apex-nodata", "svc.cluster.local", "A", "NOERROR", [], True),
    ("unknown-top", "x.cluster.local", "A", "NXDOMAIN", [], True),
    ("pods-disabled", "10-244-1-1.demo.pod.cluster.local", "A", "NXDOMAIN", [], True),
    ("dns-version", "dns-version.cluster.local", "TXT", "NOERROR",
     ['dns-version.cluster.local. TXT "1.1.0"'], False),
    ("apex-soa", "cluster.local", "SOA", "NOERROR", None, False),
]  # fmt: skip


async def test_matrix_through_the_real_api(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:
        for case_id, qname, qtype, rcode, answer, soa in MATRIX:
            reply = await srv.query(qname, qtype)
            assert dns.rcode.to_text(reply.rcode()) == rcode, case_id
            assert bool(reply.flags & dns.flags.AA), case_id
            if answer is not None:
                assert rrs(reply) == sorted(answer), case_id
            auth = rrs(reply, "authority")
            assert (len(auth) == 1 and " SOA ns.dns." in auth[0]) == soa, case_id


async def test_changes_at_run_time_are_answered(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:

        async def a(name: str) -> list[str]:
            reply = await srv.query(name, "A")
            return [rd.address for rrset in reply.answer for rd in rrset]

        assert await a("new.demo.svc.cluster.local") == []
        api.add("Service", make_service("demo", "new", cluster_ip="10.96.0.99"))
        await poll(lambda: a("new.demo.svc.cluster.local"), ["10.96.0.99"])
        api.update("Service", make_service("demo", "new", cluster_ip="10.96.0.98"))
        await poll(lambda: a("new.demo.svc.cluster.local"), ["10.96.0.98"])
        api.delete("Service", "demo", "new")
        await poll(lambda: rcode(srv, "new.demo.svc.cluster.local"), dns.rcode.NXDOMAIN)


async def rcode(srv: TestServer, name: str, qtype: str = "A") -> int:
    return int((await srv.query(name, qtype)).rcode())


async def poll(get: object, want: object, timeout: float = 5.0) -> None:
    """Await ``get()`` until it returns ``want`` (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        last = await get()  # type: ignore[operator]
        if last == want:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"got {last!r}, want {want!r}")


async def test_watch_resumes_after_the_server_closes_it(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:
        before = len(api.watches("Service"))
        api.close_watches()
        api.add("Service", make_service("demo", "after", cluster_ip="10.96.0.50"))
        await poll(lambda: rcode(srv, "after.demo.svc.cluster.local"), dns.rcode.NOERROR)
        later = api.watches("Service")[before:]
        assert later and all(w.params.get("resourceVersion") not in ("", "0") for w in later)


async def test_relist_after_410_deletes_what_vanished(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:
        assert await rcode(srv, "web.demo.svc.cluster.local") == dns.rcode.NOERROR
        api.stop()
        api.delete("Service", "demo", "web")
        api.compact()  # the watch's resourceVersion is now too old: 410, relist, diff
        api.start()
        await poll(lambda: rcode(srv, "web.demo.svc.cluster.local"), dns.rcode.NXDOMAIN, 15)


async def test_api_outage_keeps_answering_and_recovers(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:
        api.stop()
        for _ in range(20):  # the API is down: the last known data keeps answering
            assert await rcode(srv, "web.demo.svc.cluster.local") == dns.rcode.NOERROR
        api.add("Service", make_service("demo", "during", cluster_ip="10.96.0.60"))
        api.start()
        await poll(lambda: rcode(srv, "during.demo.svc.cluster.local"), dns.rcode.NOERROR, 20)


async def test_before_the_first_sync_misses_are_servfail_and_not_ready() -> None:
    with FakeAPI() as api:
        broken = True
        api.fail(status=500, count=10**6, when=lambda params: broken)  # never synced
        async with k8s_server(api, "startup_timeout 0.3s") as srv:
            reply = await srv.query("web.demo.svc.cluster.local", "A")
            assert reply.rcode() == dns.rcode.SERVFAIL
            assert " SOA " in rrs(reply, "authority")[0]
            port = srv.http_port(":8181")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/ready") as resp:
                    assert resp.status == 503
                    assert await resp.text() == "kubernetes"
                broken = False
                populate(api)
                await wait_for(lambda: srv.instance.blocks[0].readiness[0][1](), timeout=20)
                async with http.get(f"http://127.0.0.1:{port}/ready") as resp:
                    assert resp.status == 200
            assert await rcode(srv, "nope.demo.svc.cluster.local") == dns.rcode.NXDOMAIN


OPTION_CASES = [
    # (id, options, qname, qtype, rcode, answer records; None = don't compare)
    ("fallthrough-reverse", ["fallthrough in-addr.arpa ip6.arpa"],
     "9.9.9.10.in-addr.arpa", "PTR", "NOERROR", ["9.9.9.10.in-addr.arpa. A 10.0.0.9"]),
    ("fallthrough-not-forward", ["fallthrough in-addr.arpa ip6.arpa"],
     "nope.demo.svc.cluster.local", "A", "NXDOMAIN", []),
    ("fallthrough-all", ["fallthrough"],
     "nope.demo.svc.cluster.local", "A", "NOERROR", ["nope.demo.svc.cluster.local. A 10.0.0.9"]),
    ("namespaces-hidden", ["namespaces default"], "web.demo.svc.cluster.local", "A",
     "NXDOMAIN", []),
    ("namespaces-shown", ["namespaces demo"], "web.demo.svc.cluster.local", "A", "NOERROR",
     ["web.demo.svc.cluster.local. A 10.96.0.20"]),
    ("namespace-labels", ["namespace_labels team=web"], "web.demo.svc.cluster.local", "A",
     "NOERROR", ["web.demo.svc.cluster.local. A 10.96.0.20"]),
    ("namespace-labels-hidden", ["namespace_labels team=db"], "web.demo.svc.cluster.local", "A",
     "NXDOMAIN", []),
    ("labels-selects", ["labels tier=front"], "web.demo.svc.cluster.local", "A", "NOERROR",
     ["web.demo.svc.cluster.local. A 10.96.0.20"]),
    ("labels-filters", ["labels tier=front"], "empty.demo.svc.cluster.local", "A", "NXDOMAIN", []),
    ("pods-insecure", ["pods insecure"], "10-1-2-3.demo.pod.cluster.local", "A", "NOERROR",
     ["10-1-2-3.demo.pod.cluster.local. A 10.1.2.3"]),
    ("pods-insecure-no-namespace", ["pods insecure"], "10-1-2-3.nope.pod.cluster.local", "A",
     "NXDOMAIN", []),
    ("pods-verified", ["pods verified"], "10-244-1-1.demo.pod.cluster.local", "A", "NOERROR",
     ["10-244-1-1.demo.pod.cluster.local. A 10.244.1.1"]),
    ("pods-verified-unknown", ["pods verified"], "10-1-2-3.demo.pod.cluster.local", "A",
     "NXDOMAIN", []),
    ("endpoint-pod-names", ["endpoint_pod_names"], "web-abc.web.demo.svc.cluster.local", "A",
     "NOERROR", ["web-abc.web.demo.svc.cluster.local. A 10.244.1.1"]),
    ("noendpoints", ["noendpoints"], "db.demo.svc.cluster.local", "A", "NXDOMAIN", []),
    ("ignore-empty-service", ["ignore empty_service"], "empty.demo.svc.cluster.local", "A",
     "NXDOMAIN", []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "qname", "qtype", "rcode", "answer"),
    [c[1:] for c in OPTION_CASES],
    ids=[c[0] for c in OPTION_CASES],
)
async def test_options_through_the_real_api(
    api: FakeAPI, options: list[str], qname: str, qtype: str, rcode: str, answer: list[str]
) -> None:
    api.update("Namespace", make_namespace("demo", {"team": "web"}))
    api.update(
        "Service",
        make_service(
            "demo", "web", cluster_ips=["10.96.0.20", "fd00::20"], labels={"tier": "front"}
        ),
    )
    api.update(
        "EndpointSlice",
        make_slice(
            "demo",
            "web",
            name="web-1",
            endpoints=[endpoint("10.244.1.1", pod="web-abc")],
            labels={"tier": "front"},
        ),
    )
    ttl_line = ["ttl 17"]
    async with k8s_server(api, *options, *ttl_line) as srv:
        reply = await srv.query(qname, qtype)
    assert dns.rcode.to_text(reply.rcode()) == rcode
    assert rrs(reply) == sorted(answer)
    for rrset in reply.answer:
        if "10.0.0.9" not in rrset.to_text():  # the stub below the plugin has its own TTL
            assert rrset.ttl == 17


async def test_labels_selector_is_sent_to_the_api(api: FakeAPI) -> None:
    async with k8s_server(api, "labels tier=front"):
        pass
    sent = {(r.kind, r.params.get("labelSelector")) for r in api.requests if r.kind in KINDS_SENT}
    assert ("Service", "tier=front") in sent
    assert ("EndpointSlice", "tier=front") in sent
    assert ("Namespace", None) in sent


KINDS_SENT = ("Service", "EndpointSlice", "Namespace")


async def test_programming_latency_is_measured_from_the_trigger_time(api: FakeAPI) -> None:
    from datetime import UTC, datetime, timedelta

    from prometheus_client import REGISTRY

    def count(kind: str) -> float:
        labels = {"service_kind": kind}
        name = "coredns_kubernetes_dns_programming_duration_seconds_count"
        return REGISTRY.get_sample_value(name, labels) or 0.0

    async with k8s_server(api) as srv:
        before = {k: count(k) for k in ("cluster_ip", "headless_without_selector")}
        when = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for service, ip in (("web", "10.244.1.7"), ("db", "10.244.2.7")):
            piece = make_slice("demo", service, f"{service}-late", endpoints=[endpoint(ip)])
            piece["metadata"]["annotations"] = {
                "endpoints.kubernetes.io/last-change-trigger-time": when
            }
            api.add("EndpointSlice", piece)
        await wait_for(
            lambda: count("headless_without_selector") > before["headless_without_selector"]
        )
        await wait_for(lambda: count("cluster_ip") > before["cluster_ip"])
        assert await rcode(srv, "db.demo.svc.cluster.local") == dns.rcode.NOERROR


async def test_data_changed_signal_fires_on_changes(api: FakeAPI) -> None:
    async with k8s_server(api) as srv:
        (handler,) = [h for h in srv.instance.blocks[0].handlers if h.name == "kubernetes"]
        assert handler.zones == ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")
        calls: list[int] = []
        stop = handler.on_data_changed(lambda: calls.append(1))
        api.add("Service", make_service("demo", "signal", cluster_ip="10.96.0.77"))
        await wait_for(lambda: calls)
        stop()
        calls.clear()
        api.delete("Service", "demo", "signal")
        await poll(lambda: rcode(srv, "signal.demo.svc.cluster.local"), dns.rcode.NXDOMAIN)
        assert calls == []
