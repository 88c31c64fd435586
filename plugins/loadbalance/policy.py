"""The orderings of *loadbalance*, on a section's records, with no wire or dnslib knowledge.

Each function takes the records of one section (answer or additional) and
returns them in their new order, following CoreDNS's functions one for one:

* :func:`round_robin` (``roundRobin``): CNAMEs first in their order, then the
  other records in their order, then the A and AAAA records shuffled together,
  then the MX records shuffled.
* :func:`weighted` (``weightedRoundRobin``): same grouping, but only the first
  address is chosen, by weight; the others keep their order. A section without
  addresses is left as it is.
* :func:`prefer` (``reorderRecords``): CNAMEs, then the addresses inside the
  preferred subnets (in the order the subnets are listed), then the other
  addresses, then MX, then the rest.

OPT and TSIG records keep their place: they are not data, and TSIG must stay last.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

TYPE_A, TYPE_CNAME, TYPE_MX, TYPE_AAAA = 1, 5, 15, 28
#: Records that never move (EDNS OPT, TSIG).
PINNED = frozenset({41, 250})

#: An owner name as its lowercased labels, without the root label.
Owner = tuple[bytes, ...]
#: Weights of one domain: address (4 or 16 bytes) -> weight 1..255.
DomainWeights = Mapping[bytes, int]
#: A preferred subnet: (address length in bytes, network as an int, mask as an int).
Subnet = tuple[int, int, int]


class Rec:
    """One record as the orderings see it; ``ref`` is its index in the section."""

    __slots__ = ("rtype", "ip", "owner", "ref")

    def __init__(self, rtype: int, ip: bytes, ref: int, owner: Owner = ()) -> None:
        self.rtype = rtype
        #: The address of an A/AAAA record (4 or 16 bytes), else empty.
        self.ip = ip
        #: Filled for addresses when weights are used.
        self.owner = owner
        self.ref = ref

    def __repr__(self) -> str:
        return f"Rec({self.rtype}, {self.ip!r}, {self.ref})"


Groups = tuple[list[Rec], list[Rec], list[Rec], list[Rec]]


def group(recs: Sequence[Rec]) -> Groups:
    """(cname, address, mx, rest), each in section order."""
    cname: list[Rec] = []
    address: list[Rec] = []
    mx: list[Rec] = []
    rest: list[Rec] = []
    for rec in recs:
        t = rec.rtype
        if t == TYPE_A or t == TYPE_AAAA:
            address.append(rec)
        elif t == TYPE_CNAME:
            cname.append(rec)
        elif t == TYPE_MX:
            mx.append(rec)
        else:
            rest.append(rec)
    return cname, address, mx, rest


def round_robin(recs: Sequence[Rec], rng: random.Random) -> list[Rec]:
    """Uniformly shuffled addresses and MX records, CNAMEs first."""
    cname, address, mx, rest = group(recs)
    if len(address) > 1:
        rng.shuffle(address)
    if len(mx) > 1:
        rng.shuffle(mx)
    return cname + rest + address + mx


def weighted(
    recs: Sequence[Rec], weights: Mapping[Owner, DomainWeights], rng: random.Random
) -> list[Rec]:
    """One address, picked by weight (default 1), moved to the front of the addresses."""
    cname, address, mx, rest = group(recs)
    if not address:
        return list(recs)
    top = pick(address, weights, rng)
    if top:
        address[0], address[top] = address[top], address[0]
    return cname + rest + address + mx


def pick(address: Sequence[Rec], weights: Mapping[Owner, DomainWeights], rng: random.Random) -> int:
    """Index of an address drawn with probability weight / sum of weights."""
    values = [weights.get(rec.owner, {}).get(rec.ip, 1) for rec in address]
    draw = rng.randrange(sum(values))
    for i, value in enumerate(values):
        draw -= value
        if draw < 0:
            return i
    return 0  # not reached


def prefer(recs: Sequence[Rec], subnets: Sequence[Subnet]) -> list[Rec]:
    """Addresses in ``subnets`` first (subnet order, then section order), CNAMEs before all."""
    cname, address, mx, rest = group(recs)
    if not address:
        return cname + mx + rest
    matched: list[Rec] = []
    taken = [False] * len(address)
    for size, net, mask in subnets:
        for i, rec in enumerate(address):
            if not taken[i] and _contains(size, net, mask, rec.ip):
                matched.append(rec)
                taken[i] = True
    unmatched = [rec for i, rec in enumerate(address) if not taken[i]]
    return cname + matched + unmatched + mx + rest


_V4_MAPPED = bytes(10) + b"\xff\xff"


def _contains(size: int, net: int, mask: int, ip: bytes) -> bool:
    if len(ip) != size:
        if size == 4 and len(ip) == 16 and ip[:12] == _V4_MAPPED:
            ip = ip[12:]  # Go's IPNet.Contains takes an IPv4-mapped address as IPv4
        else:
            return False
    return int.from_bytes(ip, "big") & mask == net


def keep_pinned(recs: list[Rec], order: Callable[[list[Rec]], list[Rec]]) -> list[Rec]:
    """``order(recs)``, with OPT and TSIG records left where they were."""
    if not any(rec.rtype in PINNED for rec in recs):
        return order(recs)
    moved = iter(order([rec for rec in recs if rec.rtype not in PINNED]))
    return [rec if rec.rtype in PINNED else next(moved) for rec in recs]
