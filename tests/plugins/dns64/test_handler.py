"""The dns64 handler: one row per (options, client, reply to AAAA, reply to A) with the reply the
client reads (dnspython parses the encoded bytes) and whether the A records were asked for.

Replies are given as zone-file text; the A lookup (through the server, in production) is a stub
that records its questions.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import pytest
from dnslib import EDNS0, RR, DNSRecord, EDNSOption
from prometheus_client import REGISTRY

from dnsd.encode import encode_reply
from dnsd.errors import PluginError
from dnsd.plugins.dns64.handler import Dns64
from dnsd.plugins.dns64.setup import Dns64Options
from dnsd.plugins.dns64.synth import embed
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query
from tests.handlers import lines

V6, V4 = "2001:db8::53", "192.0.2.53"
NAME = "www.example.org."
SOA = "example.org. 30 IN SOA ns.example.org. hostmaster.example.org. 1 7200 1800 86400 60"
SOA_LOW_MIN = SOA.replace(" 30 IN", " 3600 IN").replace(" 60", " 5")


@dataclass(frozen=True)
class Canned:
    """A reply a plugin gives: rcode, sections as zone-file text, an EDE info code."""

    rcode: int = 0
    answer: list[str] = field(default_factory=list)
    ns: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    aa: bool = True
    ede: int | None = None

    def build(self, req: Request) -> DNSRecord:
        msg = req.reply(self.rcode, aa=self.aa)
        for text in self.answer:
            msg.add_answer(*RR.fromZone(text))
        for text in self.ns:
            msg.add_auth(*RR.fromZone(text))
        for text in self.extra:
            msg.add_ar(*RR.fromZone(text))
        if self.ede is not None:
            msg.add_ar(EDNS0(udp_len=4096, opts=[EDNSOption(15, self.ede.to_bytes(2, "big"))]))
        return msg


NODATA = Canned(ns=[SOA])
A_ONE = Canned(answer=[f"{NAME} 300 IN A 192.0.2.33"])


@dataclass(frozen=True)
class Case:
    aaaa: Canned
    a: Canned | None = None
    client: str = V6
    qtype: str = "AAAA"
    qclass: str = "IN"
    options: Dns64Options = Dns64Options()
    rcode: str = "NOERROR"
    answer: list[str] = field(default_factory=list)
    ns: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    aa: bool = True
    #: Whether the A records were looked up (and the reply synthesized).
    looked_up: bool = True


def prefix(p: str) -> Dns64Options:
    return Dns64Options(prefix=p)


CASES = {
    "nodata-synthesized-ttl-from-soa": Case(
        NODATA, A_ONE, answer=[f"{NAME} 30 IN AAAA 64:ff9b::c000:221"]
    ),
    "soa-minimum-below-its-ttl": Case(
        Canned(ns=[SOA_LOW_MIN]), A_ONE, answer=[f"{NAME} 5 IN AAAA 64:ff9b::c000:221"]
    ),
    "a-ttl-below-soa": Case(
        NODATA,
        Canned(answer=[f"{NAME} 7 IN A 192.0.2.33"]),
        answer=[f"{NAME} 7 IN AAAA 64:ff9b::c000:221"],
    ),
    "no-soa-caps-at-600": Case(
        Canned(),
        Canned(answer=[f"{NAME} 3000 IN A 192.0.2.33"]),
        answer=[f"{NAME} 600 IN AAAA 64:ff9b::c000:221"],
    ),
    "several-a-records": Case(
        NODATA,
        Canned(answer=[f"{NAME} 300 IN A 10.0.0.1", f"{NAME} 300 IN A 10.0.0.2"]),
        answer=[f"{NAME} 30 IN AAAA 64:ff9b::a00:1", f"{NAME} 30 IN AAAA 64:ff9b::a00:2"],
    ),
    "cname-kept-a-translated": Case(
        NODATA,
        Canned(
            answer=[f"{NAME} 300 IN CNAME lb.example.net.", "lb.example.net. 20 IN A 192.0.2.1"]
        ),
        answer=[
            f"{NAME} 300 IN CNAME lb.example.net.",
            "lb.example.net. 20 IN AAAA 64:ff9b::c000:201",
        ],
    ),
    "authority-and-additional-of-the-a-reply": Case(
        NODATA,
        Canned(
            answer=[f"{NAME} 300 IN A 192.0.2.33"],
            ns=["example.org. 300 IN NS ns.example.org."],
            extra=["ns.example.org. 300 IN A 192.0.2.53"],
            aa=False,
        ),
        answer=[f"{NAME} 30 IN AAAA 64:ff9b::c000:221"],
        ns=["example.org. 300 IN NS ns.example.org."],
        extra=["ns.example.org. 300 IN A 192.0.2.53"],
        aa=False,
    ),
    "aaaa-present-passed": Case(
        Canned(answer=[f"{NAME} 300 IN AAAA 2001:db8::1"]),
        answer=[f"{NAME} 300 IN AAAA 2001:db8::1"],
        looked_up=False,
    ),
    "aaaa-present-translate-all": Case(
        Canned(answer=[f"{NAME} 300 IN AAAA 2001:db8::1"]),
        Canned(answer=[f"{NAME} 900 IN A 192.0.2.33"]),
        options=Dns64Options(translate_all=True),
        answer=[f"{NAME} 600 IN AAAA 64:ff9b::c000:221"],
    ),
    "nxdomain-passed": Case(Canned(rcode=3, ns=[SOA]), rcode="NXDOMAIN", ns=[SOA], looked_up=False),
    "nxdomain-passed-translate-all": Case(
        Canned(rcode=3, ns=[SOA]),
        options=Dns64Options(translate_all=True),
        rcode="NXDOMAIN",
        ns=[SOA],
        looked_up=False,
    ),
    "servfail-counts-as-empty": Case(
        Canned(rcode=2), A_ONE, answer=[f"{NAME} 300 IN AAAA 64:ff9b::c000:221"]
    ),
    "refused-without-ede-counts-as-empty": Case(
        Canned(rcode=5), A_ONE, answer=[f"{NAME} 300 IN AAAA 64:ff9b::c000:221"]
    ),
    "a-servfail-is-the-answer": Case(
        Canned(rcode=2), Canned(rcode=2, aa=False), rcode="SERVFAIL", aa=False
    ),
    "a-nxdomain-is-the-answer": Case(NODATA, Canned(rcode=3, ns=[SOA]), rcode="NXDOMAIN", ns=[SOA]),
    "a-nodata-is-the-answer": Case(NODATA, Canned(ns=[SOA]), ns=[SOA]),
    "acl-blocked-not-translated": Case(
        Canned(rcode=5, aa=False, ede=15), rcode="REFUSED", aa=False, looked_up=False
    ),
    "acl-filtered-not-translated": Case(Canned(aa=False, ede=17), aa=False, looked_up=False),
    "other-ede-translated": Case(
        Canned(rcode=2, ede=22), A_ONE, answer=[f"{NAME} 300 IN AAAA 64:ff9b::c000:221"]
    ),
    "ipv4-client-passed": Case(NODATA, client=V4, ns=[SOA], looked_up=False),
    "ipv4-mapped-client-passed": Case(
        NODATA, client="::ffff:192.0.2.53", ns=[SOA], looked_up=False
    ),
    "ipv4-client-allow-ipv4": Case(
        NODATA,
        A_ONE,
        client=V4,
        options=Dns64Options(allow_ipv4=True),
        answer=[f"{NAME} 30 IN AAAA 64:ff9b::c000:221"],
    ),
    "a-question-passed": Case(
        A_ONE, qtype="A", answer=[f"{NAME} 300 IN A 192.0.2.33"], looked_up=False
    ),
    "chaos-class-passed": Case(NODATA, qclass="CH", ns=[SOA], looked_up=False),
    # RFC 6052 §2.4's examples: 192.0.2.33 under each prefix length
    "rfc6052-32": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8::/32"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:c000:221::"],
    ),
    "rfc6052-40": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8:100::/40"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:1c0:2:21::"],
    ),
    "rfc6052-48": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8:122::/48"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:122:c000:2:2100::"],
    ),
    "rfc6052-56": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8:122:300::/56"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:122:3c0:0:221::"],
    ),
    "rfc6052-64": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8:122:344::/64"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:122:344:c0:2:2100:0"],
    ),
    "rfc6052-96": Case(
        NODATA,
        A_ONE,
        options=prefix("2001:db8:122:344::/96"),
        answer=[f"{NAME} 30 IN AAAA 2001:db8:122:344::c000:221"],
    ),
}


def request(case: Case) -> Request:
    q = dns.message.make_query(NAME, case.qtype, case.qclass, use_edns=0)
    return parse_query(q.to_wire(), Request).init(case.client, 5353, "udp", "::", "dns://:53")


def expected(texts: list[str]) -> list[str]:
    return lines(dns.message.from_text("id 1\n;ANSWER\n" + "\n".join(texts)).answer)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_handler(case: Case) -> None:
    asked: list[tuple[str, int]] = []

    async def nxt(req: Request) -> Reply | None:
        return Reply(case.aaaa.build(req))

    async def lookup(req: Request, name: str, qtype: int) -> DNSRecord | None:
        asked.append((name, qtype))
        assert case.a is not None, "unexpected A lookup"
        return case.a.build(req)

    req = request(case)
    reply = await Dns64(case.options, lookup).serve(req, nxt)
    assert reply is not None
    msg = dns.message.from_wire(encode_reply(reply.msg, req, 65535))
    assert asked == ([(NAME, 1)] if case.looked_up else [])
    assert dns.rcode.to_text(msg.rcode()) == case.rcode
    assert lines(msg.answer) == expected(case.answer)
    assert lines(msg.authority) == expected(case.ns)
    assert lines(msg.additional) == expected(case.extra)
    assert bool(msg.flags & dns.flags.AA) == case.aa
    assert msg.question[0].to_text() == f"{NAME} {case.qclass} {case.qtype}"


async def test_a_reply_as_bytes_is_handed_on_untouched() -> None:
    """A reply that needs no synthesis keeps its bytes and its memo check (no re-encoding)."""
    req = request(Case(NODATA))
    wire = bytes(Canned(answer=[f"{NAME} 300 IN AAAA 2001:db8::1"]).build(req).pack())
    given = Reply(wire=wire)

    async def nxt(req: Request) -> Reply | None:
        return given

    reply = await Dns64(Dns64Options()).serve(req, nxt)
    assert reply is given and reply.wire == wire


async def test_drop_and_no_reply_pass_through() -> None:
    req = request(Case(NODATA))
    dropped = Reply.dropped()

    async def drop(req: Request) -> Reply | None:
        return dropped

    async def nothing(req: Request) -> Reply | None:
        return None

    assert await Dns64(Dns64Options()).serve(req, drop) is dropped
    assert await Dns64(Dns64Options()).serve(req, nothing) is None


async def test_failed_lookup_is_a_plugin_error() -> None:
    async def nxt(req: Request) -> Reply | None:
        return Reply(NODATA.build(req))

    async def lookup(req: Request, name: str, qtype: int) -> DNSRecord | None:
        return None

    with pytest.raises(PluginError, match="no reply to the A query for www.example.org."):
        await Dns64(Dns64Options(), lookup).serve(request(Case(NODATA)), nxt)


async def test_translated_requests_are_counted_per_server() -> None:
    name, labels = "coredns_dns64_requests_translated_total", {"server": "dns://:53"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    for case in (CASES["nodata-synthesized-ttl-from-soa"], CASES["aaaa-present-passed"]):
        await test_handler(case)
    await test_handler(CASES["ipv4-client-passed"])
    assert REGISTRY.get_sample_value(name, labels) == before + 1


def test_memo_safe_only_when_every_client_is_treated_alike() -> None:
    assert Dns64(Dns64Options()).memo_safe is False
    assert Dns64(Dns64Options(allow_ipv4=True)).memo_safe is True


EMBED = [
    ("64:ff9b::/96", "10.96.0.10", "64:ff9b::a60:a"),
    ("2001:db8::/32", "255.255.255.255", "2001:db8:ffff:ffff::"),
    ("2001:db8:ff00::/40", "1.2.3.4", "2001:db8:ff01:203:4::"),
    ("2001:db8:122:344::/64", "0.0.0.1", "2001:db8:122:344:0:0:100:0"),
]


@pytest.mark.parametrize(("net", "ipv4", "want"), EMBED)
def test_embed_keeps_the_u_octet_zero(net: str, ipv4: str, want: str) -> None:
    got = embed(ipaddress.IPv6Network(net), ipaddress.IPv4Address(ipv4).packed)
    assert ipaddress.IPv6Address(got) == ipaddress.IPv6Address(want)
    assert got[8] == 0
