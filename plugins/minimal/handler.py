"""Handler of *minimal*: shortens what the rest of the chain answered, when it may.

An observer: ``reply = await next(req)``, then, for a reply of kind NOERROR
(:mod:`~dnsd.plugins.minimal.typify`: a successful answer that is not a
denial, a delegation or an error), the authority section goes and the
additional section keeps only its OPT record. Replies from *cache* or
*forward* (bytes) are read and cut as bytes, without a parse; messages built
by other plugins lose their records in place. Zone transfers are passed on
untouched, as in CoreDNS.

Memo-safe: what it does depends on the reply alone, and the shortened bytes
are what the server remembers. The one exception is time: with DO set, an
expired RRSIG makes the reply pass unchanged, so a reply carrying RRSIGs is
not offered for a memo (the next copy is decided again).
"""

from __future__ import annotations

import time

from dnsd.plugin import Next
from dnsd.plugins.minimal.typify import (
    TYPE_AXFR,
    TYPE_IXFR,
    TYPE_OPT,
    Facts,
    Kind,
    message_facts,
    read_wire,
    typify,
)
from dnsd.reply import Reply
from dnsd.request import Request


class Minimal:
    """Drop the authority and additional (but OPT) records of NOERROR replies."""

    name = "minimal"
    #: Depends on the reply only; the cut bytes are what a memo replays (dnsd.fastpath).
    memo_safe = True

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qtype == TYPE_AXFR or req.qtype == TYPE_IXFR:
            return await next(req)
        reply = await next(req)
        if reply is None or reply.drop:
            return reply
        wire = reply.wire
        if wire is not None:
            return self._cut_wire(reply, wire)
        msg = reply.msg
        facts = message_facts(msg)
        _forget_memo_if_timed(reply, facts)
        if typify(facts, int(time.time())) is Kind.NOERROR:
            msg.auth = []
            msg.ar = [rr for rr in msg.ar if rr.rtype == TYPE_OPT][:1]
        return reply

    def _cut_wire(self, reply: Reply, wire: bytes) -> Reply:
        read = read_wire(wire)
        if read is None:
            return reply  # unreadable: the server's scrubbing decides what to do with it
        _forget_memo_if_timed(reply, read.facts)
        if typify(read.facts, int(time.time())) is not Kind.NOERROR:
            return reply
        if read.answer_end + len(read.opt) == len(wire):
            return reply  # nothing to drop
        out = Reply(wire=read.minimal(wire), plugin=reply.plugin)
        out.memo = reply.memo
        return out


def _forget_memo_if_timed(reply: Reply, facts: Facts) -> None:
    """A decision that looked at signature validity holds only now: no memo for it."""
    if facts.do and facts.signatures:
        reply.memo = None
