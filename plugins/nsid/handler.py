"""Handler of *nsid*: when the query asks, the reply's OPT gets the NSID option.

Placed early in the chain (CoreDNS's order: right after *reload*), so it sees
the reply of every plugin after it. A reply given as bytes (*cache*, *forward*)
is read into a message for the option to be added; one that cannot be read
goes out without it. The SERVFAIL the server writes when no plugin answers has
no NSID, as in CoreDNS.

Memo-safe: whether the option is added depends on the query's bytes alone (its
EDNS options are part of the memo key), and the bytes with the option are what
the server remembers; a repeated query gets the NSID from the memo too.
"""

from __future__ import annotations

from dnsd.errors import PluginError
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.nsid.option import add, asks
from dnsd.reply import Reply
from dnsd.request import Request

log = plugin_logger("nsid")


class Nsid:
    """Add ``data`` as the NSID of replies to queries carrying an NSID option."""

    name = "nsid"
    #: Depends on the query's bytes only (dnsd.fastpath).
    memo_safe = True

    def __init__(self, data: str) -> None:
        self.data = data.encode("utf-8", "surrogateescape")

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if not req.edns or not asks(req.options):
            return await next(req)
        reply = await next(req)
        if reply is None or reply.drop:
            return reply
        relayed = reply.wire is not None
        try:
            msg = reply.msg
        except PluginError as exc:
            log.debug("no NSID for %s %s: %s", req.qname, req.type_name, exc)
            return reply
        add(msg, self.data, keep_options=not relayed)
        return reply
