"""Handler of *any*: the RFC 8482 HINFO for ANY, everything else passed on."""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rdataclass
import dns.rdatatype
import pytest
from dnslib import RR, A, DNSLabel

from dnsd.plugins.any.handler import HINFO, Any, character_string
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query


def request(qname: str, qtype: str, qclass: str = "IN") -> Request:
    q = dns.message.make_query(qname, qtype, qclass)
    return parse_query(q.to_wire(), Request).init("192.0.2.1", 5353, "udp", "::", "dns://:53")


async def next_answers(req: Request) -> Reply | None:
    msg = req.reply(aa=True)
    msg.add_answer(RR(DNSLabel(list(req.labels)), 1, 1, 60, A("10.0.0.1")))
    return Reply(msg)


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str
    qclass: str = "IN"
    answer: list[str] = field(default_factory=list)
    aa: bool = False


CASES = [
    Case(
        "any",
        "example.org.",
        "ANY",
        answer=['example.org. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"'],
    ),
    Case(
        "any-case-kept",
        "WWW.Example.ORG.",
        "ANY",
        answer=['WWW.Example.ORG. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"'],
    ),
    Case(
        "any-root",
        ".",
        "ANY",
        answer=['. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"'],
    ),
    Case(
        "any-class-ch-answers-in",
        "version.bind.",
        "ANY",
        qclass="CH",
        answer=['version.bind. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"'],
    ),
    Case("a-goes-next", "example.org.", "A", answer=["example.org. 60 IN A 10.0.0.1"], aa=True),
    Case(
        "hinfo-goes-next",
        "example.org.",
        "HINFO",
        answer=["example.org. 60 IN A 10.0.0.1"],
        aa=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    req = request(case.qname, case.qtype, case.qclass)
    reply = await Any().serve(req, next_answers)
    assert reply is not None
    wire = bytes(reply.msg.pack())
    msg = dns.message.from_wire(wire)  # dnspython parses the HINFO rdata we packed
    assert msg.id == req.id
    got = [
        f"{rrset.name} {rrset.ttl} {dns.rdataclass.to_text(rrset.rdclass)} "
        f"{dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}"
        for rrset in msg.answer
        for rd in rrset
    ]
    assert got == case.answer
    assert bool(msg.flags & dns.flags.AA) == case.aa
    assert msg.authority == [] and msg.additional == []
    assert str(msg.question[0].name) == case.qname


def test_hinfo_rdata_bytes() -> None:
    rd = HINFO("ANY obsoleted", "See RFC 8482")
    assert rd.data == b"\x0dANY obsoleted\x0cSee RFC 8482"
    assert repr(rd) == '"ANY obsoleted" "See RFC 8482"'
    assert rd == HINFO("ANY obsoleted", "See RFC 8482")
    assert rd != HINFO("x", "y")


def test_character_string_limit() -> None:
    assert character_string("") == b"\0"
    assert character_string("x" * 255)[0] == 255
    with pytest.raises(ValueError):
        character_string("x" * 256)
