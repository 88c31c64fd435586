"""Handler of *bufsize*: the advertised size is lowered, never raised, only with EDNS."""

from __future__ import annotations

from dataclasses import dataclass

import dns.message
import pytest

from dnsd.plugins.bufsize.handler import Bufsize
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query


def request(payload: int | None) -> Request:
    if payload is None:
        q = dns.message.make_query("example.org", "A", use_edns=False)
    else:
        q = dns.message.make_query("example.org", "A", use_edns=0, payload=payload)
    return parse_query(q.to_wire(), Request).init("192.0.2.1", 5353, "udp", "::", "dns://:53")


@dataclass(frozen=True)
class Case:
    id: str
    size: int
    payload: int | None  # the client's EDNS size; None: no OPT record
    want: int  # udp_size the next plugin sees
    want_max: int  # the reply size the server will allow


CASES = [
    Case("lowered", 1232, 4096, 1232, 1232),
    Case("kept-when-smaller", 1232, 1000, 1000, 1000),
    Case("kept-when-equal", 1232, 1232, 1232, 1232),
    Case("min", 512, 4096, 512, 512),
    Case("no-edns-untouched", 1232, None, 0, 512),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    req = request(case.payload)
    seen: list[tuple[int, int, bytes]] = []

    async def next(r: Request) -> Reply | None:
        seen.append((r.udp_size, r.max_size, r.wire))
        return Reply(r.reply())

    reply = await Bufsize(case.size).serve(req, next)
    assert reply is not None
    [(udp_size, max_size, wire)] = seen
    assert (udp_size if req.edns else 0) == case.want
    assert max_size == case.want_max
    parsed = dns.message.from_wire(wire)  # the query's own bytes carry the new size too
    assert parsed.payload == (case.want if case.payload is not None else 0)
