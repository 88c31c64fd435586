"""Answer memos of the kubernetes plugin behind kubeadm's front (cache disabled for the cluster
zone, loadbalance): repeated queries skip the chain, and a data change ends every memo at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import dns.message
import dns.rcode
import pytest

from dnsd.plugins.cache.handler import Cache
from dnsd.plugins.kubernetes.handler import Kubernetes as K8s
from dnsd.plugins.kubernetes.store import Store
from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    make_namespace,
    make_service,
    make_slice,
)

PODS = ["10.244.0.11", "10.244.0.12", "10.244.0.13", "10.244.0.14"]


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        fake.add("Namespace", make_namespace("demo"))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        fake.add("Service", make_service("demo", "db", cluster_ip="None"))
        fake.add("EndpointSlice", make_slice("demo", "db", endpoints=PODS))
        yield fake


def corefile(url: str) -> str:
    return (
        ".:53 {\n    errors\n    prometheus 127.0.0.1:0\n"
        f"    kubernetes cluster.local {{\n        endpoint {url}\n    }}\n"
        "    cache 30 {\n        disable success cluster.local\n"
        "        disable denial cluster.local\n    }\n    loadbalance\n}\n"
    )


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


def misses(srv: TestServer) -> int:
    (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
    return cache._counters[dispatcher(srv).label].misses


async def ask(srv: TestServer, name: str) -> dns.message.Message:
    return await srv.query(name, "A")  # type: ignore[no-any-return]


async def test_cluster_answers_are_remembered_and_counted(api: FakeAPI) -> None:
    async with serve_corefile(corefile(api.url)) as srv:
        for _ in range(2):
            reply = await ask(srv, "web.demo.svc.cluster.local")
        assert len(dispatcher(srv).memos) == 1
        before = misses(srv)
        for _ in range(5):
            reply = await ask(srv, "web.demo.svc.cluster.local")
            assert [r.address for r in reply.answer[0]] == ["10.96.0.20"]
        assert misses(srv) == before + 5  # the cache sees every memo hit go past it


async def test_headless_answers_are_shuffled_on_every_memo_hit(api: FakeAPI) -> None:
    async with serve_corefile(corefile(api.url)) as srv:
        name = "db.demo.svc.cluster.local"
        await ask(srv, name)
        await ask(srv, name)
        assert len(dispatcher(srv).memos) == 1
        firsts = set()
        for _ in range(40):
            reply = await ask(srv, name)
            addresses = [r.address for r in reply.answer[0]]
            assert sorted(addresses) == PODS
            firsts.add(addresses[0])
        assert len(firsts) > 1  # loadbalance's round_robin, replayed on the copies


async def test_a_data_change_ends_the_memos_at_once(api: FakeAPI) -> None:
    async with serve_corefile(corefile(api.url)) as srv:
        name = "new.demo.svc.cluster.local"
        for _ in range(3):
            assert (await ask(srv, name)).rcode() == dns.rcode.NXDOMAIN
        assert len(dispatcher(srv).memos) == 1
        api.add("Service", make_service("demo", "new", cluster_ip="10.96.0.99"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while (reply := await ask(srv, name)).rcode() != dns.rcode.NOERROR:
            assert loop.time() < deadline, "the NXDOMAIN memo outlived the change"
            await asyncio.sleep(0.02)
        assert [r.address for r in reply.answer[0]] == ["10.96.0.99"]


async def test_no_memo_behind_prefer(api: FakeAPI) -> None:
    text = corefile(api.url).replace(
        "    loadbalance\n", "    loadbalance round_robin {\n        prefer 10.244.0.0/16\n    }\n"
    )
    async with serve_corefile(text) as srv:
        for _ in range(3):
            await ask(srv, "web.demo.svc.cluster.local")
        assert dispatcher(srv).memos == {}


async def test_memos_of_one_generation_share_their_check(api: FakeAPI) -> None:
    async with serve_corefile(corefile(api.url)) as srv:
        for name in ("web", "db", "nx"):
            for _ in range(2):
                await ask(srv, f"{name}.demo.svc.cluster.local")
        memos = dispatcher(srv).memos
        assert len(memos) == 3
        (check,) = {memo.check for memo in memos.values()}
        assert check()
        api.add("Service", make_service("demo", "new", cluster_ip="10.96.0.99"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while check():
            assert loop.time() < deadline, "the store did not change"
            await asyncio.sleep(0.02)
        await ask(srv, "new.demo.svc.cluster.local")
        await ask(srv, "new.demo.svc.cluster.local")
        fresh = [m.check for k, m in dispatcher(srv).memos.items() if b"\x03new" in k]
        assert len(fresh) == 1 and fresh[0] is not check and fresh[0]()


def k8s_store(srv: TestServer) -> Store:
    (store,) = {h.store for b in srv.instance.blocks for h in b.handlers if isinstance(h, K8s)}
    return store


async def wait_generation(srv: TestServer, before: int) -> None:
    store = k8s_store(srv)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while store.generation == before:
        assert loop.time() < deadline, "the store did not change"
        await asyncio.sleep(0.02)


def generation(srv: TestServer) -> int:
    return k8s_store(srv).generation


async def test_churn_in_another_namespace_keeps_the_memos(api: FakeAPI) -> None:
    """Endpoint churn anywhere must not end every memo of a large cluster: a memo scoped to its
    namespace holds through changes elsewhere and ends with a change in its own namespace, or to
    any Namespace. Names not under one namespace (the apex) end with any change."""
    async with serve_corefile(corefile(api.url)) as srv:
        names = ["web.demo.svc.cluster.local", "nx.demo.svc.cluster.local", "cluster.local"]
        for name in names:
            await ask(srv, name)
            await ask(srv, name)
        memos = dispatcher(srv).memos
        assert len(memos) == 3

        def check(label: bytes) -> Callable[[], bool]:
            (found,) = [m.check for k, m in memos.items() if k[10:].startswith(label)]
            return found

        web, nx, apex = check(b"\x03web"), check(b"\x02nx"), check(b"\x07cluster")
        assert web() and nx() and apex()

        before = generation(srv)  # churn in another namespace
        api.add("EndpointSlice", make_slice("other", "x", endpoints=["10.244.5.5"]))
        await wait_generation(srv, before)
        assert web() and nx(), "a change in namespace other ended demo's memos"
        assert not apex(), "the apex memo outlived a change"

        before = generation(srv)  # a change in demo itself
        api.add("EndpointSlice", make_slice("demo", "web", endpoints=["10.244.0.99"]))
        await wait_generation(srv, before)
        assert not web()
