"""Serving DNS on one listener: validation, zone routing, the chain, scrubbing.

A :class:`Dispatcher` holds one listener's routing table for one loaded
Instance; a reload swaps the listener's dispatcher while its sockets stay open,
so no query is lost. Every query passes :func:`dnsd.wire.parse_query` before
anything else sees it; a plugin's exception becomes SERVFAIL and one log line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from dnsd import metrics
from dnsd.errors import ChainError
from dnsd.fastpath import FREE as MEMO_FREE
from dnsd.fastpath import LIMIT as MEMO_LIMIT
from dnsd.fastpath import Doorkeeper, Memo, admit, make_room
from dnsd.instance import Block, ListenAddr, TcpLimits
from dnsd.log import core as log
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.scrub import scrub_wire
from dnsd.wire import (
    REFUSED,
    SERVFAIL,
    BadQuery,
    encode_reply,
    error_reply,
    parse_query,
    rcode_name,
)

TYPE_DS = 43
CLASS_IN = 1

malformed_total = Counter(
    "malformed_requests_total",
    "Queries that failed validation before reaching a server block, per reason (dnsd).",
    ["server", "proto", "reason"],
    namespace=metrics.NAMESPACE,
    subsystem="dns",
)

Send = Callable[[bytes], None]


def next_label(name: str, off: int) -> int:
    """Offset of the label after the one at ``off`` in a presentation name, or -1 at the last."""
    i, n = off, len(name)
    while i < n:
        ch = name[i]
        if ch == "\\":
            i += 4 if i + 1 < n and name[i + 1].isdigit() else 2
            continue
        if ch == ".":
            return -1 if i + 1 >= n else i + 1
        i += 1
    return -1


class Dispatcher:
    """Routing and serving for one listener under one loaded config."""

    def __init__(self, addr: ListenAddr, zones: dict[str, Block], stacktrace: bool) -> None:
        self.addr = addr
        self.zones = zones
        self.label = addr.label
        self.local = addr.host or "::"
        self.class_any = any(b.class_any for b in zones.values())
        self.stacktrace = stacktrace
        limits = TcpLimits()
        for block in zones.values():
            if "timeouts" in block.settings:
                limits = block.limits
        self.limits = limits
        self.tasks: set[asyncio.Task[Any]] = set()
        #: Replies served again to the same query bytes (see :mod:`dnsd.fastpath`), per
        #: transport: a UDP reply may be truncated for its client, a TCP one never is.
        self.memos: dict[bytes, Memo] = {}
        self.tcp_memos: dict[bytes, Memo] = {}
        #: Keys answered once, per transport, for the memo admission rule (:func:`admit`).
        self.doors = {"udp": Doorkeeper(), "tcp": Doorkeeper()}

    # -- routing ---------------------------------------------------------------------------
    def route(self, name: str, qtype: int) -> tuple[str, Block] | None:
        """Longest matching zone; DS goes to the parent side; then ``.``; else None (REFUSED)."""
        zones = self.zones
        off = 0
        ds: tuple[str, Block] | None = None
        while off >= 0:
            zone = name[off:]
            block = zones.get(zone)
            if block is not None:
                if qtype != TYPE_DS:
                    return zone, block
                ds = (zone, block)
            if "\\" in name:
                off = next_label(name, off)  # escaped dots: walk label by label
            else:
                dot = name.find(".", off)
                off = dot + 1 if 0 <= dot < len(name) - 1 else -1
        if ds is not None:
            return ds
        block = zones.get(".")
        return (".", block) if block is not None else None

    # -- entry points ----------------------------------------------------------------------
    def receive(
        self, data: bytes, client: str, port: int, proto: str, send: Send
    ) -> asyncio.Task[Any] | None:
        """Handle one message; answers at once when no chain is needed, else returns the task."""
        memo_key: bytes | None = None
        memos = self.memos if proto == "udp" else self.tcp_memos if proto == "tcp" else None
        if memos is not None:
            memo_key = data[2:]
            memo = memos.get(memo_key)
            if memo is not None:
                if self._memo_hit(memo, data, client, port, proto, send):
                    return None
                del memos[memo_key]
        try:
            req = parse_query(data, Request)
        except BadQuery as exc:
            malformed_total.labels(self.label, proto, exc.reason).inc()
            log.debug(
                "malformed query from %s port %d over %s: %s", client, port, proto, exc.reason
            )
            if exc.reply is not None:
                send(exc.reply)
                self._report_dropped(proto, client, len(data), exc.reply, "other", False)
            return None
        req.init(client, port, proto, self.local, self.label)
        req.dispatcher = self
        found = self.route(req.name_lower, req.qtype)
        if found is None or (req.qclass != CLASS_IN and not self.class_any):
            self._refuse(req, send)
            return None
        zone, block = found
        if not block.handlers:
            self._refuse(req, send)
            return None
        task = asyncio.get_running_loop().create_task(self._serve(req, zone, block, send, memo_key))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _refuse(self, req: Request, send: Send) -> None:
        wire = error_reply(req, REFUSED)
        send(wire)
        self._report_dropped(req.proto, req.client, len(req.wire), wire, req.type_name, req.do)

    def _report_dropped(
        self, proto: str, client: str, size: int, wire: bytes, qtype: str, do: bool
    ) -> None:
        family = 2 if ":" in client else 1
        rcode = rcode_name(wire[3] & 0x0F) if len(wire) > 3 else "SERVFAIL"
        metrics.report(
            self.label, "dropped", proto, family, qtype, do, size, rcode, "", len(wire), 0.0
        )

    async def resolve(self, req: Request) -> bytes | None:
        """Route and answer an internal query (:mod:`dnsd.upstream`); REFUSED outside the zones."""
        req.dispatcher = self
        found = self.route(req.name_lower, req.qtype)
        if found is None or not found[1].handlers:
            return error_reply(req, REFUSED)
        return await self.answer(req, *found)

    async def _serve(
        self, req: Request, zone: str, block: Block, send: Send, memo_key: bytes | None
    ) -> None:
        wire = await self.answer(req, zone, block, memo_key)
        if wire is not None:
            send(wire)

    def _memo_hit(
        self, memo: Memo, data: bytes, client: str, port: int, proto: str, send: Send
    ) -> bool:
        wire: bytes | None = data[:2] + memo.tail
        try:
            if not memo.check():
                return False
            for transform in memo.transforms:
                wire = transform(wire) if wire is not None else None
        except Exception as exc:  # a plugin bug: forget the memo, let the chain answer
            log.error("memo of plugin/%s failed: %r", memo.plugin, exc)
            return False
        if wire is None:
            return False  # this copy cannot be made from bytes: the chain answers
        send(wire)
        for hook in memo.hooks:
            hook()
        if memo.observers:
            req = parse_query(data, Request).init(client, port, proto, self.local, self.label)
            req.zone = memo.zone
            for observer in memo.observers:
                req.on_reply(observer)
            try:
                req.replied(wire, memo.plugin)
            except Exception as exc:
                log.error("reply observer failed for %s %s: %r", req.qname, req.type_name, exc)
        return True

    def _remember(self, key: bytes, wire: bytes, reply: Reply, req: Request) -> None:
        memos = self.memos if req.proto == "udp" else self.tcp_memos
        if not admit(memos, self.doors[req.proto], key, MEMO_FREE):
            return  # a big table takes a key on its second sight: random names stay out
        make_room(memos, MEMO_LIMIT)
        check = reply.memo
        assert check is not None and reply.plugin is not None
        transforms = req.memo_transforms()
        copy: bytes | None = wire
        for transform in transforms:  # one trial: a copy that needs the chain is not kept
            copy = transform(copy) if copy is not None else None
        if copy is None:
            return
        memos[key] = Memo(
            wire[2:],
            check,
            req.observers(),
            req.zone,
            reply.plugin,
            transforms,
            req.memo_hooks(),
        )

    async def answer(
        self, req: Request, zone: str, block: Block, memo_key: bytes | None = None
    ) -> bytes | None:
        """Run the block's chain and return the scrubbed reply (None: send nothing).

        With ``memo_key`` (the query's bytes after the ID) a reply that offers a
        memo check is remembered for the next identical query.
        """
        req.zone = zone
        plugin: str | None = None
        reply: Reply | None = None
        assert block.chain is not None
        try:
            reply = await block.chain(req)
        except ChainError as exc:
            self._chain_error(req, exc, block)
        except Exception as exc:  # the links wrap every handler; this is a last resort
            self._chain_error(req, ChainError("?", exc), block)
        wire: bytes | None
        if reply is None:
            wire = error_reply(req, SERVFAIL)
        elif reply.drop:
            wire = None
            plugin = reply.plugin
        else:
            plugin = reply.plugin
            try:
                wire = self.encode(req, reply)
            except Exception as exc:
                self._chain_error(req, ChainError(plugin or "?", exc), block)
                wire, plugin = error_reply(req, SERVFAIL), None
            else:
                if memo_key is not None and reply.memo is not None and plugin in block.memo_plugins:
                    self._remember(memo_key, wire, reply, req)
        try:
            req.replied(wire, plugin)
        except Exception as exc:
            log.error("reply observer failed for %s %s: %r", req.qname, req.type_name, exc)
        return wire

    def encode(self, req: Request, reply: Reply) -> bytes:
        """The reply's bytes for this client: ID, EDNS and size fixed up."""
        raw = reply.wire
        if raw is not None:
            wire = scrub_wire(raw, req, req.max_size)
            if wire is not None:
                return wire
        msg = reply.msg  # too large for the client (truncation) or unreadable: the full path
        msg.header.id = req.id
        return encode_reply(msg, req, req.max_size)

    def _chain_error(self, req: Request, exc: ChainError, block: Block) -> None:
        if not exc.panic:
            return  # the errors plugin logs deliberate failures, as in CoreDNS
        metrics.panics_total.inc()
        trace = self.stacktrace or bool(block.settings.get("stacktrace"))
        log.error(
            'Recovered from panic in server: "%s" plugin/%s: %s: %r (query %s %s)',
            self.label,
            exc.plugin,
            type(exc.error).__name__,
            exc.error,
            req.qname,
            req.type_name,
            exc_info=exc.error if trace else None,
        )


def elapsed(req: Request) -> float:
    """Seconds since the query arrived."""
    return time.perf_counter() - req.start
