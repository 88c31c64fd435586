"""What the reply was: CoreDNS's ``response.Typify`` and ``Classify``, read from the wire.

The log plugin sees the bytes the server really sent, so the facts are read
from them with a small scan (header, then every record's owner and type; no
rdata is decoded) instead of a dnslib parse:

========== ==================================================================
type       when (first rule that holds; ``rcode`` includes the OPT's bits)
========== ==================================================================
UPDATE     opcode UPDATE
META       opcode NOTIFY, or the question asks AXFR or IXFR
NOERROR    NOERROR with at least one answer record
NODATA     NOERROR with an SOA in the authority section
NXDOMAIN   NXDOMAIN with an SOA in the authority section
SERVERERROR SERVFAIL or NOTIMP
DELEGATION NOERROR with NS records in the authority section
NOERROR    any other NOERROR
OTHERERROR everything else (NXDOMAIN without an SOA, REFUSED, FORMERR...)
========== ==================================================================

The classes: NOERROR and DELEGATION are ``success``; NXDOMAIN and NODATA are
``denial``; the rest are ``error``. A query that got no reply from the chain
(a plugin failed, nothing answered, acl dropped it) is OTHERERROR, ``error``.

CoreDNS also types a DNSSEC (DO) reply carrying an expired RRSIG as
OTHERERROR; dnsd does not decode signatures here and keeps the rcode's type.
"""

from __future__ import annotations

import struct

from dnsd.scrub import skip_name

NOERROR = "NOERROR"
NXDOMAIN = "NXDOMAIN"
SERVERERROR = "SERVERERROR"
NODATA = "NODATA"
DELEGATION = "DELEGATION"
META = "META"
UPDATE = "UPDATE"
OTHERERROR = "OTHERERROR"

SUCCESS = "success"
DENIAL = "denial"
ERROR = "error"
ALL = "all"
#: The names a ``class`` line accepts.
CLASSES = (SUCCESS, DENIAL, ERROR, ALL)

_CLASS_OF = {NOERROR: SUCCESS, DELEGATION: SUCCESS, NXDOMAIN: DENIAL, NODATA: DENIAL}

_OPCODE_NOTIFY, _OPCODE_UPDATE = 4, 5
_TYPE_NS, _TYPE_SOA, _TYPE_OPT, _TYPE_IXFR, _TYPE_AXFR = 2, 6, 41, 251, 252
_HEADER = struct.Struct("!HHHHHH")
_TYPE = struct.Struct("!H")
_RR_FIXED = struct.Struct("!HHIH")


def classify(typ: str) -> str:
    """The class (``success``, ``denial``, ``error``) of a reply type."""
    return _CLASS_OF.get(typ, ERROR)


class Facts:
    """The reply's rcode and type, read once from its bytes on first use."""

    __slots__ = ("wire", "_rcode", "_type")

    def __init__(self, wire: bytes) -> None:
        self.wire = wire
        self._rcode = -1
        self._type = ""

    @property
    def rcode(self) -> int:
        """The full rcode: the header's 4 bits plus the OPT's extended bits."""
        if self._rcode < 0:
            self._scan()
        return self._rcode

    @property
    def type(self) -> str:
        """CoreDNS's response type (``NOERROR``, ``NXDOMAIN``, ``NODATA``...)."""
        if not self._type:
            self._scan()
        return self._type

    def _scan(self) -> None:
        try:
            self._rcode, self._type = _typify(self.wire)
        except (IndexError, ValueError, struct.error):  # not a whole message: keep the header's
            self._rcode = self.wire[3] & 0x0F if len(self.wire) >= 4 else 0
            self._type = OTHERERROR


def _typify(wire: bytes) -> tuple[int, str]:
    """(full rcode, type) of a reply message."""
    _, flags, qd, an, ns, ar = _HEADER.unpack_from(wire)
    rcode = flags & 0x0F
    pos = 12
    qtype = 0
    for i in range(qd):
        pos = skip_name(wire, pos)
        if i == 0:
            (qtype,) = _TYPE.unpack_from(wire, pos)
        pos += 4
    soa = False
    delegations = 0
    for i in range(an + ns + ar):
        pos = skip_name(wire, pos)
        rtype, _, ttl, rdlen = _RR_FIXED.unpack_from(wire, pos)
        pos += 10 + rdlen
        if i < an:
            continue
        if i < an + ns:
            if rtype == _TYPE_SOA:
                soa = True
            elif rtype == _TYPE_NS:
                delegations += 1
        elif rtype == _TYPE_OPT:
            rcode |= (ttl >> 24) << 4
    opcode = (flags >> 11) & 0x0F
    if opcode == _OPCODE_UPDATE:
        return rcode, UPDATE
    if opcode == _OPCODE_NOTIFY or (qd and qtype in (_TYPE_AXFR, _TYPE_IXFR)):
        return rcode, META
    if an and rcode == 0:
        return rcode, NOERROR
    if soa and rcode == 0:
        return rcode, NODATA
    if soa and rcode == 3:
        return rcode, NXDOMAIN
    if rcode in (2, 4):
        return rcode, SERVERERROR
    if delegations and rcode == 0:
        return rcode, DELEGATION
    if rcode == 0:
        return rcode, NOERROR
    return rcode, OTHERERROR
