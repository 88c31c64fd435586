"""Reading an RFC 1035 master file into records, with dnspython's zone-file reader.

::

    parsed = read(path, "example.org.")   # ZoneFileError on any problem, message says where
    parsed.serial, parsed.records, parsed.files

dnspython does the text format: ``$ORIGIN``, ``$TTL``, ``$INCLUDE``, ``$GENERATE``, relative
names, ``@``, parentheses, escapes, every record type. What this module adds:

- ``$INCLUDE`` paths are relative to the including file's folder, as miekg/dns (CoreDNS's parser)
  and BIND read them; dnspython would open them relative to the working directory. At most
  :data:`MAX_INCLUDE_DEPTH` files deep (miekg/dns's limit), so a file including itself fails
  instead of opening files until the process runs out of them.
- Every problem is one :class:`ZoneFileError` whose message starts with ``FILE:LINE:`` when the
  problem has a place (a syntax error, a CNAME beside other data, an unreadable ``$INCLUDE``).
- CoreDNS's rules: a SOA record at the origin is required, NSEC3 zones are refused. Names outside
  the origin are skipped (dnspython's rule; CoreDNS keeps them but can never answer them).
- Records become dnslib records once, here: the rdata's wire form is read back by dnslib for the
  RFC 1035 types it knows, and kept as opaque rdata (RFC 3597) for every other type, so what
  goes out is byte for byte what the file says. Owner names are lowercased (CoreDNS does the
  same); the names a lookup follows (CNAME, DNAME, NS, MX and SRV targets) are kept as
  lowercase label tuples beside the record.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tokenizer
import dns.zonefile
from dnslib import AAAA, CNAME, MX, NS, PTR, RD, RR, SOA, SRV, TXT, A, DNSBuffer, DNSLabel

from dnsd.files import read_regular

__all__ = ["MAX_INCLUDE_DEPTH", "Name", "Parsed", "Record", "ZoneFileError", "digest", "read"]

#: A domain name as lowercase labels, leftmost first, without the root label.
Name = tuple[bytes, ...]

#: How many ``$INCLUDE`` files may be open inside each other (miekg/dns's maxIncludeDepth).
MAX_INCLUDE_DEPTH = 7

SOA_, NSEC3_, NSEC3PARAM_ = 6, 50, 51
#: Types whose rdata dnslib parses and packs faithfully; the rest stay opaque.
_DNSLIB = {1: A, 2: NS, 5: CNAME, 6: SOA, 12: PTR, 15: MX, 16: TXT, 28: AAAA, 33: SRV}
#: Types whose rdata names a domain a lookup follows, and the dnspython attribute holding it.
_TARGETS = {5: "target", 39: "target", 2: "target", 15: "exchange", 33: "target"}


class ZoneFileError(ValueError):
    """The zone file cannot be read or is not a valid zone; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the zone."""

    owner: Name
    rtype: int
    rr: RR
    #: The domain name in the rdata that lookups follow (CNAME, DNAME, NS, MX, SRV), else None.
    target: Name | None = None


@dataclass(frozen=True)
class Parsed:
    """What a zone file holds for one origin."""

    origin: Name
    serial: int
    records: tuple[Record, ...]
    #: The file and every file it ``$INCLUDE``s, in the order they were read.
    files: tuple[str, ...]


def labels(name: dns.name.Name) -> Name:
    """The lowercase labels of an absolute dnspython name, without the root."""
    return tuple(label.lower() for label in name.labels if label)


def origin_labels(origin: str) -> Name:
    """The labels of a zone given as text (``example.org.``)."""
    return labels(dns.name.from_text(origin))


def read(path: str, origin: str, data: bytes | None = None) -> Parsed:
    """The records of ``path`` (whose bytes are ``data`` when already read) for ``origin``."""
    if data is None:
        data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZoneFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    zone = dns.name.from_text(origin)
    includes: list[str] = []
    rrsets = _parse(path, text, zone, includes)
    return _records(path, zone, rrsets, (path, *includes))


def read_bytes(path: str) -> bytes:
    """The bytes of ``path``; ZoneFileError worded like Go's (``open PATH: reason``)."""
    try:
        return read_regular(path)
    except OSError as exc:
        raise ZoneFileError(f"open {path}: {_reason(exc)}") from None


def digest(data: bytes, includes: Iterable[str]) -> bytes:
    """A hash of a zone file's bytes and of the files it includes (missing ones count too)."""
    h = hashlib.sha256(data)
    for path in includes:
        h.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        try:
            h.update(hashlib.sha256(read_regular(path)).digest())
        except OSError as exc:
            h.update(f"error {exc.errno}".encode())
    return h.digest()


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


# -- parsing ------------------------------------------------------------------------------------


class _Tokenizer(dns.tokenizer.Tokenizer):
    """dnspython's tokenizer, rewriting the file name after a ``$INCLUDE`` at the start of a line
    to a path relative to this file's folder, and counting how deep the include is."""

    def __init__(self, f: Any, filename: str, depth: int, includes: list[str]) -> None:
        super().__init__(f, filename)
        self.depth = depth
        self.includes = includes
        self._line_start = True
        self._include_next = False
        #: The line of the last token that was not an end of line, where errors are reported.
        self._token_line = 1

    def get(self, want_leading: bool = False, want_comment: bool = False) -> dns.tokenizer.Token:
        token = super().get(want_leading, want_comment)
        if self._include_next and token.is_identifier():
            self._include_next = False
            if self.depth >= MAX_INCLUDE_DEPTH:
                raise dns.exception.SyntaxError("too deeply nested $INCLUDE")  # type: ignore[no-untyped-call]
            path = os.path.join(os.path.dirname(self.filename), token.value)
            self.includes.append(path)
            return dns.tokenizer.Token(token.ttype, path, token.has_escape, token.comment)
        self._include_next = (
            self._line_start and token.is_identifier() and token.value.upper() == "$INCLUDE"
        )
        self._line_start = token.is_eol_or_eof()
        if not self._line_start:
            # A token ended by a newline has already counted it (the newline is pushed back).
            self._token_line = self.line_number - (self.ungotten_char == "\n")
        return token

    def where(self) -> tuple[str, int]:
        """Where the last token was: dnspython's line counter has already passed its line's end
        when a record turns out to be wrong."""
        return self.filename, self._token_line


class _Reader(dns.zonefile.Reader):
    """dnspython's reader whose ``$INCLUDE``d files are read with :class:`_Tokenizer` too."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "tok" and type(value) is dns.tokenizer.Tokenizer:
            # A file just opened by $INCLUDE: read it with our tokenizer, one level deeper.
            parent = self.__dict__["tok"]
            value = _Tokenizer(value.file, value.filename, parent.depth + 1, parent.includes)
        super().__setattr__(name, value)

    def close_files(self) -> None:
        """Close the included files still open after a failure (dnspython closes them at EOF)."""
        files = [self.current_file, *(state[3] for state in self.saved_state)]
        for f in files:
            if f is not None:
                f.close()
        self.current_file = None


def _parse(
    path: str, text: str, origin: dns.name.Name, includes: list[str]
) -> list[dns.rrset.RRset]:
    manager = dns.zonefile.RRSetsReaderManager(origin, False, dns.rdataclass.IN)
    tok = _Tokenizer(io.StringIO(text), path, 0, includes)
    reader: _Reader | None = None
    try:
        with manager.writer(True) as txn:  # type: ignore[no-untyped-call]
            reader = _Reader(tok, dns.rdataclass.IN, txn, allow_include=True)
            reader.read()
    except dns.exception.SyntaxError as exc:
        raise ZoneFileError(str(exc)) from None  # dnspython put FILE:LINE in front already
    except (dns.exception.DNSException, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ZoneFileError(f"{_where(reader, tok)}: {_describe(exc)}") from None
    finally:
        if reader is not None:
            reader.close_files()
    return manager.rrsets


def _where(reader: _Reader | None, tok: dns.tokenizer.Tokenizer) -> str:
    current = reader.tok if reader is not None else tok
    filename, line = current.where()
    return f"{filename}:{line}"


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else "file"
        return f"cannot read $INCLUDE file: open {name}: {_reason(exc)}"
    if isinstance(exc, dns.zonefile.CNAMEAndOtherData):
        return "a CNAME cannot share its name with other records"
    if "non-origin SOA" in str(exc):  # dnspython's check, worded for a zone transfer
        return "a SOA record must be at the zone's origin"
    return str(exc) or type(exc).__name__


# -- records ------------------------------------------------------------------------------------


def _records(
    path: str, origin: dns.name.Name, rrsets: Sequence[dns.rrset.RRset], files: tuple[str, ...]
) -> Parsed:
    zone = labels(origin)
    out: list[Record] = []
    serial: int | None = None
    for rrset in rrsets:
        owner = labels(rrset.name)
        rtype = int(rrset.rdtype)
        if rtype in (NSEC3_, NSEC3PARAM_):
            raise ZoneFileError(f"{path}: NSEC3 zone is not supported ({rrset.name} NSEC3)")
        if rtype == SOA_:
            if owner != zone:
                raise ZoneFileError(
                    f"{path}: SOA record of {rrset.name} is not at the zone's origin {origin}"
                )
            serial = int(rrset[0].serial)
        out.extend(_convert(owner, rtype, int(rrset.ttl), rdata) for rdata in rrset)
    if serial is None:
        raise ZoneFileError(f'file "{path}" has no SOA record for origin {origin}')
    return Parsed(zone, serial, tuple(out), files)


def _convert(owner: Name, rtype: int, ttl: int, rdata: dns.rdata.Rdata) -> Record:
    wire = rdata.to_wire()
    cls = _DNSLIB.get(rtype)
    rd = cls.parse(DNSBuffer(wire), len(wire)) if cls is not None and wire else RD(wire)
    rr = RR(DNSLabel(list(owner)), rtype, 1, ttl, rd)
    attr = _TARGETS.get(rtype)
    target = labels(getattr(rdata, attr)) if attr is not None else None
    return Record(owner, rtype, rr, target)
