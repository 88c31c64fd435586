"""Resolving a name through this server's own routing and chains (CoreDNS's ``pkg/upstream``).

Used by plugins that must complete an answer with data they do not hold, such
as a CNAME target (kubernetes ExternalName, file). The lookup is a real query:
it is routed by zone, runs the whole chain (log and metrics see it) and is
scrubbed; a depth limit stops CNAME loops.
"""

from __future__ import annotations

import random

from dnslib import EDNS0, DNSRecord

from dnsd.request import Request
from dnsd.wire import BadQuery, parse_query

#: How deep lookups may nest (a CNAME chain through several plugins).
MAX_DEPTH = 8


async def lookup(req: Request, name: str, qtype: int) -> DNSRecord | None:
    """The reply for ``name``/``qtype`` from this server, or None when it cannot be had.

    The internal query carries the client's facts (address, transport) so
    client-dependent plugins answer as they would for the client.
    """
    dispatcher = req.dispatcher
    depth = int(req.meta.get("upstream/depth", 0))
    if dispatcher is None or depth >= MAX_DEPTH:
        return None
    q = DNSRecord.question(name, qtype=_type_text(qtype))
    q.header.id = random.randint(0, 0xFFFF)
    q.header.rd = 1
    # The largest EDNS size, so nothing is truncated inside; DO as the client asked.
    q.add_ar(EDNS0(udp_len=65535, flags="do" if req.do else ""))
    try:
        sub = parse_query(bytes(q.pack()), Request)
    except BadQuery:
        return None
    sub.init(req.client, req.port, req.proto, req.local, req.server)
    sub.meta["upstream/depth"] = depth + 1
    wire = await dispatcher.resolve(sub)
    if wire is None:
        return None
    try:
        return DNSRecord.parse(wire)
    except Exception:
        return None


def _type_text(qtype: int) -> str:
    from dnslib import QTYPE

    return str(QTYPE.get(qtype, f"TYPE{qtype}"))
