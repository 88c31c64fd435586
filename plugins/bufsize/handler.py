"""Handler of *bufsize*: clamp the advertised EDNS0 UDP size, then pass the query on.

Only queries with an OPT record are touched, and the size is only ever
lowered. The server truncates the reply to the clamped size and echoes it in
the reply's OPT, as CoreDNS does.
"""

from __future__ import annotations

from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request


class Bufsize:
    """Lower ``req.udp_size`` to ``size`` when it is larger."""

    name = "bufsize"
    #: Depends on the query's bytes only; per-query work is a reply observer (dnsd.fastpath).
    memo_safe = True

    def __init__(self, size: int) -> None:
        self.size = size

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.edns and req.udp_size > self.size:
            req.set_udp_size(self.size)
        return await next(req)
