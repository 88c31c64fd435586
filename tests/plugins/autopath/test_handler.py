"""Handler of *autopath*: one row per query against a small backend standing for the rest of the
chain, which records every name it is asked.

Each row: query name and type, rcode, answer (zone-file lines, in order: the CNAME must come
first), and the names the backend saw, in order. The search list is that of a pod in ``default``
whose server searches ``ex.net`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest
from dnslib import RR, DNSLabel, DNSRecord
from prometheus_client import REGISTRY

from dnsd.errors import PluginError
from dnsd.plugins.autopath.handler import Autopath, SearchPather, subquery
from dnsd.plugins.autopath.setup import AutopathOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query

SEARCH = ("default.svc.cluster.local.", "svc.cluster.local.", "cluster.local.", "ex.net.")
SOA = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"

ZONE = """
web.default.svc.cluster.local. 5 IN A 10.96.0.1
example.com. 300 IN A 93.184.215.14
intranet.ex.net. 60 IN A 10.1.1.1
intranet.ex.net. 60 IN AAAA fd00::1
ext.default.svc.cluster.local. 5 IN CNAME target.example.
ext2.cluster.local. 7 IN CNAME target.example.
target.example. 30 IN A 10.2.2.2
found.cluster.local. 9 IN A 10.3.3.3
"""
#: Names the backend answers SERVFAIL for, answers nothing for (None), or raises on.
SERVFAIL_NAMES = {"broken.svc.cluster.local."}
SILENT_NAMES = {"silent.svc.cluster.local."}
RAISE_NAMES = {"boom.svc.cluster.local."}


def _records() -> list[RR]:
    return [rr for line in ZONE.strip().splitlines() for rr in RR.fromZone(line)]


class Backend:
    """The rest of the chain: answers from ZONE (following CNAMEs in it), NXDOMAIN with the SOA
    for names it does not have, NODATA for names without the type; logs every name asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.records = _records()

    async def __call__(self, req: Request) -> Reply | None:
        self.asked.append(req.qname)
        name = req.name_lower
        if name in SERVFAIL_NAMES:
            return Reply(req.reply(rcode=2))
        if name in SILENT_NAMES:
            return None
        if name in RAISE_NAMES:
            raise PluginError("backend failed")
        msg = req.reply(aa=True)
        owner = DNSLabel(list(req.labels))
        while True:
            found = [rr for rr in self.records if str(rr.rname).lower() == name]
            if not found:
                if not msg.rr:
                    msg.header.rcode = 3
                    msg.add_auth(*RR.fromZone(SOA))
                return Reply(msg)
            matches = [rr for rr in found if rr.rtype == req.qtype]
            cname = [rr for rr in found if rr.rtype == 5]
            for rr in matches or cname:
                msg.add_answer(RR(owner, rr.rtype, rr.rclass, rr.ttl, rr.rdata))
            if matches or not cname:
                if not msg.rr:
                    msg.add_auth(*RR.fromZone(SOA))
                return Reply(msg)
            name = str(cname[0].rdata.label).lower()
            owner = cname[0].rdata.label


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str = "A"
    rcode: str = "NOERROR"
    answer: Sequence[str] = ()
    asked: Sequence[str] = ()
    soa: bool = False
    zones: tuple[str, ...] = (".",)
    search: tuple[str, ...] = SEARCH


W = "example.com.default.svc.cluster.local."
WALK = [W, "example.com.svc.cluster.local.", "example.com.cluster.local.", "example.com.ex.net.",
        "example.com."]  # fmt: skip

CASES = [
    Case("found-on-first-step", "web.default.svc.cluster.local.",
         answer=["web.default.svc.cluster.local. 5 IN A 10.96.0.1"],
         asked=["web.default.svc.cluster.local."]),
    Case("found-bare", W,
         answer=[f"{W} 300 IN CNAME example.com.", "example.com. 300 IN A 93.184.215.14"],
         asked=WALK),
    Case("a-only-name-aaaa-stops-at-same-step", W, "AAAA", answer=[], asked=WALK, soa=True),
    Case("found-under-server-search", "intranet.default.svc.cluster.local.",
         answer=["intranet.default.svc.cluster.local. 60 IN CNAME intranet.ex.net.",
                 "intranet.ex.net. 60 IN A 10.1.1.1"],
         asked=["intranet.default.svc.cluster.local.", "intranet.svc.cluster.local.",
                "intranet.cluster.local.", "intranet.ex.net."]),
    Case("found-under-server-search-aaaa", "intranet.default.svc.cluster.local.", "AAAA",
         answer=["intranet.default.svc.cluster.local. 60 IN CNAME intranet.ex.net.",
                 "intranet.ex.net. 60 IN AAAA fd00::1"],
         asked=["intranet.default.svc.cluster.local.", "intranet.svc.cluster.local.",
                "intranet.cluster.local.", "intranet.ex.net."]),
    Case("found-on-third-step", "found.default.svc.cluster.local.",
         answer=["found.default.svc.cluster.local. 9 IN CNAME found.cluster.local.",
                 "found.cluster.local. 9 IN A 10.3.3.3"],
         asked=["found.default.svc.cluster.local.", "found.svc.cluster.local.",
                "found.cluster.local."]),
    Case("nowhere-first-reply-unchanged", "nothing.default.svc.cluster.local.", rcode="NXDOMAIN",
         asked=["nothing.default.svc.cluster.local.", "nothing.svc.cluster.local.",
                "nothing.cluster.local.", "nothing.ex.net.", "nothing."], soa=True),
    Case("second-step-passed-on", "example.com.svc.cluster.local.", rcode="NXDOMAIN",
         asked=["example.com.svc.cluster.local."], soa=True),
    Case("other-namespace-passed-on", "example.com.other.svc.cluster.local.", rcode="NXDOMAIN",
         asked=["example.com.other.svc.cluster.local."], soa=True),
    Case("bare-name-passed-on", "example.com.",
         answer=["example.com. 300 IN A 93.184.215.14"], asked=["example.com."]),
    Case("first-domain-itself-passed-on", "default.svc.cluster.local.", rcode="NXDOMAIN",
         asked=["default.svc.cluster.local."], soa=True),
    Case("outside-zones-passed-on", W, rcode="NXDOMAIN", asked=[W], soa=True,
         zones=("example.org.",)),
    Case("inside-zones", W, zones=("example.org.", "cluster.local."),
         answer=[f"{W} 300 IN CNAME example.com.", "example.com. 300 IN A 93.184.215.14"],
         asked=WALK),
    Case("no-search-list-passed-on", W, rcode="NXDOMAIN", asked=[W], soa=True, search=()),
    Case("case-kept", "ExAmple.COM.Default.svc.CLUSTER.local.",
         answer=["ExAmple.COM.Default.svc.CLUSTER.local. 300 IN CNAME ExAmple.COM.",
                 "ExAmple.COM. 300 IN A 93.184.215.14"],
         asked=["ExAmple.COM.Default.svc.CLUSTER.local.", "ExAmple.COM.svc.cluster.local.",
                "ExAmple.COM.cluster.local.", "ExAmple.COM.ex.net.", "ExAmple.COM."]),
    Case("cname-on-first-step-not-doubled", "ext.default.svc.cluster.local.",
         answer=["ext.default.svc.cluster.local. 5 IN CNAME target.example.",
                 "target.example. 30 IN A 10.2.2.2"],
         asked=["ext.default.svc.cluster.local."]),
    Case("cname-on-later-step", "ext2.default.svc.cluster.local.",
         answer=["ext2.default.svc.cluster.local. 7 IN CNAME ext2.cluster.local.",
                 "ext2.cluster.local. 7 IN CNAME target.example.",
                 "target.example. 30 IN A 10.2.2.2"],
         asked=["ext2.default.svc.cluster.local.", "ext2.svc.cluster.local.",
                "ext2.cluster.local."]),
    Case("servfail-stops-the-walk", "broken.default.svc.cluster.local.", rcode="SERVFAIL",
         asked=["broken.default.svc.cluster.local.", "broken.svc.cluster.local."]),
    Case("unanswered-step-goes-on", "silent.default.svc.cluster.local.", rcode="NXDOMAIN",
         asked=["silent.default.svc.cluster.local.", "silent.svc.cluster.local.",
                "silent.cluster.local.", "silent.ex.net.", "silent."], soa=True),
]  # fmt: skip


def answer_lines(reply: dns.message.Message) -> list[str]:
    return [line for rrset in reply.answer for line in rrset.to_text().splitlines()]


async def serve(h: Autopath, req: Request, backend: Backend) -> dns.message.Message | None:
    reply = await h.serve(req, backend)
    if reply is None:
        return None
    return dns.message.from_wire(bytes(reply.msg.pack()))


def make_request(qname: str, qtype: str = "A", client: str = "192.0.2.1", **kw: object) -> Request:
    q = dns.message.make_query(qname, qtype, **kw)  # type: ignore[arg-type]
    return parse_query(q.to_wire(), Request).init(client, 5353, "udp", "::", "dns://:53")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_handler(case: Case) -> None:
    h = Autopath(AutopathOptions(zones=case.zones, search=case.search))
    backend = Backend()
    req = make_request(case.qname, case.qtype)
    reply = await serve(h, req, backend)
    assert reply is not None
    assert dns.rcode.to_text(reply.rcode()) == case.rcode
    assert reply.id == req.id
    assert [q.to_text() for q in reply.question] == [f"{case.qname} IN {case.qtype}"]
    assert answer_lines(reply) == list(case.answer)
    assert any(rrset.rdtype == 6 for rrset in reply.authority) == case.soa
    assert backend.asked == list(case.asked)


async def test_exception_below_stops_the_walk() -> None:
    h = Autopath(AutopathOptions(zones=(".",), search=SEARCH))
    backend = Backend()
    with pytest.raises(PluginError):
        await h.serve(make_request("boom.default.svc.cluster.local."), backend)
    assert backend.asked == ["boom.default.svc.cluster.local.", "boom.svc.cluster.local."]


async def test_nothing_answers_at_all() -> None:
    async def nobody(req: Request) -> Reply | None:
        return None

    h = Autopath(AutopathOptions(zones=(".",), search=SEARCH))
    assert await h.serve(make_request(W), nobody) is None


async def test_first_reply_is_returned_as_is() -> None:
    """All NXDOMAIN: the very reply of the first step goes back (the client walks on)."""
    seen: list[Reply] = []

    async def nx(req: Request) -> Reply | None:
        seen.append(Reply(req.reply(rcode=3)))
        return seen[-1]

    h = Autopath(AutopathOptions(zones=(".",), search=SEARCH))
    assert await h.serve(make_request(W), nx) is seen[0]
    assert len(seen) == 5


class Pods:
    """A stand-in for the *kubernetes* handler: search lists by client address."""

    def __init__(self) -> None:
        self.namespaces = {"10.244.0.1": "default", "10.244.0.2": "other"}
        self.calls: list[tuple[str, str]] = []

    def search_path(self, qname: str, client_ip: str) -> Sequence[str] | None:
        self.calls.append((qname, client_ip))
        namespace = self.namespaces.get(client_ip)
        if namespace is None:
            return None
        return (f"{namespace}.svc.cluster.local.", "svc.cluster.local.", "cluster.local.")


def test_pods_stand_in_is_a_search_pather() -> None:
    assert isinstance(Pods(), SearchPather)


@dataclass(frozen=True)
class ClientCase:
    id: str
    client: str
    qname: str
    rcode: str = "NOERROR"
    answer: Sequence[str] = field(default_factory=list)


CLIENT_CASES = [
    ClientCase("pod-in-default", "10.244.0.1", "found.default.svc.cluster.local.",
               answer=["found.default.svc.cluster.local. 9 IN CNAME found.cluster.local.",
                       "found.cluster.local. 9 IN A 10.3.3.3"]),
    ClientCase("pod-in-other-same-name", "10.244.0.2", "found.default.svc.cluster.local.",
               rcode="NXDOMAIN"),
    ClientCase("pod-in-other-own-name", "10.244.0.2", "found.other.svc.cluster.local.",
               answer=["found.other.svc.cluster.local. 9 IN CNAME found.cluster.local.",
                       "found.cluster.local. 9 IN A 10.3.3.3"]),
    ClientCase("not-a-pod", "192.0.2.1", "found.default.svc.cluster.local.", rcode="NXDOMAIN"),
]  # fmt: skip


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[c.id for c in CLIENT_CASES])
async def test_search_list_per_client(case: ClientCase) -> None:
    pods = Pods()
    h = Autopath(AutopathOptions(zones=(".",), plugin="kubernetes"))
    h.bind(pods)
    reply = await serve(h, make_request(case.qname, client=case.client), Backend())
    assert reply is not None
    assert dns.rcode.to_text(reply.rcode()) == case.rcode
    assert answer_lines(reply) == list(case.answer)
    assert pods.calls == [(case.qname, case.client)]


async def test_bad_first_domain_from_plugin_means_no_autopath() -> None:
    class Bad:
        def search_path(self, qname: str, client_ip: str) -> Sequence[str] | None:
            return ("a..b.", "cluster.local.")

    h = Autopath(AutopathOptions(zones=(".",), plugin="x"))
    h.bind(Bad())
    backend = Backend()
    await serve(h, make_request("found.cluster.local.", client="10.244.0.1"), backend)
    assert backend.asked == ["found.cluster.local."]  # not walked from a later domain


def success(server: str = "dns://:53") -> float:
    return REGISTRY.get_sample_value("coredns_autopath_success_total", {"server": server}) or 0.0


async def test_success_metric() -> None:
    h = Autopath(AutopathOptions(zones=(".",), search=SEARCH))
    before = success()
    await serve(h, make_request(W), Backend())  # found bare
    assert success() == before + 1
    await serve(h, make_request("web.default.svc.cluster.local."), Backend())  # first step
    assert success() == before + 2
    await serve(h, make_request("nothing.default.svc.cluster.local."), Backend())
    await serve(h, make_request("example.com."), Backend())  # not autopathed
    assert success() == before + 2


def test_not_memo_safe() -> None:
    """Its replies depend on the client's address: a block with it keeps no answer memos."""
    assert getattr(Autopath(AutopathOptions()), "memo_safe", False) is False


def test_subquery_copies_the_query() -> None:
    q = dns.message.make_query("web.default.svc.cluster.local.", "AAAA")
    q.flags |= dns.flags.CD
    q.use_edns(0, dns.flags.DO, 1400, options=[dns.edns.GenericOption(65001, b"\x01\x02")])
    req = parse_query(q.to_wire(), Request).init(
        "10.244.0.1", 4242, "tcp", "10.0.0.10", "dns://:53"
    )
    req.zone = "."
    req.meta["rewrite/x"] = "y"
    sub = subquery(req, (b"Web", b"svc", b"cluster", b"local"))
    assert sub is not None
    assert (sub.id, sub.flags, sub.qtype, sub.qclass) == (req.id, req.flags, 28, 1)
    assert sub.qname == "Web.svc.cluster.local."
    assert (sub.edns, sub.do, sub.udp_size, sub.options) == (True, True, 1400, req.options)
    assert (sub.client, sub.port, sub.proto, sub.local, sub.server, sub.zone) == (
        "10.244.0.1", 4242, "tcp", "10.0.0.10", "dns://:53", ".",
    )  # fmt: skip
    assert sub.meta == {"rewrite/x": "y"} and sub.meta is not req.meta
    parsed = DNSRecord.parse(sub.wire)
    assert str(parsed.q.qname) == "Web.svc.cluster.local."


def test_subquery_without_edns() -> None:
    req = make_request("a.b.", use_edns=False)
    sub = subquery(req, (b"c",))
    assert sub is not None and not sub.edns and sub.qname == "c."


async def test_root_zone_search_list_from_plugin() -> None:
    """*kubernetes* serving ``.`` gives ``<ns>.svc.``, ``svc.``, ``.``: the root is the bare
    name."""

    class RootPods:
        def search_path(self, qname: str, client_ip: str) -> Sequence[str] | None:
            return ("default.svc.", "svc.", ".")

    h = Autopath(AutopathOptions(zones=(".",), plugin="kubernetes"))
    h.bind(RootPods())
    backend = Backend()
    for _ in range(2):  # the second time from the remembered labels
        backend.asked.clear()
        reply = await serve(h, make_request("example.com.default.svc."), backend)
        assert reply is not None
        assert answer_lines(reply) == [
            "example.com.default.svc. 300 IN CNAME example.com.",
            "example.com. 300 IN A 93.184.215.14",
        ]
        assert backend.asked == ["example.com.default.svc.", "example.com.svc.", "example.com."]
