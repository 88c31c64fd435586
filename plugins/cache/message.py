"""What the cache needs to know about a reply, read straight from its bytes (no dnslib).

One walk over the reply gives its :class:`Shape`: header facts, where every
TTL field is, where the OPT record is (it is never stored), which owner names
are the question's name written out in full (their case is the client's on a
hit), the types in the answer, the SOA and NS records in the authority section
and the smallest TTL. :func:`classify` then sorts it as CoreDNS's
``response.Typify`` does, and :func:`cacheable` applies the rules of CoreDNS's
``cache.key``.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

from dnsd.scrub import skip_name

NOERROR, SERVFAIL, NXDOMAIN, NOTIMP = 0, 2, 3, 4
TYPE_NS, TYPE_SOA, TYPE_OPT, TYPE_RRSIG = 2, 6, 41, 46
TYPE_IXFR, TYPE_AXFR, TYPE_ANY = 251, 252, 255
OPCODE_NOTIFY, OPCODE_UPDATE = 4, 5
FLAG_TC = 0x0200

# CoreDNS's response.Type values.
NO_ERROR = "NOERROR"
NAME_ERROR = "NXDOMAIN"
SERVER_ERROR = "SERVERERROR"
NO_DATA = "NODATA"
DELEGATION = "DELEGATION"
META = "META"
UPDATE = "UPDATE"
OTHER_ERROR = "OTHERERROR"
#: Denial of existence: cached in the denial cache with its TTL rules.
NEGATIVE = frozenset({NAME_ERROR, NO_DATA})

#: CoreDNS's MinimalDefaultTTL and MaximumDefaulTTL (plugin/pkg/dnsutil).
MIN_DEFAULT_TTL = 5
MAX_DEFAULT_TTL = 3600

_COUNTS = struct.Struct("!HHHH")
_RR = struct.Struct("!HHIH")
_U32 = struct.Struct("!I")
_YEAR68 = 1 << 31


@dataclass(slots=True)
class Shape:
    """The facts of one encoded reply. Offsets are absolute in the reply."""

    flags: int
    #: The full rcode: the header's 4 bits plus the OPT's extended bits.
    rcode: int
    qdcount: int
    ancount: int
    nscount: int
    #: Additional records without the OPT.
    arcount: int
    #: The first question as written (name, type, class); empty without one.
    question: bytes
    #: Offset just after the question section.
    qend: int
    #: Offsets of the TTL field of every record but the OPT.
    ttls: list[int] = field(default_factory=list)
    #: Offsets of owner names that spell the question's name in full (no pointer).
    owners: list[int] = field(default_factory=list)
    #: (start, end) of the OPT record, when there is one.
    opt: tuple[int, int] | None = None
    #: The answer holds a record of the asked type.
    answers_qtype: bool = False
    soa: bool = False
    ns: int = 0
    #: The smallest TTL of every record but the OPT, at most MAX_DEFAULT_TTL.
    min_ttl: int = MAX_DEFAULT_TTL
    #: The same with an authority SOA counting as min(its TTL, its MINIMUM) (RFC 2308 section 5).
    min_negative_ttl: int = MAX_DEFAULT_TTL
    #: An RRSIG is outside its validity period (only looked at for DO queries).
    expired: bool = False


def inspect(wire: bytes, qname: bytes, qtype: int, *, sigs: bool = False) -> Shape | None:
    """The shape of ``wire``, or None when it does not frame as a DNS message.

    ``qname`` is the asked name in lowercase uncompressed wire form; owner names
    equal to it (ignoring case) are recorded. ``sigs`` checks RRSIG validity
    periods against the wall clock (CoreDNS does it for DO queries).
    """
    try:
        return _walk(wire, qname, qtype, sigs)
    except (IndexError, ValueError, struct.error):
        return None


def _walk(wire: bytes, qname: bytes, qtype: int, sigs: bool) -> Shape | None:
    n = len(wire)
    if n < 12:
        return None
    flags = (wire[2] << 8) | wire[3]
    qd, an, ns, ar = _COUNTS.unpack_from(wire, 4)
    off = 12
    question = b""
    for i in range(qd):
        end = skip_name(wire, off) + 4
        if i == 0:
            question = wire[off:end]
        off = end
    if off > n:
        return None
    shape = Shape(flags, flags & 0x0F, qd, an, ns, ar, question, off)
    ttls, owners = shape.ttls, shape.owners
    qlen = len(qname)
    now = int(time.time()) if sigs else 0
    for section, count in ((1, an), (2, ns), (3, ar)):
        for _ in range(count):
            start = off
            off = skip_name(wire, off)
            rtype, _rclass, ttl, rdlen = _RR.unpack_from(wire, off)
            rdata = off + 10
            end = rdata + rdlen
            if end > n:
                return None
            if rtype == TYPE_OPT and section == 3:
                if shape.opt is not None:
                    return None
                shape.opt = (start, end)
                shape.rcode |= (ttl >> 24) << 4
                shape.arcount -= 1
                off = end
                continue
            ttls.append(off + 4)
            if wire[start] < 0xC0 and wire[start : start + qlen].lower() == qname:
                owners.append(start)
            negative = ttl
            if section == 1 and rtype == qtype:
                shape.answers_qtype = True
            elif section == 2 and rtype == TYPE_SOA:
                shape.soa = True
                if rdlen >= 22:
                    negative = min(ttl, _U32.unpack_from(wire, end - 4)[0])
            elif section == 2 and rtype == TYPE_NS:
                shape.ns += 1
            if sigs and rtype == TYPE_RRSIG and rdlen >= 16 and not _valid(wire, rdata, now):
                shape.expired = True
            shape.min_ttl = min(shape.min_ttl, ttl)
            shape.min_negative_ttl = min(shape.min_negative_ttl, negative)
            off = end
    return shape


def _valid(wire: bytes, rdata: int, now: int) -> bool:
    """miekg/dns ``RRSIG.ValidityPeriod``: inception <= now <= expiration, serial arithmetic."""
    expiration = _U32.unpack_from(wire, rdata + 8)[0]
    inception = _U32.unpack_from(wire, rdata + 12)[0]
    ti: int = inception + int((inception - now) / _YEAR68) * _YEAR68
    te: int = expiration + int((expiration - now) / _YEAR68) * _YEAR68
    return ti <= now <= te


def classify(shape: Shape, qtype: int) -> str:
    """CoreDNS's ``response.Typify`` (the question's type is the asked ``qtype``)."""
    opcode = (shape.flags >> 11) & 0x0F
    if opcode == OPCODE_UPDATE:
        return UPDATE
    if opcode == OPCODE_NOTIFY or qtype in (TYPE_AXFR, TYPE_IXFR):
        return META
    if shape.expired:
        return OTHER_ERROR
    rcode = shape.rcode
    if shape.ancount and rcode == NOERROR:
        return NO_ERROR
    if shape.soa and rcode == NOERROR:
        return NO_DATA
    if shape.soa and rcode == NXDOMAIN:
        return NAME_ERROR
    if rcode in (SERVFAIL, NOTIMP):
        return SERVER_ERROR
    if shape.ns and rcode == NOERROR:
        return DELEGATION
    if rcode == NOERROR:
        return NO_ERROR
    return OTHER_ERROR


def cacheable(shape: Shape, kind: str, qtype: int) -> bool:
    """CoreDNS's ``cache.key`` rules: what may be stored at all.

    Not truncated replies, other errors, zone transfers and updates; and (RFC 2308
    section 5, CoreDNS PR 8232) no NOERROR without an SOA that does not answer the
    question: an empty answer, or records none of which has the asked type (a CNAME
    chain that stops short). ANY is answered by any record.
    """
    if shape.flags & FLAG_TC or kind in (OTHER_ERROR, META, UPDATE):
        return False
    if kind == NO_ERROR and not shape.soa:
        if shape.ancount == 0:
            return False
        if qtype != TYPE_ANY and not shape.answers_qtype:
            return False
    return True


def minimal_ttl(shape: Shape, kind: str) -> int:
    """CoreDNS's ``dnsutil.MinimalTTL``, with RFC 2308's SOA rule for denials."""
    if kind not in (NO_ERROR, NAME_ERROR, NO_DATA):
        return MIN_DEFAULT_TTL
    if shape.ancount + shape.nscount == 0 and shape.arcount == 0:
        return MIN_DEFAULT_TTL
    return shape.min_negative_ttl if kind in NEGATIVE else shape.min_ttl
