"""Handler of *acl*: the query goes on, or gets REFUSED, an empty NOERROR, or nothing.

As CoreDNS, a blocked query gets REFUSED with the extended DNS error 15 (Blocked) and a
filtered one NOERROR with no records and EDE 17 (Filtered); the EDE reaches clients that
sent EDNS (dnsd never adds an OPT to a reply to a query without one, RFC 6891 §7). A
dropped query gets no reply at all.

Not memo-safe (:mod:`dnsd.fastpath`): the decision depends on the client's address, so a
block with *acl* never replays a reply remembered for one client to another; and as *acl*
sits before *cache*, a cached answer never reaches a client *acl* turns away.
"""

from __future__ import annotations

from typing import Any

from dnslib import EDNS0, EDNSOption

from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.acl import metrics
from dnsd.plugins.acl.policy import ALLOW, BLOCK, DROP, Rules, client_key
from dnsd.plugins.acl.setup import NAME, AclOptions
from dnsd.reply import Reply
from dnsd.request import Request

log = plugin_logger(NAME)

NOERROR, REFUSED = 0, 5
OPTION_EDE = 15
EDE_BLOCKED, EDE_FILTERED = 15, 17


def refusal(req: Request, rcode: int, info_code: int) -> Reply:
    """An empty reply with ``rcode`` and an EDE option carrying ``info_code`` (no text)."""
    msg = req.reply(rcode)
    ede = EDNSOption(OPTION_EDE, info_code.to_bytes(2, "big"))
    msg.add_ar(EDNS0(udp_len=4096, opts=[ede]))
    return Reply(msg)


class Acl:
    """Checks each query against the block's ``acl`` rules."""

    name = NAME

    def __init__(self, options: AclOptions) -> None:
        self.options = options
        self.rules = Rules(options.rules)
        self._allowed: dict[str, Any] = {}

    async def serve(self, req: Request, next: Next) -> Reply | None:
        action, zone = self.rules.decide(req.name_lower, req.qtype, req.client)
        if action == ALLOW:
            counter = self._allowed.get(req.server)
            if counter is None:
                counter = self._allowed[req.server] = metrics.allowed.labels(req.server, "")
            counter.inc()
            return await next(req)
        if action == DROP:
            metrics.dropped.labels(req.server, zone, "").inc()
            return Reply.dropped()
        if action == BLOCK:
            if client_key(req.client) is None:
                log.error("Blocking request. Unable to parse source address: %s", req.client)
            metrics.blocked.labels(req.server, zone, "").inc()
            return refusal(req, REFUSED, EDE_BLOCKED)
        metrics.filtered.labels(req.server, zone, "").inc()
        return refusal(req, NOERROR, EDE_FILTERED)
