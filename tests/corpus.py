"""Malformed and hostile DNS messages, built by hand, for the front door's tests.

``CORPUS`` is a list of ``(id, bytes)``. ``EXPECTED[id]`` is ``(rcode, reason)``
as :func:`dnsd.wire.parse_query` must reject it (rcode ``DROP`` = -1 means no
reply at all), or ``None`` for random junk whose outcome is not fixed: such an
entry only has to be rejected or accepted cleanly (no exception but
``BadQuery``, a reply that parses, with the query's ID).

The module imports nothing from dnsd, so end-to-end tests can send the same
bytes to a running server.
"""

from __future__ import annotations

import random
import struct

DROP, FORMERR, NOTIMP, BADVERS = -1, 1, 4, 16

QID = 0x4A7B
RD = 0x0100

Expected = tuple[int, str] | None


def header(
    flags: int = RD, qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0, qid: int = QID
) -> bytes:
    """A 12-byte header."""
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def name(text: str) -> bytes:
    """The uncompressed wire form of a dotted ASCII name (no escapes)."""
    labels = [label.encode() for label in text.strip(".").split(".") if label]
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def question(qname: bytes = b"\x07example\x03org\x00", qtype: int = 1, qclass: int = 1) -> bytes:
    """A question: encoded name, type, class."""
    return qname + struct.pack("!HH", qtype, qclass)


def rr(owner: bytes, rtype: int, rdata: bytes, rclass: int = 1, ttl: int = 0) -> bytes:
    """A resource record with an exact RDLENGTH."""
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(size: int = 1232, ttl: int = 0, rdata: bytes = b"", owner: bytes = b"\x00") -> bytes:
    """An OPT RR (TTL = ext-rcode << 24 | version << 16 | flags)."""
    return rr(owner, 41, rdata, rclass=size, ttl=ttl)


def _pointer_chain(hops: int) -> bytes:
    """A query whose additional record's owner is a backward chain of ``hops`` pointers.

    The chain lives in the RDATA of a NULL record in the answer section; each
    element is a label "a" followed by a pointer to the previous element.
    """
    head = header(an=1, ar=1) + question()
    rdata_at = len(head) + 11  # root owner (1) + type, class, ttl, rdlength (10)
    chain = bytearray(b"\x01a\x00")
    previous = rdata_at
    for _ in range(hops):
        here = rdata_at + len(chain)
        chain += b"\x01a" + struct.pack("!H", 0xC000 | previous)
        previous = here
    answer = rr(b"\x00", 10, bytes(chain))
    extra = rr(struct.pack("!H", 0xC000 | previous), 1, b"\x7f\x00\x00\x01")
    return head + answer + extra


def _cases() -> list[tuple[str, bytes, Expected]]:
    good = header() + question()
    cases: list[tuple[str, bytes, Expected]] = [
        (f"short-header-{n}", good[:n], (DROP, "short-header")) for n in range(12)
    ]
    cases += [
        ("qr-set", header(flags=0x8100) + question(), (DROP, "response")),
        ("qr-set-garbage", header(flags=0xFFFF, qd=7) + b"\xff" * 20, (DROP, "response")),
        ("opcode-iquery", header(flags=RD | 1 << 11) + question(), (NOTIMP, "opcode")),
        ("opcode-status", header(flags=RD | 2 << 11) + question(), (NOTIMP, "opcode")),
        ("opcode-notify", header(flags=4 << 11, an=1) + question(qtype=6), (NOTIMP, "opcode")),
        ("opcode-update", header(flags=5 << 11, ns=3) + question(qtype=6), (NOTIMP, "opcode")),
        ("opcode-15-no-question", header(flags=15 << 11, qd=0), (NOTIMP, "opcode")),
        ("qdcount-0", header(qd=0), (FORMERR, "qdcount")),
        ("qdcount-0-trailing", header(qd=0) + b"\x00" * 9, (FORMERR, "qdcount")),
        ("qdcount-2", header(qd=2) + question() + question(name("a.org")), (FORMERR, "qdcount")),
        ("qdcount-65535", header(qd=65535) + question(), (FORMERR, "qdcount")),
        ("ancount-2", header(an=2) + question(), (FORMERR, "section-counts")),
        ("ancount-65535", header(an=65535) + question(), (FORMERR, "section-counts")),
        ("nscount-2", header(ns=2) + question(), (FORMERR, "section-counts")),
        ("arcount-3", header(ar=3) + question() + opt(), (FORMERR, "section-counts")),
        ("arcount-65535", header(ar=65535) + question(), (FORMERR, "section-counts")),
        ("an-ar-65535", header(an=65535, ar=65535) + question(), (FORMERR, "section-counts")),
        ("header-only-qd1", header(), (FORMERR, "truncated")),
        ("question-cut-in-label", good[:16], (FORMERR, "truncated")),
        ("question-no-root-label", header() + b"\x07example\x03org", (FORMERR, "truncated")),
        ("missing-qtype", header() + name("example.org"), (FORMERR, "truncated")),
        ("missing-qclass", header() + name("example.org") + b"\x00\x01", (FORMERR, "truncated")),
        ("pointer-self", header() + b"\xc0\x0c\x00\x01\x00\x01", (FORMERR, "pointer-loop")),
        (
            "pointer-into-own-name",
            header() + b"\x01a\xc0\x0d\x00\x01\x00\x01",
            (FORMERR, "pointer-loop"),
        ),
        (
            # the ID bytes are a pointer back to the question's pointer: 14 -> 0 -> 14
            "pointer-loop-two-hop",
            header(qid=0xC00E) + b"\x01a\xc0\x00\x00\x01\x00\x01",
            (FORMERR, "pointer-loop"),
        ),
        (
            "pointer-forward",
            header() + b"\xc0\x0e" + question(),
            (FORMERR, "bad-pointer"),
        ),
        ("pointer-past-end", header() + b"\xff\xff\x00\x01\x00\x01", (FORMERR, "bad-pointer")),
        ("pointer-cut", header() + b"\x01a\xc0", (FORMERR, "truncated")),
        ("pointer-chain-1200", _pointer_chain(1200), (FORMERR, "pointer-loop")),
        ("pointer-chain-17", _pointer_chain(17), (FORMERR, "pointer-loop")),
        ("label-0x40", header() + question(b"\x40" + b"a" * 64 + b"\x00"), (FORMERR, "label-type")),
        ("label-0x80", header() + question(b"\x80" + b"a" * 20 + b"\x00"), (FORMERR, "label-type")),
        (
            "name-too-long-5x63",
            header() + question(b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00"),
            (FORMERR, "name-too-long"),
        ),
        (
            "name-256-octets",
            header() + question((b"\x3f" + b"b" * 63) * 3 + b"\x3e" + b"c" * 62 + b"\x00"),
            (FORMERR, "name-too-long"),
        ),
        ("answer-cut", header(an=1) + question() + b"\x00\x00\x01", (FORMERR, "truncated")),
        (
            "answer-rdlength-past-end",
            header(an=1) + question() + b"\x00" + struct.pack("!HHIH", 1, 1, 0, 200) + b"1234",
            (FORMERR, "truncated"),
        ),
        (
            "authority-bad-pointer",
            header(ns=1) + question() + rr(b"\xc0\xff", 6, b"x"),
            (FORMERR, "bad-pointer"),
        ),
        ("additional-missing", header(ar=1) + question(), (FORMERR, "truncated")),
        ("two-opts", header(ar=2) + question() + opt() + opt(), (FORMERR, "multiple-opt")),
        (
            "opt-owner-not-root",
            header(ar=1) + question() + opt(owner=name("a")),
            (FORMERR, "bad-opt"),
        ),
        (
            "opt-rdlength-past-end",
            header(ar=1) + question() + opt()[:-2] + b"\x00\x10" + b"\x00\x0a\x00\x00",
            (FORMERR, "truncated"),
        ),
        (
            "opt-rdlength-splits-option",
            header(ar=1) + question() + opt(rdata=b"\x00\x0a"),
            (FORMERR, "bad-opt"),
        ),
        (
            "opt-option-overruns",
            header(ar=1) + question() + opt(rdata=b"\x00\x0a\x00\x10" + b"12345678"),
            (FORMERR, "bad-opt"),
        ),
        (
            "opt-then-bad-record",
            header(ar=2) + question() + opt() + b"\x00\x00\x01",
            (FORMERR, "truncated"),
        ),
        ("edns-version-1", header(ar=1) + question() + opt(ttl=1 << 16), (BADVERS, "badvers")),
        (
            "edns-version-255-do",
            header(ar=1) + question() + opt(ttl=255 << 16 | 0x8000),
            (BADVERS, "badvers"),
        ),
        ("too-large-65536", header() + question() + bytes(65536 - 29), (FORMERR, "too-large")),
    ]
    rng = random.Random(53)
    for i in range(24):
        junk = rng.randbytes(rng.randrange(0, 300))
        cases.append((f"junk-{i:02d}", junk, None))
    for i in range(24):  # a plausible query header, then junk
        body = rng.randbytes(rng.randrange(0, 300))
        flags = rng.randrange(0x10000) & 0x07FF
        cases.append((f"junk-after-header-{i:02d}", header(flags=flags, ar=i % 3) + body, None))
    big = bytearray(rng.randbytes(65535))
    big[2] &= 0x07  # QR clear, opcode QUERY: the parser walks into the junk
    big[4:12] = struct.pack("!HHHH", 1, 1, 1, 2)
    cases.append(("junk-65535", bytes(big), None))
    return cases


_ALL = _cases()
#: (id, message) pairs, in a fixed order.
CORPUS: list[tuple[str, bytes]] = [(case_id, data) for case_id, data, _ in _ALL]
#: id -> (rcode, reason) that parse_query must raise, or None for random junk.
EXPECTED: dict[str, Expected] = {case_id: want for case_id, _, want in _ALL}
