"""Reply encoding: EDNS scrubbing, truncation, hand-built error replies, code names.

:func:`encode_reply` is CoreDNS's scrub step (``request.ScrubWriter`` plus
miekg/dns ``Msg.Truncate``) for a dnslib message:

1. EDNS. A query with an OPT gets exactly one OPT back: owner ``.``, version 0,
   flags cleared except DO (mirrored from the query), UDP size
   ``max(512, query.udp_size)``, the options a plugin put in the reply's OPT
   (the query's options are never echoed) and the extended-rcode bits. A query
   without an OPT gets none.
2. Size. When the packed reply is longer than the client takes, keep the header
   (TC set), the question, then as many *whole* records as fit from answer,
   authority and additional, in that order, stopping at the first one that
   does not fit; the OPT's size is reserved and it always goes last. TC is set
   when any record was dropped (or was already set). dnslib's own
   ``DNSRecord.truncate()`` is never used: it drops the question, and glibc
   then ignores the reply while musl never retries over TCP.

Records are packed one by one into a single :class:`dnslib.DNSBuffer`; a record
that overflows is rolled back (buffer offset and the compression entries it
added), so the result is compressed exactly like ``DNSRecord.pack()`` and
costs one pass. The buffer also refuses to record compression targets past
offset 0x3FFF, which dnslib would otherwise turn into wrong pointers in replies
larger than 16 KiB.

Extended rcodes (BADVERS, BADCOOKIE...) do not fit dnslib's 4-bit header field:
:func:`set_rcode` stores the high bits in the reply's OPT, where
:func:`encode_reply` finds them.

The module also holds presentation forms as miekg/dns writes them (metrics
labels and log lines must match CoreDNS's): :func:`name_text`,
:func:`type_name`, :func:`class_name`, :func:`rcode_name`, :func:`reply_flags`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dnslib import EDNS0, DNSBuffer, DNSLabel, DNSLabelError

if TYPE_CHECKING:
    from dnslib import DNSRecord

    from dnsd.wire import Query

_OPT = 41
_TC = 0x0200
_MAX_MSG = 65535
_MIN_MSG = 512
_PTR_MAX = 0x3FFF

_HDR = struct.Struct("!HHHHHH")
_REPLY_HDR = struct.Struct("!HHHHH")
_OPT_FIXED = struct.Struct("!HIH")

# Flags copied from the query into an error reply: opcode, RD, CD.
_COPY_FLAGS = 0x7800 | 0x0100 | 0x0010


def opt_record(size: int, ext_rcode: int = 0, do: bool = False, options: bytes = b"") -> bytes:
    """An encoded OPT RR: owner root, version 0, the given UDP size, high rcode bits and DO."""
    ttl = ((ext_rcode & 0xFF) << 24) | (0x8000 if do else 0)
    return b"\x00\x00\x29" + _OPT_FIXED.pack(size & 0xFFFF, ttl, len(options)) + options


def bare_reply(qid: bytes, flags: int, rcode: int, question: bytes, opt: bytes) -> bytes:
    """A reply with no records: ``qid`` (2 bytes), opcode/RD/CD from ``flags``, QR set.

    ``question`` is the encoded question (or empty: QDCOUNT 0); ``opt`` an
    encoded OPT RR (or empty).
    """
    rflags = 0x8000 | (flags & _COPY_FLAGS) | (rcode & 0x0F)
    counts = _REPLY_HDR.pack(rflags, 1 if question else 0, 0, 0, 1 if opt else 0)
    return qid + counts + question + opt


def error_reply(query: Query, rcode: int) -> bytes:
    """An empty reply with ``rcode`` (REFUSED, SERVFAIL, NOTIMP...): the question echoed.

    ID, opcode, RD and CD are copied and QR is set. When the query had EDNS the
    reply carries an OPT (DO mirrored, its UDP size echoed, rcode bits above 15
    as the extended rcode).
    """
    opt = b""
    if query.edns:
        opt = opt_record(max(_MIN_MSG, query.udp_size), rcode >> 4, query.do)
    return bare_reply(query.wire[:2], query.flags, rcode, query.question, opt)


def set_rcode(msg: DNSRecord, rcode: int) -> None:
    """Set a full 12-bit rcode on a dnslib reply: low 4 bits in the header, the rest in its OPT.

    An OPT is added when the reply has none; :func:`encode_reply` keeps the
    high bits (and drops the OPT when the query had no EDNS).
    """
    msg.header.rcode = rcode & 0x0F
    for rr in msg.ar:
        if rr.rtype == _OPT:
            rr.ttl = (rr.ttl & 0x00FFFFFF) | (((rcode >> 4) & 0xFF) << 24)
            return
    msg.add_ar(EDNS0(ext_rcode=(rcode >> 4) & 0xFF))


class _Buffer(DNSBuffer):  # type: ignore[misc]  # dnslib has no type hints
    """A DNSBuffer whose compression never points past offset 0x3FFF."""

    def encode_name(self, name: Any) -> None:
        """Append ``name``, compressed against the names already written."""
        if not isinstance(name, DNSLabel):
            name = DNSLabel(name)
        labels: tuple[bytes, ...] = name.label
        if len(b".".join(labels)) > 253:
            raise DNSLabelError(f"Domain label too long: {name!r}")
        names: dict[tuple[bytes, ...], int] = self.names
        data: bytearray = self.data
        for i, label in enumerate(labels):
            suffix = labels[i:]
            ptr = names.get(suffix)
            if ptr is not None:
                data += (0xC000 | ptr).to_bytes(2, "big")
                self.offset += 2
                return
            if len(label) > 63:
                raise DNSLabelError(f"Label component too long: {label!r}")
            if self.offset <= _PTR_MAX:
                names[suffix] = self.offset
            data.append(len(label))
            data += label
            self.offset += 1 + len(label)
        data.append(0)
        self.offset += 1


def _reply_opt(msg: DNSRecord, query: Query) -> tuple[list[Any], bytes]:
    """Split the reply's additional section into its records and the OPT to send."""
    extra: list[Any] = msg.ar
    plugin_opt = None
    if any(rr.rtype == _OPT for rr in extra):
        plugin_opt = next(rr for rr in extra if rr.rtype == _OPT)
        extra = [rr for rr in extra if rr.rtype != _OPT]
    if not query.edns:
        return extra, b""
    ext_rcode = (msg.header.rcode >> 4) & 0xFF
    options = b""
    if plugin_opt is not None:
        ext_rcode |= (plugin_opt.ttl >> 24) & 0xFF
        opt_buf = DNSBuffer()
        for option in plugin_opt.rdata:
            option.pack(opt_buf)
        options = bytes(opt_buf.data)
    size = max(_MIN_MSG, query.udp_size)
    return extra, opt_record(size, ext_rcode, query.do, options)


def encode_reply(msg: DNSRecord, query: Query, max_size: int) -> bytes:
    """Scrub and pack ``msg`` for a client that takes ``max_size`` bytes (see the module doc).

    ``max_size`` below 512 counts as 512, above 65535 as 65535; the result is
    never longer.
    """
    size = min(max(max_size, _MIN_MSG), _MAX_MSG)
    extra, opt = _reply_opt(msg, query)
    buf = _Buffer()
    buf.data += bytes(12)
    buf.offset = 12
    for question in msg.questions:
        question.pack(buf)
    budget = size - len(opt)
    if buf.offset > budget and len(opt) > 11:
        opt = opt[:9] + b"\x00\x00"  # no room for the options: a bare OPT
        budget = size - len(opt)
    header = msg.header
    if buf.offset > budget:  # several questions that do not fit: keep the query's one
        flags = header.bitmap | _TC
        hdr = _HDR.pack(header.id, flags, 1, 0, 0, 1 if opt else 0)
        return hdr + query.question + opt
    counts = [0, 0, 0]
    names: dict[tuple[bytes, ...], int] = buf.names
    data: bytearray = buf.data
    cut = False
    for index, section in enumerate((msg.rr, msg.auth, extra)):
        for rr in section:
            mark, known = buf.offset, len(names)
            rr.pack(buf)
            if buf.offset > budget:  # roll the record back, and stop: miekg's truncateLoop
                del data[mark:]
                buf.offset = mark
                while len(names) > known:
                    names.popitem()
                cut = True
                break
            counts[index] += 1
        if cut:
            break
    bitmap = header.bitmap | (_TC if cut else 0)
    arcount = counts[2] + (1 if opt else 0)
    _HDR.pack_into(data, 0, header.id, bitmap, len(msg.questions), counts[0], counts[1], arcount)
    return bytes(data) + opt


# Bytes a presentation-form label shows escaped: miekg/dns's special characters
# get a backslash, bytes outside 0x20..0x7e become \DDD (a space is "\ ").
_SPECIAL = b".'@;()\"\\ "
_NEEDS_ESCAPE = re.compile(rb"[^\x21-\x7e]|['@;()\"\\]")
_ESCAPED = [
    "\\" + chr(b) if b in _SPECIAL else (chr(b) if 0x20 < b < 0x7F else f"\\{b:03d}")
    for b in range(256)
]


def name_text(labels: Sequence[bytes]) -> str:
    """The presentation form of a name given as raw labels, escaped like miekg/dns.

    Absolute (trailing dot; the root is ``.``). ``\\.`` for a dot inside a label,
    a backslash before ``' @ ; ( ) " \\`` and space, ``\\DDD`` for other bytes
    outside 0x21..0x7e.
    """
    if not labels:
        return "."
    joined = b".".join(labels)
    if joined.count(b".") == len(labels) - 1 and _NEEDS_ESCAPE.search(joined) is None:
        return joined.decode("ascii") + "."
    esc = _ESCAPED
    return "".join(["".join([esc[b] for b in label]) + "." for label in labels])


_TYPES = {
    0: "None", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
    9: "MR", 10: "NULL", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP",
    18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 23: "NSAP-PTR", 24: "SIG", 25: "KEY",
    26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC",
    33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT",
    42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
    49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP",
    56: "NINFO", 57: "RKEY", 58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY",
    62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID",
    102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP", 108: "EUI48",
    109: "EUI64", 128: "NXNAME", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
    253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 258: "AVC",
    260: "AMTRELAY", 261: "RESINFO", 32768: "TA", 32769: "DLV", 65535: "Reserved",
}  # fmt: skip
_CLASSES = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
_RCODES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
    6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI",
    16: "BADVERS", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG",
    22: "BADTRUNC", 23: "BADCOOKIE",
}  # fmt: skip
_FLAG_NAMES = (
    (0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"), (0x0080, "ra"),
    (0x0040, "z"), (0x0020, "ad"), (0x0010, "cd"),
)  # fmt: skip


def type_name(qtype: int) -> str:
    """The type's mnemonic as miekg/dns writes it (``A``, ``NSAP-PTR``, else ``TYPE65280``)."""
    name = _TYPES.get(qtype)
    return name if name is not None else f"TYPE{qtype}"


def class_name(qclass: int) -> str:
    """The class's mnemonic (``IN``, ``CH``, ``HS``, ``NONE``, ``ANY``, else ``CLASS<n>``)."""
    name = _CLASSES.get(qclass)
    return name if name is not None else f"CLASS{qclass}"


def rcode_name(rcode: int) -> str:
    """The rcode's name (``NOERROR``... ``BADVERS`` for 16, ``BADCOOKIE``, else ``RCODE<n>``).

    miekg/dns names 16 ``BADSIG`` (the TSIG meaning); dnsd reports the EDNS one.
    """
    name = _RCODES.get(rcode)
    return name if name is not None else f"RCODE{rcode}"


def reply_flags(wire: bytes) -> str:
    """The header flags set in ``wire``, as CoreDNS's log ``{>rflags}``: ``qr,aa,rd,ra``."""
    if len(wire) < 4:
        return ""
    flags = (wire[2] << 8) | wire[3]
    return ",".join([name for bit, name in _FLAG_NAMES if flags & bit])
