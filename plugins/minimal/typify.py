"""The kind of a reply, as CoreDNS's ``response.Typify`` names it, read from bytes or a message.

*minimal* only shortens replies of kind :attr:`Kind.NOERROR`: a successful
answer that is neither a denial (NXDOMAIN, NODATA: both carry the SOA in the
authority section) nor a delegation (NS records in the authority section, glue
in the additional one) nor an error. The rules, in CoreDNS's order:

1. opcode UPDATE is ``UPDATE``; NOTIFY, AXFR and IXFR are ``META``;
2. with the DO bit set in the reply's OPT, an RRSIG outside its validity period
   (RFC 4034 serial arithmetic, as miekg/dns's ``ValidityPeriod``) is ``OTHERERROR``;
3. answers and rcode NOERROR: ``NOERROR``;
4. an SOA in the authority section: ``NODATA`` (NOERROR) or ``NXDOMAIN``;
5. SERVFAIL or NOTIMP: ``SERVERERROR``;
6. NS records in the authority section and NOERROR: ``DELEGATION``;
7. any other NOERROR: ``NOERROR``; anything else ``OTHERERROR``.

The rcode is the full 12-bit one: the header's 4 bits plus the OPT's extended bits.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dnsd.scrub import skip_name

TYPE_NS, TYPE_SOA, TYPE_OPT, TYPE_RRSIG = 2, 6, 41, 46
TYPE_IXFR, TYPE_AXFR = 251, 252
OPCODE_NOTIFY, OPCODE_UPDATE = 4, 5
NOERROR, SERVFAIL, NXDOMAIN, NOTIMP = 0, 2, 3, 4
_DO = 0x8000
_YEAR68 = 1 << 31

_COUNTS = struct.Struct("!HHHH")
_RR_FIXED = struct.Struct("!HHIH")
_SIG_TIMES = struct.Struct("!II")


class Kind(enum.Enum):
    """CoreDNS's response types (``response.Type``)."""

    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"
    NODATA = "NODATA"
    DELEGATION = "DELEGATION"
    META = "META"
    UPDATE = "UPDATE"
    SERVERERROR = "SERVERERROR"
    OTHERERROR = "OTHERERROR"


@dataclass(frozen=True)
class Facts:
    """What the type of a reply depends on."""

    opcode: int
    #: The first question's type; None without a question.
    qtype: int | None
    #: The full rcode (header bits and the OPT's extended bits).
    rcode: int
    answers: int
    #: The type of every record in the authority section.
    authority: tuple[int, ...]
    #: The DO bit of the reply's OPT record.
    do: bool
    #: (inception, expiration) of every RRSIG in any section.
    signatures: tuple[tuple[int, int], ...] = ()


def _go_div(a: int, b: int) -> int:
    """Integer division truncated toward zero, as Go's ``/``."""
    q = abs(a) // b
    return q if a >= 0 else -q


def valid(inception: int, expiration: int, now: int) -> bool:
    """Whether ``now`` lies in the signature's validity period (serial arithmetic, RFC 4034)."""
    ti = inception + _go_div(inception - now, _YEAR68) * _YEAR68
    te = expiration + _go_div(expiration - now, _YEAR68) * _YEAR68
    return ti <= now <= te


def typify(facts: Facts, now: int) -> Kind:
    """The reply's kind at Unix time ``now`` (see the module docstring)."""
    if facts.opcode == OPCODE_UPDATE:
        return Kind.UPDATE
    if facts.opcode == OPCODE_NOTIFY or facts.qtype in (TYPE_AXFR, TYPE_IXFR):
        return Kind.META
    if facts.do and not all(valid(inc, exp, now) for inc, exp in facts.signatures):
        return Kind.OTHERERROR
    rcode = facts.rcode
    if facts.answers and rcode == NOERROR:
        return Kind.NOERROR
    soa = TYPE_SOA in facts.authority
    if soa and rcode == NOERROR:
        return Kind.NODATA
    if soa and rcode == NXDOMAIN:
        return Kind.NXDOMAIN
    if rcode in (SERVFAIL, NOTIMP):
        return Kind.SERVERERROR
    if TYPE_NS in facts.authority and rcode == NOERROR:
        return Kind.DELEGATION
    return Kind.NOERROR if rcode == NOERROR else Kind.OTHERERROR


def _sig_times(rrtype: int, wire: bytes, rdata: int, rdlen: int) -> tuple[int, int] | None:
    if rrtype != TYPE_RRSIG or rdlen < 16:
        return None
    expiration, inception = _SIG_TIMES.unpack_from(wire, rdata + 8)
    return inception, expiration


@dataclass(frozen=True)
class WireReply:
    """A reply's bytes, read: its facts, where its answer section ends, its OPT record."""

    facts: Facts
    answer_end: int
    opt: bytes

    def minimal(self, wire: bytes) -> bytes:
        """``wire`` with no authority and no additional records but the OPT.

        Cutting after the answer section is safe: compression pointers only point
        back to earlier names (RFC 1035 4.1.4), and the OPT record holds no name.
        """
        qd, an = _COUNTS.unpack_from(wire, 4)[:2]
        counts = _COUNTS.pack(qd, an, 0, 1 if self.opt else 0)
        return wire[:4] + counts + wire[12 : self.answer_end] + self.opt


def read_wire(wire: bytes) -> WireReply | None:
    """Walk the record headers of ``wire``; None when they run past its end."""
    try:
        return _read_wire(wire)
    except (ValueError, struct.error, IndexError):
        return None


def _read_wire(wire: bytes) -> WireReply | None:
    if len(wire) < 12:
        return None
    qd, an, ns, ar = _COUNTS.unpack_from(wire, 4)
    off = 12
    qtype: int | None = None
    for i in range(qd):
        off = skip_name(wire, off)
        if i == 0:
            qtype = int.from_bytes(wire[off : off + 2], "big")
        off += 4
    sigs: list[tuple[int, int]] = []
    authority: list[int] = []
    opt = b""
    ext_rcode = 0
    do = False
    answer_end = off
    for index in range(an + ns + ar):
        start = off
        off = skip_name(wire, off)
        rrtype, _cls, ttl, rdlen = _RR_FIXED.unpack_from(wire, off)
        rdata = off + 10
        off = rdata + rdlen
        if off > len(wire):
            return None
        times = _sig_times(rrtype, wire, rdata, rdlen)
        if times is not None:
            sigs.append(times)
        if index < an:
            answer_end = off
        elif index < an + ns:
            authority.append(rrtype)
        elif rrtype == TYPE_OPT and not opt:
            opt = wire[start:off]
            ext_rcode = ttl >> 24
            do = bool(ttl & _DO)
    flags = int.from_bytes(wire[2:4], "big")
    facts = Facts(
        opcode=(flags >> 11) & 0x0F,
        qtype=qtype,
        rcode=(flags & 0x0F) | (ext_rcode << 4),
        answers=an,
        authority=tuple(authority),
        do=do,
        signatures=tuple(sigs),
    )
    return WireReply(facts, answer_end, opt)


def message_facts(msg: Any) -> Facts:
    """The facts of a dnslib message (an OPT record, if any, is in its additional section)."""
    opt = next((rr for rr in msg.ar if rr.rtype == TYPE_OPT), None)
    ttl = int(opt.ttl) if opt is not None else 0
    sections: Sequence[Any] = [*msg.rr, *msg.auth, *msg.ar]
    sigs = tuple(
        (int(rr.rdata.sig_inc), int(rr.rdata.sig_exp))
        for rr in sections
        if rr.rtype == TYPE_RRSIG and hasattr(rr.rdata, "sig_exp")
    )
    header = msg.header
    return Facts(
        opcode=int(header.opcode),
        qtype=int(msg.questions[0].qtype) if msg.questions else None,
        rcode=(int(header.rcode) & 0x0F) | ((ttl >> 24) << 4),
        answers=len(msg.rr),
        authority=tuple(int(rr.rtype) for rr in msg.auth),
        do=bool(ttl & _DO),
        signatures=sigs,
    )
