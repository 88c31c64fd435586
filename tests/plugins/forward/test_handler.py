"""The forward handler alone: which names it takes, the concurrency limit, metadata."""

from __future__ import annotations

import pytest
from dnslib import DNSRecord

from dnsd.plugins.forward.handler import Forward
from dnsd.plugins.forward.setup import ForwardOptions
from dnsd.plugins.forward.targets import To
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query
from tests.plugins.forward.fakes import FakeUpstream, answer


def request(name: str, qtype: str = "A") -> Request:
    q = DNSRecord.question(name, qtype)
    q.header.id = 99
    req = parse_query(bytes(q.pack()), Request)
    return req.init("127.0.0.1", 5353, "udp", "127.0.0.1", "dns://:53")


async def passed_on(req: Request) -> Reply | None:
    return Reply(req.reply(rcode=0, aa=True), plugin="next")


def forward(port: int = 53, **kw: object) -> Forward:
    opts = ForwardOptions(to=(To("dns", "127.0.0.1", port),), **kw)  # type: ignore[arg-type]
    return Forward(opts)


MATCH_CASES = [
    ("root-takes-all", ".", (), "www.example.org.", True),
    ("zone-apex", "example.org.", (), "example.org.", True),
    ("zone-child", "example.org.", (), "a.b.example.org.", True),
    ("outside", "example.org.", (), "example.net.", False),
    ("suffix-not-label", "example.org.", (), "badexample.org.", False),
    ("excepted", ".", ("internal.",), "db.internal.", False),
    ("excepted-apex", ".", ("internal.",), "internal.", False),
    ("from-beats-except", "example.org.", ("example.org.",), "example.org.", True),
    ("except-root", "example.org.", (".",), "www.example.org.", False),
]


@pytest.mark.parametrize(
    ("zone", "ignored", "name", "want"),
    [c[1:] for c in MATCH_CASES],
    ids=[c[0] for c in MATCH_CASES],
)
def test_match(zone: str, ignored: tuple[str, ...], name: str, want: bool) -> None:
    assert forward(from_zone=zone, ignored=ignored).match(name) is want


async def test_names_outside_go_to_the_next_plugin() -> None:
    handler = forward(from_zone="example.org.")
    reply = await handler.serve(request("example.net."), passed_on)
    assert reply is not None and reply.plugin == "next"


async def test_over_the_limit_is_refused_at_once() -> None:
    handler = forward(max_concurrent=2)
    handler.concurrent = 2
    reply = await handler.serve(request("example.org."), passed_on)
    assert reply is not None and reply.wire is not None
    assert reply.rcode == 5
    assert handler.concurrent == 2


async def test_reply_is_the_upstreams_bytes_and_metadata_names_the_upstream() -> None:
    async with FakeUpstream(answer("192.0.2.5")) as fake:
        handler = forward(fake.port, max_concurrent=10)
        req = request("example.org.")
        try:
            reply = await handler.serve(req, passed_on)
        finally:
            handler.close()
    assert reply is not None and reply.wire is not None
    assert str(DNSRecord.parse(reply.wire).a.rdata) == "192.0.2.5"
    assert req.meta["forward/upstream"] == fake.addr
    assert handler.concurrent == 0
