"""The cache in the real server: EDNS on hits, truncation, refreshes that nobody logs, and the
kubernetes plugin's data changes dropping cached answers at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.cache.handler import Cache
from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.cache.backend import Answer, Backend, backend_plugin
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_service


@asynccontextmanager
async def cached(backend: Backend, *options: str, extra: str = "") -> AsyncIterator[TestServer]:
    body = "".join(f"        {o}\n" for o in options)
    block = f" {{\n{body}    }}" if options else ""
    text = f". {{\n{extra}    cache{block}\n    cachebackend\n}}\n"
    with backend_plugin(backend):
        async with serve_corefile(text) as srv:
            yield srv


def the_cache(srv: TestServer) -> Cache:
    (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
    return cache


def ttls(reply: dns.message.Message) -> set[int]:
    return {rrset.ttl for rrset in reply.answer + reply.authority + reply.additional}


EDNS_CASES = [
    # (id, query options, OPT expected in the reply)
    ("no-edns", {"use_edns": False}, False),
    ("edns", {"use_edns": 0}, True),
    ("edns-do", {"use_edns": 0, "want_dnssec": True}, True),
]


@pytest.mark.parametrize(("kw", "opt"), [c[1:] for c in EDNS_CASES], ids=[c[0] for c in EDNS_CASES])
async def test_hits_carry_the_clients_own_edns(kw: dict[str, object], opt: bool) -> None:
    glue = ["ns.example.org. 300 IN A 192.0.2.9"]
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"], additional=glue, wire=True))
    async with cached(backend) as srv:
        # The entry is filled by a client of the other kind first: nothing of its OPT stays.
        await srv.query("example.org", "A", use_edns=0 if not opt else False)
        for qid in (7, 8):
            q = dns.message.make_query("Example.ORG", "A", **kw)  # type: ignore[arg-type]
            q.id = qid
            reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, timeout=2)
            assert reply.id == qid
            assert (reply.edns >= 0) == opt
            if opt:
                assert reply.payload >= 512
                assert bool(reply.ednsflags & dns.flags.DO) == bool(kw.get("want_dnssec"))
            assert str(reply.question[0].name) == "Example.ORG."
            assert [str(r) for r in reply.answer[0]] == ["192.0.2.1"]
            assert len(reply.additional) == 1
        do_entries = 2 if kw.get("want_dnssec") else 1
        assert backend.calls == do_entries


async def test_large_hit_is_truncated_for_small_udp_clients() -> None:
    many = [f"{{q}} 300 IN A 10.0.{i // 256}.{i % 256}" for i in range(60)]
    backend = Backend(Answer(answer=many))
    async with cached(backend) as srv:
        full = await srv.query("big.example.org", "A", tcp=True)
        assert len(full.answer[0]) == 60
        small = await srv.query("big.example.org", "A", use_edns=False)
        assert small.flags & dns.flags.TC and len(small.question) == 1
        again = await srv.query("big.example.org", "A", tcp=True)
        assert len(again.answer[0]) == 60 and not again.flags & dns.flags.TC
        assert backend.calls == 1


async def test_ttl_counts_down_through_the_server() -> None:
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"]))
    async with cached(backend) as srv:
        cache = the_cache(srv)
        now = [5000.0]
        cache.now = lambda: now[0]
        assert ttls(await srv.query("example.org")) == {300}
        now[0] += 42.5
        assert ttls(await srv.query("example.org")) == {258}
        assert backend.calls == 1


async def test_refresh_is_not_logged_or_counted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dnsd")
    backend = Backend(Answer(answer=["{q} 10 IN A 192.0.2.1"]))
    async with cached(backend, "prefetch 1", extra="    log\n    prometheus localhost:0\n") as srv:
        cache = the_cache(srv)
        now = [5000.0]
        cache.now = lambda: now[0]
        await srv.query("example.org")
        now[0] += 9.5  # 1 second left: the next hit prefetches
        await srv.query("example.org")
        await wait_for(lambda: backend.calls == 2 and cache.refreshing == 0)
        label = f"dns://127.0.0.1:{srv.port}"
        lines = [r.getMessage() for r in caplog.records if '"A IN example.org.' in r.getMessage()]
        assert len(lines) == 2  # the two client queries, not the refresh
        requests = REGISTRY.get_sample_value(
            "coredns_dns_requests_total",
            {"server": label, "zone": ".", "view": "", "proto": "udp", "family": "1",
             "type": "A"},
        )  # fmt: skip
        assert requests == 2
        assert not REGISTRY.get_sample_value(
            "coredns_dns_requests_total",
            {"server": label, "zone": ".", "view": "", "proto": "tcp", "family": "1",
             "type": "A"},
        )  # fmt: skip
        prefetched = REGISTRY.get_sample_value(
            "coredns_cache_prefetch_total", {"server": label, "zones": ".", "view": ""}
        )
        assert prefetched == 1
        assert backend.requests[-1].proto == "tcp"


async def test_serve_stale_with_the_backend_gone() -> None:
    backend = Backend(Answer(answer=["{q} 10 IN A 192.0.2.1"]))
    async with cached(backend, "serve_stale 1h immediate 30s") as srv:
        cache = the_cache(srv)
        now = [5000.0]
        cache.now = lambda: now[0]
        await srv.query("example.org")
        backend.default = Answer(fail=True)
        now[0] += 60
        reply = await srv.query("example.org")
        assert reply.rcode() == dns.rcode.NOERROR and ttls(reply) == {30}
        await wait_for(lambda: cache.refreshing == 0 and backend.calls == 2)
        assert (await srv.query("example.org")).rcode() == dns.rcode.NOERROR


# -- kubernetes --------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        fake.add("Namespace", make_namespace("demo"))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        yield fake


async def test_new_service_is_not_hidden_by_a_cached_nxdomain(api: FakeAPI) -> None:
    # TTL 300: without the data-change signal the NXDOMAIN would be served for 5 minutes.
    text = (
        ". {\n    cache 300\n    kubernetes cluster.local {\n"
        f"        endpoint {api.url}\n        ttl 300\n    }}\n}}\n"
    )
    async with serve_corefile(text) as srv:
        cache = the_cache(srv)
        name = "new.demo.svc.cluster.local"
        first = await srv.query(name)
        assert first.rcode() == dns.rcode.NXDOMAIN
        second = await srv.query(name)
        assert second.rcode() == dns.rcode.NXDOMAIN and second.flags & dns.flags.AA
        assert len(cache.store.map) == 1
        web = await srv.query("web.demo.svc.cluster.local")
        assert [r.address for r in web.answer[0]] == ["10.96.0.20"]

        api.add("Service", make_service("demo", "new", cluster_ip="10.96.0.99"))

        async def answered() -> bool:
            reply = await srv.query(name)
            return reply.rcode() == dns.rcode.NOERROR and bool(reply.answer)

        deadline = asyncio.get_running_loop().time() + 5.0
        while not await answered():
            assert asyncio.get_running_loop().time() < deadline, "still the cached NXDOMAIN"
            await asyncio.sleep(0.02)
        reply = await srv.query(name)
        assert [r.address for r in reply.answer[0]] == ["10.96.0.99"]
        assert ttls(reply) == {300}


# -- a real upstream: a second dnsd behind forward ---------------------------------------


async def test_forwarded_answers_count_down_prefetch_and_outlive_the_upstream() -> None:
    backend = Backend(Answer(answer=["{q} 20 IN A 192.0.2.1"]))
    with backend_plugin(backend):
        async with AsyncExitStack() as upstream_stack, AsyncExitStack() as front_stack:
            upstream = await upstream_stack.enter_async_context(
                serve_corefile(". {\n    cachebackend\n}\n")
            )
            front = await front_stack.enter_async_context(
                serve_corefile(
                    ". {\n    cache {\n        prefetch 1 1m 10%\n"
                    "        serve_stale 1h immediate 30s\n    }\n"
                    # prefer_udp: a stopped dnsd still answers on TCP connections it accepted
                    f"    forward . 127.0.0.1:{upstream.port} {{\n        prefer_udp\n    }}\n}}\n"
                )
            )
            cache = the_cache(front)
            now = [5000.0]
            cache.now = lambda: now[0]
            first = await front.query("example.org", use_edns=0)
            assert ttls(first) == {20} and first.edns == 0
            now[0] += 5
            assert ttls(await front.query("example.org", use_edns=False)) == {15}
            assert backend.calls == 1
            now[0] += 13  # 2 seconds left, at most 10%: prefetch
            assert ttls(await front.query("example.org")) == {2}
            await wait_for(lambda: backend.calls == 2 and cache.refreshing == 0)
            assert ttls(await front.query("example.org")) == {20}

            await upstream_stack.aclose()  # the upstream is gone
            now[0] += 60
            stale = await front.query("example.org")
            assert stale.rcode() == dns.rcode.NOERROR and ttls(stale) == {30}
            assert [r.address for r in stale.answer[0]] == ["192.0.2.1"]
            await wait_for(lambda: cache.refreshing == 0, timeout=10)
            again = await front.query("example.org")
            assert [r.address for r in again.answer[0]] == ["192.0.2.1"]
            assert backend.calls == 2
