"""Handler of *header*: one row per rule set and query, replies as messages and as bytes.

Each row: the rules, the query's RD bit, the flags the next plugin sees on the query, and
the reply's flags and rcode as the client reads them (the answer must come through whole).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.flags
import dns.message
import pytest
from dnslib import RR, A, DNSLabel, DNSRecord

from dnsd.plugins.header.flags import Masks, Rule, masks
from dnsd.plugins.header.handler import Header
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query
from tests.handlers import lines

AA, RA, RD = "aa", "ra", "rd"


def rules(text: str) -> tuple[Rule, ...]:
    """``"+aa -rd"``: set aa, clear rd."""
    return tuple(Rule(word[1:], word[0] == "+") for word in text.split())


@dataclass(frozen=True)
class Case:
    id: str
    query: str = ""  # query rules, "+rd -rd"
    response: str = ""  # response rules
    rd: bool = True  # the client's RD bit
    aa: bool = False  # the next plugin answers authoritatively
    rcode: int = 0
    #: RD as the next plugin sees it on the query.
    want_query_rd: bool = True
    #: The reply's flags (of aa, ra, rd) as the client gets them.
    want: frozenset[str] = frozenset()


CASES = [
    Case("no-rules", want=frozenset({RD})),
    Case("set-ra", response="+ra", want=frozenset({RA, RD})),
    Case("set-ra-aa-clear-rd", response="+ra +aa -rd", want=frozenset({RA, AA})),
    Case("clear-aa", response="-aa", aa=True, want=frozenset({RD})),
    Case("keep-aa", aa=True, want=frozenset({AA, RD})),
    Case("last-rule-wins", response="+ra -ra", want=frozenset({RD})),
    Case("last-rule-wins-set", response="-ra +ra", want=frozenset({RA, RD})),
    Case("nxdomain-too", response="+ra", rcode=3, want=frozenset({RA, RD})),
    Case("servfail-too", response="+aa", rcode=2, want=frozenset({AA, RD})),
    Case("query-clear-rd", query="-rd", want_query_rd=False, want=frozenset()),
    Case("query-set-rd", query="+rd", rd=False, want_query_rd=True, want=frozenset({RD})),
    Case("query-untouched", rd=False, want_query_rd=False, want=frozenset()),
    Case("query-set-rd-response-clear", query="+rd", response="-rd", rd=False, want=frozenset()),
    Case("response-rd-not-query", response="-rd", want_query_rd=True, want=frozenset()),
]

ANSWER = "example.org. 0 IN A 192.0.2.1"


def request(rd: bool) -> Request:
    q = dns.message.make_query("example.org", "A")
    if not rd:
        q.flags &= ~dns.flags.RD
    return parse_query(q.to_wire(), Request).init("192.0.2.1", 5353, "udp", "::", "dns://:53")


@pytest.mark.parametrize("form", ["msg", "wire"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case, form: str) -> None:
    req = request(case.rd)
    seen: list[tuple[bool, bytes]] = []

    async def next(r: Request) -> Reply | None:
        seen.append((r.rd, r.wire))
        msg = r.reply(rcode=case.rcode, aa=case.aa)  # RD copied from the query, as miekg does
        msg.add_answer(RR(DNSLabel("example.org."), 1, 1, 0, A("192.0.2.1")))
        if form == "wire":
            return Reply(wire=bytes(msg.pack()), plugin="stub")
        return Reply(msg, plugin="stub")

    reply = await Header(rules(case.query), rules(case.response)).serve(req, next)
    assert reply is not None
    [(query_rd, query_wire)] = seen
    assert query_rd == case.want_query_rd
    assert bool(dns.message.from_wire(query_wire).flags & dns.flags.RD) == case.want_query_rd
    wire = reply.wire if reply.wire is not None else bytes(reply.msg.pack())
    got = dns.message.from_wire(wire)
    flags = {AA: dns.flags.AA, RA: dns.flags.RA, RD: dns.flags.RD}
    assert {name for name, bit in flags.items() if got.flags & bit} == case.want
    assert got.flags & dns.flags.QR
    assert got.rcode() == case.rcode
    assert lines(got.answer) == [ANSWER]
    assert reply.plugin == "stub"


def test_query_rules_rebuild_the_message() -> None:
    """``req.msg``, built on demand from the query, shows the changed flags too."""
    req = request(True)
    assert req.msg.header.rd == 1
    req.set_flags(req.flags & ~0x0100)
    assert req.msg.header.rd == 0
    assert DNSRecord.parse(req.wire).header.rd == 0
    assert req.reply().header.rd == 0


@pytest.mark.parametrize("form", ["msg", "wire"])
async def test_memo_handed_on(form: str) -> None:
    def check() -> bool:
        return True

    async def next(r: Request) -> Reply | None:
        msg = r.reply()
        reply = Reply(wire=bytes(msg.pack())) if form == "wire" else Reply(msg)
        reply.memo = check
        return reply

    for response in ("+ra", "+rd", ""):  # changed, unchanged (RD already set), no rules
        reply = await Header((), rules(response)).serve(request(True), next)
        assert reply is not None and reply.memo is check


@pytest.mark.parametrize("reply", [None, Reply.dropped("stub"), Reply(wire=b"\x00")])
async def test_nothing_to_change(reply: Reply | None) -> None:
    async def next(r: Request) -> Reply | None:
        return reply

    assert await Header((), rules("+ra")).serve(request(True), next) is reply


@dataclass(frozen=True)
class MaskCase:
    id: str
    rules: str
    want: Masks


MASKS = [
    MaskCase("none", "", Masks(0, 0)),
    MaskCase("set", "+aa +ra", Masks(0x0480, 0)),
    MaskCase("clear", "-rd", Masks(0, 0x0100)),
    MaskCase("set-then-clear", "+rd -rd", Masks(0, 0x0100)),
    MaskCase("clear-then-set", "-rd +rd", Masks(0x0100, 0)),
]


@pytest.mark.parametrize("case", MASKS, ids=lambda c: c.id)
def test_masks(case: MaskCase) -> None:
    assert masks(rules(case.rules)) == case.want
