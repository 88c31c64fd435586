"""Handler of *dns64*: AAAA questions get AAAA records made from the name's A records.

Only AAAA questions of class IN are looked at, from IPv6 clients unless ``allow_ipv4``. The
rest of the chain answers first; when that answer calls for synthesis (see :mod:`.synth`) the
A records are asked for as CoreDNS does, through the server itself (:mod:`dnsd.upstream`: the
query is routed by zone and runs the whole chain, *cache* included, with the client's address
and transport). A lookup that yields nothing is a SERVFAIL, as in CoreDNS.

Answer memos (:mod:`dnsd.fastpath`): without ``allow_ipv4`` the reply depends on the client's
address family, so the handler is not memo-safe: an IPv4 client's remembered NODATA must not be
replayed to an IPv6 client. With ``allow_ipv4`` every client is treated alike and the handler
only passes replies on or builds new ones (a new Reply carries no memo check), so it is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from dnslib import DNSRecord

from dnsd import upstream
from dnsd.errors import PluginError
from dnsd.plugin import Next
from dnsd.plugins.dns64 import metrics
from dnsd.plugins.dns64.setup import NAME, Dns64Options
from dnsd.plugins.dns64.synth import TYPE_A, TYPE_AAAA, synthesize, wants_synthesis
from dnsd.reply import Reply
from dnsd.request import Request

CLASS_IN = 1
Lookup = Callable[[Request, str, int], Awaitable["DNSRecord | None"]]


def _peek(reply: Reply) -> DNSRecord | None:
    """The reply as a message, leaving a reply given as bytes untouched; None if unreadable."""
    if reply.wire is None:
        return reply.msg
    try:
        return DNSRecord.parse(reply.wire)
    except Exception:  # dnslib raises more than DNSError on bad input
        return None


class Dns64:
    """Synthesizes AAAA answers from A answers."""

    name = NAME

    def __init__(self, options: Dns64Options, lookup: Lookup = upstream.lookup) -> None:
        self.options = options
        self.prefix = ipaddress.IPv6Network(options.prefix)
        self.lookup = lookup
        self.memo_safe = options.allow_ipv4
        self._translated: dict[str, Any] = {}

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qtype != TYPE_AAAA or req.qclass != CLASS_IN:
            return await next(req)
        if req.family == 1 and not self.options.allow_ipv4:
            return await next(req)
        reply = await next(req)
        if reply is None or reply.drop:
            return reply
        msg = _peek(reply)
        if msg is None or not wants_synthesis(msg, self.options.translate_all):
            return reply
        a_reply = await self.lookup(req, req.qname, TYPE_A)
        if a_reply is None:
            raise PluginError(f"no reply to the A query for {req.qname}")
        out = synthesize(req, msg, a_reply, self.prefix)
        counter = self._translated.get(req.server)
        if counter is None:
            counter = self._translated[req.server] = metrics.translated.labels(req.server)
        counter.inc()
        return Reply(out)
