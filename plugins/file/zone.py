"""One loaded zone and its lookup (CoreDNS's plugin/file lookup.go, with RFC 4592 wildcards).

::

    zone = Zone(parsed)                 # from zonefile.read(); immutable afterwards
    answer = zone.lookup(qname, qtype)  # qname: lowercase labels inside the zone

What a lookup answers, walking the labels from the origin down to the name:

- a name with NS records below the origin (a zone cut) ends the walk: a *referral*, not
  authoritative, with the NS records in the authority section and the addresses of the name
  servers below the cut (glue) in the additional section. A DS question for the cut itself is
  answered from this zone (DS records live on the parent's side);
- a DNAME above the name: the DNAME, a CNAME synthesized from it (RFC 6672; YXDOMAIN when the new
  name would be too long) and the chase of its target;
- the name itself: its records of the type, with the apex NS records in the authority section and,
  for MX and SRV, the addresses of targets inside the zone in the additional section; the apex NS
  question gets the glue instead of the authority section. A CNAME is followed inside the zone,
  through CNAMEs, DNAMEs and wildcards (at most :data:`MAX_CHAIN` steps, loops stop); a target
  outside the zone is left to the server (:attr:`Answer.lookups`). ANY returns every record of
  the name. No records of the type: NODATA, the SOA in the authority section;
- a name that does not exist but has names below it (an empty non-terminal): NODATA;
- a name that does not exist: the wildcard ``*.<closest encloser>`` answers when it exists, with
  the records' owner set to the name (RFC 4592: only the closest encloser's wildcard, and an
  empty non-terminal blocks it); else NXDOMAIN with the SOA.

Negative answers carry the SOA with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 section 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from dnslib import CNAME, RR, DNSLabel

from dnsd.authoritative import Answer
from dnsd.encode import name_text
from dnsd.plugins.file.zonefile import Name, Parsed

__all__ = ["MAX_CHAIN", "Answer", "Zone"]

A_, NS_, CNAME_, SOA_, MX_, AAAA_, SRV_, DNAME_, DS_, ANY_ = 1, 2, 5, 6, 15, 28, 33, 39, 43, 255
NOERROR, NXDOMAIN, YXDOMAIN = 0, 3, 6
IN = 1
#: CNAME and DNAME steps followed inside the zone (CoreDNS's maxChain).
MAX_CHAIN = 8
_WILD = b"*"


class _Node:
    """The records of one name, by type, and the names their rdata point to."""

    __slots__ = ("rrsets", "targets")

    def __init__(self) -> None:
        self.rrsets: dict[int, list[RR]] = {}
        self.targets: dict[int, list[Name]] = {}


class _Kind(Enum):
    EXACT = 1  # the name exists (node None: an empty non-terminal)
    WILDCARD = 2  # the node is the wildcard that covers the name
    CUT = 3  # the node is a zone cut at or above the name (owner: the cut)
    DNAME = 4  # the node holds a DNAME strictly above the name (owner: the DNAME's owner)
    NONE = 5  # the name does not exist


@dataclass(slots=True)
class _Found:
    kind: _Kind
    node: _Node | None = None
    owner: Name = ()


class Zone:
    """The records of one zone, indexed by name."""

    def __init__(self, parsed: Parsed) -> None:
        self.origin: Name = parsed.origin
        self.serial = parsed.serial
        self._nodes: dict[Name, _Node] = {}
        for rec in parsed.records:
            node = self._nodes.get(rec.owner)
            if node is None:
                node = self._nodes[rec.owner] = _Node()
            node.rrsets.setdefault(rec.rtype, []).append(rec.rr)
            if rec.target is not None:
                node.targets.setdefault(rec.rtype, []).append(rec.target)
        apex = self._nodes[self.origin]
        self.soa: RR = apex.rrsets[SOA_][0]
        self.ns: list[RR] = apex.rrsets.get(NS_, [])
        minimum = int(self.soa.rdata.times[4])
        self.negative_soa = RR(self.soa.rname, SOA_, IN, min(self.soa.ttl, minimum), self.soa.rdata)
        #: Names with no records but names below them (empty non-terminals).
        self._ents = frozenset(self._empty_non_terminals())

    @property
    def origin_text(self) -> str:
        return name_text(self.origin)

    def _empty_non_terminals(self) -> Iterable[Name]:
        depth = len(self.origin)
        for owner in self._nodes:
            for i in range(1, len(owner) - depth):
                if owner[i:] not in self._nodes:
                    yield owner[i:]

    def contains(self, name: Name) -> bool:
        """True when ``name`` is the origin or below it."""
        n = len(self.origin)
        return n == 0 or (len(name) >= n and name[-n:] == self.origin)

    # -- lookup ---------------------------------------------------------------------------------

    def lookup(self, qname: Name, qtype: int) -> Answer:
        """The answer for ``qname`` (lowercase labels, inside the zone) and ``qtype``."""
        found = self._find(qname, qtype)
        if found.kind is _Kind.CUT:
            assert found.node is not None
            return self._referral(found.node, found.owner)
        if found.kind is _Kind.NONE:
            return Answer(NXDOMAIN, authority=[self.negative_soa])
        answer = Answer(NOERROR)
        if found.kind is _Kind.DNAME:
            self._chase(qname, qtype, answer, set())
            return answer
        node = found.node
        if node is None:  # an empty non-terminal
            return self._nodata()
        own = qname if found.kind is _Kind.WILDCARD else None
        if qtype == ANY_:
            answer.answer = _owned([rr for rrs in node.rrsets.values() for rr in rrs], own)
        elif CNAME_ in node.rrsets and qtype != CNAME_:
            answer.answer = _owned(node.rrsets[CNAME_], own)
            self._chase(node.targets[CNAME_][0], qtype, answer, {qname})
            return answer
        else:
            rrs = node.rrsets.get(qtype)
            if not rrs:
                return self._nodata()
            answer.answer = _owned(rrs, own)
            if qtype == NS_ and qname == self.origin:
                answer.extra = self._glue(node.targets[NS_], self.origin)
                return answer  # CoreDNS: no authority section here
            if qtype in (MX_, SRV_):
                answer.extra = self._addresses(node.targets[qtype])
        answer.authority = list(self.ns)
        return answer

    def _find(self, qname: Name, qtype: int) -> _Found:
        """Walk from the origin down to ``qname``: the first cut or DNAME on the way, or how
        the name itself exists."""
        depth = len(self.origin)
        nodes = self._nodes
        for n in range(depth + 1, len(qname) + 1):
            name = qname[len(qname) - n :]
            node = nodes.get(name)
            if node is None:
                if name in self._ents:
                    continue
                wildcard = nodes.get((_WILD, *name[1:]))
                if wildcard is not None:
                    return _Found(_Kind.WILDCARD, wildcard, (_WILD, *name[1:]))
                return _Found(_Kind.NONE)
            last = n == len(qname)
            if not last and DNAME_ in node.rrsets:
                return _Found(_Kind.DNAME, node, name)
            if NS_ in node.rrsets and not (last and qtype == DS_):
                return _Found(_Kind.CUT, node, name)
        if len(qname) == depth:
            return _Found(_Kind.EXACT, nodes[self.origin], qname)
        return _Found(_Kind.EXACT, nodes.get(qname), qname)

    def _nodata(self) -> Answer:
        return Answer(NOERROR, authority=[self.negative_soa])

    def _referral(self, cut: _Node, owner: Name) -> Answer:
        glue = self._glue(cut.targets[NS_], owner)
        return Answer(NOERROR, authority=list(cut.rrsets[NS_]), extra=glue, referral=True)

    def _glue(self, targets: Sequence[Name], below: Name) -> list[RR]:
        """A and AAAA records of the name servers named below ``below`` (CoreDNS's Glue)."""
        n = len(below)
        inside = [t for t in targets if n == 0 or t[-n:] == below]
        return self._addresses(inside)

    def _addresses(self, targets: Sequence[Name]) -> list[RR]:
        """A then AAAA records of each target that is a name of this zone, once per name."""
        out: list[RR] = []
        seen: set[Name] = set()
        for target in targets:
            if target in seen or not self.contains(target):
                continue
            seen.add(target)
            node = self._nodes.get(target)
            if node is not None:
                out.extend(node.rrsets.get(A_, ()))
                out.extend(node.rrsets.get(AAAA_, ()))
        return out

    # -- CNAME and DNAME ------------------------------------------------------------------------

    def _chase(self, target: Name, qtype: int, answer: Answer, seen: set[Name]) -> None:
        """Follow ``target`` inside the zone, adding what it holds to ``answer``; a target
        outside the zone goes to ``answer.lookups``. Stops where nothing (more) is found."""
        answer.authority = list(self.ns)
        name: Name | None = target
        for _ in range(MAX_CHAIN + 1):
            if name is None:
                return
            if not self.contains(name):
                answer.lookups.append((name_text(name), qtype, False))
                return
            if name in seen:
                return  # a loop
            seen.add(name)
            found = self._find(name, qtype)
            node = found.node
            if found.kind is _Kind.DNAME:
                assert node is not None
                dname = node.rrsets[DNAME_][0]
                answer.answer.append(dname)
                new = _substitute(name, found.owner, node.targets[DNAME_][0])
                if new is None:
                    answer.rcode = YXDOMAIN  # RFC 6672 section 2.2
                    answer.authority = []
                    return
                answer.answer.append(RR(_label(name), CNAME_, IN, dname.ttl, CNAME(_label(new))))
                name = new
                continue
            if node is None or found.kind not in (_Kind.EXACT, _Kind.WILDCARD):
                return  # no such name, an empty non-terminal, or below a zone cut
            following: Name | None = None
            if CNAME_ in node.rrsets and qtype != CNAME_:
                rrs, following = node.rrsets[CNAME_], node.targets[CNAME_][0]
            else:
                rrs = node.rrsets.get(qtype, [])
            answer.answer.extend(_owned(rrs, name if found.kind is _Kind.WILDCARD else None))
            name = following


def _label(name: Name) -> DNSLabel:
    return DNSLabel(list(name))


def _owned(rrs: Sequence[RR], owner: Name | None) -> list[RR]:
    """``rrs``, or copies owned by ``owner`` (records synthesized from a wildcard)."""
    if owner is None:
        return list(rrs)
    label = _label(owner)
    return [RR(label, rr.rtype, rr.rclass, rr.ttl, rr.rdata) for rr in rrs]


def _substitute(name: Name, owner: Name, target: Name) -> Name | None:
    """``name`` with its suffix ``owner`` replaced by ``target``; None when too long."""
    new = name[: len(name) - len(owner)] + target
    if sum(len(label) + 1 for label in new) + 1 > 255:
        return None
    return new
