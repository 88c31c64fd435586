"""Handler of *whoami*: CoreDNS's reply, byte for byte in its sections."""

from __future__ import annotations

from dnslib import AAAA, RR, SRV, A, DNSLabel

from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request

TYPE_A, TYPE_AAAA, TYPE_SRV = 1, 28, 33


class Whoami:
    """Authoritative empty answer; additional: the client's IP (A/AAAA) and port (SRV)."""

    name = "whoami"

    async def serve(self, req: Request, next: Next) -> Reply | None:
        msg = req.reply(aa=True)
        owner = DNSLabel(list(req.labels))
        if req.family == 1:
            msg.add_ar(RR(owner, TYPE_A, req.qclass, 0, A(req.client)))
        else:
            msg.add_ar(RR(owner, TYPE_AAAA, req.qclass, 0, AAAA(req.client)))
        srv_owner = DNSLabel([b"_" + req.proto.encode(), *req.labels])
        msg.add_ar(RR(srv_owner, TYPE_SRV, req.qclass, 0, SRV(0, 0, req.port, ".")))
        return Reply(msg)
