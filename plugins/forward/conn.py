"""The sockets under an upstream: a shared UDP socket and a TCP/TLS connection, as protocols.

A query waits on an asyncio future that resolves to the reply's bytes, to the
network error that ended the wait, or to :data:`TIMEOUT` when its timer fires
first (:func:`expire_future`). Results are values, never exceptions set on the
future, so a query that stopped waiting leaves nothing unretrieved behind.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import Any


class Timeout:
    """The result a waiting future gets when its timer fires first."""


class Eof(Exception):
    """The peer closed the connection (Go's io.EOF)."""

    def __str__(self) -> str:
        return "EOF"


TIMEOUT = Timeout()
#: What a waiting query's future resolves to: the reply, a network error, or TIMEOUT.
Result = bytes | BaseException | Timeout


def expire_future(fut: asyncio.Future[Result]) -> None:
    """The timer callback of a waiting query: resolve to TIMEOUT unless answered already."""
    if not fut.done():
        fut.set_result(TIMEOUT)


class Ids:
    """Unpredictable 16-bit query IDs, drawn from os.urandom a block at a time."""

    def __init__(self) -> None:
        self.block = b""
        self.pos = 0

    def next(self) -> int:
        """A fresh ID (Go's dns.Id() uses crypto/rand too)."""
        if self.pos >= len(self.block):
            self.block = os.urandom(1024)
            self.pos = 0
        pos = self.pos
        self.pos = pos + 2
        return (self.block[pos] << 8) | self.block[pos + 1]


ids = Ids()


def sock_addr(sockname: Any) -> str:
    """``IP:port`` (``[v6]:port``) of a socket name, for error messages."""
    if not isinstance(sockname, tuple) or len(sockname) < 2:
        return "?"
    host = str(sockname[0])
    return f"[{host}]:{sockname[1]}" if ":" in host else f"{host}:{sockname[1]}"


def strerror(exc: BaseException) -> str:
    """An OS error as Go prints it (``connection refused``)."""
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


class Datagram(asyncio.DatagramProtocol):
    """A connected UDP socket carrying several queries, each waiting under its own ID."""

    def __init__(self, loop: asyncio.AbstractEventLoop, local: str) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.ready: asyncio.Future[BaseException | None] = loop.create_future()
        self.pending: dict[int, asyncio.Future[Result]] = {}
        self.users = 0
        self.created = self.used = time.monotonic()
        self.closed = False
        self.local = local

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.ready.done():
            self.ready.set_result(None)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) < 12:
            return
        fut = self.pending.get((data[0] << 8) | data[1])
        if fut is not None and not fut.done():
            fut.set_result(data)

    def error_received(self, exc: Exception) -> None:
        self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionAbortedError("use of closed network connection"))

    def _fail(self, exc: BaseException) -> None:
        for fut in self.pending.values():
            if not fut.done():
                fut.set_result(exc)
        if not self.ready.done():
            self.ready.set_result(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Stream(asyncio.Protocol):
    """A TCP or TLS connection: length-prefixed messages, one query in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Result] | None = None
        self.qid = b""
        self.catch_all = False
        self.got_data = False
        self.closed = False
        self.created = self.used = time.monotonic()
        self.local = "?"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.local = sock_addr(transport.get_extra_info("sockname"))

    def data_received(self, data: bytes) -> None:
        self.got_data = True
        buf = self.buf
        buf += data
        while len(buf) >= 2:
            size = (buf[0] << 8) | buf[1]
            if len(buf) < size + 2:
                break
            msg = bytes(buf[2 : size + 2])
            del buf[: size + 2]
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                if len(msg) >= 12 and (self.catch_all or msg[:2] == self.qid):
                    waiter.set_result(msg)  # other IDs: out-of-order replies, dropped

    def eof_received(self) -> bool | None:
        self._lost(Eof())
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc or Eof())

    def _lost(self, exc: BaseException) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def opened(task: asyncio.Task[Any], sock: Datagram, raw: socket.socket) -> None:
    """The datagram endpoint of ``sock`` is up, or failed: wake whoever waits on it."""
    if task.cancelled():
        exc: BaseException | None = ConnectionAbortedError("cancelled")
    else:
        exc = task.exception()
    if exc is not None:
        raw.close()
        sock.closed = True
        if not sock.ready.done():
            sock.ready.set_result(exc)
