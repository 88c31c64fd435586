"""*bufsize* end to end: a big answer is truncated at SIZE and the reply's OPT carries SIZE."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.flags
import dns.message
import pytest

from dnsd.testing import TestServer as Server
from dnsd.testing import serve_corefile
from tests.integration.stubs import stub_plugin

RECORDS = 150  # A records of 16 bytes each: about 2.4 KB, over 1232 and under 4096


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.reply.done():
            self.reply.set_result(data)


async def udp_wire(srv: Server, query: dns.message.Message) -> bytes:
    """The raw reply datagram (its size is what is being tested)."""
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        _Client, remote_addr=(srv.host, srv.port)
    )
    try:
        transport.sendto(query.to_wire())
        return await asyncio.wait_for(client.reply, 2.0)
    finally:
        transport.close()


@dataclass(frozen=True)
class Case:
    id: str
    bufsize: str | None  # the directive's argument line; None: no bufsize
    payload: int | None  # the client's EDNS size; None: no EDNS
    truncated: bool
    limit: int  # the reply must fit in this many bytes
    opt: int | None  # the UDP size in the reply's OPT; None: no OPT


CASES = [
    Case("default-clamps-4096", "", 4096, True, 1232, 1232),
    Case("1232-clamps-4096", " 1232", 4096, True, 1232, 1232),
    Case("512-clamps-4096", " 512", 4096, True, 512, 512),
    Case("smaller-client-size-kept", " 1232", 1000, True, 1000, 1000),
    Case("4096-allows-4096", " 4096", 4096, False, 4096, 4096),
    Case("no-bufsize-allows-4096", None, 4096, False, 4096, 4096),
    Case("no-edns-512", " 1232", None, True, 512, None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_udp_reply_size(case: Case) -> None:
    line = "" if case.bufsize is None else f"    bufsize{case.bufsize}\n"
    text = f". {{\n{line}    stub many {RECORDS}\n}}\n"
    if case.payload is None:
        query = dns.message.make_query("example.org", "A", use_edns=False)
    else:
        query = dns.message.make_query("example.org", "A", use_edns=0, payload=case.payload)
    with stub_plugin():
        async with serve_corefile(text) as srv:
            wire = await udp_wire(srv, query)
    reply = dns.message.from_wire(wire)
    assert len(wire) <= case.limit
    assert bool(reply.flags & dns.flags.TC) == case.truncated
    if not case.truncated:
        assert sum(len(rrset) for rrset in reply.answer) == RECORDS
    if case.opt is None:
        assert reply.edns == -1
    else:
        assert reply.edns == 0
        assert reply.payload == case.opt


async def test_tcp_is_not_truncated() -> None:
    text = f". {{\n    bufsize 512\n    stub many {RECORDS}\n}}\n"
    with stub_plugin():
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", tcp=True, use_edns=0, payload=4096)
    assert not reply.flags & dns.flags.TC
    assert sum(len(rrset) for rrset in reply.answer) == RECORDS
    assert reply.payload == 512  # the clamped size is still what the OPT echoes
