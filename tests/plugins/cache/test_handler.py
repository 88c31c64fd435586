"""The cache handler against a stub backend: what is stored, for how long, and how hits look."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from dnslib import EDNS0, QTYPE, DNSRecord

from dnsd.errors import PluginError
from dnsd.plugins.cache.handler import Cache
from dnsd.plugins.cache.setup import CacheOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query
from tests.plugins.cache.backend import Answer, Backend

SOA = "example.org. {ttl} IN SOA ns.example.org. host.example.org. 1 7200 1800 86400 {minimum}"


def soa(ttl: int = 60, minimum: int = 30) -> str:
    return SOA.format(ttl=ttl, minimum=minimum)


class Clock:
    """The cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_cache(opts: CacheOptions | None = None) -> tuple[Cache, Clock]:
    cache = Cache(opts or CacheOptions())
    clock = Clock()
    cache.now = clock
    return cache, clock


def query(
    name: str = "example.org",
    qtype: str = "A",
    *,
    do: bool = False,
    cd: bool = False,
    ad: bool = False,
    edns: bool = False,
    qid: int = 1234,
    qclass: str = "IN",
    server: str = "dns://:53",
) -> Request:
    q = DNSRecord.question(name, qtype, qclass)
    q.header.id = qid
    q.header.cd = int(cd)
    q.header.ad = int(ad)
    if do or edns:
        q.add_ar(EDNS0(udp_len=1232, flags="do" if do else ""))
    req = parse_query(bytes(q.pack()), Request)
    req.init("192.0.2.53", 5353, "udp", "::", server)
    req.zone = "."
    return req


async def ask(cache: Cache, backend: Backend, req: Request | None = None) -> DNSRecord:
    reply = await cache.serve(req or query(), backend)
    assert isinstance(reply, Reply)
    return DNSRecord.parse(reply.wire) if reply.wire is not None else reply.msg


def ttls(msg: DNSRecord) -> set[int]:
    return {rr.ttl for rr in msg.rr + msg.auth + msg.ar}


# -- what is stored, and for how long ------------------------------------------------------


@dataclass(frozen=True)
class StoreCase:
    id: str
    answer: Answer
    #: (seconds cached, "success" | "denial"), or None when not cached.
    want: tuple[int, str] | None
    opts: CacheOptions = CacheOptions()
    qtype: str = "A"
    do: bool = False
    drops: int = 0
    #: The query is in the cache's zones (else it is not even counted).
    in_zone: bool = True


NX_SOA = Answer(rcode=3, authority=[soa()])
CASES = [
    StoreCase("min-record-ttl", Answer(answer=["{q} 300 IN A 192.0.2.1", "{q} 60 IN A 192.0.2.2"]),
              (60, "success")),
    StoreCase("additional-counts", Answer(answer=["{q} 300 IN A 192.0.2.1"],
                                          additional=["ns.example.org. 10 IN A 192.0.2.9"]),
              (10, "success")),
    StoreCase("below-min-ttl", Answer(answer=["{q} 1 IN A 192.0.2.1"]), (5, "success")),
    StoreCase("min-ttl-zero", Answer(answer=["{q} 1 IN A 192.0.2.1"]), (1, "success"),
              opts=CacheOptions(success_minttl=0)),
    StoreCase("zero-ttl-not-stored", Answer(answer=["{q} 0 IN A 192.0.2.1"]), None,
              opts=CacheOptions(success_minttl=0)),
    StoreCase("above-max-ttl", Answer(answer=["{q} 86400 IN A 192.0.2.1"]), (3600, "success")),
    StoreCase("cache-ttl-arg", Answer(answer=["{q} 86400 IN A 192.0.2.1"]), (30, "success"),
              opts=CacheOptions(success_ttl=30, denial_ttl=30)),
    StoreCase("wire-reply", Answer(answer=["{q} 300 IN A 192.0.2.1"], wire=True),
              (300, "success")),
    StoreCase("nxdomain-soa-minimum", NX_SOA, (30, "denial")),
    StoreCase("nxdomain-soa-ttl", Answer(rcode=3, authority=[soa(20, 300)]), (20, "denial")),
    StoreCase("nxdomain-max", Answer(rcode=3, authority=[soa(7200, 7200)]), (1800, "denial")),
    StoreCase("nxdomain-min", Answer(rcode=3, authority=[soa(1, 1)]), (5, "denial")),
    StoreCase("nxdomain-denial-ttl", Answer(rcode=3, authority=[soa(7200, 7200)]),
              (100, "denial"), opts=CacheOptions(denial_ttl=100)),
    StoreCase("nodata-soa", Answer(authority=[soa()]), (30, "denial")),
    StoreCase("delegation", Answer(authority=["sub.example.org. 3600 IN NS ns.example.net."]),
              (5, "success")),
    StoreCase("cname-chain", Answer(answer=["{q} 300 IN CNAME www.example.net.",
                                            "www.example.net. 100 IN A 192.0.2.1"]),
              (100, "success")),
    StoreCase("cname-short-with-soa", Answer(answer=["{q} 300 IN CNAME www.example.net."],
                                             authority=[soa()]), (60, "success")),
    StoreCase("any-answered-by-anything", Answer(answer=["{q} 300 IN TXT \"any\""]),
              (300, "success"), qtype="ANY"),
    StoreCase("servfail", Answer(rcode=2), (5, "denial")),
    StoreCase("servfail-duration", Answer(rcode=2), (10, "denial"),
              opts=CacheOptions(servfail=10.0)),
    StoreCase("servfail-off", Answer(rcode=2), None, opts=CacheOptions(servfail=0.0)),
    StoreCase("notimp", Answer(rcode=4), (5, "denial")),
    StoreCase("nxdomain-without-soa", Answer(rcode=3), None),
    StoreCase("noerror-empty-without-soa", Answer(), None),
    StoreCase("cname-short-without-soa", Answer(answer=["{q} 300 IN CNAME www.example.net."]),
              None),
    StoreCase("truncated", Answer(answer=["{q} 300 IN A 192.0.2.1"], tc=True), None),
    StoreCase("refused", Answer(rcode=5), None),
    StoreCase("formerr", Answer(rcode=1), None),
    StoreCase("axfr", Answer(answer=[soa()]), None, qtype="AXFR"),
    StoreCase("other-question", Answer(answer=["other.org. 300 IN A 192.0.2.1"],
                                       qname="other.org"), None, drops=2),
    StoreCase("expired-rrsig-do", Answer(answer=[
        "{q} 300 IN A 192.0.2.1",
        "{q} 300 IN RRSIG A 8 2 300 20160521031301 20160421031301 12051 example.org. AAAA",
    ]), None, do=True),
    StoreCase("expired-rrsig-no-do", Answer(answer=[
        "{q} 300 IN A 192.0.2.1",
        "{q} 300 IN RRSIG A 8 2 300 20160521031301 20160421031301 12051 example.org. AAAA",
    ]), (300, "success")),
    StoreCase("disable-success", Answer(answer=["{q} 300 IN A 192.0.2.1"]), None,
              opts=CacheOptions(disable_success=("example.org.",))),
    StoreCase("disable-success-other-zone", Answer(answer=["{q} 300 IN A 192.0.2.1"]),
              (300, "success"), opts=CacheOptions(disable_success=("example.net.",))),
    StoreCase("disable-success-keeps-denial", NX_SOA, (30, "denial"),
              opts=CacheOptions(disable_success=(".",))),
    StoreCase("disable-denial", NX_SOA, None, opts=CacheOptions(disable_denial=("org.",))),
    StoreCase("disable-denial-servfail", Answer(rcode=2), None,
              opts=CacheOptions(disable_denial=(".",))),
    StoreCase("outside-zones", Answer(answer=["{q} 300 IN A 192.0.2.1"]), None,
              opts=CacheOptions(zones=("example.net.",)), in_zone=False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_what_is_stored(case: StoreCase) -> None:
    cache, _ = make_cache(case.opts)
    backend = Backend(case.answer)
    server = f"dns://store-{case.id}:53"
    first = await ask(cache, backend, query(qtype=case.qtype, do=case.do, server=server))
    second = await ask(cache, backend, query(qtype=case.qtype, do=case.do, server=server))
    if not case.in_zone:
        assert backend.calls == 2 and not cache.store.map and server not in cache._counters
        return
    counters = cache._counters[server]
    assert counters.drops == case.drops
    if case.want is None:
        assert backend.calls == 2
        assert not cache.store.map
        assert counters.hits == [0, 0] and counters.misses == 2
        return
    seconds, kind = case.want
    assert backend.calls == 1
    (entry,) = cache.store.map.values()
    assert (entry.ttl, ["success", "denial"][entry.denial]) == (seconds, kind)
    assert counters.hits[entry.denial] == 1 and counters.misses == 1
    # CoreDNS gives every record of the reply the cached TTL, on the miss and on the hit.
    assert ttls(first) <= {seconds} and ttls(second) <= {seconds}
    assert first.header.rcode == second.header.rcode == case.answer.rcode
    assert [str(r) for r in second.rr] == [str(r) for r in first.rr]


async def test_plugin_error_is_not_cached() -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(fail=True))
    for _ in range(2):
        with pytest.raises(PluginError):
            await cache.serve(query(), backend)
    assert backend.calls == 2 and not cache.store.map


async def test_nothing_answered_passes_through() -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(none=True))
    assert await cache.serve(query(), backend) is None
    assert await cache.serve(query(), backend) is None
    assert backend.calls == 2


# -- hits --------------------------------------------------------------------------------


async def test_ttl_counts_down_then_expires() -> None:
    cache, clock = make_cache()
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1", "{q} 300 IN A 192.0.2.2"]))
    assert ttls(await ask(cache, backend)) == {300}
    for elapsed, want in [(0.0, 300), (0.9, 300), (1.0, 299), (10.5, 290), (299.9, 1)]:
        clock.t = 1000.0 + elapsed
        assert ttls(await ask(cache, backend)) == {want}, elapsed
    assert backend.calls == 1
    clock.t = 1300.0
    assert ttls(await ask(cache, backend)) == {300}
    assert backend.calls == 2


async def test_keepttl_serves_the_stored_ttl() -> None:
    cache, clock = make_cache(CacheOptions(keepttl=True))
    backend = Backend(Answer(answer=["{q} 120 IN A 192.0.2.1"]))
    await ask(cache, backend)
    clock.t += 100
    assert ttls(await ask(cache, backend)) == {120}
    clock.t += 20
    await ask(cache, backend)
    assert backend.calls == 2  # still expires


FLAG_CASES = [
    # (id, first query flags, second query flags, same entry)
    ("same", {}, {}, True),
    ("do-differs", {}, {"do": True}, False),
    ("cd-differs", {}, {"cd": True}, False),
    ("do-cd", {"do": True, "cd": True}, {"do": True, "cd": True}, True),
    ("edns-without-do", {}, {"edns": True}, True),
    ("ad-does-not-matter", {}, {"ad": True}, True),
    ("class-differs", {}, {"qclass": "CH"}, False),
    ("type-differs", {}, {"qtype": "AAAA"}, False),
    ("case-does-not-matter", {"name": "example.org"}, {"name": "EXAMPLE.org"}, True),
]


@pytest.mark.parametrize(("first", "second", "shared"), [c[1:] for c in FLAG_CASES],
                         ids=[c[0] for c in FLAG_CASES])  # fmt: skip
async def test_key(first: dict[str, object], second: dict[str, object], shared: bool) -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"]))
    await ask(cache, backend, query(**first))  # type: ignore[arg-type]
    await ask(cache, backend, query(**second))  # type: ignore[arg-type]
    assert backend.calls == (1 if shared else 2)


async def test_hit_takes_id_flags_and_question_from_the_query() -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"], aa=False, ra=True))
    miss = await ask(cache, backend, query(qid=1, cd=True))
    assert (miss.header.id, miss.header.aa, miss.header.ra) == (1, 0, 1)
    hit = await ask(cache, backend, query(qid=2, cd=True))
    h = hit.header
    assert (h.id, h.qr, h.aa, h.ra, h.rd, h.cd, h.tc) == (2, 1, 1, 1, 1, 1, 0)
    assert str(hit.q) == str(query(qid=2).msg.q)


@pytest.mark.parametrize("owner", ["{q}", "example.org."], ids=["compressed", "in-full"])
async def test_name_case_of_each_query(owner: str) -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(answer=[f"{owner} 300 IN A 192.0.2.1"]))
    for i, name in enumerate(["Example.ORG", "example.org", "EXAMPLE.ORG", "eXaMpLe.OrG"]):
        msg = await ask(cache, backend, query(name))
        assert str(msg.q.qname) == name + "."
        # The miss passes the backend's reply on; hits write the owner in the query's case.
        want = name + "." if i > 0 or owner == "{q}" else "example.org."
        assert str(msg.rr[0].rname) == want
    assert backend.calls == 1


AD_CASES = [
    # (id, query flags, AD in the reply)
    ("plain-query", {}, False),
    ("do-query", {"do": True}, True),
    ("ad-query", {"ad": True}, True),
]


@pytest.mark.parametrize(("flags", "want"), [c[1:] for c in AD_CASES],
                         ids=[c[0] for c in AD_CASES])  # fmt: skip
async def test_ad_bit(flags: dict[str, bool], want: bool) -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"], ad=True))
    miss = await ask(cache, backend, query(**flags))  # type: ignore[arg-type]
    hit = await ask(cache, backend, query(**flags))  # type: ignore[arg-type]
    assert (bool(miss.header.ad), bool(hit.header.ad)) == (want, want)
    assert backend.calls == 1


async def test_stored_reply_has_no_opt() -> None:
    cache, _ = make_cache()
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"],
                             additional=["ns.example.org. 300 IN A 192.0.2.9"]))  # fmt: skip
    req = query(do=True)
    original = backend.__call__

    async def with_opt(r: Request) -> Reply | None:
        reply = await original(r)
        assert reply is not None
        msg = reply.msg
        msg.add_ar(EDNS0(udp_len=4096, flags="do"))
        return Reply(wire=bytes(msg.pack()))

    first = await cache.serve(req, with_opt)
    assert first is not None and first.wire is not None
    assert any(rr.rtype == QTYPE.OPT for rr in DNSRecord.parse(first.wire).ar)
    (entry,) = cache.store.map.values()
    assert entry.ttl == 300  # the OPT's TTL field (flags) is not a TTL
    hit = await ask(cache, backend, query(do=True))
    assert [rr.rtype for rr in hit.ar] == [QTYPE.A]
    assert hit.header.ar == 1


# -- capacity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("denial", "answer"),
    [(0, Answer(answer=["{q} 300 IN A 192.0.2.1"])), (1, Answer(rcode=3, authority=[soa()]))],
    ids=["success", "denial"],
)
async def test_capacity_evicts(denial: int, answer: Answer) -> None:
    cache, _ = make_cache(CacheOptions(denial_capacity=0, success_capacity=2000))
    assert (cache.store.capacity(0), cache.store.capacity(1)) == (1792, 1024)
    backend = Backend(answer)
    server = f"dns://evict-{denial}:53"
    for i in range(2500):
        await ask(cache, backend, query(f"n{i}.example.org", server=server))
    counters = cache._counters[server]
    size = cache.store.size(denial)
    assert size <= cache.store.capacity(denial) and cache.store.size(1 - denial) == 0
    assert counters.evictions[denial] == 2500 - size > 0
    assert counters.evictions[1 - denial] == 0


# -- prefetch ----------------------------------------------------------------------------


async def test_prefetch_refreshes_popular_entries() -> None:
    from dnsd.testing import wait_for

    opts = CacheOptions(prefetch=2, prefetch_duration=60.0, prefetch_percentage=50)
    cache, clock = make_cache(opts)
    backend = Backend(Answer(answer=["{q} 10 IN A 192.0.2.1"]))
    server = "dns://prefetch:53"
    await ask(cache, backend, query(server=server))
    clock.t += 1
    await ask(cache, backend, query(server=server))  # 1 hit, TTL 9 > 5: nothing
    clock.t += 5
    hit = await ask(cache, backend, query(server=server))  # 2 hits, TTL 4 <= 5: prefetch
    assert ttls(hit) == {4}
    await wait_for(lambda: cache.refreshing == 0 and backend.calls == 2)
    refresh = backend.requests[-1]
    assert refresh is not backend.requests[0] and refresh.proto == "tcp"
    assert refresh._observers is None
    assert cache._counters[server].prefetch == 1
    assert ttls(await ask(cache, backend, query(server=server))) == {10}
    assert backend.calls == 2


async def test_prefetch_needs_hits_without_gaps() -> None:
    opts = CacheOptions(prefetch=2, prefetch_duration=2.0, prefetch_percentage=90)
    cache, clock = make_cache(opts)
    backend = Backend(Answer(answer=["{q} 100 IN A 192.0.2.1"]))
    await ask(cache, backend)
    for _ in range(3):
        clock.t += 30  # gaps longer than the duration: never popular
        await ask(cache, backend)
    assert cache.refreshing == 0 and backend.calls == 1


async def test_failed_prefetch_keeps_the_entry() -> None:
    from dnsd.testing import wait_for

    cache, clock = make_cache(CacheOptions(prefetch=1))
    backend = Backend(Answer(answer=["{q} 10 IN A 192.0.2.1"]))
    await ask(cache, backend)
    backend.default = Answer(rcode=2)
    clock.t += 9.5
    await ask(cache, backend)
    await wait_for(lambda: cache.refreshing == 0 and backend.calls == 2)
    msg = await ask(cache, backend)
    assert msg.header.rcode == 0 and ttls(msg) == {1}


# -- serve_stale -------------------------------------------------------------------------


def stale_cache(**kw: object) -> tuple[Cache, Clock, Backend]:
    cache, clock = make_cache(CacheOptions(serve_stale=3600.0, **kw))  # type: ignore[arg-type]
    backend = Backend(Answer(answer=["{q} 10 IN A 192.0.2.1"]))
    return cache, clock, backend


async def test_serve_stale_immediate_answers_then_refreshes() -> None:
    from dnsd.testing import wait_for

    cache, clock, backend = stale_cache()
    server = "dns://stale:53"
    await ask(cache, backend, query(server=server))
    backend.default = Answer(answer=["{q} 10 IN A 192.0.2.2"])
    clock.t += 100
    stale = await ask(cache, backend, query(server=server))
    assert str(stale.rr[0].rdata) == "192.0.2.1" and ttls(stale) == {0}
    await wait_for(lambda: cache.refreshing == 0 and backend.calls == 2)
    fresh = await ask(cache, backend, query(server=server))
    assert str(fresh.rr[0].rdata) == "192.0.2.2" and ttls(fresh) == {10}
    c = cache._counters[server]
    assert (c.stale, c.prefetch, c.hits[0], c.misses) == (1, 1, 2, 1)


async def test_serve_stale_with_the_backend_down_and_recheck() -> None:
    from dnsd.testing import wait_for

    cache, clock, backend = stale_cache(stale_ttl=30.0, stale_recheck=60.0)
    await ask(cache, backend)
    backend.default = Answer(fail=True)
    clock.t += 100
    for _ in range(3):
        msg = await ask(cache, backend)
        assert str(msg.rr[0].rdata) == "192.0.2.1" and ttls(msg) == {30}
        await wait_for(lambda: cache.refreshing == 0)
    assert backend.calls == 2  # one refresh, then none during the recheck interval
    clock.t += 61
    await ask(cache, backend)
    await wait_for(lambda: cache.refreshing == 0)
    assert backend.calls == 3


async def test_serve_stale_window_ends() -> None:
    cache, clock, backend = stale_cache()
    backend.default = Answer(answer=["{q} 10 IN A 192.0.2.1"])
    cache, clock = make_cache(CacheOptions(serve_stale=60.0))
    await ask(cache, backend)
    backend.default = Answer(fail=True)
    clock.t += 10 + 60  # 60 seconds past expiry: no longer served
    with pytest.raises(PluginError):
        await cache.serve(query(), backend)


async def test_serve_stale_verify_prefers_a_fresh_answer() -> None:
    cache, clock, backend = stale_cache(verify_stale=True)
    await ask(cache, backend)
    backend.default = Answer(answer=["{q} 10 IN A 192.0.2.2"])
    clock.t += 100
    msg = await ask(cache, backend, query("EXAMPLE.org"))
    assert str(msg.rr[0].rdata) == "192.0.2.2" and ttls(msg) == {10}
    assert str(msg.q.qname) == "EXAMPLE.org."
    assert backend.calls == 2 and cache.refreshing == 0


@pytest.mark.parametrize("failure", [Answer(fail=True), Answer(rcode=2), Answer(rcode=5),
                                     Answer(answer=["{q} 10 IN A 192.0.2.2"], tc=True)],
                         ids=["error", "servfail", "refused", "truncated"])  # fmt: skip
async def test_serve_stale_verify_falls_back_to_stale(failure: Answer) -> None:
    cache, clock, backend = stale_cache(verify_stale=True)
    await ask(cache, backend)
    backend.default = failure
    clock.t += 100
    msg = await ask(cache, backend)
    assert str(msg.rr[0].rdata) == "192.0.2.1" and ttls(msg) == {0}
    assert backend.calls == 2
    await ask(cache, backend)
    assert backend.calls == 3  # no recheck interval: every stale query verifies


async def test_serve_stale_verify_timeout() -> None:
    import asyncio

    cache, clock, backend = stale_cache(verify_stale=True, verify_timeout=0.05)
    await ask(cache, backend)
    backend.default = Answer(answer=["{q} 10 IN A 192.0.2.2"])
    backend.gate = asyncio.Event()
    clock.t += 100
    msg = await ask(cache, backend)
    assert str(msg.rr[0].rdata) == "192.0.2.1"  # the chain was too slow
    assert cache.refreshing == 1
    msg = await ask(cache, backend)  # waits on the same refresh, no second call
    assert backend.calls == 2
    backend.gate.set()
    from dnsd.testing import wait_for

    await wait_for(lambda: cache.refreshing == 0)
    msg = await ask(cache, backend)
    assert str(msg.rr[0].rdata) == "192.0.2.2" and backend.calls == 2


async def test_serve_stale_negative_entry() -> None:
    cache, clock = make_cache(CacheOptions(serve_stale=3600.0))
    backend = Backend(Answer(rcode=3, authority=[soa()]))
    await ask(cache, backend)
    backend.default = Answer(fail=True)
    clock.t += 31
    msg = await ask(cache, backend)
    assert msg.header.rcode == 3 and ttls(msg) == {0}


# -- zones and data changes ---------------------------------------------------------------


class Source:
    """A data source as the cache sees kubernetes."""

    def __init__(self, zones: tuple[str, ...]) -> None:
        self.zones = zones
        self.callbacks: list[object] = []
        self.name = "source"

    def on_data_changed(self, callback: object) -> object:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def changed(self) -> None:
        for callback in list(self.callbacks):
            callback()  # type: ignore[operator]

    async def serve(self, req: Request, next: object) -> None:
        return None


async def test_data_change_drops_entries_in_the_sources_zones() -> None:
    cache, _ = make_cache()
    source = Source(("cluster.local.",))
    cache.start([cache, source])
    backend = Backend(Answer(rcode=3, authority=[soa()]))
    inside = query("web.default.svc.cluster.local")
    outside = query("example.org")
    for req in (inside, outside, inside, outside):
        await ask(cache, backend, req)
    assert backend.calls == 2
    source.changed()
    await ask(cache, backend, query("web.default.svc.cluster.local"))
    await ask(cache, backend, query("example.org"))
    assert backend.calls == 3  # only the entry in cluster.local was dropped
    await cache.stop()
    assert source.callbacks == []


async def test_change_during_the_query_is_not_cached() -> None:
    cache, _ = make_cache()
    source = Source(("cluster.local.",))
    cache.start([source])
    backend = Backend(Answer(rcode=3, authority=[soa()]))

    async def changing(req: Request) -> Reply | None:
        source.changed()  # the data changed while the query was being answered
        return await backend(req)

    await cache.serve(query("new.default.svc.cluster.local"), changing)
    await ask(cache, backend, query("new.default.svc.cluster.local"))
    assert backend.calls == 2
    await cache.stop()


async def test_data_source_protocol_is_duck_typed() -> None:
    from dnsd.plugins.cache.handler import DataSource

    assert isinstance(Source(("a.",)), DataSource)
    assert not isinstance(Backend(), DataSource)


# -- metrics -----------------------------------------------------------------------------


async def test_metrics_are_exported() -> None:
    from prometheus_client import REGISTRY

    cache, _ = make_cache(CacheOptions(zones=("example.org.", "example.net.")))
    cache.start([])
    server = "dns://metrics:53"
    backend = Backend(Answer(answer=["{q} 300 IN A 192.0.2.1"]))
    for _ in range(3):
        await ask(cache, backend, query(server=server))
    labels = {"server": server, "zones": "example.org.,example.net.", "view": ""}
    typed = {**labels, "type": "success"}
    get = REGISTRY.get_sample_value
    assert get("coredns_cache_requests_total", labels) == 3
    assert get("coredns_cache_hits_total", typed) == 2
    assert get("coredns_cache_misses_total", labels) == 1
    assert get("coredns_cache_entries", typed) == 1
    assert get("coredns_cache_entries", {**typed, "type": "denial"}) == 0
    for name in ("prefetch", "drops", "served_stale"):
        assert get(f"coredns_cache_{name}_total", labels) == 0
    assert get("coredns_cache_evictions_total", typed) == 0
    await cache.stop()
    assert get("coredns_cache_entries", typed) is None
