"""*timeouts* through the real server's TCP listener: idle, read, maxtcpqueries, max_connections.

Every wait is bounded: a close is awaited with a deadline, never slept for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dns.message
import dns.rcode
import pytest

from dnsd.listener import Listener
from dnsd.testing import TestServer as Server
from dnsd.testing import serve_corefile, wait_for


def corefile(*options: str) -> str:
    if not options:
        return ". {\n    whoami\n}\n"
    body = "".join(f"        {o}\n" for o in options)
    return f". {{\n    timeouts {{\n{body}    }}\n    whoami\n}}\n"


def frame(qid: int) -> bytes:
    q = dns.message.make_query("example.org", "A", id=qid)
    wire = q.to_wire()
    return len(wire).to_bytes(2, "big") + wire


async def read_reply(reader: asyncio.StreamReader) -> dns.message.Message:
    size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 2.0), "big")
    return dns.message.from_wire(await asyncio.wait_for(reader.readexactly(size), 2.0))


async def closed_after(reader: asyncio.StreamReader, deadline: float) -> float:
    """Seconds until the server closes the connection (EOF or reset); fails after ``deadline``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        data = await asyncio.wait_for(reader.read(1), deadline)
    except ConnectionResetError:
        data = b""
    assert data == b"", "the server sent data instead of closing"
    return loop.time() - start


@asynccontextmanager
async def connect(srv: Server) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


def listener(srv: Server) -> Listener:
    [only] = srv.runtime.listeners.values()
    return only


async def test_idle_connection_is_closed_after_idle() -> None:
    async with serve_corefile(corefile("idle 1s")) as srv, connect(srv) as (reader, writer):
        writer.write(frame(1))
        assert (await read_reply(reader)).id == 1
        elapsed = await closed_after(reader, deadline=5.0)  # the default idle is 10s
        assert elapsed >= 0.8


async def test_default_idle_keeps_the_connection() -> None:
    async with serve_corefile(corefile()) as srv, connect(srv) as (reader, writer):
        writer.write(frame(1))
        await read_reply(reader)
        with pytest.raises(TimeoutError):
            await closed_after(reader, deadline=1.5)
        writer.write(frame(2))
        assert (await read_reply(reader)).id == 2


async def test_silent_connection_is_closed_after_read() -> None:
    async with serve_corefile(corefile("read 1s")) as srv, connect(srv) as (reader, _):
        elapsed = await closed_after(reader, deadline=2.5)  # the default read is 3s
        assert elapsed >= 0.8


@pytest.mark.parametrize("limit", [1, 3])
async def test_maxtcpqueries_closes_after_n_answers(limit: int) -> None:
    async with serve_corefile(corefile(f"maxtcpqueries {limit}")) as srv:
        async with connect(srv) as (reader, writer):
            for qid in range(1, limit + 1):
                writer.write(frame(qid))
                reply = await read_reply(reader)
                assert (reply.id, reply.rcode()) == (qid, dns.rcode.NOERROR)
            assert await closed_after(reader, deadline=1.0) < 1.0


async def test_maxtcpqueries_pipelined_extra_query_is_not_answered() -> None:
    async with serve_corefile(corefile("maxtcpqueries 2")) as srv:
        async with connect(srv) as (reader, writer):
            writer.write(frame(1) + frame(2) + frame(3))
            ids = {(await read_reply(reader)).id, (await read_reply(reader)).id}
            assert ids == {1, 2}
            assert await closed_after(reader, deadline=1.0) < 1.0


async def test_max_connections_rejects_over_the_cap_udp_keeps_answering() -> None:
    async with serve_corefile(corefile("max_connections 1")) as srv:
        async with connect(srv) as (reader, writer):
            writer.write(frame(1))
            assert (await read_reply(reader)).id == 1
            assert listener(srv).connections == 1

            async with connect(srv) as (reader2, writer2):
                writer2.write(frame(2))
                assert await closed_after(reader2, deadline=1.0) < 1.0
            assert listener(srv).rejected == 1

            udp = await srv.query("example.org", "A")
            assert udp.rcode() == dns.rcode.NOERROR
            writer.write(frame(3))
            assert (await read_reply(reader)).id == 3

        await wait_for(lambda: listener(srv).connections == 0, timeout=2.0)
        reply = await srv.query("example.org", "A", tcp=True)
        assert reply.rcode() == dns.rcode.NOERROR
