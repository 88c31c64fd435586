"""dns64 end to end: the real server on 127.0.0.1 and ::1, *cache* and *kubernetes* (fake API
server) behind it, dnspython clients over UDP and TCP.

An IPv6 client asking AAAA for an IPv4-only Service gets the synthesized address, an IPv4 client
the plain NODATA, in any order (no reply remembered for one family is replayed to the other).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import dns.asyncquery
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from prometheus_client import REGISTRY

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_service

WEB = "web.demo.svc.cluster.local"
DUAL = "dual.demo.svc.cluster.local"
V4, V6 = "127.0.0.1", "::1"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        fake.add("Namespace", make_namespace("demo"))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        fake.add(
            "Service",
            make_service(
                "demo",
                "dual",
                cluster_ips=["10.96.0.21", "fd00::21"],
                ip_families=["IPv4", "IPv6"],
            ),
        )
        yield fake


def corefile(url: str, *options: str) -> str:
    dns64 = "dns64"
    if options:
        dns64 += " {\n" + "".join(f"        {o}\n" for o in options) + "    }"
    return (
        ".:53 {\n"
        f"    bind {V4} {V6}\n"
        f"    {dns64}\n"
        "    cache 30\n"
        f"    kubernetes cluster.local {{\n        endpoint {url}\n    }}\n"
        "}\n"
    )


@asynccontextmanager
async def k8s(api: FakeAPI, *options: str) -> AsyncIterator[TestServer]:
    async with serve_corefile(corefile(api.url, *options)) as srv:
        yield srv


async def ask(
    srv: TestServer, host: str, qname: str = WEB, qtype: str = "AAAA", *, tcp: bool = False
) -> dns.message.Message:
    q = dns.message.make_query(qname, qtype)
    if tcp:
        return await dns.asyncquery.tcp(q, host, port=srv.port, timeout=2.0)
    return await dns.asyncquery.udp(q, host, port=srv.port, timeout=2.0)


def aaaa(reply: dns.message.Message) -> list[str]:
    return [rr.address for rrset in reply.answer for rr in rrset if rrset.rdtype == 28]


def dispatchers(srv: TestServer) -> list[Dispatcher]:
    return [listener.dispatcher for listener in srv.runtime.listeners.values()]


def translated(srv: TestServer) -> float:
    total = 0.0
    for d in dispatchers(srv):
        labels = {"server": d.label}
        total += REGISTRY.get_sample_value("coredns_dns64_requests_translated_total", labels) or 0
    return total


async def test_ipv6_clients_get_synthesized_addresses_ipv4_clients_do_not(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        before = translated(srv)
        for tcp in (False, True):
            for host in (V4, V6, V4, V6, V6, V4):
                reply = await ask(srv, host, tcp=tcp)
                assert reply.rcode() == dns.rcode.NOERROR
                if host == V6:
                    assert aaaa(reply) == ["64:ff9b::a60:14"]
                    assert reply.answer[0].ttl <= 5  # min(A TTL, the NODATA's SOA)
                else:
                    assert reply.answer == []
                    assert reply.authority[0].rdtype == dns.rdatatype.SOA
        assert translated(srv) == before + 6
        for d in dispatchers(srv):  # dns64 keeps memos off: the reply depends on the family
            assert d.memos == {} and d.tcp_memos == {}


async def test_real_aaaa_records_and_name_errors_pass(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        assert aaaa(await ask(srv, V6, DUAL)) == ["fd00::21"]
        reply = await ask(srv, V6, "nope.demo.svc.cluster.local")
        assert reply.rcode() == dns.rcode.NXDOMAIN and reply.answer == []
        a = await ask(srv, V6, WEB, "A")
        assert [rr.address for rr in a.answer[0]] == ["10.96.0.20"]


async def test_options_prefix_translate_all_allow_ipv4(api: FakeAPI) -> None:
    options = ("prefix 2001:db8:122:344::/64", "translate_all", "allow_ipv4")
    async with k8s(api, *options) as srv:
        for host in (V4, V6):
            for tcp in (False, True):
                assert aaaa(await ask(srv, host, tcp=tcp)) == ["2001:db8:122:344:a:6000:1400:0"]
                # translate_all: the Service's own AAAA is replaced too
                reply = await ask(srv, host, DUAL, tcp=tcp)
                assert aaaa(reply) == ["2001:db8:122:344:a:6000:1500:0"]
        # allow_ipv4 treats every client alike: memo-safe, so cached A answers are remembered
        for _ in range(2):
            await ask(srv, V4, WEB, "A")
        assert any(d.memos for d in dispatchers(srv))


async def test_an_acl_refusal_is_not_translated_around(api: FakeAPI) -> None:
    """acl (after dns64 in the chain) refuses AAAA to ::1; the A query it allows must not be
    used to answer the AAAA question anyway."""
    text = corefile(api.url).replace(
        "    cache 30\n", "    acl {\n        block type AAAA net ::1\n    }\n    cache 30\n"
    )
    async with serve_corefile(text) as srv:
        for tcp in (False, True):
            reply = await ask(srv, V6, tcp=tcp)
            assert reply.rcode() == dns.rcode.REFUSED and reply.answer == []
        assert [rr.address for rr in (await ask(srv, V6, WEB, "A")).answer[0]] == ["10.96.0.20"]
