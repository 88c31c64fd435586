"""Handler of *file*: one row per query against the zone of :mod:`.zones`.

Each row: query name and type, rcode, the answer, authority (``ns``) and additional (``extra``)
sections as zone-file text (sorted; read back by dnspython from the packed reply), whether AA is
set, or that the query went to the next plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import pytest

from dnsd.fall import Fallthrough
from dnsd.plugins.file.handler import File
from dnsd.plugins.file.source import ZoneSource
from dnsd.plugins.file.zone import Zone
from dnsd.plugins.file.zonefile import read
from tests.handlers import PASSED, ask, lines
from tests.plugins.file.zones import EXAMPLE_ORG, SERIAL, TOO_LONG


def source(text: str, origin: str = "example.org.") -> ZoneSource:
    src = ZoneSource(origin, "/nonexistent/db.example.org", reload=0)
    src.zone = Zone(read(src.path, origin, text.encode()))
    return src


@functools.cache
def handler(variant: str) -> File:
    h = File()
    if variant == "default":
        h.add(source(EXAMPLE_ORG))
    elif variant == "fallthrough":
        h.add(source(EXAMPLE_ORG), Fallthrough.from_args([]))
    elif variant == "unloaded":
        h.add(ZoneSource("example.org.", "/nonexistent/db", reload=60))
    elif variant == "nested":  # a zone inside another one: the longer one answers
        h.add(source(EXAMPLE_ORG))
        inner = "@ 60 IN SOA ns hm 7 1 1 1 30\n@ 60 IN NS ns\nns 60 IN A 192.0.2.7\n"
        h.add(source(inner, "sub.example.org."))
    elif variant == "root":
        h.add(source("@ 60 IN SOA a.root. b.root. 1 1 1 1 1\ntld 60 IN NS ns.tld\n", "."))
    return h


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str
    rcode: str = "NOERROR"
    answer: Sequence[str] = ()
    ns: Sequence[str] = ()
    extra: Sequence[str] = ()
    aa: bool = True
    variant: str = "default"
    qclass: str = "IN"
    #: The query went to the next plugin.
    passed: bool = False


SOA = (
    f"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. "
    f"{SERIAL} 7200 3600 1209600 300"
)
#: The SOA of negative answers: TTL min(3600, MINIMUM 300).
NEG = [SOA.replace(" 3600 IN", " 300 IN", 1)]
APEX_NS = ["example.org. 3600 IN NS ns1.example.org.", "example.org. 3600 IN NS ns2.example.net."]
NS1 = ["ns1.example.org. 3600 IN A 192.0.2.53", "ns1.example.org. 3600 IN AAAA 2001:db8::53"]
WWW = ["www.example.org. 3600 IN A 192.0.2.80"]
SUB_NS = [
    "sub.example.org. 3600 IN NS ns.example.net.",
    "sub.example.org. 3600 IN NS ns.sub.example.org.",
]
SUB_GLUE = ["ns.sub.example.org. 3600 IN A 192.0.2.200"]
REFERRAL: dict[str, Any] = {"ns": SUB_NS, "extra": SUB_GLUE, "aa": False}
NXDOMAIN: dict[str, Any] = {"rcode": "NXDOMAIN", "ns": NEG}
NODATA: dict[str, Any] = {"ns": NEG}
DS = (
    "sub.example.org. 3600 IN DS 12345 13 2 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

CASES = [
    # -- the apex
    Case("apex-SOA", "example.org.", "SOA", answer=[SOA], ns=APEX_NS),
    Case("apex-NS-with-glue", "example.org.", "NS", answer=APEX_NS, extra=NS1),
    Case(
        "apex-MX-with-address",
        "example.org.",
        "MX",
        answer=["example.org. 3600 IN MX 10 mail.example.org."],
        ns=APEX_NS,
        extra=["mail.example.org. 3600 IN A 192.0.2.25"],
    ),
    Case(
        "apex-TXT",
        "example.org.",
        "TXT",
        answer=['example.org. 3600 IN TXT "v=spf1 -all"'],
        ns=APEX_NS,
    ),
    Case("apex-A-nodata", "example.org.", "A", **NODATA),
    # -- names
    Case("A", "www.example.org.", "A", answer=WWW, ns=APEX_NS),
    Case(
        "AAAA",
        "www.example.org.",
        "AAAA",
        answer=["www.example.org. 3600 IN AAAA 2001:db8::80"],
        ns=APEX_NS,
    ),
    Case(
        "own-TTL",
        "www2.example.org.",
        "A",
        answer=["www2.example.org. 60 IN A 192.0.2.82"],
        ns=APEX_NS,
    ),
    Case("case-folded", "WwW.ExAmple.ORG.", "A", answer=WWW, ns=APEX_NS),
    Case("nodata", "www.example.org.", "TXT", **NODATA),
    Case("SOA-below-apex-nodata", "www.example.org.", "SOA", **NODATA),
    Case("nxdomain", "nope.example.org.", "A", **NXDOMAIN),
    Case("below-a-name-nxdomain", "x.www.example.org.", "A", **NXDOMAIN),
    Case(
        "SRV-with-address",
        "_sip._tcp.example.org.",
        "SRV",
        answer=["_sip._tcp.example.org. 3600 IN SRV 0 5 5060 sip.example.org."],
        ns=APEX_NS,
        extra=["sip.example.org. 3600 IN A 192.0.2.60"],
    ),
    Case("ENT-under-SRV", "_tcp.example.org.", "A", **NODATA),
    Case(
        "ANY-every-record",
        "www.example.org.",
        "ANY",
        answer=[*WWW, "www.example.org. 3600 IN AAAA 2001:db8::80"],
        ns=APEX_NS,
    ),
    Case(
        "opaque-type-kept",
        "opaque.example.org.",
        "TYPE65280",
        answer=["opaque.example.org. 3600 IN TYPE65280 \\# 3 010203"],
        ns=APEX_NS,
    ),
    Case(
        "CAA",
        "caa.example.org.",
        "CAA",
        answer=['caa.example.org. 3600 IN CAA 0 issue "ca.example.net"'],
        ns=APEX_NS,
    ),
    # -- CNAME
    Case(
        "CNAME-chased",
        "alias.example.org.",
        "A",
        answer=["alias.example.org. 3600 IN CNAME www.example.org.", *WWW],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-asked",
        "alias.example.org.",
        "CNAME",
        answer=["alias.example.org. 3600 IN CNAME www.example.org."],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-target-nodata",
        "alias.example.org.",
        "TXT",
        answer=["alias.example.org. 3600 IN CNAME www.example.org."],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-chain",
        "chain.example.org.",
        "A",
        answer=[
            "alias.example.org. 3600 IN CNAME www.example.org.",
            "chain.example.org. 3600 IN CNAME alias.example.org.",
            *WWW,
        ],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-out-of-zone",
        "ext.example.org.",
        "A",
        answer=["ext.example.org. 3600 IN CNAME www.example.net."],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-dangling",
        "dangling.example.org.",
        "A",
        answer=["dangling.example.org. 3600 IN CNAME missing.example.org."],
        ns=APEX_NS,
    ),
    Case(
        "CNAME-loop-stops",
        "loop1.example.org.",
        "A",
        answer=[
            "loop1.example.org. 3600 IN CNAME loop2.example.org.",
            "loop2.example.org. 3600 IN CNAME loop1.example.org.",
        ],
        ns=APEX_NS,
    ),
    # -- wildcards
    Case(
        "wildcard",
        "x.wild.example.org.",
        "A",
        answer=["x.wild.example.org. 3600 IN A 192.0.2.99"],
        ns=APEX_NS,
    ),
    Case(
        "wildcard-TXT",
        "x.wild.example.org.",
        "TXT",
        answer=['x.wild.example.org. 3600 IN TXT "wild"'],
        ns=APEX_NS,
    ),
    Case("wildcard-nodata", "x.wild.example.org.", "AAAA", **NODATA),
    Case(
        "wildcard-many-labels",
        "y.x.wild.example.org.",
        "A",
        answer=["y.x.wild.example.org. 3600 IN A 192.0.2.99"],
        ns=APEX_NS,
    ),
    Case(
        "wildcard-itself",
        "*.wild.example.org.",
        "A",
        answer=["*.wild.example.org. 3600 IN A 192.0.2.99"],
        ns=APEX_NS,
    ),
    Case("wildcard-parent-is-ENT", "wild.example.org.", "A", **NODATA),
    Case(
        "wildcard-CNAME-chased",
        "foo.cn.example.org.",
        "A",
        answer=["foo.cn.example.org. 3600 IN CNAME www.example.org.", *WWW],
        ns=APEX_NS,
    ),
    Case(
        "wildcard-at-closest-encloser",
        "y.c.example.org.",
        "A",
        answer=["y.c.example.org. 3600 IN A 192.0.2.77"],
        ns=APEX_NS,
    ),
    # RFC 4592: b.c exists (an empty non-terminal), so *.c does not cover it or names below it.
    Case("ENT-not-wildcard", "b.c.example.org.", "A", **NODATA),
    Case("ENT-blocks-wildcard", "x.b.c.example.org.", "A", **NXDOMAIN),
    Case(
        "deep-name",
        "a.b.c.example.org.",
        "TXT",
        answer=['a.b.c.example.org. 3600 IN TXT "deep"'],
        ns=APEX_NS,
    ),
    # -- delegation
    Case("referral-at-cut", "sub.example.org.", "A", **REFERRAL),
    Case("referral-NS-at-cut", "sub.example.org.", "NS", **REFERRAL),
    Case("referral-below-cut", "x.y.sub.example.org.", "A", **REFERRAL),
    Case("referral-for-glue-name", "ns.sub.example.org.", "A", **REFERRAL),
    Case("DS-at-cut-from-parent", "sub.example.org.", "DS", answer=[DS], ns=APEX_NS),
    Case("DS-below-cut-referral", "x.sub.example.org.", "DS", **REFERRAL),
    # -- DNAME
    Case(
        "DNAME-out-of-zone",
        "x.dn.example.org.",
        "A",
        answer=[
            "dn.example.org. 3600 IN DNAME example.net.",
            "x.dn.example.org. 3600 IN CNAME x.example.net.",
        ],
        ns=APEX_NS,
    ),
    Case(
        "DNAME-asked",
        "dn.example.org.",
        "DNAME",
        answer=["dn.example.org. 3600 IN DNAME example.net."],
        ns=APEX_NS,
    ),
    Case("DNAME-owner-nodata", "dn.example.org.", "A", **NODATA),
    Case(
        "DNAME-in-zone-chased",
        "www.dnin.example.org.",
        "A",
        answer=[
            "dnin.example.org. 3600 IN DNAME target.example.org.",
            "www.dnin.example.org. 3600 IN CNAME www.target.example.org.",
            "www.target.example.org. 3600 IN A 192.0.2.81",
        ],
        ns=APEX_NS,
    ),
    Case(
        "DNAME-too-long-yxdomain",
        TOO_LONG,
        "A",
        rcode="YXDOMAIN",
        answer=[f"long.example.org. 3600 IN DNAME {'l' * 63}.{'l' * 63}.example.net."],
    ),
    # -- what is not answered here
    Case("other-zone-passed", "www.example.net.", "A", passed=True),
    Case("other-class-passed", "www.example.org.", "A", qclass="CH", passed=True),
    Case("AXFR-refused", "example.org.", "AXFR", rcode="REFUSED", aa=False),
    Case("IXFR-refused", "example.org.", "IXFR", rcode="REFUSED", aa=False),
    Case("fallthrough-nxdomain", "nope.example.org.", "A", variant="fallthrough", passed=True),
    Case("fallthrough-not-nodata", "www.example.org.", "TXT", variant="fallthrough", **NODATA),
    Case(
        "not-loaded-servfail",
        "www.example.org.",
        "A",
        variant="unloaded",
        rcode="SERVFAIL",
        aa=False,
    ),
    Case(
        "nested-zone-answers",
        "ns.sub.example.org.",
        "A",
        variant="nested",
        answer=["ns.sub.example.org. 60 IN A 192.0.2.7"],
        ns=["sub.example.org. 60 IN NS ns.sub.example.org."],
    ),
    Case("nested-zone-outer", "www.example.org.", "A", variant="nested", answer=WWW, ns=APEX_NS),
    Case(
        "root-zone-referral",
        "www.tld.",
        "A",
        variant="root",
        ns=["tld. 60 IN NS ns.tld."],
        aa=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_handler(case: Case) -> None:
    reply = await ask(handler(case.variant), case.qname, case.qtype, case.qclass)
    if case.passed:
        assert lines(reply.answer) == [f"{case.qname} 0 IN A {PASSED}"]
        return
    assert dns.rcode.to_text(reply.rcode()) == case.rcode
    assert bool(reply.flags & dns.flags.AA) == case.aa
    assert lines(reply.answer) == sorted(case.answer)
    assert lines(reply.authority) == sorted(case.ns)
    assert lines(reply.additional) == sorted(case.extra)


async def test_cname_comes_before_its_target() -> None:
    reply = await ask(handler("default"), "chain.example.org.", "A")
    owners = [str(rrset.name) for rrset in reply.answer]
    assert owners == ["chain.example.org.", "alias.example.org.", "www.example.org."]


async def test_out_of_zone_target_is_looked_up_through_the_server() -> None:
    """The CNAME target outside the zone is left to :mod:`dnsd.upstream` (nothing to ask here:
    the request has no server, so the answer is the CNAME alone)."""
    zone = handler("default").sources[0].zone
    assert zone is not None
    answer = zone.lookup((b"ext", b"example", b"org"), 1)
    assert answer.lookups == [("www.example.net.", 1, False)]
    answer = zone.lookup((b"x", b"dn", b"example", b"org"), 28)
    assert answer.lookups == [("x.example.net.", 28, False)]


def test_zones_and_data_changed() -> None:
    h = File()
    a, b = source(EXAMPLE_ORG), source("@ 1 IN SOA a b 1 1 1 1 1\n", "example.net.")
    h.add(a)
    h.add(b)
    assert h.zones == ("example.org.", "example.net.")
    calls: list[int] = []
    stop = h.on_data_changed(lambda: calls.append(1))
    assert b.zone is not None
    b.apply(b.zone)
    assert calls == [1]
    stop()
    b.apply(b.zone)
    assert calls == [1]
