"""Handler of *header*: query rules before the chain, response rules on what it answered.

Query rules change the query's flags word (:meth:`~dnsd.request.Request.set_flags`),
so the plugins after *header*, and the upstreams *forward* asks, see the new
flags. Response rules change the reply's: in place for a message, by
rewriting two bytes for a reply given as bytes (*cache*, *forward*). A query
that gets no reply (or is dropped) is left alone, and so are the SERVFAIL
replies the server itself writes when no plugin answers, as in CoreDNS.

Memo-safe: what it does depends on the query's bytes and the reply alone, and
the changed bytes are what the server remembers.
"""

from __future__ import annotations

from collections.abc import Sequence

from dnsd.plugin import Next
from dnsd.plugins.header.flags import Rule, masks
from dnsd.reply import Reply
from dnsd.request import Request


class Header:
    """Apply the query rules, pass the query on, apply the response rules."""

    name = "header"
    #: Depends on the query's bytes and the reply only (dnsd.fastpath).
    memo_safe = True

    def __init__(self, query: Sequence[Rule] = (), response: Sequence[Rule] = ()) -> None:
        self.query = masks(query)
        self.response = masks(response)

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if self.query:
            flags = self.query.apply(req.flags)
            if flags != req.flags:
                req.set_flags(flags)
        reply = await next(req)
        if reply is None or reply.drop or not self.response:
            return reply
        wire = reply.wire
        if wire is None:
            header = reply.msg.header
            header.bitmap = self.response.apply(header.bitmap)
            return reply
        if len(wire) < 4:
            return reply
        flags = int.from_bytes(wire[2:4], "big")
        new = self.response.apply(flags)
        if new == flags:
            return reply
        out = Reply(wire=wire[:2] + new.to_bytes(2, "big") + wire[4:], plugin=reply.plugin)
        out.memo = reply.memo
        return out
