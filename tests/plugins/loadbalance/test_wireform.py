"""Reordering encoded records by slicing, and when it refuses to."""

from __future__ import annotations

import random

import dns.message
import pytest
from dnslib import RR, DNSRecord

from dnsd.plugins.loadbalance import wireform
from dnsd.plugins.loadbalance.policy import Rec


def message(qname: str, answer: list[str], extra: list[str] | None = None) -> bytes:
    msg = DNSRecord.question(qname, "A").reply()
    for line in answer:
        msg.add_answer(*RR.fromZone(line))
    for line in extra or []:
        msg.add_ar(*RR.fromZone(line))
    return bytes(msg.pack())


Sections = tuple[list[wireform.Span], list[wireform.Span], list[wireform.Span]]


def order(wire: bytes, refs: list[int]) -> tuple[list[Rec], Sections]:
    sections = wireform.scan(wire)
    recs = wireform.recs(wire, sections[0], owners=True)
    return [recs[i] for i in refs], sections


SAME_OWNER = [f"www.example.org. 60 IN A 10.0.0.{i}" for i in (1, 2, 3)]
OTHER_OWNER = [f"a.example.org. 60 IN A 10.0.0.{i}" for i in (1, 2, 3)]
CNAME = ["www.example.org. 60 IN CNAME a.example.org.", *OTHER_OWNER]

CASES = {
    # name: (answer, new order, sliced (True) or refused (False))
    "owners-point-to-question": (SAME_OWNER, [2, 0, 1], True),
    "identity": (OTHER_OWNER, [0, 1, 2], True),
    "owners-point-into-a-moved-record": (OTHER_OWNER, [1, 0, 2], False),
    "later-records-only-move": (OTHER_OWNER, [0, 2, 1], True),
    "owners-point-into-the-cname-that-stays": (CNAME, [0, 3, 1, 2], True),
}


@pytest.mark.parametrize(("answer", "refs", "sliced"), CASES.values(), ids=CASES.keys())
def test_reorder(answer: list[str], refs: list[int], sliced: bool) -> None:
    wire = message("www.example.org", answer)
    new_order, sections = order(wire, refs)
    out = wireform.reorder(wire, sections, new_order, None)
    if not sliced:
        assert out is None
        return
    assert out is not None and len(out) == len(wire)
    if refs == sorted(refs):
        assert out is wire
    got = dns.message.from_wire(out)
    want = dns.message.from_wire(wire)
    rrs = [(rrset.name, rr) for rrset in want.answer for rr in rrset]
    assert [(rrset.name, rr) for rrset in got.answer for rr in rrset] == [rrs[i] for i in refs]


def test_owner_names_follow_pointers_lowercased() -> None:
    wire = message("www.example.org", ["WWW.Example.ORG. 60 IN A 10.0.0.1", *OTHER_OWNER])
    sections = wireform.scan(wire)
    owners = [rec.owner for rec in wireform.recs(wire, sections[0], owners=True)]
    assert owners[0] == (b"www", b"example", b"org")
    assert owners[1:] == [(b"a", b"example", b"org")] * 3


@pytest.mark.parametrize("cut", [5, 12, 40, -3])
def test_malformed_is_refused(cut: int) -> None:
    wire = message("www.example.org", SAME_OWNER)
    with pytest.raises(ValueError):
        wireform.scan(wire[:cut])


def test_unknown_types_after_the_move_are_refused() -> None:
    """A type whose data might hold a compressed name we cannot locate: never sliced."""
    wire = message(
        "www.example.org",
        SAME_OWNER,
        ["x.example.org. 60 IN NAPTR 1 1 S SIP+D2U '' _sip._udp.example.org."],
    )
    new_order, sections = order(wire, [1, 0, 2])
    assert wireform.reorder(wire, sections, new_order, None) is None


RRSET = {
    # name: (question, answer, takes the fast path)
    "A-rrset": ("www.example.org", SAME_OWNER, True),
    "AAAA-rrset": (
        "www.example.org",
        [f"www.example.org. 60 IN AAAA 2001:db8::{i}" for i in (1, 2)],
        True,
    ),
    "different-ttls": (
        "www.example.org",
        [f"www.example.org. {i} IN A 10.0.0.{i}" for i in (1, 2)],
        True,
    ),
    "owner-not-the-question": ("www.example.org", OTHER_OWNER, False),
    "cname-first": ("www.example.org", CNAME, False),
    "A-and-AAAA": (
        "www.example.org",
        [SAME_OWNER[0], "www.example.org. 60 IN AAAA 2001:db8::1"],
        False,
    ),
    "two-owners": ("www.example.org", [SAME_OWNER[0], "example.org. 60 IN A 10.0.0.9"], False),
}


@pytest.mark.parametrize(("qname", "answer", "fast"), RRSET.values(), ids=RRSET.keys())
def test_shuffle_rrset(qname: str, answer: list[str], fast: bool) -> None:
    wire = message(qname, answer)
    rng = random.Random(3)
    out = wireform.shuffle_rrset(wire, rng)
    if not fast:
        assert out is None
        return
    want = dns.message.from_wire(wire)
    seen = set()
    for _ in range(50):
        out = wireform.shuffle_rrset(wire, rng)
        assert out is not None and len(out) == len(wire)
        got = dns.message.from_wire(out)
        assert got.answer == want.answer  # the same RRset (dnspython compares as sets)
        seen.add(out)
    assert len(seen) == 2 if len(answer) == 2 else len(seen) == 6
