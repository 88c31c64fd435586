"""authoritative.reply: fallthrough, unsynced SERVFAIL, SOA, lookups through the chain."""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.message
import pytest
from dnslib import RR, SOA, A, DNSLabel

from dnsd import authoritative
from dnsd.fall import Fallthrough
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query


@dataclass
class Result:
    rcode: int
    answer: list[RR] = field(default_factory=list)
    authority: list[RR] = field(default_factory=list)
    extra: list[RR] = field(default_factory=list)


SOA_RR = RR(
    DNSLabel("example.org."), 6, 1, 5, SOA("ns.example.org.", "hm.example.org.", (1, 2, 3, 4, 5))
)
A_RR = RR(DNSLabel("www.example.org."), 1, 1, 5, A("192.0.2.1"))

CASES = [
    # (id, rcode, fallthrough zones, synced, want: "next" or the reply's rcode)
    ("answer", 0, (), True, 0),
    ("nxdomain", 3, (), True, 3),
    ("nxdomain-falls", 3, (".",), True, "next"),
    ("nxdomain-other-zone", 3, ("example.net.",), True, 3),
    ("nxdomain-unsynced", 3, (), False, 2),
    ("nxdomain-unsynced-falls", 3, (".",), False, "next"),
    ("nodata-never-falls", 0, (".",), True, 0),
    ("nodata-unsynced-stays", 0, (), False, 0),
]


@pytest.mark.parametrize(("rcode", "zones", "synced", "want"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_reply(rcode: int, zones: tuple[str, ...], synced: bool, want: object) -> None:
    q = parse_query(dns.message.make_query("www.example.org", "A").to_wire(), Request)
    req = q.init("127.0.0.1", 5353, "udp", "127.0.0.1", "dns://:53")
    passed: list[Request] = []

    async def next_(r: Request) -> Reply | None:
        passed.append(r)
        return Reply(r.reply(rcode=0))

    result = Result(rcode, answer=[A_RR] if rcode == 0 else [], authority=[SOA_RR])
    out = await authoritative.reply(
        req, next_, result, fallthrough=Fallthrough(zones), synced=lambda: synced
    )
    if want == "next":
        assert passed == [req]
        return
    assert out is not None and not passed
    msg = out.msg
    assert msg.header.rcode == want and msg.header.aa == 1
    assert [str(r.rname) for r in msg.auth] == ["example.org."]


MEMO_CASES = [
    # (id, rcode, fallthrough zones, synced, lookups, memo kept)
    ("own-answer", 0, (), True, False, True),
    ("own-nxdomain", 3, (), True, False, True),
    ("fell-through", 3, (".",), True, False, False),
    ("unsynced-servfail", 3, (), False, False, False),
    ("with-lookups", 0, (), True, True, False),
]


@pytest.mark.parametrize(("rcode", "zones", "synced", "lookups", "kept"),
                         [c[1:] for c in MEMO_CASES], ids=[c[0] for c in MEMO_CASES])  # fmt: skip
async def test_memo_goes_with_the_plugins_own_data_only(
    rcode: int, zones: tuple[str, ...], synced: bool, lookups: bool, kept: bool
) -> None:
    q = parse_query(dns.message.make_query("www.example.org", "A").to_wire(), Request)
    req = q.init("127.0.0.1", 5353, "udp", "127.0.0.1", "dns://:53")

    async def next_(r: Request) -> Reply | None:
        return Reply(r.reply(rcode=0))

    def check() -> bool:
        return True

    result = Result(rcode, answer=[A_RR] if rcode == 0 else [], authority=[SOA_RR])
    out = await authoritative.reply(
        req,
        next_,
        result,
        fallthrough=Fallthrough(zones),
        synced=lambda: synced,
        lookups=[("nowhere.example.net.", 1, False)] if lookups else (),
        memo=check,
    )
    assert out is not None
    assert (out.memo is check) == kept
