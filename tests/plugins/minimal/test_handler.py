"""Handler of *minimal*: one row per canned reply, as a message and as bytes.

Each row: the question, the reply the next plugin gives (rcode, sections as zone-file
text), and the sections the client gets. CoreDNS's own cases are here (a plain answer, a
delegation, a SERVFAIL with records), plus denials, EDNS, DNSSEC validity and transfers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import dns.message
import pytest
from dnslib import EDNS0, RR, DNSRecord, EDNSOption

from dnsd.plugins.minimal.handler import Minimal
from dnsd.plugins.minimal.typify import Facts, Kind, read_wire, typify, valid
from dnsd.reply import Reply
from dnsd.request import Request
from tests.handlers import lines, request

A = "example.com. 293 IN A 142.250.76.46"
NS = [f"example.com. 157127 IN NS ns{i}.example.com." for i in (1, 2)]
GLUE = ["ns1.example.com. 316273 IN A 216.239.34.10", "ns2.example.com. 157127 IN A 216.239.36.10"]
SOA = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
DELEG = ["sub.example.com. 3600 IN NS ns.sub.example.com."]
DELEG_GLUE = ["ns.sub.example.com. 3600 IN A 192.0.2.53"]
NOW = int(time.time())


def stamp(t: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


SIG = "example.com. 293 IN RRSIG A 8 2 293 {} {} 1 example.com. AAAA"
SIG_OK = SIG.format(stamp(NOW + 86400), stamp(NOW - 86400))
SIG_OLD = SIG.format(stamp(NOW - 3600), stamp(NOW - 86400))


@dataclass(frozen=True)
class Case:
    id: str
    qname: str = "example.com."
    qtype: str = "A"
    rcode: int = 0
    answer: list[str] = field(default_factory=lambda: [A])
    ns: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    #: The reply carries an OPT record with these flags ("do" or "").
    opt: str | None = None
    opcode: int = 0
    #: What the client gets: None means the reply as it was.
    want_ns: list[str] | None = None
    want_extra: list[str] | None = None


CASES = [
    Case("answer-with-extra", extra=GLUE, want_ns=[], want_extra=[]),
    Case("answer-with-ns-and-extra", ns=NS, extra=GLUE, want_ns=[], want_extra=[]),
    Case("answer-only-unchanged"),
    Case("noerror-empty-no-soa", answer=[], extra=GLUE, want_ns=[], want_extra=[]),
    Case("delegation-kept", answer=[], ns=DELEG, extra=DELEG_GLUE),
    Case("nodata-kept", qtype="AAAA", answer=[], ns=[SOA], extra=GLUE),
    Case("nxdomain-kept", qname="nx.example.com.", rcode=3, answer=[], ns=[SOA], extra=GLUE),
    Case("servfail-kept", rcode=2, ns=NS, extra=GLUE),
    Case("refused-kept", rcode=5, answer=[], ns=NS, extra=GLUE),
    Case("nxdomain-without-soa-kept", rcode=3, answer=[], extra=GLUE),
    Case("opt-kept", ns=NS, extra=GLUE, opt="", want_ns=[], want_extra=[]),
    Case("do-valid-sig", answer=[A, SIG_OK], ns=NS, opt="do", want_ns=[], want_extra=[]),
    Case("do-expired-sig-kept", answer=[A, SIG_OLD], ns=NS, opt="do"),
    Case("no-do-expired-sig", answer=[A, SIG_OLD], ns=NS, opt="", want_ns=[], want_extra=[]),
    Case("notify-kept", opcode=4, ns=NS, extra=GLUE),
]


def canned(req: Request, case: Case) -> DNSRecord:
    msg = req.reply(rcode=case.rcode, aa=True)
    msg.header.opcode = case.opcode
    for line in case.answer:
        msg.add_answer(*RR.fromZone(line))
    for line in case.ns:
        msg.add_auth(*RR.fromZone(line))
    for line in case.extra:
        msg.add_ar(*RR.fromZone(line))
    if case.opt is not None:
        msg.add_ar(EDNS0(udp_len=4096, flags=case.opt, opts=[EDNSOption(15, b"\x00\x03")]))
    return msg


async def run(case: Case, form: str) -> tuple[Reply, DNSRecord]:
    req = request(case.qname, case.qtype)
    sent = canned(req, case)
    wire = bytes(sent.pack())

    async def next(r: Request) -> Reply | None:
        if form == "wire":
            return Reply(wire=wire, plugin="stub")
        return Reply(DNSRecord.parse(wire), plugin="stub")

    reply = await Minimal().serve(req, next)
    assert reply is not None
    return reply, sent


def sections(reply: Reply) -> dns.message.Message:
    wire = reply.wire if reply.wire is not None else bytes(reply.msg.pack())
    return dns.message.from_wire(wire)


@pytest.mark.parametrize("form", ["msg", "wire"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case, form: str) -> None:
    reply, sent = await run(case, form)
    got = sections(reply)
    assert got.rcode() == case.rcode
    assert got.opcode() == case.opcode
    assert lines(got.answer) == sorted(case.answer)
    want_ns = case.ns if case.want_ns is None else case.want_ns
    want_extra = case.extra if case.want_extra is None else case.want_extra
    assert lines(got.authority) == sorted(want_ns)
    assert lines(got.additional) == sorted(want_extra)
    if case.opt is None:
        assert got.edns == -1
    else:  # the OPT stays, with its options (the server then scrubs it for the client)
        assert got.edns == 0
        assert [opt.otype for opt in got.options] == [15]
    assert reply.plugin == "stub"


async def test_zone_transfer_passed_untouched() -> None:
    case = Case("axfr", qtype="AXFR", ns=NS, extra=GLUE)
    reply, _ = await run(case, "msg")
    got = sections(reply)
    assert lines(got.authority) == sorted(NS)


@pytest.mark.parametrize("form", ["msg", "wire"])
async def test_memo_handed_on(form: str) -> None:
    """A shortened reply keeps the answering plugin's memo check; a timed one loses it."""

    def check() -> bool:
        return True

    for case, kept in [
        (Case("cut", ns=NS, extra=GLUE), True),
        (Case("unchanged"), True),
        (Case("signed", answer=[A, SIG_OK], ns=NS, opt="do"), False),
    ]:
        req = request(case.qname, case.qtype)
        wire = bytes(canned(req, case).pack())

        async def next(r: Request, wire: bytes = wire) -> Reply | None:
            reply = Reply(wire=wire) if form == "wire" else Reply(DNSRecord.parse(wire))
            reply.memo = check
            return reply

        reply = await Minimal().serve(req, next)
        assert reply is not None
        assert (reply.memo is check) == kept, case.id


@pytest.mark.parametrize("reply", [None, Reply.dropped("stub")])
async def test_nothing_to_shorten(reply: Reply | None) -> None:
    async def next(r: Request) -> Reply | None:
        return reply

    assert await Minimal().serve(request("example.com.", "A"), next) is reply


HEADER = b"\x00\x01\x81\x80\x00\x01\x00\x01\x00\x01\x00\x00"
UNREADABLE = [
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00" * 11, id="short-header"),
    pytest.param(HEADER + b"\x07example", id="name-runs-out"),
    pytest.param(HEADER + b"\x00\x00\x01\x00\x01" + b"\x00\x00\x01\x00\x01", id="rr-cut"),
    pytest.param(HEADER + b"\x80", id="bad-label-type"),
]


@pytest.mark.parametrize("wire", UNREADABLE)
async def test_unreadable_bytes_pass_unchanged(wire: bytes) -> None:
    assert read_wire(wire) is None

    async def next(r: Request) -> Reply | None:
        return Reply(wire=wire)

    reply = await Minimal().serve(request("example.com.", "A"), next)
    assert reply is not None and reply.wire == wire


@dataclass(frozen=True)
class ValidityCase:
    id: str
    inception: int
    expiration: int
    now: int
    want: bool


VALIDITY = [
    ValidityCase("inside", 100, 200, 150, True),
    ValidityCase("at-inception", 100, 200, 100, True),
    ValidityCase("at-expiration", 100, 200, 200, True),
    ValidityCase("before", 100, 200, 99, False),
    ValidityCase("after", 100, 200, 201, False),
    # miekg/dns's ValidityPeriod: times more than 2**31 s away are moved by 2**31 s (Go's
    # division truncates toward zero), so this window lies even further ahead.
    ValidityCase("far-future-inception", NOW + 2**31 + 10, NOW + 2**31 + 20, NOW, False),
    ValidityCase("before-by-more-than-2**31", 100, 200, 2**31 + 150, False),
]


@pytest.mark.parametrize("case", VALIDITY, ids=lambda c: c.id)
def test_signature_validity(case: ValidityCase) -> None:
    assert valid(case.inception, case.expiration, case.now) is case.want


def test_update_is_not_noerror() -> None:
    """UPDATE replies (dnspython will not read one back with these sections) stay whole."""
    facts = Facts(opcode=5, qtype=6, rcode=0, answers=1, authority=(2,), do=False)
    assert typify(facts, NOW) is Kind.UPDATE


def test_extended_rcode_is_not_noerror() -> None:
    """BADVERS is 16: header rcode 0, extended bits 1 in the OPT; not a success."""
    facts = Facts(opcode=0, qtype=1, rcode=16, answers=1, authority=(), do=False)
    assert typify(facts, NOW) is Kind.OTHERERROR
