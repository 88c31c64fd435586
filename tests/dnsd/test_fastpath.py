"""Answer memos (dnsd.fastpath): the same UDP query bytes answered again before the chain.

The witness is the cache's backend call count and the server's memo table: a
memo hit runs no plugin, yet every observer in front (log, prometheus) still
sees the query, the cache still counts the hit, and nothing stale is served.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import dns.asyncquery
import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.fastpath import Doorkeeper, Memo, make_room, memo_plugins
from dnsd.plugins.cache.handler import Cache
from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile
from tests.plugins.cache.backend import Backend, backend_plugin


@dataclass
class H:
    name: str
    memo_safe: bool = False


@pytest.mark.parametrize(
    ("chain", "want"),
    [
        ([H("cache")], {"cache"}),
        ([H("log", True), H("prometheus", True), H("cache")], {"log", "prometheus", "cache"}),
        ([H("loadbalance"), H("cache")], {"loadbalance"}),
        ([H("errors", True), H("loadbalance"), H("cache")], {"errors", "loadbalance"}),
        ([H("cache"), H("forward")], {"cache"}),
        ([], set()),
    ],
    ids=["cache-alone", "observers", "shuffler", "safe-then-unsafe", "after", "empty"],
)
def test_memo_plugins(chain: list[H], want: set[str]) -> None:
    assert memo_plugins(chain) == want


@asynccontextmanager
async def server(front: str = "") -> AsyncIterator[tuple[TestServer, Backend, Dispatcher]]:
    backend = Backend()
    text = f". {{\n{front}    cache\n    cachebackend\n}}\n"
    with backend_plugin(backend):
        async with serve_corefile(text) as srv:
            (listener,) = srv.runtime.listeners.values()
            yield srv, backend, listener.dispatcher


def the_cache(srv: TestServer) -> Cache:
    (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
    return cache


async def ask(srv: TestServer, name: str = "www.example.org", **kw: object) -> dns.message.Message:
    reply = await srv.query(name, "A", **kw)
    assert reply.rcode() == dns.rcode.NOERROR
    return reply  # type: ignore[no-any-return]


async def test_second_identical_query_is_a_memo_hit_with_its_own_id() -> None:
    async with server() as (srv, backend, dispatcher):
        await ask(srv)  # miss: the backend answers, the cache stores
        await ask(srv)  # cache hit through the chain: remembered
        assert len(dispatcher.memos) == 1
        cache = the_cache(srv)
        calls = backend.calls
        hits = cache._counters[dispatcher.label].hits[0]
        for _ in range(5):
            q = dns.message.make_query("www.example.org", "A")
            reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, timeout=2.0)
            assert reply.id == q.id
            assert reply.answer[0].to_text() == "www.example.org. 300 IN A 192.0.2.1"
        assert backend.calls == calls
        assert cache._counters[dispatcher.label].hits[0] == hits + 5  # counted as cache hits


async def test_case_and_flags_are_part_of_the_key() -> None:
    async with server() as (srv, backend, dispatcher):
        for name in ("www.example.org", "WWW.Example.org"):
            await ask(srv, name)
            await ask(srv, name)
            reply = await ask(srv, name)
            assert reply.answer[0].name.to_text() == f"{name}."  # the client's own case
        await ask(srv, use_edns=0, want_dnssec=True)
        await ask(srv, use_edns=0, want_dnssec=True)
        assert len(dispatcher.memos) == 3
        assert backend.calls == 2  # one miss per DO bit: case does not split the cache


async def test_memo_ends_when_the_ttl_ticks() -> None:
    async with server() as (srv, _backend, dispatcher):
        cache = the_cache(srv)
        now = [5000.0]
        cache.now = lambda: now[0]
        await ask(srv)
        await ask(srv)
        assert len(dispatcher.memos) == 1
        assert (await ask(srv)).answer[0].ttl == 300
        now[0] += 0.9
        assert (await ask(srv)).answer[0].ttl == 300  # same second: the memo still answers
        now[0] += 0.2
        assert (await ask(srv)).answer[0].ttl == 299  # ticked: the chain answers and remembers
        now[0] += 299
        reply = await ask(srv)
        assert reply.answer[0].ttl == 300  # expired: fetched again, never a stale memo


async def test_memo_ends_when_the_entry_is_dropped() -> None:
    async with server() as (srv, backend, dispatcher):
        await ask(srv)
        await ask(srv)
        assert len(dispatcher.memos) == 1
        cache = the_cache(srv)
        cache.store.remove(next(iter(cache._map.values())))
        calls = backend.calls
        await ask(srv)
        assert backend.calls == calls + 1


async def test_observers_in_front_see_every_memo_hit(caplog: pytest.LogCaptureFixture) -> None:
    front = "    log\n    prometheus 127.0.0.1:0\n"

    def count() -> float:
        labels = {
            "server": dispatcher.label,
            "zone": ".",
            "view": "",
            "proto": "udp",
            "family": "1",
        }
        return REGISTRY.get_sample_value("coredns_dns_requests_total", {**labels, "type": "A"}) or 0

    async with server(front) as (srv, backend, dispatcher):
        await ask(srv)
        await ask(srv)
        assert len(dispatcher.memos) == 1
        before = count()
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(4):
                await ask(srv)
        assert count() == before + 4
        lines = [m for m in caplog.messages if '"A IN www.example.org. udp' in m]
        assert len(lines) == 4  # log's query lines carry no plugin prefix, as CoreDNS's
        assert backend.calls == 1


async def test_no_memo_behind_a_plugin_that_is_not_memo_safe() -> None:
    front = "    loadbalance round_robin {\n        prefer 192.0.2.0/24\n    }\n"
    async with server(front) as (srv, _backend, dispatcher):
        for _ in range(3):
            await ask(srv)
        assert dispatcher.memos == {}


async def test_tcp_has_its_own_memos() -> None:
    """A UDP reply may be truncated for its client; a TCP one never is: separate tables."""
    async with server() as (srv, backend, dispatcher):
        for _ in range(3):
            await ask(srv, tcp=True)
        assert len(dispatcher.tcp_memos) == 1 and dispatcher.memos == {}
        calls = backend.calls
        for _ in range(3):
            reply = await ask(srv, tcp=True)
            assert reply.answer[0].to_text() == "www.example.org. 300 IN A 192.0.2.1"
        assert backend.calls == calls


async def test_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from dnsd import server as server_module

    monkeypatch.setattr(server_module, "MEMO_LIMIT", 8)
    async with server() as (srv, _backend, dispatcher):
        for i in range(20):
            name = f"n{i}.example.org"
            await ask(srv, name)
            await ask(srv, name)
            assert len(dispatcher.memos) <= 8
        # full at 8: the oldest quarter (2) made room for the newest, the rest stayed
        names = [key[10:].split(b"\x07example")[0] for key in dispatcher.memos]
        assert names == [b"\x03n%d" % i for i in range(12, 20)]


@pytest.mark.parametrize(
    ("size", "limit", "kept"),
    [(3, 4, [0, 1, 2]), (4, 4, [1, 2, 3]), (8, 8, [2, 3, 4, 5, 6, 7]), (2, 1, [1])],
)
def test_make_room_drops_the_oldest_quarter(size: int, limit: int, kept: list[int]) -> None:
    memos = {bytes([i]): Memo(b"", lambda: True, (), ".", "x") for i in range(size)}
    make_room(memos, limit)
    assert list(memos) == [bytes([i]) for i in kept]


async def test_a_reload_starts_with_no_memos() -> None:
    async with server() as (srv, _backend, dispatcher):
        await ask(srv)
        await ask(srv)
        assert await srv.reload(". {\n    cache\n    cachebackend\n}\n")
        (listener,) = srv.runtime.listeners.values()
        assert listener.dispatcher is not dispatcher and listener.dispatcher.memos == {}


async def test_a_full_table_takes_a_key_on_its_second_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past FREE memos, a random-name flood adds none: only a key offered twice is kept.

    The cache offers a memo with its hits, so the second ask of a name is its first offer.
    """
    from dnsd import server as server_module

    monkeypatch.setattr(server_module, "MEMO_FREE", 4)
    async with server() as (srv, _backend, dispatcher):
        for i in range(4):  # taken on the first offer while the table is small
            await ask(srv, f"n{i}.example.org")
            await ask(srv, f"n{i}.example.org")
        assert len(dispatcher.memos) == 4
        for i in range(4, 40):  # offered once each: none is remembered
            await ask(srv, f"n{i}.example.org")
            await ask(srv, f"n{i}.example.org")
        assert len(dispatcher.memos) == 4
        await ask(srv, "n4.example.org")  # offered a second time: remembered
        assert len(dispatcher.memos) == 5
        assert any(b"\x02n4\x07example" in key for key in dispatcher.memos)


def test_doorkeeper_sees_a_key_twice_and_forgets_after_its_window() -> None:
    door = Doorkeeper(bits=1 << 16, window=4)
    assert not door.seen(b"a") and door.seen(b"a")
    for key in (b"b", b"c", b"d"):  # the fourth new key clears the set
        assert not door.seen(key)
    assert not door.seen(b"a")


def test_doorkeeper_false_positives_are_rare() -> None:
    door = Doorkeeper()  # the server's size: 2**22 bits, cleared every 2**17 new keys
    passed = sum(door.seen(b"random-%d.example.org" % i) for i in range(300_000))
    assert passed < 300_000 * 0.03


def test_doorkeeper_bits_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        Doorkeeper(bits=1000)
