"""Scrubbing an encoded reply for its client without dnslib: the fast half of ``encode_reply``.

Plugins that already hold an encoded answer (cache, forward) hand it over as
``Reply(wire=...)``. The server then only has to make it right for this client:
its query ID, no OPT of the upstream's (its extended rcode bits are kept), the
client's own OPT when the query had EDNS (DO mirrored, its size echoed). That
is a walk over the record headers, not a parse. Only a reply too large for the
client needs the full path (:func:`dnsd.encode.encode_reply`), which truncates.
"""

from __future__ import annotations

import struct

from dnsd.encode import opt_record
from dnsd.wire import Query

_COUNTS = struct.Struct("!HHHH")
_RR_FIXED = struct.Struct("!HHIH")
_TYPE_OPT = 41
_MIN_MSG = 512


def skip_name(wire: bytes, off: int) -> int:
    """Offset after the (possibly compressed) name at ``off``; ValueError when malformed."""
    n = len(wire)
    while off < n:
        length = wire[off]
        if length == 0:
            return off + 1
        if length & 0xC0 == 0xC0:
            return off + 2
        if length & 0xC0:
            raise ValueError("bad label type")
        off += length + 1
    raise ValueError("name runs past the end")


def scrub_wire(raw: bytes, query: Query, max_size: int) -> bytes | None:
    """``raw`` made right for ``query``'s client, or None when it needs truncating or is bad."""
    if len(raw) < 12:
        return None
    counts: tuple[int, int, int, int] = _COUNTS.unpack_from(raw, 4)
    qd, an, ns, ar = counts
    if ar == 0:  # no additional records, so no OPT to find: skip the walk
        opt = opt_record(max(_MIN_MSG, query.udp_size), 0, query.do) if query.edns else b""
        if len(raw) + len(opt) > max_size:
            return None
        qid: bytes = query.wire[:2]
        if not opt:
            return qid + raw[2:]
        return qid + raw[2:10] + b"\x00\x01" + raw[12:] + opt
    try:
        off = 12
        for _ in range(qd):
            off = skip_name(raw, off) + 4
        for _ in range(an + ns):
            off = skip_name(raw, off)
            off += 10 + _RR_FIXED.unpack_from(raw, off)[3]
        ext_rcode = 0
        body = raw
        for _ in range(ar):
            start = off
            off = skip_name(raw, off)
            rtype, _cls, ttl, rdlen = _RR_FIXED.unpack_from(raw, off)
            off += 10 + rdlen
            if rtype == _TYPE_OPT:
                ext_rcode = ttl >> 24
                body = raw[:start] + raw[off:]
                ar -= 1
                break
    except (ValueError, struct.error, IndexError):
        return None
    if off > len(raw):
        return None
    opt = b""
    if query.edns:
        opt = opt_record(max(_MIN_MSG, query.udp_size), ext_rcode, query.do)
        ar += 1
    if len(body) + len(opt) > max_size:
        return None
    head: bytes = query.wire[:2]
    return head + body[2:10] + ar.to_bytes(2, "big") + body[12:] + opt
