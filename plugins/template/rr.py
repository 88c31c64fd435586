"""Reading a rendered template as one resource record, as miekg/dns's ``NewRR`` does.

``OWNER [TTL] [CLASS] TYPE RDATA`` in zone-file syntax (dnspython reads it: parentheses,
quoted strings, escapes, every type): relative names are completed with the root
(``google.com`` is ``google.com.``), the TTL defaults to 3600 and the class to IN. Like
``NewRR``, the first record is taken and anything after its line is ignored. The owner keeps
its case. The record becomes a dnslib record whose rdata is dnspython's wire form, read
back by dnslib for the types it knows and kept opaque otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.ttl
from dnslib import AAAA, CNAME, MX, NS, PTR, RD, RR, SOA, SRV, TXT, A, DNSBuffer, DNSLabel

DEFAULT_TTL = 3600
TYPE_CNAME = 5
#: Types whose rdata dnslib parses and packs faithfully; the rest stay opaque.
_DNSLIB = {1: A, 2: NS, 5: CNAME, 6: SOA, 12: PTR, 15: MX, 16: TXT, 28: AAAA, 33: SRV}


class RRError(ValueError):
    """The text is not a resource record."""


@dataclass(frozen=True, slots=True)
class Record:
    rr: RR
    #: The target of a CNAME record (absolute, as written), else None.
    cname: str | None = None


def parse_rr(text: str) -> Record:
    """The first record of ``text``. RRError when there is none or it is malformed."""
    tok = dns.tokenizer.Tokenizer(text, "<template>")
    try:
        token = tok.get()
        while token.is_eol():
            token = tok.get()
        if token.is_eof():
            raise RRError("no resource record in the template's output")
        owner = tok.as_name(token, dns.name.root)
        ttl, rdclass, rdtype = _header(tok)
        rdata = dns.rdata.from_text(rdclass, rdtype, tok, dns.name.root, relativize=False)
    except RRError:
        raise
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        raise RRError(f"bad resource record {text!r}: {exc}") from None
    wire = rdata.to_wire()
    cls = _DNSLIB.get(int(rdtype)) if int(rdclass) == 1 else None
    rd = cls.parse(DNSBuffer(wire), len(wire)) if cls is not None and wire else RD(wire)
    labels = [label for label in owner.labels if label]
    rr = RR(DNSLabel(labels), int(rdtype), int(rdclass), ttl, rd)
    cname = rdata.target.to_text() if int(rdtype) == TYPE_CNAME else None  # type: ignore[attr-defined]
    return Record(rr, cname)


def _header(
    tok: dns.tokenizer.Tokenizer,
) -> tuple[int, dns.rdataclass.RdataClass, dns.rdatatype.RdataType]:
    """``[TTL] [CLASS] [TTL] TYPE`` after the owner."""
    ttl: int | None = None
    rdclass = dns.rdataclass.IN
    word = _word(tok)
    ttl, word = _ttl(word, tok, ttl)
    try:
        rdclass = dns.rdataclass.from_text(word)
        word = _word(tok)
    except dns.rdataclass.UnknownRdataclass:
        pass
    ttl, word = _ttl(word, tok, ttl)
    try:
        rdtype = dns.rdatatype.from_text(word)
    except dns.rdatatype.UnknownRdatatype:
        raise RRError(f"unknown type {word!r}") from None
    return (DEFAULT_TTL if ttl is None else ttl), rdclass, rdtype


def _ttl(word: str, tok: dns.tokenizer.Tokenizer, ttl: int | None) -> tuple[int | None, str]:
    if ttl is not None:
        return ttl, word
    try:
        value = dns.ttl.from_text(word)
    except dns.ttl.BadTTL:
        return None, word
    return value, _word(tok)


def _word(tok: dns.tokenizer.Tokenizer) -> str:
    """The next word of the record's line; a SyntaxError when the line ends first."""
    token = tok.get()
    if token.is_eol_or_eof():
        raise dns.exception.SyntaxError("the record has no type")  # type: ignore[no-untyped-call]
    return str(token.value)
