"""Response rewrites: what a matched rule changes in the reply on its way back.

Rules that matched leave :class:`ResponseRule` objects behind; :func:`revert`
applies them to the reply in reverse order (the last request rewrite is undone
first), as CoreDNS's ``ResponseReverter``:

- message steps first: a ``cname`` rule's new target resolved through the
  server (:mod:`dnsd.upstream`), an ``rcode`` rule, an EDNS0 option reverted;
- then every record of the authority, answer and additional sections (not the
  OPT): owner names (``answer name``, ``answer auto``), the names inside CNAME,
  DNAME, SOA, SRV, MX, NAPTR, NS and PTR data (``answer value``, ``answer
  auto``), TTLs (``ttl``).

Names are rewritten in presentation form; a rewrite that would give an invalid
name leaves the name as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dnslib import CNAME, RD, RR, DNSLabel, DNSRecord

from dnsd import upstream
from dnsd.encode import name_text, set_rcode
from dnsd.log import plugin_logger
from dnsd.plugins.rewrite.names import NameMatch, labels_of
from dnsd.request import Request

log = plugin_logger("rewrite")

TYPE_CNAME, TYPE_NS, TYPE_SOA, TYPE_PTR, TYPE_MX = 5, 2, 6, 12, 15
TYPE_SRV, TYPE_NAPTR, TYPE_DNAME, TYPE_OPT = 33, 35, 39, 41

NameRewriter = Callable[[str], str]


class ResponseRule:
    """A change to the reply; subclasses override the steps they need."""

    async def message(self, msg: DNSRecord, req: Request) -> None:
        """Change the whole reply (``req``: the query as it went down the chain)."""

    def record(self, rr: RR) -> None:
        """Change one record."""


def _rewritten(name: DNSLabel, rewrite: NameRewriter) -> DNSLabel | None:
    """``name`` passed through ``rewrite``; None when unchanged or no longer a valid name."""
    text = name_text(name.label)
    new = rewrite(text)
    if new == text:
        return None
    labels = labels_of(new)
    if labels is None:
        log.debug("answer rewrite of %s gives an invalid name: %s", text, new)
        return None
    return DNSLabel(list(labels))


@dataclass(frozen=True)
class NameRewrite(ResponseRule):
    """Owner names (``answer name FROM TO``, and ``answer auto``)."""

    rewrite: NameRewriter

    def record(self, rr: RR) -> None:
        new = _rewritten(rr.rname, self.rewrite)
        if new is not None:
            rr.rname = new


@dataclass(frozen=True)
class ValueRewrite(ResponseRule):
    """Names in record data (``answer value FROM TO``, and ``answer auto``)."""

    rewrite: NameRewriter

    def record(self, rr: RR) -> None:
        rd = rr.rdata
        attr = _VALUE_ATTRS.get(rr.rtype)
        if attr is not None:
            new = _rewritten(getattr(rd, attr), self.rewrite)
            if new is not None:
                setattr(rd, attr, new)
        elif rr.rtype == TYPE_DNAME:  # dnslib keeps DNAME as raw (never compressed) bytes
            labels = _raw_name(bytes(rd.data))
            if labels is not None:
                new = _rewritten(DNSLabel(list(labels)), self.rewrite)
                if new is not None:
                    rr.rdata = RD(b"".join(bytes([len(x)]) + x for x in new.label) + b"\x00")


_VALUE_ATTRS = {
    TYPE_CNAME: "label",
    TYPE_NS: "label",
    TYPE_PTR: "label",
    TYPE_MX: "label",
    TYPE_SRV: "target",
    TYPE_SOA: "mname",
    TYPE_NAPTR: "replacement",
}


def _raw_name(data: bytes) -> tuple[bytes, ...] | None:
    """The labels of an uncompressed wire name filling ``data``; None when it is not one."""
    labels: list[bytes] = []
    pos = 0
    while pos < len(data):
        length = data[pos]
        if length == 0:
            return tuple(labels) if pos + 1 == len(data) else None
        if length > 63:
            return None
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return None


@dataclass(frozen=True)
class TTLClamp(ResponseRule):
    """``ttl``: every record's TTL brought into ``[low, high]``."""

    low: int
    high: int

    def record(self, rr: RR) -> None:
        if rr.ttl < self.low:
            rr.ttl = self.low
        elif rr.ttl > self.high:
            rr.ttl = self.high


@dataclass(frozen=True)
class RcodeRewrite(ResponseRule):
    """``rcode``: the reply's rcode ``old`` becomes ``new`` (also when it holds no record)."""

    old: int
    new: int

    async def message(self, msg: DNSRecord, req: Request) -> None:
        if full_rcode(msg) != self.old:
            return
        if self.new < 16 and not any(rr.rtype == TYPE_OPT for rr in msg.ar):
            msg.header.rcode = self.new
        else:
            set_rcode(msg, self.new)


def full_rcode(msg: DNSRecord) -> int:
    """The reply's 12-bit rcode: the header's 4 bits and the OPT's extended bits."""
    rcode = int(msg.header.rcode)
    for rr in msg.ar:
        if rr.rtype == TYPE_OPT:
            rcode |= ((rr.ttl >> 24) & 0xFF) << 4
    return rcode


@dataclass(frozen=True)
class CnameTarget(ResponseRule):
    """``cname``: a CNAME target that matches is replaced and the new target resolved.

    The first CNAME in the answer whose target matches gets the new target; what
    followed it (the old target's records) is replaced by the server's own
    answer for the new target, asked with the query's type.
    """

    match: NameMatch
    to: str

    async def message(self, msg: DNSRecord, req: Request) -> None:
        for index, rr in enumerate(msg.rr):
            if rr.rtype != TYPE_CNAME:
                continue
            target = name_text(rr.rdata.label.label).lower()
            new = self.match.rewrite(target, self.to)
            if new is None:
                continue
            labels = labels_of(new)
            if labels is None:
                log.error("invalid CNAME target after rewrite: %s", new)
                return
            rr.rdata = CNAME(DNSLabel(list(labels)))
            del msg.rr[index + 1 :]
            reply = await upstream.lookup(req, name_text(labels), req.qtype)
            if reply is None:
                log.error("Error upstream request for %s", name_text(labels))
                return
            msg.rr.extend(reply.rr)
            return


@dataclass(frozen=True)
class EdnsRevert(ResponseRule):
    """``edns0 ... revert``: the option is taken out of the reply again (or its data restored)."""

    code: int
    #: The data the query carried before a replace; None: the rewrite added the option.
    original: bytes | None

    async def message(self, msg: DNSRecord, req: Request) -> None:
        for rr in msg.ar:
            if rr.rtype != TYPE_OPT:
                continue
            if self.original is None:
                rr.rdata = [opt for opt in rr.rdata if opt.code != self.code]
            else:
                for opt in rr.rdata:
                    if opt.code == self.code:
                        opt.data = self.original


async def revert(msg: DNSRecord, rules: Sequence[ResponseRule], req: Request) -> None:
    """Apply ``rules`` to ``msg`` in reverse order: message steps, then every record."""
    backwards = list(reversed(rules))
    for rule in backwards:
        await rule.message(msg, req)
    for section in (msg.auth, msg.rr, msg.ar):
        for rr in section:
            if rr.rtype == TYPE_OPT:
                continue
            for rule in backwards:
                rule.record(rr)
