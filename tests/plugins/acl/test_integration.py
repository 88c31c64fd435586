"""acl end to end: the real server, *cache* and *kubernetes* (fake API server) behind it, clients
on different loopback addresses (dnspython ``source=``), over UDP and TCP.

The point of *acl* sitting before *cache*: once an allowed client has warmed the cache, a blocked
client must still be refused, every time, on both transports; and no reply remembered for one
client (dnsd's answer memos) may be replayed to another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.exception
import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.cache.handler import Cache
from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_service

WEB = "web.demo.svc.cluster.local"
ALLOWED, BLOCKED, FILTERED, DROPPED = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        fake.add("Namespace", make_namespace("demo"))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        yield fake


def corefile(url: str) -> str:
    return (
        ".:53 {\n"
        "    acl cluster.local {\n"
        f"        block net {BLOCKED}\n"
        f"        filter type AAAA net {FILTERED}\n"
        f"        drop net {DROPPED}\n"
        "    }\n"
        "    cache 30\n"
        f"    kubernetes cluster.local {{\n        endpoint {url}\n    }}\n"
        "}\n"
    )


@asynccontextmanager
async def k8s(api: FakeAPI) -> AsyncIterator[TestServer]:
    async with serve_corefile(corefile(api.url)) as srv:
        yield srv


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


def cache_entries(srv: TestServer) -> int:
    (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
    return cache.size(0)


async def ask(
    srv: TestServer,
    source: str,
    qname: str = WEB,
    qtype: str = "A",
    *,
    tcp: bool = False,
    timeout: float = 2.0,
) -> dns.message.Message:
    q = dns.message.make_query(qname, qtype, use_edns=0)
    if tcp:
        return await dns.asyncquery.tcp(q, srv.host, port=srv.port, source=source, timeout=timeout)
    return await dns.asyncquery.udp(q, srv.host, port=srv.port, source=source, timeout=timeout)


def addresses(reply: dns.message.Message) -> list[str]:
    return [rr.address for rrset in reply.answer for rr in rrset]


def ede(reply: dns.message.Message) -> list[int]:
    return [o.code for o in reply.options if o.otype == dns.edns.OptionType.EDE]


async def test_cached_answers_never_reach_a_blocked_client(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        for tcp in (False, True):
            assert addresses(await ask(srv, ALLOWED, tcp=tcp)) == ["10.96.0.20"]
        assert cache_entries(srv) >= 1  # the answer is cached now
        for tcp in (False, True):
            for _ in range(3):  # repeated: no memo, no cache hit reaches the blocked client
                reply = await ask(srv, BLOCKED, tcp=tcp)
                assert reply.rcode() == dns.rcode.REFUSED
                assert reply.answer == [] and ede(reply) == [15]
            assert addresses(await ask(srv, ALLOWED, tcp=tcp)) == ["10.96.0.20"]
        assert dispatcher(srv).memos == {} and dispatcher(srv).tcp_memos == {}


async def test_a_refusal_is_not_replayed_to_an_allowed_client(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        for _ in range(3):
            assert (await ask(srv, BLOCKED)).rcode() == dns.rcode.REFUSED
        assert addresses(await ask(srv, ALLOWED)) == ["10.96.0.20"]
        assert (await ask(srv, BLOCKED)).rcode() == dns.rcode.REFUSED


async def test_filter_and_drop(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        await ask(srv, ALLOWED, qtype="AAAA")  # cache the (empty) AAAA answer
        reply = await ask(srv, FILTERED, qtype="AAAA")
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.answer == [] and reply.authority == [] and ede(reply) == [17]
        assert addresses(await ask(srv, FILTERED)) == ["10.96.0.20"]  # A is not filtered
        label = dispatcher(srv).label
        labels = {"server": label, "zone": "cluster.local.", "view": ""}
        name = "coredns_acl_dropped_requests_total"
        before = REGISTRY.get_sample_value(name, labels) or 0.0
        with pytest.raises(dns.exception.Timeout):
            await ask(srv, DROPPED, timeout=0.5)
        assert REGISTRY.get_sample_value(name, labels) == before + 1


async def test_names_outside_the_acl_zones_are_not_checked(api: FakeAPI) -> None:
    async with k8s(api) as srv:
        reply = await ask(srv, BLOCKED, "example.org")
        assert reply.rcode() == dns.rcode.SERVFAIL  # no plugin answers it: not refused


async def test_ipv6_clients_and_hosts_behind(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.10 www.example.org\n")
    text = (
        ". {\n    acl {\n        allow net ::1 type A\n        block net ::/0\n    }\n"
        f"    cache 30\n    hosts {hosts}\n}}\n"
    )
    async with serve_corefile(text, host="::1") as srv:
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.10"]
        for tcp in (False, True):
            reply = await srv.query("www.example.org", "MX", tcp=tcp)
            assert reply.rcode() == dns.rcode.REFUSED


async def test_ipv4_clients_on_a_dual_stack_socket(tmp_path: Path) -> None:
    """On a socket bound to ``::`` IPv4 clients arrive IPv4-mapped; IPv4 networks still match."""
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.10 www.example.org\n")
    text = f". {{\n    acl {{\n        block net {BLOCKED}\n    }}\n    hosts {hosts}\n}}\n"
    async with serve_corefile(text, host="::") as srv:
        for tcp in (False, True):
            q = dns.message.make_query("www.example.org", "A")
            send = dns.asyncquery.tcp if tcp else dns.asyncquery.udp
            ok = await send(q, ALLOWED, port=srv.port, source=ALLOWED, timeout=2.0)
            assert addresses(ok) == ["192.0.2.10"]
            refused = await send(q, ALLOWED, port=srv.port, source=BLOCKED, timeout=2.0)
            assert refused.rcode() == dns.rcode.REFUSED
