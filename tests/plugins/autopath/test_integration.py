"""autopath end to end: kubeadm's Corefile plus ``autopath @kubernetes`` and ``pods verified``,
the real server, a fake API server, and pods on loopback addresses (127.0.0.x) that the queries
are sent from (dnspython's ``source=``). Names outside the cluster come from a *file* zone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.kubernetes import searchpath
from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_pod, make_service

ZONE = """$ORIGIN example.test.
@        300 IN SOA ns.example.test. admin.example.test. 1 7200 1800 86400 30
@        300 IN NS  ns.example.test.
ns       300 IN A   10.5.0.1
www      300 IN A   10.5.0.2
dual     300 IN A   10.5.0.3
dual     300 IN AAAA fd00::3
intranet.corp 300 IN A 10.5.0.4
"""

NS1, NS2, NOBODY = "127.0.0.11", "127.0.0.12", "127.0.0.1"
REUSED, HOSTNET = "127.0.0.13", "127.0.0.14"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        for ns in ("ns1", "ns2", "kube-system"):
            fake.add("Namespace", make_namespace(ns))
        fake.add("Service", make_service("ns1", "web", cluster_ip="10.96.0.20"))
        fake.add("Service", make_service("ns2", "web", cluster_ip="10.96.0.30"))
        fake.add("Service", make_service("ns2", "only2", cluster_ip="10.96.0.31"))
        fake.add("Pod", make_pod("ns1", "client-1", NS1))
        fake.add("Pod", make_pod("ns2", "client-2", NS2))
        fake.add("Pod", make_pod("ns1", "old", REUSED))
        hostnet = make_pod("kube-system", "kube-proxy", HOSTNET)
        hostnet["spec"]["hostNetwork"] = True
        fake.add("Pod", hostnet)
        yield fake


def corefile(api: FakeAPI, zone_file: Path) -> str:
    return f""".:53 {{
    errors
    health {{
        lameduck 0s
    }}
    ready
    autopath @kubernetes
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        endpoint {api.url}
        pods verified
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    prometheus :9153
    file {zone_file} example.test
    cache 30
    loadbalance
}}
"""


@asynccontextmanager
async def server(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestServer]:
    zone_file = tmp_path / "db.example.test"
    zone_file.write_text(ZONE)
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 10.0.0.1\nsearch corp.example.test\n")
    monkeypatch.setattr(searchpath, "RESOLV_CONF", str(resolv))
    async with serve_corefile(corefile(api, zone_file)) as srv:
        yield srv


async def ask(
    srv: TestServer, source: str, qname: str, qtype: str = "A", *, tcp: bool = False
) -> dns.message.Message:
    q = dns.message.make_query(qname, qtype)
    kw: dict[str, Any] = {"port": srv.port, "timeout": 2.0, "source": source}
    if tcp:
        return await dns.asyncquery.tcp(q, srv.host, **kw)
    return await dns.asyncquery.udp(q, srv.host, **kw)


def answer(reply: dns.message.Message) -> list[str]:
    return [
        f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}"
        for rrset in reply.answer
        for rd in rrset
    ]


def successes() -> float:
    return sum(
        s.value
        for m in REGISTRY.collect()
        if m.name == "coredns_autopath_success"
        for s in m.samples
        if s.name == "coredns_autopath_success_total"
    )


WWW1 = "www.example.test.ns1.svc.cluster.local."
WWW2 = "www.example.test.ns2.svc.cluster.local."


async def test_walks_for_a_pod(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with server(api, tmp_path, monkeypatch) as srv:
        before = successes()
        reply = await ask(srv, NS1, WWW1)
        assert reply.rcode() == dns.rcode.NOERROR
        assert answer(reply) == [f"{WWW1} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        assert reply.question[0].to_text() == f"{WWW1} IN A"
        assert successes() == before + 1
        # Over TCP the client is known by its address too.
        reply = await ask(srv, NS1, WWW1, tcp=True)
        assert answer(reply) == [f"{WWW1} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        # A cluster name on the first step: the plain answer, no CNAME.
        reply = await ask(srv, NS1, "web.ns1.svc.cluster.local.")
        assert answer(reply) == ["web.ns1.svc.cluster.local. A 10.96.0.20"]
        # `web.ns2` typed in ns1: found under svc.cluster.local.
        name = "web.ns2.ns1.svc.cluster.local."
        reply = await ask(srv, NS1, name)
        assert answer(reply) == [
            f"{name} CNAME web.ns2.svc.cluster.local.",
            "web.ns2.svc.cluster.local. A 10.96.0.30",
        ]
        # The server's own search domain (its resolv.conf) ends the list.
        name = "intranet.ns1.svc.cluster.local."
        reply = await ask(srv, NS1, name)
        assert answer(reply) == [
            f"{name} CNAME intranet.corp.example.test.",
            "intranet.corp.example.test. A 10.5.0.4",
        ]


async def test_a_and_aaaa_stop_at_the_same_name(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with server(api, tmp_path, monkeypatch) as srv:
        a = await ask(srv, NS1, WWW1, "A")
        aaaa = await ask(srv, NS1, WWW1, "AAAA")
        assert answer(a) == [f"{WWW1} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        # NODATA from the bare name (its SOA), not NXDOMAIN from walking further
        assert aaaa.rcode() == dns.rcode.NOERROR and answer(aaaa) == []
        assert [str(rrset.name) for rrset in aaaa.authority] == ["example.test."]
        dual = "dual.example.test.ns1.svc.cluster.local."
        reply = await ask(srv, NS1, dual, "AAAA")
        assert answer(reply) == [
            f"{dual} CNAME dual.example.test.",
            "dual.example.test. AAAA fd00::3",
        ]
        # A name nowhere: NXDOMAIN for the asked name, the client walks on.
        missing = "nothing.ns1.svc.cluster.local."
        for qtype in ("A", "AAAA"):
            reply = await ask(srv, NS1, missing, qtype)
            assert reply.rcode() == dns.rcode.NXDOMAIN and answer(reply) == []
            assert [str(rrset.name) for rrset in reply.authority] == ["cluster.local."]


async def test_answers_never_cross_clients(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With cache in the block and the same query bytes: a pod of ns1 gets the walked answer; a
    pod of ns2 and a client outside the cluster get the plain NXDOMAIN of that name (neither the
    cache nor an answer memo hands them ns1's reply); each pod gets its own walk."""
    async with server(api, tmp_path, monkeypatch) as srv:
        walked = [f"{WWW1} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        walked2 = [f"{WWW2} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        for _ in range(3):
            assert answer(await ask(srv, NS1, WWW1)) == walked
            for other in (NS2, NOBODY):
                reply = await ask(srv, other, WWW1)
                assert reply.rcode() == dns.rcode.NXDOMAIN and answer(reply) == []
            reply = await ask(srv, NS2, WWW2)
            assert answer(reply) == walked2
        # only2 exists in ns2 alone: found for the ns2 pod, not for the ns1 pod
        reply = await ask(srv, NS2, "only2.ns2.svc.cluster.local.")
        assert answer(reply) == ["only2.ns2.svc.cluster.local. A 10.96.0.31"]
        name = "only2.ns1.svc.cluster.local."
        assert (await ask(srv, NS1, name)).rcode() == dns.rcode.NXDOMAIN
        assert (await ask(srv, NS2, name)).rcode() == dns.rcode.NXDOMAIN


async def test_no_autopath_for_host_network_and_unknown_clients(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with server(api, tmp_path, monkeypatch) as srv:
        name = "www.example.test.kube-system.svc.cluster.local."
        for client in (HOSTNET, NOBODY):
            reply = await ask(srv, client, name)
            assert reply.rcode() == dns.rcode.NXDOMAIN and answer(reply) == []


async def test_reused_pod_address(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pod ``old`` (ns1) at REUSED is deleted and pod ``new`` (ns2) gets the address: the next
    query from it walks ns2's list."""
    async with server(api, tmp_path, monkeypatch) as srv:
        k8s = next(h for h in srv.instance.blocks[0].handlers if h.name == "kubernetes")
        walked1 = [f"{WWW1} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        assert answer(await ask(srv, REUSED, WWW1)) == walked1
        api.delete("Pod", "ns1", "old")
        api.add("Pod", make_pod("ns2", "new", REUSED))
        await wait_for(
            lambda: (
                (k8s.search_path("x.cluster.local.", REUSED) or ("",))[0]
                == "ns2.svc.cluster.local."
            )
        )
        reply = await ask(srv, REUSED, WWW1)
        assert reply.rcode() == dns.rcode.NXDOMAIN and answer(reply) == []
        walked2 = [f"{WWW2} CNAME www.example.test.", "www.example.test. A 10.5.0.2"]
        assert answer(await ask(srv, REUSED, WWW2)) == walked2


async def test_terminating_pod_no_longer_counts(
    api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with server(api, tmp_path, monkeypatch) as srv:
        k8s = next(h for h in srv.instance.blocks[0].handlers if h.name == "kubernetes")
        api.update("Pod", make_pod("ns1", "old", REUSED, deleting=True))
        await wait_for(lambda: k8s.search_path("x.cluster.local.", REUSED) is None)
        reply = await ask(srv, REUSED, WWW1)
        assert reply.rcode() == dns.rcode.NXDOMAIN


async def test_search_list_from_a_file(tmp_path: Path) -> None:
    """``autopath RESOLV-CONF`` (relative to *root*): the same list for every client."""
    (tmp_path / "db.example.test").write_text(ZONE)
    (tmp_path / "resolv.conf").write_text("search Corp.Example.Test example.test\n")
    text = (
        f". {{\n    root {tmp_path}\n    autopath resolv.conf\n"
        "    file db.example.test example.test\n}\n"
    )
    async with serve_corefile(text) as srv:
        name = "dual.corp.example.test."
        for client in (NS1, NOBODY):
            reply = await ask(srv, client, name, "AAAA")
            assert answer(reply) == [
                f"{name} CNAME dual.example.test.",
                "dual.example.test. AAAA fd00::3",
            ]
        reply = await ask(srv, NOBODY, "intranet.corp.example.test.")
        assert answer(reply) == ["intranet.corp.example.test. A 10.5.0.4"]
