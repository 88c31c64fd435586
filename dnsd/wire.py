"""The front door: a validating parser for incoming queries, written by hand.

Every datagram and TCP message goes through :func:`parse_query` before any
plugin or dnslib sees it. dnslib is not a safe parser for untrusted input: it
accepts 64-byte labels and names over 255 octets, rejects legal non-UTF-8
labels, and raises ``RecursionError`` on long pointer chains. It is also about
20 times slower than this scan, which is the hot path.

Checks, cheapest first (miekg/dns's default accept rules where they apply):

==================  ========  =====================================================
reason              rcode     when
==================  ========  =====================================================
short-header        DROP      fewer than 12 bytes: nothing to answer
response            DROP      QR set (answering responses invites reflection loops)
too-large           FORMERR   more than 65535 bytes
opcode              NOTIMP    opcode is not QUERY
qdcount             FORMERR   QDCOUNT is not 1
section-counts      FORMERR   ANCOUNT > 1, NSCOUNT > 1 or ARCOUNT > 2
label-type          FORMERR   a length byte with top bits 01 or 10 (0x40 included)
bad-pointer         FORMERR   a pointer that does not go strictly backwards
                              (forward, past the end)
pointer-loop        FORMERR   a pointer to itself or into a part of the name
                              already read, or more than 16 pointers in one name
name-too-long       FORMERR   a name over 255 octets on the wire
truncated           FORMERR   a name, fixed fields or RDATA running past the end
bad-opt             FORMERR   an OPT with a non-root owner or options that do not
                              exactly fill its RDATA
multiple-opt        FORMERR   more than one OPT in the additional section
badvers             BADVERS   EDNS version other than 0
==================  ========  =====================================================

``label-too-long`` is reserved: a length byte of 64 or more always has a top
bit set, so it is reported as ``label-type``.

Pointers must go strictly backwards: each lands before the start of the part
of the name read so far (dnspython's rule; every compressor writes them so). Answer and authority
records are only framed (names followed, RDATA skipped); additional records
are framed and searched for the OPT. Trailing bytes after the last record are
accepted, as miekg/dns does.

Replies to rejected queries are built here, as bytes: ID, opcode, RD and CD
copied, QR set, the question echoed when it parsed, and an OPT (version 0, UDP
size 1232) when a valid OPT was seen. Reply encoding for answered queries lives
in :mod:`dnsd.encode`; its public names are re-exported here.
"""

from __future__ import annotations

import struct
from typing import TypeVar, overload

from dnsd.encode import (
    bare_reply,
    class_name,
    encode_reply,
    error_reply,
    name_text,
    opt_record,
    rcode_name,
    reply_flags,
    set_rcode,
    type_name,
)
from dnsd.errors import DnsdError

__all__ = [
    "BADVERS",
    "DROP",
    "FORMERR",
    "NOTIMP",
    "NXDOMAIN",
    "REFUSED",
    "SERVFAIL",
    "BadQuery",
    "Query",
    "QueryT",
    "class_name",
    "encode_reply",
    "error_reply",
    "name_text",
    "parse_query",
    "rcode_name",
    "reply_flags",
    "set_rcode",
    "type_name",
]

FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, BADVERS = 1, 2, 3, 4, 5, 16
#: BadQuery.rcode when nothing must be sent back.
DROP = -1

#: UDP size advertised in the OPT of replies to rejected queries.
ERROR_UDP_SIZE = 1232
_MAX_HOPS = 16
_OPT = 41
_COUNTS = struct.Struct("!HHHH")
_RR = struct.Struct("!HHIH")
_OPTION = struct.Struct("!HH")
_TYPE_CLASS = struct.Struct("!HH")
_Options = tuple[tuple[int, bytes], ...]
#: A question name: (labels, presentation form, lowercased presentation form).
_Name = tuple[tuple[bytes, ...], str, str]
# Names seen in questions, keyed by their uncompressed wire form: queries repeat
# names, and a hit skips the label walk and the escaping. Cleared when full.
_NAMES: dict[bytes, _Name] = {}
_NAME_CACHE_SIZE = 8192
_NO_OPTIONS: _Options = ()


class BadQuery(DnsdError):
    """The query was rejected before the chain: ``reply`` is the answer to send, if any."""

    def __init__(self, rcode: int, reason: str, reply: bytes | None) -> None:
        super().__init__(f"{reason} ({rcode_name(rcode) if rcode >= 0 else 'drop'})")
        #: FORMERR, NOTIMP, BADVERS, or DROP (send nothing).
        self.rcode = rcode
        #: A short stable label for counting and logging (see the module doc).
        self.reason = reason
        #: The reply to send, None when ``rcode`` is DROP.
        self.reply = reply


class Query:
    """A validated query: header, question and EDNS facts, read straight from the wire."""

    __slots__ = (
        "wire",
        "id",
        "flags",
        "opcode",
        "qname",
        "name_lower",
        "labels",
        "qtype",
        "qclass",
        "question",
        "edns",
        "edns_version",
        "do",
        "udp_size",
        "opt_size_offset",
        "options",
    )

    #: The whole message as received.
    wire: bytes
    id: int
    #: The 16-bit header flags word.
    flags: int
    opcode: int
    #: Presentation form, original case, absolute (``example.org.``, root ``.``).
    qname: str
    #: ``qname`` with ASCII A-Z lowercased.
    name_lower: str
    #: The raw labels, original case, without the empty root label.
    labels: tuple[bytes, ...]
    qtype: int
    qclass: int
    #: The question re-encoded without compression: name, type, class.
    question: bytes
    #: A valid OPT was present.
    edns: bool
    edns_version: int
    do: bool
    #: The advertised UDP size as sent (0 without EDNS).
    udp_size: int
    #: Offset in ``wire`` of the OPT's CLASS field (the UDP size), -1 without EDNS.
    opt_size_offset: int
    #: The query's EDNS options as (code, data).
    options: tuple[tuple[int, bytes], ...]

    @property
    def rd(self) -> bool:
        """Recursion desired."""
        return bool(self.flags & 0x0100)

    @property
    def cd(self) -> bool:
        """Checking disabled."""
        return bool(self.flags & 0x0010)

    def __repr__(self) -> str:
        return (
            f"<Query id={self.id} {self.qname} {class_name(self.qclass)} {type_name(self.qtype)}>"
        )


QueryT = TypeVar("QueryT", bound=Query)


class _Malformed(Exception):
    """Internal: a framing error, with whether a valid OPT was read before it."""

    def __init__(self, reason: str, opt_seen: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.opt_seen = opt_seen


def _read_name(data: bytes, pos: int) -> tuple[list[bytes], int, int]:
    """Read the name at ``pos``: (labels, offset just after it in place, octets on the wire)."""
    n = len(data)
    labels: list[bytes] = []
    end = -1
    octets = 1
    limit = pos  # the next pointer must land strictly before this
    hops = 0
    seg = pos
    segments: list[tuple[int, int]] = []
    while True:
        if pos >= n:
            raise _Malformed("truncated")
        c = data[pos]
        if c == 0:
            return labels, (pos + 1 if end < 0 else end), octets
        if c < 0x40:
            nxt = pos + 1 + c
            if nxt > n:
                raise _Malformed("truncated")
            octets += c + 1
            if octets > 255:
                raise _Malformed("name-too-long")
            labels.append(data[pos + 1 : nxt])
            pos = nxt
        elif c >= 0xC0:
            if pos + 1 >= n:
                raise _Malformed("truncated")
            target = ((c & 0x3F) << 8) | data[pos + 1]
            if end < 0:
                end = pos + 2
            segments.append((seg, pos + 1))
            if target >= limit:
                seen = any(a <= target <= b for a, b in segments)
                raise _Malformed("pointer-loop" if seen else "bad-pointer")
            hops += 1
            if hops > _MAX_HOPS:
                raise _Malformed("pointer-loop")
            pos = limit = seg = target
        else:
            raise _Malformed("label-type")


def _encode_name(labels: list[bytes]) -> bytes:
    """The uncompressed wire form of a name."""
    return b"".join([bytes((len(label),)) + label for label in labels]) + b"\x00"


def _scan(data: bytes, pos: int, skip: int, additional: int) -> tuple[int, int, _Options]:
    """Frame ``skip`` records, then read ``additional`` ones for an OPT.

    Returns (offset of the OPT's CLASS field or -1, its TTL, its options).
    Raises _Malformed.
    """
    n = len(data)
    for _ in range(skip):
        pos = _read_name(data, pos)[1]
        if pos + 10 > n:
            raise _Malformed("truncated", False)
        pos += 10 + ((data[pos + 8] << 8) | data[pos + 9])
        if pos > n:
            raise _Malformed("truncated", False)
    opt_at, opt_ttl, options = -1, 0, _NO_OPTIONS
    for _ in range(additional):
        if pos < n and data[pos] == 0:  # the root owner of a well-formed OPT
            root = True
            pos += 1
        else:
            try:
                labels, pos, _octets = _read_name(data, pos)
            except _Malformed as exc:
                raise _Malformed(exc.reason, opt_at >= 0) from None
            root = not labels
        if pos + 10 > n:
            raise _Malformed("truncated", opt_at >= 0)
        rtype, _rclass, ttl, rdlength = _RR.unpack_from(data, pos)
        start = pos + 10
        pos = start + rdlength
        if pos > n:
            raise _Malformed("truncated", opt_at >= 0)
        if rtype != _OPT:
            continue
        if opt_at >= 0:
            raise _Malformed("multiple-opt", True)
        if not root:
            raise _Malformed("bad-opt")
        options = _options(data, start, pos)
        opt_at, opt_ttl = start - 8, ttl
    return opt_at, opt_ttl, options


def _options(data: bytes, pos: int, end: int) -> _Options:
    """The EDNS options in data[pos:end]; bad-opt unless they fill it exactly."""
    if pos == end:
        return _NO_OPTIONS
    options: list[tuple[int, bytes]] = []
    while pos < end:
        if pos + 4 > end:
            raise _Malformed("bad-opt")
        code, length = _OPTION.unpack_from(data, pos)
        pos += 4 + length
        if pos > end:
            raise _Malformed("bad-opt")
        options.append((code, data[pos - length : pos]))
    return tuple(options)


def _question(data: bytes, qd: int) -> tuple[_Name, int, bytes]:
    """The first question: (name, offset after it, its uncompressed bytes). Raises _Malformed."""
    if qd == 0:
        raise _Malformed("qdcount")
    n = len(data)
    zero = data.find(0, 12)
    if zero > 0:
        name = _NAMES.get(data[12 : zero + 1])
        if name is not None:
            if zero + 5 > n:
                raise _Malformed("truncated")
            return name, zero + 5, data[12 : zero + 5]
    labels, end, octets = _read_name(data, 12)
    if end + 4 > n:
        raise _Malformed("truncated")
    qname = name_text(labels)
    name = (tuple(labels), qname, qname.lower())
    if end - 12 != octets:
        return name, end + 4, _encode_name(labels) + data[end : end + 4]
    if len(_NAMES) >= _NAME_CACHE_SIZE:
        _NAMES.clear()
    _NAMES[data[12:end]] = name
    return name, end + 4, data[12 : end + 4]


def _reject(data: bytes, flags: int, rcode: int, reason: str, full: bool) -> BadQuery:
    """A FORMERR/NOTIMP for a query refused on its header: echo what parses."""
    qd, an, ns, ar = _COUNTS.unpack_from(data, 4)
    question = opt = b""
    try:
        _name, pos, question = _question(data, qd)
        if full:
            if _scan(data, pos, an + ns, ar)[0] >= 0:
                opt = opt_record(ERROR_UDP_SIZE)
    except _Malformed:
        pass
    return BadQuery(rcode, reason, bare_reply(data[:2], flags, rcode, question, opt))


@overload
def parse_query(data: bytes) -> Query: ...
@overload
def parse_query(data: bytes, cls: type[QueryT]) -> QueryT: ...
def parse_query(data: bytes, cls: type[Query] = Query) -> Query:
    """Validate ``data`` and return a filled ``cls`` instance; raise :class:`BadQuery`.

    ``cls`` may be a subclass of :class:`Query` with more slots: it is made with
    ``cls.__new__`` and only Query's slots are set. No other exception escapes,
    whatever the bytes.
    """
    if type(data) is not bytes:  # bytearray, memoryview: slices must be hashable bytes
        data = bytes(data)
    n = len(data)
    if n < 12:
        raise BadQuery(DROP, "short-header", None)
    flags = (data[2] << 8) | data[3]
    if flags & 0x8000:
        raise BadQuery(DROP, "response", None)
    if n > 65535:
        raise BadQuery(FORMERR, "too-large", bare_reply(data[:2], flags, FORMERR, b"", b""))
    qd, an, ns, ar = _COUNTS.unpack_from(data, 4)
    if flags & 0x7800:
        ok = qd == 1 and an <= 1 and ns <= 1 and ar <= 2
        raise _reject(data, flags, NOTIMP, "opcode", ok)
    if qd != 1:
        raise _reject(data, flags, FORMERR, "qdcount", False)
    if an > 1 or ns > 1 or ar > 2:
        raise _reject(data, flags, FORMERR, "section-counts", False)
    try:
        name, pos, question = _question(data, 1)
    except _Malformed as exc:
        reply = bare_reply(data[:2], flags, FORMERR, b"", b"")
        raise BadQuery(FORMERR, exc.reason, reply) from None
    if ar or an or ns:
        try:
            opt_at, ttl, options = _scan(data, pos, an + ns, ar)
        except _Malformed as exc:
            opt = opt_record(ERROR_UDP_SIZE) if exc.opt_seen else b""
            reply = bare_reply(data[:2], flags, FORMERR, question, opt)
            raise BadQuery(FORMERR, exc.reason, reply) from None
    else:
        opt_at, ttl, options = -1, 0, _NO_OPTIONS
    obj = cls.__new__(cls)
    obj.wire = data
    obj.id = (data[0] << 8) | data[1]
    obj.flags = flags
    obj.opcode = 0
    obj.labels, obj.qname, obj.name_lower = name
    obj.qtype, obj.qclass = _TYPE_CLASS.unpack_from(data, pos - 4)
    obj.question = question
    if opt_at < 0:
        obj.edns = obj.do = False
        obj.edns_version = obj.udp_size = 0
        obj.opt_size_offset = -1
        obj.options = _NO_OPTIONS
        return obj
    version = (ttl >> 16) & 0xFF
    if version:
        reply = bare_reply(data[:2], flags, 0, question, opt_record(ERROR_UDP_SIZE, BADVERS >> 4))
        raise BadQuery(BADVERS, "badvers", reply)
    obj.edns = True
    obj.edns_version = 0
    obj.do = bool(ttl & 0x8000)
    obj.udp_size = (data[opt_at] << 8) | data[opt_at + 1]
    obj.opt_size_offset = opt_at
    obj.options = options
    return obj
