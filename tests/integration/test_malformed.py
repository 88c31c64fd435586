"""The malformed corpus over UDP and TCP while a well-formed query keeps being answered."""

from __future__ import annotations

import asyncio
import socket
import struct

import dns.message
import dns.rcode
import pytest

from dnsd.testing import serve_corefile
from tests.corpus import CORPUS


async def _udp_send(host: str, port: int, data: bytes) -> bytes | None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, data)
        try:
            return await asyncio.wait_for(loop.sock_recv(sock, 65535), 0.3)
        except TimeoutError:
            return None
    finally:
        sock.close()


async def test_corpus_over_udp_never_stops_the_server(caplog: pytest.LogCaptureFixture) -> None:
    async with serve_corefile(".:53 {\n    whoami\n}\n") as srv:
        for case_id, data in CORPUS:
            if len(data) > 65000:
                continue  # larger than a UDP datagram can carry
            reply = await _udp_send(srv.host, srv.port, data)
            if reply is not None:
                dns.message.from_wire(reply)  # whatever we send back is a valid message
            good = await srv.query("still.alive", timeout=2)
            assert good.rcode() == dns.rcode.NOERROR, case_id
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_corpus_over_tcp_never_stops_the_server(caplog: pytest.LogCaptureFixture) -> None:
    async with serve_corefile(".:53 {\n    whoami\n}\n") as srv:
        for case_id, data in CORPUS:
            if not data or len(data) > 65535:
                continue
            reader, writer = await asyncio.open_connection(srv.host, srv.port)
            try:
                writer.write(struct.pack("!H", len(data)) + data)
                await writer.drain()
                try:
                    head = await asyncio.wait_for(reader.readexactly(2), 0.3)
                    body = await asyncio.wait_for(reader.readexactly(int.from_bytes(head)), 1)
                    dns.message.from_wire(body)
                except (TimeoutError, asyncio.IncompleteReadError):
                    pass
            finally:
                writer.close()
            good = await srv.query("still.alive", tcp=True, timeout=2)
            assert good.rcode() == dns.rcode.NOERROR, case_id
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_garbage_and_good_on_one_tcp_connection() -> None:
    async with serve_corefile(".:53 {\n    whoami\n}\n") as srv:
        good = dns.message.make_query("ok.example", "A")
        frames = b""
        for _, data in CORPUS[:20]:
            if 12 <= len(data) < 65535:
                frames += struct.pack("!H", len(data)) + data
        frames += struct.pack("!H", len(good.to_wire())) + good.to_wire()
        reader, writer = await asyncio.open_connection(srv.host, srv.port)
        try:
            writer.write(frames)
            await writer.drain()
            deadline = asyncio.get_running_loop().time() + 3
            found = False
            while not found and asyncio.get_running_loop().time() < deadline:
                head = await asyncio.wait_for(reader.readexactly(2), 3)
                body = await reader.readexactly(int.from_bytes(head))
                found = body[:2] == good.to_wire()[:2] and dns.message.from_wire(body).answer == []
        finally:
            writer.close()
        assert found
