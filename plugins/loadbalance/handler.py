"""Handler of *loadbalance*: reorders the address records of what the rest of the chain answered.

An observer: ``reply = await next(req)``, then reorder. As in CoreDNS only
NOERROR replies are touched and zone transfers never are. The orderings are
in :mod:`~dnsd.plugins.loadbalance.policy`; this module picks the sections
and works on the reply in the form it came in:

* bytes (``Reply.wire``, from *cache* or *forward*): the record headers are
  walked and the records reordered by slicing
  (:mod:`~dnsd.plugins.loadbalance.wireform`); when compression pointers make
  that unsafe the reply is parsed and reordered as a message instead.
* a dnslib message: its record lists are reordered in place.

The common replies cost nothing more than reading two header counts: a section
with fewer than two records cannot change, and the answer section is only
looked at for A, AAAA, MX and ANY questions (the only ones whose answers hold
addresses or MX records). The usual multi-address answer (one RRset whose
owners all point to the question) is shuffled by
:func:`~dnsd.plugins.loadbalance.wireform.shuffle_rrset` without even the
record walk. The authority section is never reordered: it holds
NS/SOA/DS/NSEC records, which CoreDNS's grouping leaves in their order anyway.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from dnslib import RR

from dnsd.errors import PluginError
from dnsd.plugin import Next
from dnsd.plugins.loadbalance import wireform
from dnsd.plugins.loadbalance.policy import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_MX,
    Rec,
    Subnet,
    keep_pinned,
    prefer,
    round_robin,
    weighted,
)
from dnsd.plugins.loadbalance.weights import WeightFile
from dnsd.reply import Reply
from dnsd.request import Request

TYPE_SRV, TYPE_IXFR, TYPE_AXFR, TYPE_ANY = 33, 251, 252, 255
#: Questions whose answer section may hold A, AAAA or MX records.
ANSWER_TYPES = frozenset({TYPE_A, TYPE_AAAA, TYPE_MX, TYPE_ANY})
#: Questions the weighted policy acts on (CoreDNS's ``weightedShuffle``).
WEIGHTED_TYPES = frozenset({TYPE_A, TYPE_AAAA, TYPE_SRV})


class Loadbalance:
    """round_robin or weighted, then ``prefer``, on the answer and additional sections."""

    name = "loadbalance"

    def __init__(
        self,
        weights: WeightFile | None = None,
        subnets: Sequence[Subnet] = (),
        rng: random.Random | None = None,
    ) -> None:
        #: None: the round_robin policy.
        self.weights = weights
        self.subnets = tuple(subnets)
        self.rng = rng or random.Random()
        #: round_robin without ``prefer`` depends on nothing but the reply: its shuffle can be
        #: replayed on remembered replies. Weights and client subnets keep hits on the chain.
        self.memo_safe = weights is None and not self.subnets
        self._copiers: dict[int, Callable[[bytes], bytes | None]] = {}

    async def serve(self, req: Request, next: Next) -> Reply | None:
        reply = await next(req)
        if reply is None or reply.drop or reply.rcode != 0:
            return reply
        qtype = req.qtype
        if qtype == TYPE_AXFR or qtype == TYPE_IXFR:
            return reply
        memo = reply.memo
        wire = reply.wire
        if wire is None:
            self._reorder_msg(reply, qtype)
            out = reply
        else:
            new = self._balance_wire(wire, qtype)
            if new is wire:
                out = reply
            elif new is not None:
                out = Reply(wire=new, plugin=reply.plugin)
            else:
                out = self._reorder_parsed(reply, wire, qtype)
        if memo is not None and self.memo_safe:
            # Remembered replies are shuffled again on every copy (dnsd.fastpath).
            out.memo = memo
            req.transform_memo(self._copier(qtype))
        return out

    def _copier(self, qtype: int) -> Callable[[bytes], bytes | None]:
        copier = self._copiers.get(qtype)
        if copier is None:
            copier = self._copiers[qtype] = lambda wire: self._balance_wire(wire, qtype)
        return copier

    def _balance_wire(self, wire: bytes, qtype: int) -> bytes | None:
        """``wire`` reordered: the same object when nothing moves, None when only a parse
        of the message can do it (compression pointers into moving records)."""
        if len(wire) < 12:
            return wire
        answer = qtype in ANSWER_TYPES and ((wire[6] << 8) | wire[7]) > 1
        extra = ((wire[10] << 8) | wire[11]) > 1
        if not answer and not extra:
            return wire
        if answer and not extra and self.weights is None and not self.subnets:
            try:
                shuffled = wireform.shuffle_rrset(wire, self.rng)
            except (ValueError, IndexError):
                shuffled = None
            if shuffled is not None:
                return shuffled
        try:
            sections = wireform.scan(wire)
        except (ValueError, IndexError):
            return wire  # not ours to judge: the server deals with a malformed reply
        an, _ns, ar = sections
        owners = self.weights is not None and qtype in WEIGHTED_TYPES
        order = self.order(wireform.recs(wire, an, owners), qtype) if answer else None
        extras = self.order(wireform.recs(wire, ar, owners), qtype) if len(ar) > 1 else None
        return wireform.reorder(wire, sections, order, extras)

    def order(self, recs: list[Rec], qtype: int) -> list[Rec]:
        """The new order of one section's records."""
        return keep_pinned(recs, lambda movable: self._order(movable, qtype))

    def _order(self, recs: list[Rec], qtype: int) -> list[Rec]:
        if self.weights is None:
            out = round_robin(recs, self.rng)
        elif qtype in WEIGHTED_TYPES:
            out = weighted(recs, self.weights.table, self.rng)
        else:
            out = recs
        if self.subnets:
            out = prefer(out, self.subnets)
        return out

    def _reorder_parsed(self, reply: Reply, wire: bytes, qtype: int) -> Reply:
        """Compression makes slicing unsafe: reorder the parsed message."""
        try:
            reply.msg  # noqa: B018 - parses the bytes; the message is reordered in place
        except PluginError:
            return reply
        self._reorder_msg(reply, qtype)
        return reply

    def _reorder_msg(self, reply: Reply, qtype: int) -> None:
        msg = reply.msg
        owners = self.weights is not None and qtype in WEIGHTED_TYPES
        if qtype in ANSWER_TYPES and len(msg.rr) > 1:
            order = self.order(_recs(msg.rr, owners), qtype)
            msg.rr = [msg.rr[rec.ref] for rec in order]
        if len(msg.ar) > 1:
            order = self.order(_recs(msg.ar, owners), qtype)
            msg.ar = [msg.ar[rec.ref] for rec in order]


def _recs(rrs: list[RR], owners: bool) -> list[Rec]:
    out: list[Rec] = []
    for i, rr in enumerate(rrs):
        t = rr.rtype
        if t == TYPE_A or t == TYPE_AAAA:
            ip = bytes(rr.rdata.data)
            owner = tuple(label.lower() for label in rr.rname.label) if owners else ()
            out.append(Rec(t, ip, i, owner))
        else:
            out.append(Rec(t, b"", i))
    return out
