"""Small upstreams for the forward tests: a scriptable DNS server and a counting TCP/TLS relay.

:class:`FakeUpstream` binds UDP and TCP on one ephemeral 127.0.0.1 port and answers
with whatever its ``behave`` function returns for each query, so a test can play
an upstream that is silent, refuses, sends garbage, a wrong ID or question, sets
TC on UDP, or answers late. It records every query (transport, name, type, RD).

:class:`StreamProxy` accepts TCP (or, with an SSL context, DNS over TLS) and
relays the bytes to a dnsd server's TCP port, counting the connections it
accepted: the DoT upstream and the connection-reuse counter of the tests.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnslib import QTYPE, RR, A, DNSRecord

#: What ``behave`` returns: the reply bytes, None (no reply), or (delay, bytes).
Outcome = bytes | None | tuple[float, bytes]
Behave = Callable[[DNSRecord, bytes, str], Outcome]


@dataclass
class Seen:
    """One query the fake received."""

    proto: str
    qname: str
    qtype: str
    rd: bool


def answer(address: str = "192.0.2.1", rcode: int = 0, ttl: int = 60) -> Behave:
    """A reply with one A record (for A queries) and ``rcode``."""

    def behave(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
        r = q.reply()
        r.header.rcode = rcode
        if q.q.qtype == 1 and rcode == 0:
            r.add_answer(RR(q.q.qname, 1, rdata=A(address), ttl=ttl))
        return bytes(r.pack())

    return behave


def rcode_only(rcode: int) -> Behave:
    """An empty reply with ``rcode`` (NODATA for 0)."""

    def behave(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
        r = q.reply()
        r.header.rcode = rcode
        return bytes(r.pack())

    return behave


def silent(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
    return None


def garbage(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
    return b"\x13\x37garbage!"


def wrong_id(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
    r = q.reply()
    r.header.id = (q.header.id + 1) & 0xFFFF
    return bytes(r.pack())


def wrong_question(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
    other = DNSRecord.question("other.example.", "A")
    other.header.id = q.header.id
    r = other.reply()
    return bytes(r.pack())


def truncating(address: str = "192.0.2.7") -> Behave:
    """UDP: an empty reply with TC; TCP: the full answer."""
    full = answer(address)

    def behave(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
        if proto == "tcp":
            return full(q, raw, proto)
        r = q.reply()
        r.header.tc = 1
        return bytes(r.pack())

    return behave


def slow(delay: float, inner: Behave | None = None) -> Behave:
    """``inner``'s reply (default: an A answer), sent ``delay`` seconds later."""
    then = inner or answer()

    def behave(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
        reply = then(q, raw, proto)
        return None if reply is None or isinstance(reply, tuple) else (delay, reply)

    return behave


@dataclass
class FakeUpstream:
    """A DNS server on 127.0.0.1 (UDP and TCP, one port) playing ``behave``."""

    behave: Behave = field(default_factory=answer)
    host: str = "127.0.0.1"
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    tcp_connections: int = 0
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _timers: list[asyncio.TimerHandle] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    async def __aenter__(self) -> FakeUpstream:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.host, self.port))
            port = sock.getsockname()[1]
            try:
                self._tcp = await asyncio.start_server(self._client, self.host, port)
            except OSError:
                sock.close()
                if self.port:
                    raise
                continue
            self.port = port
            self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpSide(self), sock=sock)
            return
        raise OSError("no free port for the fake upstream")

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            self.hang_up()
            await self._tcp.wait_closed()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    def hang_up(self) -> None:
        """Close every TCP connection the fake has accepted."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def handle(self, data: bytes, proto: str) -> Outcome:
        try:
            q = DNSRecord.parse(data)
        except Exception:
            return None
        qtype = str(QTYPE.get(q.q.qtype, q.q.qtype))
        self.seen.append(Seen(proto, str(q.q.qname), qtype, bool(q.header.rd)))
        return self.behave(q, data, proto)

    def count(self, proto: str | None = None, *, checks: bool = False) -> int:
        """Queries seen over ``proto`` (any); health checks (NS queries) only with ``checks``."""
        return sum(
            1
            for s in self.seen
            if (proto is None or s.proto == proto) and (checks or s.qtype != "NS")
        )

    def later(self, delay: float, send: Callable[[], None]) -> None:
        self._timers.append(asyncio.get_running_loop().call_later(delay, send))

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tcp_connections += 1
        self._writers.append(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            while True:
                head = await reader.readexactly(2)
                data = await reader.readexactly(int.from_bytes(head, "big"))
                out = self.handle(data, "tcp")
                if isinstance(out, tuple):
                    await asyncio.sleep(out[0])
                    out = out[1]
                if out is not None:
                    writer.write(len(out).to_bytes(2, "big") + out)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpSide(asyncio.DatagramProtocol):
    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        out = self.fake.handle(data, "udp")
        transport = self.transport
        if out is None or transport is None:
            return
        if isinstance(out, tuple):
            delay, reply = out
            self.fake.later(delay, lambda: transport.sendto(reply, addr))
            return
        transport.sendto(out, addr)


class StreamProxy:
    """Relays TCP (or TLS, with ``ssl_context``) connections to ``target_port``; counts them."""

    def __init__(self, target_port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.target_port = target_port
        self.ssl_context = ssl_context
        self.port = 0
        self.connections = 0
        self.handshake_failures = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> StreamProxy:
        self._server = await asyncio.start_server(
            self._client, "127.0.0.1", 0, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    def drop_all(self) -> None:
        """Close every relayed connection (the upstream side hangs up)."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.append(up_writer)
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()
