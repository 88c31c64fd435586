"""rewrite end to end: the real server, *cache* and *kubernetes* (on the fake API server) behind
it, dnspython.

- a migration alias (``.old.example.`` -> ``.svc.cluster.local.``, answer auto) and a regex
  with groups to a Service, with live cluster changes seen through the alias;
- a CNAME target rewritten and resolved through the server;
- an invalid rewritten name answered SERVFAIL with a log line;
- EDNS0 options sent to a real upstream by *forward*, and kept out of the client's reply;
- no answer memo leaks from one client to another behind ``{client_ip}``.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import dns.asyncquery
import dns.edns
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from dnslib import RR, TXT, A, DNSLabel, DNSRecord

from dnsd.controller import Controller
from dnsd.plugin import REGISTRY, Next
from dnsd.plugins.cache.handler import Cache
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile
from tests.plugins.forward.fakes import FakeUpstream, Outcome
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    endpoint,
    make_namespace,
    make_service,
    make_slice,
)

REWRITES = (
    "rewrite continue cname exact target.example. web.demo.svc.cluster.local.",
    "rewrite name suffix .old.example. .svc.cluster.local. answer auto",
    r"rewrite name regex ^([a-z0-9-]+)-([a-z0-9]+)\.apps\.example\.$ "
    "{1}.{2}.svc.cluster.local. answer auto",
    "rewrite name exact broken.example. a..example.",
)


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        for ns in ("default", "demo"):
            fake.add("Namespace", make_namespace(ns))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        fake.add(
            "Service",
            make_service("demo", "db", cluster_ip="None", ports=[("postgres", 5432, "TCP")]),
        )
        fake.add(
            "EndpointSlice",
            make_slice(
                "demo",
                "db",
                ports=[("postgres", 5432, "TCP")],
                endpoints=[
                    endpoint("10.244.2.1", hostname="db-0"),
                    endpoint("10.244.2.2", hostname="db-1"),
                ],
            ),
        )
        fake.add("Service", make_service("demo", "search", external_name="target.example."))
        yield fake


def corefile(api: FakeAPI) -> str:
    rewrites = "".join(f"    {line}\n" for line in REWRITES)
    return (
        f". {{\n    errors\n{rewrites}    cache 30\n"
        f"    kubernetes cluster.local in-addr.arpa {{\n        endpoint {api.url}\n    }}\n}}\n"
    )


@asynccontextmanager
async def cluster(api: FakeAPI) -> AsyncIterator[TestServer]:
    async with serve_corefile(corefile(api)) as srv:
        yield srv


def rrs(reply: dns.message.Message, section: str = "answer") -> list[str]:
    out = []
    for rrset in getattr(reply, section):
        for rd in rrset:
            out.append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    return sorted(out)


MATRIX = [
    # (id, qname, qtype, rcode, answer records "name TYPE rdata")
    ("alias-A", "web.demo.old.example", "A", "NOERROR", ["web.demo.old.example. A 10.96.0.20"]),
    ("alias-case", "WEB.Demo.old.EXAMPLE", "A", "NOERROR", ["web.demo.old.example. A 10.96.0.20"]),
    ("alias-SRV-target-mapped-back", "_postgres._tcp.db.demo.old.example", "SRV", "NOERROR",
     ["_postgres._tcp.db.demo.old.example. SRV 0 50 5432 db-0.db.demo.old.example.",
      "_postgres._tcp.db.demo.old.example. SRV 0 50 5432 db-1.db.demo.old.example."]),
    ("alias-headless", "db.demo.old.example", "A", "NOERROR",
     ["db.demo.old.example. A 10.244.2.1", "db.demo.old.example. A 10.244.2.2"]),
    ("alias-endpoint", "db-1.db.demo.old.example", "A", "NOERROR",
     ["db-1.db.demo.old.example. A 10.244.2.2"]),
    ("alias-nxdomain", "nope.demo.old.example", "A", "NXDOMAIN", []),
    ("regex-groups", "web-demo.apps.example", "A", "NOERROR",
     ["web-demo.apps.example. A 10.96.0.20"]),
    ("regex-auto-keeps-asked-case", "Web-Demo.Apps.Example", "A", "NOERROR",
     ["Web-Demo.Apps.Example. A 10.96.0.20"]),
    ("regex-no-match-goes-on", "web.demo.svc.cluster.local", "A", "NOERROR",
     ["web.demo.svc.cluster.local. A 10.96.0.20"]),
    ("cname-target-rewritten-and-resolved", "search.demo.svc.cluster.local", "A", "NOERROR",
     ["search.demo.svc.cluster.local. CNAME web.demo.svc.cluster.local.",
      "web.demo.svc.cluster.local. A 10.96.0.20"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("qname", "qtype", "rcode", "answer"),
    [pytest.param(*row[1:], id=row[0]) for row in MATRIX],
)
async def test_rewrites_in_front_of_kubernetes(
    api: FakeAPI, qname: str, qtype: str, rcode: str, answer: list[str]
) -> None:
    async with cluster(api) as srv:
        for tcp in (False, True, False):
            reply = await srv.query(qname, qtype, tcp=tcp)
            assert reply.question[0].to_text() == f"{qname}. IN {qtype}"  # exactly as asked
            assert dns.rcode.to_text(reply.rcode()) == rcode
            assert rrs(reply) == answer
        assert cache_hits(srv) >= 2  # the rewritten query is what the cache keeps


def cache_hits(srv: TestServer) -> int:
    (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
    return sum(sum(counters.hits) for counters in cache._counters.values())


async def test_a_new_service_resolves_through_the_alias(api: FakeAPI) -> None:
    async with cluster(api) as srv:
        reply = await srv.query("api.demo.old.example", "A")
        assert reply.rcode() == dns.rcode.NXDOMAIN
        api.add("Service", make_service("demo", "api", cluster_ip="10.96.0.30"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while rrs(await srv.query("api.demo.old.example", "A")) != [
            "api.demo.old.example. A 10.96.0.30"
        ]:
            assert loop.time() < deadline, "the alias never saw the new Service"
            await asyncio.sleep(0.02)


async def test_invalid_rewritten_name_is_servfail_and_logged(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    async with cluster(api) as srv:
        reply = await srv.query("Broken.example", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert reply.question[0].to_text() == "Broken.example. IN A"
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("plugin/rewrite", "Invalid name after rewrite: a..example.") in messages
    assert any(
        name == "plugin/errors" and "plugin/rewrite: invalid name after rewrite: a..example." in msg
        for name, msg in messages
    )


# -- EDNS0 options on the wire, through forward -------------------------------------------------


async def test_edns0_options_reach_the_upstream_and_are_reverted() -> None:
    got: list[DNSRecord] = []

    def behave(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
        got.append(q)
        r = q.reply()
        r.add_answer(RR(q.q.qname, 1, rdata=A("192.0.2.7"), ttl=60))
        for rr in q.ar:  # echo the query's OPT, options included
            r.add_ar(rr)
        return bytes(r.pack())

    async with FakeUpstream(behave) as up:
        text = (
            ".:53 {\n"
            "    rewrite continue name suffix .old.example. .new.example. answer auto\n"
            "    rewrite continue edns0 local set 0xffee {client_ip} revert\n"
            "    rewrite edns0 subnet set 24 56\n"
            f"    forward . {up.addr}\n}}\n"
        )
        async with serve_corefile(text) as srv:
            reply = await srv.query("www.old.example", "A", use_edns=0)
    (q,) = got
    assert str(q.q.qname) == "www.new.example."
    (opt,) = [rr for rr in q.ar if rr.rtype == 41]
    assert [(o.code, bytes(o.data)) for o in opt.rdata] == [
        (0xFFEE, bytes([127, 0, 0, 1])),
        (8, b"\x00\x01\x18\x00\x7f\x00\x00"),
    ]
    assert reply.question[0].to_text() == "www.old.example. IN A"
    assert rrs(reply) == ["www.old.example. A 192.0.2.7"]
    # 0xffee (revert) is taken out; the subnet option (no revert) comes back as echoed
    assert [o.otype for o in reply.options] == [8]


# -- no memo leaks between clients ---------------------------------------------------------------


class EchoOption:
    """Answers TXT with option 0xffee's data, and offers a memo (as kubernetes or cache do)."""

    name = "echoopt"

    async def serve(self, req: Request, next: Next) -> Reply | None:
        data = dict(req.options).get(0xFFEE, b"")
        msg = req.reply(aa=True)
        msg.add_answer(RR(DNSLabel(list(req.labels)), 16, 1, 60, TXT(data.hex())))
        reply = Reply(msg)
        reply.memo = lambda: True
        return reply


@contextmanager
def echo_plugin() -> Iterator[None]:
    module = types.ModuleType("echoopt")

    def setup(c: Controller) -> None:
        while c.next():
            pass
        c.add_handler(EchoOption())

    module.NAME = "echoopt"  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    REGISTRY.add(module)
    try:
        yield
    finally:
        REGISTRY.remove("echoopt")


async def ask_from(srv: TestServer, source: str, qname: str) -> str:
    q = dns.message.make_query(qname, "TXT")
    q.id = 4242  # identical bytes from both clients
    reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, source=source, timeout=2)
    return str(reply.answer[0][0].strings[0].decode())


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


async def test_answers_behind_client_ip_are_not_replayed_to_another_client() -> None:
    text = ".:53 {\n    rewrite edns0 local set 0xffee {client_ip}\n    echoopt\n}\n"
    with echo_plugin():
        async with serve_corefile(text) as srv:
            first = [await ask_from(srv, "127.0.0.1", "who.example") for _ in range(3)]
            other = await ask_from(srv, "127.0.0.2", "who.example")
            assert len(dispatcher(srv).memos) == 0
    assert first == ["7f000001"] * 3
    assert other == "7f000002"


async def test_the_same_backend_without_rewrite_is_remembered() -> None:
    """The control: the echo plugin's memo is kept when nothing stands in front of it."""
    with echo_plugin():
        async with serve_corefile(".:53 {\n    echoopt\n}\n") as srv:
            for _ in range(2):
                await ask_from(srv, "127.0.0.1", "who.example")
            assert len(dispatcher(srv).memos) == 1
