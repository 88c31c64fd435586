"""The acl handler: one row per (rules, client, question) with what the client gets.

Rows run the real setup on a Corefile and the real encoder, so a row's reply is the bytes a
client would read (dnspython parses them): passed on to the next plugin, REFUSED with EDE 15,
an empty NOERROR with EDE 17, or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.encode import encode_reply
from dnsd.plugins.acl.handler import Acl
from dnsd.plugins.acl.setup import NAME, parse
from dnsd.request import Request
from dnsd.testing import parsed_options
from dnsd.wire import parse_query
from tests.handlers import PASSED, next_plugin

PASS, DROP = "pass", "drop"
SERVER = "dns://:53"


@dataclass(frozen=True)
class Case:
    rules: str
    client: str
    qname: str
    qtype: str
    #: PASS (the next plugin answered), DROP (no reply), or the rcode's name.
    want: str
    #: The EDE info code in the reply; None: no EDE.
    ede: int | None = None


def corefile(rules: str, key: str = ".") -> str:
    return f"{key} {{\n{rules}\n}}\n"


def handler(rules: str, key: str = ".") -> Acl:
    (options,) = parsed_options(corefile(rules, key), NAME, parse)
    return Acl(options)


def request(qname: str, qtype: str, client: str, *, edns: bool = True) -> Request:
    q = dns.message.make_query(qname, qtype, use_edns=0 if edns else False)
    return parse_query(q.to_wire(), Request).init(client, 5353, "udp", "::", SERVER)


BLOCK_A_LAN = "acl {\n block type A net 192.168.0.0/16\n}"
EXCEPT = "acl {\n allow net 192.168.1.0/24\n block net 192.168.0.0/16\n}"
ONLY = "acl {\n allow net 192.168.0.0/24 192.168.1.0/24\n block\n}"
SUBZONE = "acl a.example.org {\n block net 192.168.1.0/24\n}"
FILTER = "acl {\n filter type AAAA net 10.0.0.0/8\n}"
DROP_V6 = "acl {\n drop net 2001:db8::/32 ::1\n}"
MAPPED = "acl {\n block net ::ffff:192.168.0.0/112\n}"
TWO = (
    "acl a.example.org {\n allow net 10.0.0.1\n filter type TXT\n}\nacl {\n block net 10.0.0.0/8\n}"
)
ANY_TYPE_ANY_NET = "acl {\n drop type * net *\n}"

CASES = {
    "block-type-and-net": Case(BLOCK_A_LAN, "192.168.5.5", "example.org", "A", "REFUSED", 15),
    "block-other-type-passes": Case(BLOCK_A_LAN, "192.168.5.5", "example.org", "AAAA", PASS),
    "block-other-net-passes": Case(BLOCK_A_LAN, "10.0.0.1", "example.org", "A", PASS),
    "block-net-edge-first": Case(BLOCK_A_LAN, "192.168.0.0", "example.org", "A", "REFUSED", 15),
    "block-net-edge-last": Case(BLOCK_A_LAN, "192.168.255.255", "x.org", "A", "REFUSED", 15),
    "block-net-just-outside": Case(BLOCK_A_LAN, "192.169.0.0", "example.org", "A", PASS),
    "first-match-allow": Case(EXCEPT, "192.168.1.9", "example.org", "A", PASS),
    "first-match-falls-to-block": Case(EXCEPT, "192.168.2.9", "example.org", "MX", "REFUSED", 15),
    "unmatched-is-allowed": Case(EXCEPT, "172.16.0.1", "example.org", "A", PASS),
    "allow-list-member": Case(ONLY, "192.168.0.77", "example.org", "A", PASS),
    "allow-list-outsider": Case(ONLY, "192.168.2.1", "example.org", "A", "REFUSED", 15),
    "allow-list-ipv6-outsider": Case(ONLY, "2001:db8::1", "example.org", "A", "REFUSED", 15),
    "zone-inside": Case(SUBZONE, "192.168.1.1", "www.a.example.org", "A", "REFUSED", 15),
    "zone-apex": Case(SUBZONE, "192.168.1.1", "A.Example.ORG", "A", "REFUSED", 15),
    "zone-outside": Case(SUBZONE, "192.168.1.1", "b.example.org", "A", PASS),
    "zone-suffix-not-a-label": Case(SUBZONE, "192.168.1.1", "xa.example.org", "A", PASS),
    "filter": Case(FILTER, "10.1.2.3", "example.org", "AAAA", "NOERROR", 17),
    "filter-other-type": Case(FILTER, "10.1.2.3", "example.org", "A", PASS),
    "drop-ipv6-net": Case(DROP_V6, "2001:db8:1::7", "example.org", "A", DROP),
    "drop-ipv6-host": Case(DROP_V6, "::1", "example.org", "A", DROP),
    "drop-ipv6-other": Case(DROP_V6, "2001:db9::1", "example.org", "A", PASS),
    "drop-ipv6-zone-index": Case(DROP_V6, "2001:db8::1%eth0", "example.org", "A", DROP),
    "drop-ipv4-client": Case(DROP_V6, "127.0.0.1", "example.org", "A", PASS),
    "mapped-net-v4-client": Case(MAPPED, "192.168.3.3", "example.org", "A", "REFUSED", 15),
    "mapped-client": Case(MAPPED, "::ffff:192.168.3.3", "example.org", "A", "REFUSED", 15),
    "mapped-client-v4-net": Case(BLOCK_A_LAN, "::ffff:192.168.3.3", "x.org", "A", "REFUSED", 15),
    "second-acl-after-no-match": Case(TWO, "10.0.0.2", "a.example.org", "A", "REFUSED", 15),
    "second-acl-filter-first": Case(TWO, "10.0.0.2", "a.example.org", "TXT", "NOERROR", 17),
    "allow-skips-later-acls": Case(TWO, "10.0.0.1", "a.example.org", "A", PASS),
    "first-acl-zone-not-held": Case(TWO, "10.0.0.1", "b.example.org", "A", "REFUSED", 15),
    "stars": Case(ANY_TYPE_ANY_NET, "203.0.113.9", "example.org", "TYPE65280", DROP),
    "unreadable-client-blocked": Case(ONLY, "not-an-address", "example.org", "A", "REFUSED", 15),
}


def check(case: Case, reply_wire: bytes | None, answered: bool) -> None:
    if case.want == DROP:
        assert reply_wire is None
        return
    assert reply_wire is not None
    msg = dns.message.from_wire(reply_wire)
    if case.want == PASS:
        assert answered and [rr.address for rr in msg.answer[0]] == [PASSED]
        return
    assert not answered
    assert dns.rcode.to_text(msg.rcode()) == case.want
    assert msg.answer == [] and msg.authority == [] and msg.additional == []
    assert not msg.flags & dns.flags.AA
    edes = [o for o in msg.options if o.otype == dns.edns.OptionType.EDE]
    assert [(o.code, o.text) for o in edes] == [(case.ede, None)]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_handler(case: Case) -> None:
    reached: list[Request] = []

    async def nxt(req: Request) -> object:
        reached.append(req)
        return await next_plugin(req)

    req = request(case.qname, case.qtype, case.client)
    reply = await handler(case.rules).serve(req, nxt)  # type: ignore[arg-type]
    assert reply is not None
    if reply.drop:
        check(case, None, bool(reached))
        assert not reached
        return
    check(case, encode_reply(reply.msg, req, 65535), bool(reached))


async def test_no_edns_no_opt() -> None:
    """A client that sent no EDNS gets the bare REFUSED (no OPT, so no EDE)."""
    req = request("example.org", "A", "192.168.0.1", edns=False)
    reply = await handler(BLOCK_A_LAN).serve(req, next_plugin)
    assert reply is not None
    msg = dns.message.from_wire(encode_reply(reply.msg, req, 512))
    assert msg.rcode() == dns.rcode.REFUSED and msg.edns == -1


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_each_decision_with_coredns_labels() -> None:
    rules = "acl a.example.org {\n block net 10.0.0.1\n filter net 10.0.0.2\n drop net 10.0.0.3\n}"
    h = handler(rules, key="example.org")
    server = "dns://:1953"
    names = {
        "blocked": "coredns_acl_blocked_requests_total",
        "filtered": "coredns_acl_filtered_requests_total",
        "dropped": "coredns_acl_dropped_requests_total",
    }
    zoned = {"server": server, "zone": "a.example.org.", "view": ""}
    before = {k: sample(n, **zoned) for k, n in names.items()}
    allowed_before = sample("coredns_acl_allowed_requests_total", server=server, view="")
    for client, qname in [
        ("10.0.0.1", "www.a.example.org"),
        ("10.0.0.1", "a.example.org"),
        ("10.0.0.2", "a.example.org"),
        ("10.0.0.3", "a.example.org"),
        ("10.0.0.4", "a.example.org"),  # no policy matches
        ("10.0.0.1", "b.example.org"),  # outside the acl's zone
    ]:
        q = dns.message.make_query(qname, "A")
        req = parse_query(q.to_wire(), Request).init(client, 53, "udp", "::", server)
        await h.serve(req, next_plugin)
    after = {k: sample(n, **zoned) - before[k] for k, n in names.items()}
    assert after == {"blocked": 2, "filtered": 1, "dropped": 1}
    allowed = sample("coredns_acl_allowed_requests_total", server=server, view="")
    assert allowed - allowed_before == 2


def test_not_memo_safe() -> None:
    assert getattr(handler(ONLY), "memo_safe", False) is False
