"""Handler of *any*: RFC 8482's answer to qtype ANY, as CoreDNS writes it.

``<qname> 8482 IN HINFO "ANY obsoleted" "See RFC 8482"``: owner as asked,
class IN whatever the query's class, not authoritative, no other section.
dnslib has no HINFO type, so the rdata (two character-strings) is packed here.
"""

from __future__ import annotations

from dnslib import RD, RR, DNSLabel

from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request

TYPE_ANY = 255
TYPE_HINFO = 13
CLASS_IN = 1
TTL = 8482
CPU = "ANY obsoleted"
OS = "See RFC 8482"


def character_string(text: str) -> bytes:
    """RFC 1035 <character-string>: a length byte and up to 255 bytes."""
    data = text.encode()
    if len(data) > 255:
        raise ValueError(f"character-string over 255 bytes: {text!r}")
    return bytes([len(data)]) + data


class HINFO(RD):  # type: ignore[misc]  # dnslib is untyped
    """HINFO rdata (RFC 1035 3.3.2): CPU and OS as two character-strings."""

    attrs = ("cpu", "os")

    def __init__(self, cpu: str, os: str) -> None:
        super().__init__(character_string(cpu) + character_string(os))
        self.cpu = cpu
        self.os = os

    def __repr__(self) -> str:
        return f'"{self.cpu}" "{self.os}"'


RDATA = HINFO(CPU, OS)


class Any:
    """Answer ANY; pass every other query on."""

    name = "any"
    #: Depends on the query's bytes only; per-query work is a reply observer (dnsd.fastpath).
    memo_safe = True

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qtype != TYPE_ANY:
            return await next(req)
        msg = req.reply()
        msg.add_answer(RR(DNSLabel(list(req.labels)), TYPE_HINFO, CLASS_IN, TTL, RDATA))
        return Reply(msg)
