"""Handler of *cache*: answers from stored replies, stores what the rest of the chain answers.

The hit path is one dict lookup, a freshness check and :meth:`Entry.render`
(byte slices, no dnslib). A miss passes the query on, reads the reply's bytes
once (:mod:`dnsd.plugins.cache.message`), stores it when CoreDNS would, and
answers with every TTL set to the cached TTL as CoreDNS does.

Refreshes (prefetch, serve_stale) run the rest of the chain with an internal
copy of the query built from its bytes (as CoreDNS's prefetch writer, it says
TCP, so nothing is truncated on the way). The copy has no reply observers:
*log*, *prometheus* and *errors* sit above the cache and see only the client's
query, so a refresh is never logged or counted as a query; plugins below the
cache (*forward*'s upstream metrics) count the real upstream query it makes.

Data changes: at start-up the cache looks in its block for handlers with
``zones`` and ``on_data_changed`` (*kubernetes*) and subscribes. Entries in
those zones carry the data generation their query started in; a change bumps
the generation and every such entry counts as absent from then on (it is
removed when next looked up), so a new Service is never hidden behind a cached
NXDOMAIN.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from dnsd.errors import ChainError
from dnsd.fastpath import MemoCheck
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.cache import metrics
from dnsd.plugins.cache.entry import Entry
from dnsd.plugins.cache.message import (
    DELEGATION,
    FLAG_TC,
    META,
    NAME_ERROR,
    NEGATIVE,
    NO_DATA,
    NO_ERROR,
    SERVER_ERROR,
    UPDATE,
    Shape,
    cacheable,
    classify,
    inspect,
    minimal_ttl,
)
from dnsd.plugins.cache.setup import NAME, CacheOptions
from dnsd.plugins.cache.store import Store
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import BadQuery, parse_query

log = plugin_logger(NAME)

_CD, _AD, _QR = 0x0010, 0x0020, 0x8000
#: The generation of entries that no data change drops.
NEVER = sys.maxsize
#: Replies that refresh an entry (RFC 8767 section 4: NOERROR or NXDOMAIN, and complete).
_REFRESHING = frozenset({NO_ERROR, DELEGATION, NAME_ERROR, NO_DATA})


@runtime_checkable
class DataSource(Protocol):
    """A plugin whose answers change with its data (*kubernetes*)."""

    @property
    def zones(self) -> tuple[str, ...]: ...

    def on_data_changed(self, callback: Callable[[], None]) -> Callable[[], None]: ...


class Cache:
    """The cache of one server block."""

    name = NAME
    #: Its hits offer memos; a reply it passes on keeps its memo only when it was not stored.
    memo_safe = True

    def __init__(self, opts: CacheOptions) -> None:
        self.opts = opts
        #: The ``zones`` label of the metrics (CoreDNS joins the zones with commas).
        self.zones_label = ",".join(opts.zones)
        self.store = Store(opts.success_capacity, opts.denial_capacity)
        #: The clock of TTLs (monotonic seconds); tests replace it.
        self.now: Callable[[], float] = time.monotonic
        self._map = self.store.map
        self._epoch = 0
        self._watched: tuple[str, ...] = ()
        self._unsubscribe: list[Callable[[], None]] = []
        self._counters: dict[str, metrics.Counters] = {}
        self._covered: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._any_zone = "." in opts.zones
        self._keepttl = opts.keepttl
        self._prefetch = opts.prefetch
        self._stale = int(opts.serve_stale)  # whole seconds, as CoreDNS compares them
        self._stale_ttl = int(opts.stale_ttl)

    # -- the hit path ----------------------------------------------------------------------
    async def serve(self, req: Request, next: Next) -> Reply | None:
        entry = self._map.get((req.name_lower, req.qtype, req.qclass, (req.flags & _CD) | req.do))
        if entry is not None:
            if entry.epoch >= self._epoch:
                now = self.now()
                age = now - entry.stored
                if age < entry.ttl:
                    counters = self._counters.get(req.server) or self._new_counters(req.server)
                    counters.hits[entry.denial] += 1
                    if self._prefetch:
                        self._prefetch_check(entry, req, next, now, counters)
                    ttl = entry.ttl if self._keepttl else entry.ttl - int(age)
                    hit = Reply(wire=entry.render(req, ttl))
                    hit.memo = self._memo_check(entry, counters, now, age)
                    return hit
                if int(age) - entry.ttl < self._stale:
                    return await self._serve_stale(entry, req, next, now)
            else:
                self.store.remove(entry)  # its zone's data changed since it was fetched
        if not self._any_zone and not self._in_zones(req):
            return await next(req)
        counters = self._counters.get(req.server) or self._new_counters(req.server)
        counters.misses += 1
        epoch = self._epoch
        answered = await next(req)
        reply, _, stored = self._handle(req, answered, epoch, counters, None)
        if not stored and reply is not None and answered is not None and answered.memo:
            # Not kept here (a zone with caching disabled): the answerer's memo holds, and
            # every memo hit goes past this cache again as a miss.
            reply.memo = answered.memo
            req.on_memo_hit(counters.memo_miss)
        return reply

    def _memo_check(
        self, entry: Entry, counters: metrics.Counters, now: float, age: float
    ) -> MemoCheck | None:
        """The server may send these bytes again until the TTL ticks (keepttl: until expiry),
        prefetch may start, or the entry is dropped; every such hit is counted here."""
        until = entry.stored + (entry.ttl if self._keepttl else int(age) + 1)
        if self._prefetch:
            threshold = math.ceil(self.opts.prefetch_percentage / 100 * entry.ttl)
            until = min(until, entry.stored + entry.ttl - threshold)
        if until <= now:
            return None
        entries, key, denial = self._map, entry.key, entry.denial
        prefetch, gap = self._prefetch, self.opts.prefetch_duration

        def check() -> bool:
            now = self.now()
            if now >= until or entry.epoch < self._epoch or entries.get(key) is not entry:
                return False
            counters.hits[denial] += 1
            if prefetch:  # prefetch's popularity count, as _prefetch_check keeps it
                entry.hits = 1 if entry.last < now - gap else entry.hits + 1
                entry.last = now
            return True

        return check

    def _new_counters(self, server: str) -> metrics.Counters:
        found = self._counters[server] = metrics.counters(server, self.zones_label)
        return found

    def _in_zones(self, req: Request) -> bool:
        covered = self._covered.get(req.zone)
        if covered is None:
            covered = self._covered[req.zone] = _within(req.zone, self.opts.zones)
        return covered or _within(req.name_lower, self.opts.zones)

    # -- prefetch and serve_stale ----------------------------------------------------------
    def _prefetch_check(
        self, entry: Entry, req: Request, next: Next, now: float, counters: metrics.Counters
    ) -> None:
        """CoreDNS's ``shouldPrefetch``: popular (AMOUNT hits without a gap of DURATION) and
        at most PERCENTAGE of its TTL left."""
        if entry.last < now - self.opts.prefetch_duration:
            entry.hits = 1
        else:
            entry.hits += 1
        entry.last = now
        if entry.hits < self._prefetch or entry.refresh is not None or now < entry.retry_after:
            return
        threshold = math.ceil(self.opts.prefetch_percentage / 100 * entry.ttl)
        if entry.remaining(now) <= threshold and self._start_refresh(entry, req, next):
            counters.prefetch += 1

    async def _serve_stale(self, entry: Entry, req: Request, next: Next, now: float) -> Reply:
        counters = self._counters.get(req.server) or self._new_counters(req.server)
        counters.hits[entry.denial] += 1
        idle = entry.refresh is None and now >= entry.retry_after
        if self.opts.verify_stale:
            task = self._start_refresh(entry, req, next) if idle else entry.refresh
            if task is not None:
                wire = await self._wait(task)
                if wire is not None:
                    return Reply(wire=_for_client(wire, req))
        elif idle and self._start_refresh(entry, req, next):
            counters.prefetch += 1  # CoreDNS refreshes stale entries through doPrefetch
        counters.stale += 1
        return Reply(wire=entry.render(req, self._stale_ttl))

    async def _wait(self, task: asyncio.Task[bytes | None]) -> bytes | None:
        timeout = self.opts.verify_timeout
        try:
            if timeout > 0:
                return await asyncio.wait_for(asyncio.shield(task), timeout)
            return await asyncio.shield(task)
        except TimeoutError:
            return None  # the refresh goes on and updates the entry when it succeeds

    def _start_refresh(
        self, entry: Entry, req: Request, next: Next
    ) -> asyncio.Task[bytes | None] | None:
        sub = _internal(req)
        if sub is None:
            return None
        task = asyncio.get_running_loop().create_task(self._refresh(entry, sub, next))
        entry.refresh = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _refresh(self, entry: Entry, sub: Request, next: Next) -> bytes | None:
        """Ask the rest of the chain again; the reply's bytes when it refreshed the entry."""
        counters = self._counters.get(sub.server) or self._new_counters(sub.server)
        epoch = self._epoch
        wire: bytes | None = None
        try:
            wire = self._handle(sub, await next(sub), epoch, counters, entry)[1]
        except Exception as exc:  # the chain's failure is this refresh's, nobody else's
            panic = not isinstance(exc, ChainError) or exc.panic
            level = log.error if panic else log.debug
            level("refreshing %s %s failed: %s", sub.qname, sub.type_name, exc)
        finally:
            entry.refresh = None
        if wire is None:
            entry.retry_after = self.now() + self.opts.stale_recheck
        return wire

    # -- the miss path ---------------------------------------------------------------------
    def _handle(
        self,
        req: Request,
        reply: Reply | None,
        epoch: int,
        counters: metrics.Counters,
        refresh: Entry | None,
    ) -> tuple[Reply | None, bytes | None, bool]:
        """Store ``reply`` when CoreDNS would; (the reply for the client, the reply's bytes
        when it refreshes ``refresh``, whether it was stored)."""
        if reply is None or reply.drop:
            return reply, None, False
        wire = reply.wire
        if wire is None:
            try:
                wire = bytes(reply.msg.pack())
            except Exception:
                return reply, None, False  # the server's own encoding reports it
            reply = Reply(wire=wire, plugin=reply.plugin)
        shape = inspect(wire, req.question[:-4].lower(), req.qtype, sigs=req.do)
        if shape is None:
            return reply, None, False
        kind = classify(shape, req.qtype)
        duration = self._duration(shape, kind)
        matches = _matches(shape, req)
        refreshed = matches and kind in _REFRESHING and not shape.flags & FLAG_TC
        if refresh is not None and not refreshed:
            return None, None, False  # a failed refresh leaves the entry as it was
        stored = False
        if cacheable(shape, kind, req.qtype) and duration > 0:
            if matches:
                stored = self._store(req, wire, shape, kind, duration, epoch, counters, refresh)
            else:
                counters.drops += 1
        if refresh is not None and not stored:
            self.store.remove(refresh)  # answered, with nothing to keep: stop serving it stale
        if kind in (META, UPDATE):
            return Reply(wire=_clear_ad(wire, req), plugin=reply.plugin), None, stored
        wire = _with_ttl(wire, shape, int(duration))
        return Reply(wire=_clear_ad(wire, req), plugin=reply.plugin), wire, stored

    def _duration(self, shape: Shape, kind: str) -> float:
        """CoreDNS's cache duration: the reply's TTL clamped to the class's bounds."""
        o = self.opts
        if kind in NEGATIVE:
            return _clamp(minimal_ttl(shape, kind), o.denial_minttl, o.denial_ttl)
        if kind == SERVER_ERROR:
            return o.servfail
        return _clamp(minimal_ttl(shape, kind), o.success_minttl, o.success_ttl)

    def _store(
        self,
        req: Request,
        wire: bytes,
        shape: Shape,
        kind: str,
        duration: float,
        epoch: int,
        counters: metrics.Counters,
        refresh: Entry | None,
    ) -> bool:
        denial = 1 if kind in NEGATIVE or kind == SERVER_ERROR else 0
        name = req.name_lower
        if _within(name, self.opts.disable_denial if denial else self.opts.disable_success):
            return False
        key = (name, req.qtype, req.qclass, (req.flags & _CD) | req.do)
        watched = bool(self._watched) and _within(name, self._watched)
        now = self.now()
        entry = Entry(key, wire, shape, int(duration), now, denial, epoch if watched else NEVER)
        if refresh is not None:  # CoreDNS's Freq.Reset: the new entry keeps the popularity
            entry.hits, entry.last = refresh.hits, now
        if self.store.put(entry):
            counters.evictions[denial] += 1
        return True

    # -- lifecycle and metrics -------------------------------------------------------------
    def start(self, handlers: Sequence[object]) -> None:
        """Subscribe to the data changes of the block's data sources; count entries."""
        watched: list[str] = []
        for handler in handlers:
            if handler is not self and isinstance(handler, DataSource):
                watched.extend(handler.zones)
                self._unsubscribe.append(handler.on_data_changed(self.data_changed))
        self._watched = tuple(dict.fromkeys(watched))
        metrics.track(self)

    async def stop(self) -> None:
        """Unsubscribe and cancel running refreshes."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        metrics.untrack(self)

    def data_changed(self) -> None:
        """Drop every entry in the watched zones (lazily: they no longer count as found)."""
        self._epoch += 1

    @property
    def refreshing(self) -> int:
        """How many refreshes (prefetch, serve_stale) are running."""
        return len(self._tasks)

    def servers(self) -> Iterable[str]:
        return list(self._counters)

    def size(self, denial: int) -> int:
        return self.store.size(denial)


def _within(name: str, zones: Sequence[str]) -> bool:
    for zone in zones:
        if zone == "." or name == zone or name.endswith("." + zone):
            return True
    return False


def _clamp(ttl: float, low: float, high: float) -> float:
    """CoreDNS's ``computeTTL``: the minimum first, then the maximum."""
    return min(max(ttl, low), high)


def _matches(shape: Shape, req: Request) -> bool:
    """CoreDNS's ``request.Match``: one question, QR set, same name (any case) and type."""
    q, asked = shape.question, req.question
    return (
        shape.qdcount == 1
        and bool(shape.flags & _QR)
        and len(q) == len(asked)
        and q[-4:] == asked[-4:]
        and q[:-4].lower() == asked[:-4].lower()
    )


def _with_ttl(wire: bytes, shape: Shape, ttl: int) -> bytes:
    """``wire`` with every record's TTL (not the OPT's) set to ``ttl``."""
    if not shape.ttls:
        return wire
    value = min(max(ttl, 0), 0xFFFFFFFF).to_bytes(4, "big")
    buf = bytearray(wire)
    for off in shape.ttls:
        buf[off : off + 4] = value
    return bytes(buf)


def _clear_ad(wire: bytes, req: Request) -> bytes:
    """RFC 6840 section 5.7-5.8: no AD bit for clients that set neither DO nor AD."""
    if wire[3] & _AD and not (req.do or req.flags & _AD):
        return wire[:3] + bytes((wire[3] & ~_AD & 0xFF,)) + wire[4:]
    return wire


def _for_client(wire: bytes, req: Request) -> bytes:
    """A refreshed reply for one of the clients that waited on it: its question, its AD rule."""
    size = len(req.question)
    return _clear_ad(wire[:12] + req.question + wire[12 + size :], req)


def _internal(req: Request) -> Request | None:
    """A copy of ``req`` for a refresh: same bytes and client, over TCP, with no observers."""
    try:
        sub = parse_query(req.wire, Request)
    except BadQuery:
        return None
    sub.init(req.client, req.port, "tcp", req.local, req.server)
    sub.zone = req.zone
    sub.dispatcher = req.dispatcher
    sub.meta.update(req.meta)
    return sub
