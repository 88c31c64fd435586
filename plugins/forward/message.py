"""Checks on an upstream's reply, read straight from its bytes."""

from __future__ import annotations

import struct

from dnsd.scrub import skip_name


def matches(reply: bytes, question: bytes) -> bool:
    """CoreDNS's ``request.Match``: a response (QR) with exactly our question, name in any case."""
    n = len(question) - 4
    if len(reply) < 16 + n or not reply[2] & 0x80 or reply[4] != 0 or reply[5] != 1:
        return False
    name = reply[12 : 12 + n]
    if name != question[:n] and name.lower() != question[:n].lower():
        return False
    return reply[12 + n : 16 + n] == question[n:]


_COUNTS = struct.Struct("!HHHH")
_RR = struct.Struct("!HHIH")
_TYPE_OPT = 41


def ext_rcode(wire: bytes) -> int:
    """The extended rcode bits (above the header's 4) from the reply's OPT; 0 without one."""
    try:
        qd, an, ns, ar = _COUNTS.unpack_from(wire, 4)
        off = 12
        for _ in range(qd):
            off = skip_name(wire, off) + 4
        for _ in range(an + ns):
            off = skip_name(wire, off)
            off += 10 + _RR.unpack_from(wire, off)[3]
        for _ in range(ar):
            off = skip_name(wire, off)
            rtype, _cls, ttl, rdlen = _RR.unpack_from(wire, off)
            if rtype == _TYPE_OPT:
                return int(ttl >> 24)
            off += 10 + rdlen
    except (ValueError, struct.error, IndexError):
        return 0
    return 0
