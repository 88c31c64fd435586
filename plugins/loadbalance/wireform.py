"""Reordering records inside an encoded reply by slicing, without dnslib.

A reply from *cache* or *forward* arrives as bytes. Its records are
contiguous per section, so a new order is the same slices joined in another
order: the section keeps its length and nothing after it moves. What can
break is name compression: a pointer whose target lies inside a record that
moved would then point at other bytes. So :func:`reorder` only rewrites when
every name at or after the first moved record points (if at all) to an offset
*before* that record: the usual case, where owners point into the question or
into a CNAME that stays first. Otherwise, and for record types whose data may
hold a compressed name it does not know how to find, it returns None and the
caller reorders the parsed message instead. Correct first, fast where it can be.
"""

from __future__ import annotations

import functools
import itertools
import random
import struct
from collections.abc import Sequence

from dnsd.plugins.loadbalance.policy import TYPE_A, TYPE_AAAA, Owner, Rec
from dnsd.scrub import skip_name

_COUNTS = struct.Struct("!HHHH")
_RR_FIXED = struct.Struct("!HHIH")

#: Where names sit in the data of types that hold names: (offset of the first, how many follow).
NAME_FIELDS: dict[int, tuple[int, int]] = {
    2: (0, 1),  # NS
    3: (0, 1),  # MD
    4: (0, 1),  # MF
    5: (0, 1),  # CNAME
    6: (0, 2),  # SOA: MNAME RNAME
    7: (0, 1),  # MB
    8: (0, 1),  # MG
    9: (0, 1),  # MR
    12: (0, 1),  # PTR
    14: (0, 2),  # MINFO
    15: (2, 1),  # MX
    17: (0, 2),  # RP
    18: (2, 1),  # AFSDB
    21: (2, 1),  # RT
    33: (6, 1),  # SRV
    36: (2, 1),  # KX
    39: (0, 1),  # DNAME
    46: (18, 1),  # RRSIG signer
    47: (0, 1),  # NSEC next name
    64: (2, 1),  # SVCB target
    65: (2, 1),  # HTTPS target
    250: (0, 1),  # TSIG algorithm
}
#: Types whose data holds no domain name.
NO_NAMES = frozenset(
    {1, 10, 11, 13, 16, 28, 29, 41, 43, 44, 48, 50, 51, 52, 53, 59, 60, 61, 63, 99, 108, 109}
    | {256, 257}
)


class Span:
    """One record of an encoded message: where it starts and ends, its type and data."""

    __slots__ = ("start", "end", "rtype", "rdata", "rdlen")

    def __init__(self, start: int, end: int, rtype: int, rdata: int, rdlen: int) -> None:
        self.start = start
        self.end = end
        self.rtype = rtype
        self.rdata = rdata
        self.rdlen = rdlen


def first_pointer(wire: bytes, off: int) -> int:
    """Target of the pointer that ends the name at ``off``, or -1 when it has none."""
    while True:
        length = wire[off]
        if length == 0:
            return -1
        if length & 0xC0 == 0xC0:
            return ((length & 0x3F) << 8) | wire[off + 1]
        off += length + 1


def read_owner(wire: bytes, off: int) -> Owner:
    """The lowercased labels of the name at ``off``, following pointers (at most 128)."""
    labels: list[bytes] = []
    for _ in range(128):
        length = wire[off]
        if length == 0:
            return tuple(labels)
        if length & 0xC0 == 0xC0:
            off = ((length & 0x3F) << 8) | wire[off + 1]
            continue
        labels.append(wire[off + 1 : off + 1 + length].lower())
        off += length + 1
    raise ValueError("compression loop")


def shuffle_rrset(wire: bytes, rng: random.Random) -> bytes | None:
    """The fast path for the usual multi-address answer, or None when it is not that shape.

    The shape: one question, and every answer record has the same owner bytes, a
    pointer to before the answer (the question's name), and the same type, A or
    AAAA, so all records have one length. Shuffling whole records then leaves
    every byte a pointer can refer to (owner pointers at the same offsets, all
    alike) unchanged, so no other check is needed.
    """
    if wire[4:6] != b"\x00\x01":
        return None
    an = (wire[6] << 8) | wire[7]
    start = skip_name(wire, 12) + 4
    if start + 2 > len(wire):
        return None
    owner = wire[start : start + 2]
    if owner[0] & 0xC0 != 0xC0 or (((owner[0] & 0x3F) << 8) | owner[1]) >= start:
        return None
    head = wire[start : start + 4]  # owner pointer and type
    if head[2:] == b"\x00\x01":
        size = 16  # owner 2, fixed 10, address 4
    elif head[2:] == b"\x00\x1c":
        size = 28
    else:
        return None
    end = start + an * size
    if end > len(wire):
        return None
    rdlen = (size - 12).to_bytes(2, "big")
    for off in range(start, end, size):
        if wire[off : off + 4] != head or wire[off + 10 : off + 12] != rdlen:
            return None
    records = [wire[off : off + size] for off in range(start, end, size)]
    if an <= _SMALL:
        order = rng.choice(_permutations(an))
        return b"".join((wire[:start], *[records[i] for i in order], wire[end:]))
    rng.shuffle(records)
    return b"".join((wire[:start], *records, wire[end:]))


#: Up to this many records a shuffle is one draw among the precomputed permutations.
_SMALL = 6


@functools.cache
def _permutations(n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.permutations(range(n)))


def scan(wire: bytes) -> tuple[list[Span], list[Span], list[Span]]:
    """The records of the answer, authority and additional sections; ValueError when malformed."""
    if len(wire) < 12:
        raise ValueError("short message")
    qd, an, ns, ar = _COUNTS.unpack_from(wire, 4)
    off = 12
    for _ in range(qd):
        off = skip_name(wire, off) + 4
    sections: list[list[Span]] = []
    for count in (an, ns, ar):
        spans: list[Span] = []
        for _ in range(count):
            start = off
            off = skip_name(wire, off)
            if off + 10 > len(wire):
                raise ValueError("record runs past the end")
            rtype, _cls, _ttl, rdlen = _RR_FIXED.unpack_from(wire, off)
            off += 10
            spans.append(Span(start, off + rdlen, rtype, off, rdlen))
            off += rdlen
        sections.append(spans)
    if off > len(wire):
        raise ValueError("record runs past the end")
    return sections[0], sections[1], sections[2]


def recs(wire: bytes, spans: Sequence[Span], owners: bool) -> list[Rec]:
    """The orderings' view of ``spans``; ``owners`` reads the owner names of addresses."""
    out: list[Rec] = []
    for i, span in enumerate(spans):
        t = span.rtype
        if (t == TYPE_A and span.rdlen == 4) or (t == TYPE_AAAA and span.rdlen == 16):
            ip = wire[span.rdata : span.rdata + span.rdlen]
            out.append(Rec(t, ip, i, read_owner(wire, span.start) if owners else ()))
        else:
            out.append(Rec(t, b"", i))
    return out


def reorder(
    wire: bytes,
    sections: tuple[list[Span], list[Span], list[Span]],
    answer: list[Rec] | None,
    extra: list[Rec] | None,
) -> bytes | None:
    """``wire`` with the answer and additional records in the given orders.

    ``answer`` / ``extra`` are the new orders (None: unchanged). Returns
    ``wire`` itself when nothing moves, None when slicing cannot be proven
    safe (see the module docstring).
    """
    an, ns, ar = sections
    moves = [(an, answer), (ar, extra)]
    region = -1
    for spans, order in moves:
        first = _first_moved(spans, order)
        if first >= 0 and region < 0:
            region = first
    if region < 0:
        return wire
    try:
        safe = _pointers_before(wire, [*an, *ns, *ar], region)
    except (ValueError, IndexError):
        safe = False
    if not safe:
        return None
    return _join(wire, moves)


def _first_moved(spans: list[Span], order: list[Rec] | None) -> int:
    """Offset of the first record whose place changes, -1 when none does."""
    if order is None:
        return -1
    for i, rec in enumerate(order):
        if rec.ref != i:
            return spans[i].start
    return -1


def _pointers_before(wire: bytes, spans: Sequence[Span], region: int) -> bool:
    """True when no name at or after ``region`` points at or after ``region``."""
    for span in spans:
        if span.start < region:
            continue
        if first_pointer(wire, span.start) >= region:
            return False
        t = span.rtype
        fields = NAME_FIELDS.get(t)
        if fields is None:
            if t in NO_NAMES:
                continue
            return False  # a type whose data may hold a compressed name we cannot find
        off, count = fields
        pos = span.rdata + off
        for _ in range(count):
            if pos >= span.end:
                break
            if first_pointer(wire, pos) >= region:
                return False
            pos = skip_name(wire, pos)
    return True


def _join(wire: bytes, moves: list[tuple[list[Span], list[Rec] | None]]) -> bytes:
    parts: list[bytes] = []
    pos = 0
    for spans, order in moves:
        if order is None or not spans or all(rec.ref == i for i, rec in enumerate(order)):
            continue
        start, end = spans[0].start, spans[-1].end
        parts.append(wire[pos:start])
        parts.extend(wire[spans[rec.ref].start : spans[rec.ref].end] for rec in order)
        pos = end
    parts.append(wire[pos:])
    return b"".join(parts)
