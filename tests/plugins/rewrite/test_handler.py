"""Handler of rewrite: each field and option in a table, the reply as the client sees it.

Behind the handler, ``backend`` answers from a small zone (the query it saw is kept) and
falls back to :func:`tests.handlers.next_plugin`; it echoes the query's EDNS options in the
reply's OPT, so ``revert`` can be seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.edns
import dns.message
import dns.rcode
import pytest
from dnslib import EDNS0, RR, DNSRecord, EDNSOption

from dnsd.errors import PluginError
from dnsd.plugins.rewrite.handler import Rewrite
from dnsd.plugins.rewrite.setup import NAME, parse
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.testing import parsed_options
from dnsd.wire import class_name, parse_query, type_name
from tests.handlers import lines, next_plugin

SOA = "new.example. 60 IN SOA ns.new.example. hostmaster.new.example. 1 2 3 4 5"
ZONE: dict[tuple[str, str], dict[str, list[str]]] = {
    ("ftp.service.us-west-1.consul.", "A"): {
        "answer": ["ftp.service.us-west-1.consul. 60 IN A 10.10.10.10"],
    },
    ("_http._tcp.web.new.example.", "SRV"): {
        "answer": ["_http._tcp.web.new.example. 60 IN SRV 0 100 80 web-0.web.new.example."],
        "extra": ["web-0.web.new.example. 60 IN A 10.0.0.1"],
    },
    ("web.new.example.", "A"): {
        "answer": [
            "web.new.example. 60 IN CNAME web-lb.new.example.",
            "web-lb.new.example. 60 IN A 10.0.0.2",
        ],
    },
    ("missing.new.example.", "A"): {"rcode": ["NXDOMAIN"], "ns": [SOA]},
    ("mail.new.example.", "MX"): {"answer": ["mail.new.example. 60 IN MX 10 mx.new.example."]},
    ("new.example.", "NS"): {"answer": ["new.example. 60 IN NS ns1.new.example."]},
    ("30.30.30.10.in-addr.arpa.", "PTR"): {
        "answer": ["30.30.30.10.in-addr.arpa. 60 IN PTR ftp-us-west-1.service.consul."],
    },
    ("fail.example.", "A"): {"rcode": ["SERVFAIL"]},
    ("ttl.example.", "A"): {
        "answer": [
            "ttl.example. 5 IN A 10.0.0.5",
            'ttl.example. 60 IN TXT "t"',
            "ttl.example. 7200 IN MX 10 mx.example.",
        ],
    },
    ("cname.example.", "A"): {
        "answer": ["cname.example. 60 IN CNAME old.target.", "old.target. 60 IN A 10.1.1.1"],
    },
}
SEEN: list[Request] = []


async def backend(req: Request) -> Reply | None:
    """Answer from ZONE (else like next_plugin), echoing the query's EDNS options."""
    SEEN.append(req)
    entry = ZONE.get((req.name_lower, type_name(req.qtype)))
    if entry is None:
        reply = await next_plugin(req)
        assert reply is not None
        msg = reply.msg
    else:
        msg = req.reply(aa=True)
        msg.header.rcode = getattr(dns.rcode, entry.get("rcode", ["NOERROR"])[0])
        for section, add in (("answer", msg.add_answer), ("ns", msg.add_auth)):
            for line in entry.get(section, []):
                add(*RR.fromZone(line))
        for line in entry.get("extra", []):
            msg.add_ar(*RR.fromZone(line))
    if req.options:
        msg.add_ar(EDNS0(opts=[EDNSOption(code, data) for code, data in req.options]))
    return Reply(msg)


def handler(*rules: str) -> Rewrite:
    text = ". {\n" + "".join(f"    rewrite {rule}\n" for rule in rules) + "}\n"
    (opts,) = parsed_options(text, NAME, parse)
    return Rewrite(opts.rules)


Options = tuple[tuple[int, bytes], ...]


def request(
    qname: str, qtype: str, qclass: str = "IN", *, client: str = "192.0.2.1", options: Options = ()
) -> Request:
    opts = [dns.edns.GenericOption(code, data) for code, data in options]
    q = dns.message.make_query(qname, qtype, qclass, use_edns=0 if opts else None, options=opts)
    return parse_query(q.to_wire(), Request).init(client, 5353, "udp", "::", "dns://:53")


@dataclass(frozen=True)
class Case:
    id: str
    rules: tuple[str, ...]
    qname: str
    qtype: str = "A"
    qclass: str = "IN"
    rcode: str = "NOERROR"
    answer: list[str] = field(default_factory=list)
    ns: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    #: The question the next plugin got ("name TYPE CLASS"); None: the client's own.
    seen: str | None = None
    client: str = "192.0.2.1"
    client_options: Options = ()
    #: The EDNS options the next plugin got; None: the client's own.
    seen_options: Options | None = None
    #: The EDNS options in the reply (the backend echoes what it got).
    reply_options: Options | None = None


def passed(name: str) -> list[str]:
    return [f"{name} 0 IN A 10.9.9.9"]


US_WEST = r"(.*)-(us-west-1)\.example\.org"
CONSUL = r"(.*)\.service\.(us-west-1)\.consul"
TTL_NAME = "ttl.example."
SOA_OLD = "new.example. 60 IN SOA ns.old.example. hostmaster.new.example. 1 2 3 4 5"
V4_SUBNET = (8, b"\x00\x01\x18\x00\xc0\x00\x02")

NAME_CASES = [
    Case(
        "no-rule-applies",
        ("name a.example. b.example.",),
        "x.example.",
        answer=passed("x.example."),
    ),
    Case(
        "exact-two-args-answer-back-in-asked-case",
        ("name a.example web.new.example",),
        "A.Example.",
        answer=[
            "A.Example. 60 IN CNAME web-lb.new.example.",
            "web-lb.new.example. 60 IN A 10.0.0.2",
        ],
        seen="web.new.example. A IN",
    ),
    Case(
        "exact-auto-maps-names-below-too",
        ("name exact old.example. new.example.",),
        "old.example.",
        "NS",
        answer=["old.example. 60 IN NS ns1.old.example."],
        seen="new.example. NS IN",
    ),
    Case(
        "prefix-without-answer-rule",
        ("name prefix ftp. www.",),
        "ftp.example.",
        answer=passed("www.example."),
        seen="www.example. A IN",
    ),
    Case(
        "prefix-answer-auto",
        ("name prefix ftp. www. answer auto",),
        "FTP.example.",
        answer=passed("FTP.example."),
        seen="www.example. A IN",
    ),
    Case(
        "suffix-auto-owner-value-and-additional",
        ("name suffix .old.example. .new.example. answer auto",),
        "_http._tcp.web.old.example.",
        "SRV",
        answer=["_http._tcp.web.old.example. 60 IN SRV 0 100 80 web-0.web.old.example."],
        extra=["web-0.web.old.example. 60 IN A 10.0.0.1"],
        seen="_http._tcp.web.new.example. SRV IN",
    ),
    Case(
        "suffix-auto-authority-soa",
        ("name suffix .old.example. .new.example. answer auto",),
        "missing.old.example.",
        rcode="NXDOMAIN",
        ns=[SOA_OLD],
        seen="missing.new.example. A IN",
    ),
    Case(
        "substring",
        ("name substring us-west-1.example.org us-west-1.consul",),
        "ftp.service.us-west-1.example.org.",
        answer=["ftp.service.us-west-1.consul. 60 IN A 10.10.10.10"],
        seen="ftp.service.us-west-1.consul. A IN",
    ),
    Case(
        "regex-groups",
        (rf"name regex {US_WEST} {{1}}.service.{{2}}.consul",),
        "ftp-us-west-1.example.org.",
        answer=["ftp.service.us-west-1.consul. 60 IN A 10.10.10.10"],
        seen="ftp.service.us-west-1.consul. A IN",
    ),
    Case(
        "regex-answer-name",
        (
            rf"name regex {US_WEST} {{1}}.service.{{2}}.consul "
            rf"answer name {CONSUL} {{1}}-{{2}}.example.org",
        ),
        "ftp-us-west-1.example.org.",
        answer=["ftp-us-west-1.example.org. 60 IN A 10.10.10.10"],
        seen="ftp.service.us-west-1.consul. A IN",
    ),
    Case(
        "regex-answer-auto",
        (rf"name regex {US_WEST} {{1}}.service.{{2}}.consul answer auto",),
        "FTP-us-west-1.example.org.",
        answer=["FTP-us-west-1.example.org. 60 IN A 10.10.10.10"],
        seen="ftp.service.us-west-1.consul. A IN",
    ),
    Case(
        "answer-value-ptr",
        (r"name suffix .arpa .arpa answer value (.*)\.service\.consul\. {1}.coredns.rocks.",),
        "30.30.30.10.in-addr.arpa.",
        "PTR",
        answer=["30.30.30.10.in-addr.arpa. 60 IN PTR ftp-us-west-1.coredns.rocks."],
    ),
    Case(
        "answer-value-mx-with-exact",
        (
            r"name exact mail.old.example. mail.new.example. "
            r"answer value (.*)\.new\.example\. {1}.old.example",
        ),
        "mail.old.example.",
        "MX",
        answer=["mail.old.example. 60 IN MX 10 mx.old.example."],
        seen="mail.new.example. MX IN",
    ),
    Case(
        "answer-name-and-value-chained",
        (
            r"name regex (.*)\.old\.example\. {1}.new.example. "
            r"answer name (.*)\.new\.example\. {1}.old.example. "
            r"value (.*)\.new\.example\. {1}.old.example.",
        ),
        "web.old.example.",
        answer=[
            "web.old.example. 60 IN CNAME web-lb.old.example.",
            "web-lb.old.example. 60 IN A 10.0.0.2",
        ],
        seen="web.new.example. A IN",
    ),
    Case(
        "continue-applies-the-next-rule-too",
        ("continue name a.example. b.example.", "name b.example. web.new.example."),
        "A.example.",
        answer=[
            "A.example. 60 IN CNAME web-lb.new.example.",
            "web-lb.new.example. 60 IN A 10.0.0.2",
        ],
        seen="web.new.example. A IN",
    ),
    Case(
        "stop-ends-the-list",
        ("name a.example. b.example.", "name b.example. c.example."),
        "a.example.",
        answer=passed("a.example."),
        seen="b.example. A IN",
    ),
    Case(
        "stop-only-when-applied",
        ("name x.example. y.example.", "name a.example. b.example."),
        "a.example.",
        answer=passed("a.example."),
        seen="b.example. A IN",
    ),
]

FIELD_CASES = [
    Case(
        "type",
        ("type AAAA A",),
        "x.example.",
        "AAAA",
        answer=passed("x.example."),
        seen="x.example. A IN",
    ),
    Case("type-other-passes", ("type AAAA A",), "x.example.", "MX", answer=passed("x.example.")),
    Case(
        "class",
        ("class CH IN",),
        "version.example.",
        qclass="CH",
        answer=passed("version.example."),
        seen="version.example. A IN",
    ),
    Case(
        "name-then-type-with-continue",
        ("continue name a.example. b.example.", "type AAAA A"),
        "a.example.",
        "AAAA",
        answer=passed("a.example."),
        seen="b.example. A IN",
    ),
    Case(
        "ttl-set",
        ("ttl ttl.example. 15",),
        TTL_NAME,
        answer=[
            "ttl.example. 15 IN A 10.0.0.5",
            'ttl.example. 15 IN TXT "t"',
            "ttl.example. 15 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-range",
        ("ttl ttl.example. 30-300",),
        TTL_NAME,
        answer=[
            "ttl.example. 30 IN A 10.0.0.5",
            'ttl.example. 60 IN TXT "t"',
            "ttl.example. 300 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-cap",
        ("ttl ttl.example. -30",),
        TTL_NAME,
        answer=[
            "ttl.example. 5 IN A 10.0.0.5",
            'ttl.example. 30 IN TXT "t"',
            "ttl.example. 30 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-floor",
        ("ttl ttl.example. 100-",),
        TTL_NAME,
        answer=[
            "ttl.example. 100 IN A 10.0.0.5",
            'ttl.example. 100 IN TXT "t"',
            "ttl.example. 7200 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-regex",
        (r"ttl regex ^ttl\.example\.$ 15",),
        "TTL.Example.",
        answer=[
            "ttl.example. 15 IN A 10.0.0.5",
            'ttl.example. 15 IN TXT "t"',
            "ttl.example. 15 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-other-name-untouched",
        ("ttl prefix other 15",),
        TTL_NAME,
        answer=[
            "ttl.example. 5 IN A 10.0.0.5",
            'ttl.example. 60 IN TXT "t"',
            "ttl.example. 7200 IN MX 10 mx.example.",
        ],
    ),
    Case(
        "ttl-matches-the-rewritten-name",
        ("continue name a.example. ttl.example.", "ttl ttl.example. 15"),
        "a.example.",
        answer=[
            "a.example. 15 IN A 10.0.0.5",
            'a.example. 15 IN TXT "t"',
            "a.example. 15 IN MX 10 mx.example.",
        ],
        seen="ttl.example. A IN",
    ),
    Case(
        "rcode-nxdomain-to-noerror",
        ("rcode missing.new.example. NXDOMAIN NOERROR",),
        "missing.new.example.",
        ns=[SOA],
    ),
    Case(
        "rcode-empty-servfail-to-noerror",
        ("rcode fail.example. SERVFAIL NOERROR",),
        "fail.example.",
    ),
    Case("rcode-numbers", ("rcode suffix example. 2 3",), "fail.example.", rcode="NXDOMAIN"),
    Case(
        "rcode-extended",
        ("rcode fail.example. SERVFAIL BADCOOKIE",),
        "fail.example.",
        rcode="BADCOOKIE",
        client_options=((10, b"12345678"),),
        reply_options=((10, b"12345678"),),
    ),
    Case(
        "rcode-other-rcode-untouched",
        ("rcode fail.example. NXDOMAIN 0",),
        "fail.example.",
        rcode="SERVFAIL",
    ),
    Case(
        "cname-target-replaced-old-records-dropped",
        ("cname old.target. new.target.",),
        "cname.example.",
        answer=["cname.example. 60 IN CNAME new.target."],
    ),
    Case(
        "cname-regex",
        (r"cname regex (.*)\.target\. {1}.elsewhere.",),
        "cname.example.",
        answer=["cname.example. 60 IN CNAME old.elsewhere."],
    ),
    Case(
        "cname-other-target-untouched",
        ("cname other.target. new.target.",),
        "cname.example.",
        answer=["cname.example. 60 IN CNAME old.target.", "old.target. 60 IN A 10.1.1.1"],
    ),
]

EDNS_CASES = [
    Case(
        "local-set-adds-an-opt",
        ("edns0 local set 0xffee 0x61626364",),
        "x.example.",
        answer=passed("x.example."),
        seen_options=((0xFFEE, b"abcd"),),
    ),
    Case(
        "local-set-replaces",
        ("edns0 local set 0xffee abcd",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((0xFFEE, b"old"), (10, b"cookie12")),
        seen_options=((0xFFEE, b"abcd"), (10, b"cookie12")),
    ),
    Case(
        "local-append-keeps-existing",
        ("edns0 local append 0xffee abcd",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((0xFFEE, b"old"),),
    ),
    Case(
        "local-append-adds",
        ("edns0 local append 0xffee abcd",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((10, b"cookie12"),),
        seen_options=((10, b"cookie12"), (0xFFEE, b"abcd")),
    ),
    Case(
        "local-replace-needs-a-match",
        ("edns0 local replace 0xffee abcd",),
        "x.example.",
        answer=passed("x.example."),
    ),
    Case(
        "local-unset",
        ("edns0 local unset 0xffee",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((0xFFEE, b"a"), (10, b"cookie12"), (0xFFEE, b"b")),
        seen_options=((10, b"cookie12"),),
        reply_options=((10, b"cookie12"),),
    ),
    Case(
        "variables",
        tuple(
            f"continue edns0 local set {code} {var}"
            for code, var in enumerate(
                ("{qname}", "{qtype}", "{client_ip}", "{client_port}", "{protocol}"),
                start=65001,
            )
        )
        + ("edns0 local set 65006 {server_ip}", "edns0 local set 65007 {server_port}"),
        "Var.Example.",
        answer=passed("Var.Example."),
        seen_options=(
            (65001, b"Var.Example."),
            (65002, b"\x00\x01"),
            (65003, bytes([192, 0, 2, 1])),
            (65004, (5353).to_bytes(2, "big")),
            (65005, b"udp"),
            (65006, bytes(16)),
        ),
    ),
    Case(
        "server-port",
        ("edns0 local set 65007 {server_port}",),
        "x.example.",
        answer=passed("x.example."),
        seen_options=((65007, (53).to_bytes(2, "big")),),
    ),
    Case(
        "nsid",
        ("edns0 nsid set",),
        "x.example.",
        answer=passed("x.example."),
        seen_options=((3, b""),),
    ),
    Case(
        "subnet-v4",
        ("edns0 subnet set 24 56",),
        "x.example.",
        answer=passed("x.example."),
        seen_options=(V4_SUBNET,),
    ),
    Case(
        "subnet-v6",
        ("edns0 subnet set 24 56",),
        "x.example.",
        answer=passed("x.example."),
        client="2001:db8:aaaa:bbcc::1",
        seen_options=((8, b"\x00\x02\x38\x00\x20\x01\x0d\xb8\xaa\xaa\xbb"),),
    ),
    Case(
        "subnet-replace-existing",
        ("edns0 subnet replace 24 56",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((8, b"\x00\x01\x20\x00\x0a\x00\x00\x01"),),
        seen_options=(V4_SUBNET,),
    ),
    Case(
        "without-revert-the-option-comes-back",
        ("edns0 local set 0xffee abcd",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((10, b"cookie12"),),
        seen_options=((10, b"cookie12"), (0xFFEE, b"abcd")),
        reply_options=((10, b"cookie12"), (0xFFEE, b"abcd")),
    ),
    Case(
        "revert-removes-an-added-option",
        ("edns0 local set 0xffee abcd revert",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((10, b"cookie12"),),
        seen_options=((10, b"cookie12"), (0xFFEE, b"abcd")),
        reply_options=((10, b"cookie12"),),
    ),
    Case(
        "revert-restores-replaced-data",
        ("edns0 local replace 0xffee abcd revert",),
        "x.example.",
        answer=passed("x.example."),
        client_options=((0xFFEE, b"mine"),),
        seen_options=((0xFFEE, b"abcd"),),
        reply_options=((0xFFEE, b"mine"),),
    ),
    Case(
        "unchanged-edns-does-not-stop",
        ("edns0 local replace 0xffee abcd", "name a.example. b.example."),
        "a.example.",
        answer=passed("a.example."),
        seen="b.example. A IN",
    ),
]

CASES = NAME_CASES + FIELD_CASES + EDNS_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    SEEN.clear()
    req = request(
        case.qname, case.qtype, case.qclass, client=case.client, options=case.client_options
    )
    reply = await handler(*case.rules).serve(req, backend)
    assert reply is not None
    got = dns.message.from_wire(bytes(reply.msg.pack()))
    assert got.question[0].to_text() == f"{case.qname} {case.qclass} {case.qtype}"
    assert dns.rcode.to_text(got.rcode()) == case.rcode
    assert lines(got.answer) == sorted(case.answer)
    assert lines(got.authority) == sorted(case.ns)
    assert lines(got.additional) == sorted(case.extra)
    (seen,) = SEEN
    want_seen = case.seen or f"{case.qname} {case.qtype} {case.qclass}"
    assert f"{seen.qname} {type_name(seen.qtype)} {class_name(seen.qclass)}" == want_seen
    assert seen.options == (case.client_options if case.seen_options is None else case.seen_options)
    want_reply = (
        case.seen_options or case.client_options
        if case.reply_options is None
        else case.reply_options
    )
    assert tuple((o.otype, o.to_wire()) for o in got.options) == want_reply


@pytest.mark.parametrize(
    ("rule", "qname", "bad"),
    [
        (r"name regex ^(.*)\.example\.$ {1}..example.", "a.example.", "a..example."),
        ("name prefix a. " + "b" * 64 + ".", "a.example.", "b" * 64 + ".example."),
        ("name suffix .example. ." + "x." * 127, "a.example.", "a." + "x." * 127),
    ],
    ids=["empty-label", "long-label", "long-name"],
)
async def test_invalid_name_is_servfail_before_the_chain(rule: str, qname: str, bad: str) -> None:
    SEEN.clear()
    with pytest.raises(PluginError) as exc:
        await handler(rule).serve(request(qname, "A"), backend)
    assert str(exc.value) == f"invalid name after rewrite: {bad}"
    assert SEEN == []


async def test_rewritten_reply_has_no_memo_and_keeps_its_plugin() -> None:
    async def answering(req: Request) -> Reply | None:
        msg = req.reply(aa=True)
        msg.add_answer(*RR.fromZone(f"{req.qname} 30 IN A 10.0.0.1"))
        reply = Reply(msg, plugin="kubernetes")
        reply.memo = lambda: True
        return reply

    reply = await handler("name a.example. b.example.").serve(request("a.example.", "A"), answering)
    assert reply is not None
    assert reply.memo is None
    assert reply.plugin == "kubernetes"
    assert [str(rr.rname) for rr in reply.msg.rr] == ["a.example."]


async def test_nothing_applied_passes_the_reply_through() -> None:
    got: list[Reply] = []

    async def answering(req: Request) -> Reply | None:
        got.append(Reply(req.reply(), plugin="kubernetes"))
        got[0].memo = lambda: True
        return got[0]

    req = request("other.example.", "A")
    reply = await handler("name a.example. b.example.").serve(req, answering)
    assert reply is got[0]


async def test_wire_replies_are_rewritten_too() -> None:
    async def wire(req: Request) -> Reply | None:
        msg = req.reply(aa=True)
        msg.add_answer(*RR.fromZone(f"{req.qname} 30 IN A 10.0.0.1"))
        return Reply(wire=bytes(msg.pack()))

    reply = await handler("name a.example. b.example.").serve(request("A.example.", "A"), wire)
    assert reply is not None
    got = dns.message.from_wire(bytes(reply.msg.pack()))
    assert got.question[0].to_text() == "A.example. IN A"
    assert lines(got.answer) == ["A.example. 30 IN A 10.0.0.1"]


async def test_a_kept_message_is_not_changed() -> None:
    kept: list[DNSRecord] = []

    async def storing(req: Request) -> Reply | None:
        if not kept:
            msg = req.reply(aa=True)
            msg.add_answer(*RR.fromZone("b.example. 30 IN A 10.0.0.1"))
            kept.append(msg)
        return Reply(kept[0])

    h = handler("name a.example. b.example.", "ttl b.example. 5")
    for _ in range(2):
        reply = await h.serve(request("a.example.", "A"), storing)
        assert reply is not None
        assert [(str(rr.rname), rr.ttl) for rr in reply.msg.rr] == [("a.example.", 30)]
    assert [(str(rr.rname), rr.ttl) for rr in kept[0].rr] == [("b.example.", 30)]
    assert str(kept[0].q.qname) == "b.example."


async def test_no_reply_and_dropped_reply_go_back_as_they_are() -> None:
    async def nothing(req: Request) -> Reply | None:
        return None

    async def drop(req: Request) -> Reply | None:
        return Reply.dropped()

    h = handler("name a.example. b.example.")
    assert await h.serve(request("a.example.", "A"), nothing) is None
    reply = await h.serve(request("a.example.", "A"), drop)
    assert reply is not None and reply.drop


async def test_observers_behind_see_the_reply() -> None:
    seen: list[tuple[str, bytes | None, str | None]] = []

    async def observing(req: Request) -> Reply | None:
        req.on_reply(lambda r, wire, plugin: seen.append((r.qname, wire, plugin)))
        return await next_plugin(req)

    req = request("a.example.", "A")
    await handler("name a.example. b.example.").serve(req, observing)
    req.replied(b"reply", "whoami")
    assert seen == [("b.example.", b"reply", "whoami")]


async def test_reply_without_question_gets_the_clients() -> None:
    async def bare(req: Request) -> Reply | None:
        msg = req.reply()
        msg.questions = []
        return Reply(msg)

    reply = await handler("type AAAA A").serve(request("X.example.", "AAAA"), bare)
    assert reply is not None
    questions = [(str(q.qname), q.qtype, q.qclass) for q in reply.msg.questions]
    assert questions == [("X.example.", 28, 1)]


async def test_rewritten_query_keeps_id_flags_and_client_facts() -> None:
    SEEN.clear()
    req = request("a.example.", "A", options=((10, b"cookie12"),))
    req.meta["tag"] = "kept"
    await handler("name a.example. b.example.").serve(req, backend)
    (sub,) = SEEN
    assert (sub.id, sub.flags, sub.do, sub.udp_size) == (req.id, req.flags, req.do, req.udp_size)
    assert (sub.client, sub.port, sub.proto, sub.server) == ("192.0.2.1", 5353, "udp", "dns://:53")
    assert sub.meta is req.meta
    assert sub.wire[2:4] == req.wire[2:4]
