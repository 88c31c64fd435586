"""One upstream of *forward*: its UDP sockets, its cached TCP/TLS connections, one exchange.

CoreDNS's ``pkg/proxy`` (Proxy, Transport, persistConn) for asyncio:

- **UDP**: a few connected sockets per upstream, each carrying up to :data:`MUX`
  queries at once, told apart by a fresh random query ID. A reply whose ID is
  not waited for is dropped (a late or forged answer), as CoreDNS drops
  out-of-order replies. An ICMP error on the socket fails the queries waiting on
  it at once (``connection refused`` instead of a timeout).
- **TCP and TLS**: one query at a time per connection; a connection goes back to
  the cache after a good reply and is reused (LIFO) until it has been idle for
  ``expire`` or is older than ``max_age``; ``max_idle_conns`` caps the cache. A
  cached connection the upstream closed meanwhile is replaced transparently
  (CoreDNS's ``ErrCachedClosed`` retry).

Nothing here starts a task per query: a query waits on one future with one timer.
Errors are :class:`UpstreamError` with Go's wording (``read udp A->B: i/o timeout``)
so logs look like CoreDNS's.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Coroutine
from typing import Any

from dnsd.plugins.forward import metrics
from dnsd.plugins.forward.conn import (
    TIMEOUT,
    Datagram,
    Eof,
    Result,
    Stream,
    expire_future,
    ids,
    opened,
    sock_addr,
    strerror,
)
from dnsd.plugins.forward.targets import TLS, To
from dnsd.wire import rcode_name

#: Queries in flight on one UDP socket before another socket is opened.
MUX = 64
UDP, TCP, TCP_TLS = "udp", "tcp", "tcp-tls"


class UpstreamError(Exception):
    """No usable reply from the upstream (network error, timeout, closed connection)."""


class Upstream:
    """One **TO**: exchanges queries with it over UDP, TCP or TLS, reusing sockets."""

    def __init__(
        self,
        to: To,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str = "",
        expire: float = 10.0,
        max_age: float = 0.0,
        max_idle_conns: int = 0,
        source_address: str = "",
    ) -> None:
        self.to = to
        self.addr = to.addr
        self.host = to.host
        self.port = to.port
        self.tls = to.transport == TLS
        self.ssl_context = ssl_context if self.tls else None
        self.server_name = to.server_name or server_name or to.host
        self.expire = expire
        self.max_age = max_age
        self.max_idle_conns = max_idle_conns
        self.source_address = source_address
        #: Consecutive failed health checks (CoreDNS's Proxy.fails).
        self.fails = 0
        self._udp: list[Datagram] = []
        self._idle: dict[str, list[Stream]] = {TCP: [], TCP_TLS: []}
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False
        self._durations: dict[int, Any] = {}
        name = metrics.PROXY_NAME
        protos = (UDP, TCP, TCP_TLS)
        self._hits = {p: metrics.conn_cache_hits.labels(name, self.addr, p) for p in protos}
        self._misses = {p: metrics.conn_cache_misses.labels(name, self.addr, p) for p in protos}

    def __repr__(self) -> str:
        return f"<Upstream {self.to}>"

    def down(self, max_fails: int) -> bool:
        """True after more than ``max_fails`` failed health checks in a row (0: never down)."""
        return max_fails != 0 and self.fails > max_fails

    def transport_for(self, proto: str) -> str:
        """The transport a query asked over ``proto`` uses: tcp-tls for tls://."""
        return TCP_TLS if self.tls else proto

    # -- one query -------------------------------------------------------------------------
    def exchange(self, query: bytes, proto: str, timeout: float) -> Coroutine[Any, Any, bytes]:
        """Send ``query`` (its ID is replaced) and return the reply with the same ID.

        A plain function returning the transport's coroutine: one coroutine
        object fewer per query.
        """
        transport = self.transport_for(proto)
        if transport == UDP:
            return self._udp_exchange(query, timeout)
        return self._stream_exchange(query, transport, timeout)

    def _observe(self, reply: bytes, start: float) -> None:
        """``coredns_proxy_request_duration_seconds`` for one reply."""
        rcode = reply[3] & 0x0F
        child = self._durations.get(rcode)
        if child is None:
            child = metrics.request_duration.labels(
                metrics.PROXY_NAME, self.addr, rcode_name(rcode)
            )
            self._durations[rcode] = child
        child.observe(time.perf_counter() - start)

    async def _udp_exchange(self, query: bytes, timeout: float) -> bytes:
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        sock = self._pick_udp(loop)
        try:
            if sock.transport is None:
                failed = await sock.ready
                if failed is not None or sock.transport is None:
                    raise UpstreamError(f"dial udp {self.addr}: {strerror(failed or Eof())}")
            pending = sock.pending
            qid = ids.next()
            while qid in pending:
                qid = ids.next()
            fut: asyncio.Future[Result] = loop.create_future()
            pending[qid] = fut
            try:
                sock.transport.sendto(qid.to_bytes(2, "big") + query[2:])
                timer = loop.call_later(timeout, expire_future, fut)
                try:
                    result = await fut
                finally:
                    timer.cancel()
            finally:
                del pending[qid]
        finally:
            sock.users -= 1
            sock.used = time.monotonic()
            if sock.users == 0:
                self._udp_idle(sock, loop)
        if isinstance(result, bytes):
            self._observe(result, start)
            return result
        if result is TIMEOUT:
            raise UpstreamError(f"read udp {sock.local}->{self.addr}: i/o timeout")
        assert isinstance(result, BaseException)
        raise UpstreamError(f"read udp {sock.local}->{self.addr}: read: {strerror(result)}")

    def _pick_udp(self, loop: asyncio.AbstractEventLoop) -> Datagram:
        """A socket with room for one more query (counted as its user), opening one if needed."""
        now = time.monotonic()
        found: Datagram | None = None
        stale = False
        for sock in self._udp:
            if sock.closed or (sock.users == 0 and self._expired(sock.used, sock.created, now)):
                stale = True
            elif found is None and sock.users < MUX and not self._too_old(sock.created, now):
                found = sock
        if stale:
            self._drop_stale_udp(now)
        if found is not None:
            found.users += 1
            self._hits[UDP].inc()
            return found
        self._misses[UDP].inc()
        sock = self._open_udp(loop)
        sock.users = 1
        self._udp.append(sock)
        return sock

    def _open_udp(self, loop: asyncio.AbstractEventLoop) -> Datagram:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_DGRAM)
        try:
            raw.setblocking(False)
            if self.source_address:
                raw.bind((self.source_address, 0))
            raw.connect((self.host, self.port))
        except OSError as exc:
            raw.close()
            raise UpstreamError(f"dial udp {self.addr}: {strerror(exc)}") from None
        sock = Datagram(loop, sock_addr(raw.getsockname()))
        task = loop.create_task(loop.create_datagram_endpoint(lambda: sock, sock=raw))
        task.add_done_callback(lambda t: opened(t, sock, raw))
        return sock

    def _udp_idle(self, sock: Datagram, loop: asyncio.AbstractEventLoop) -> None:
        if sock.closed or self._closed or self.expire <= 0:
            self._close_udp(sock)
            return
        if self.max_idle_conns:
            idle = sum(1 for s in self._udp if s.users == 0 and not s.closed)
            if idle > self.max_idle_conns:
                self._close_udp(sock)
                return
        self._schedule_sweep(loop)

    def _close_udp(self, sock: Datagram) -> None:
        sock.close()
        if sock in self._udp:
            self._udp.remove(sock)

    def _drop_stale_udp(self, now: float) -> None:
        keep: list[Datagram] = []
        for sock in self._udp:
            if sock.closed or (sock.users == 0 and self._expired(sock.used, sock.created, now)):
                sock.close()
            else:
                keep.append(sock)
        self._udp = keep

    async def _stream_exchange(self, query: bytes, transport: str, timeout: float) -> bytes:
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            conn, cached = await self._dial(loop, transport, deadline - loop.time())
            result = await self._ask(loop, conn, query, deadline, catch_all=False)
            if isinstance(result, bytes):
                self._yield(conn, transport, loop)
                self._observe(result, start)
                return result
            conn.close()
            if result is TIMEOUT:
                raise UpstreamError(f"read tcp {conn.local}->{self.addr}: i/o timeout")
            if cached and not conn.got_data:
                continue  # the upstream closed the cached connection meanwhile: dial again
            assert isinstance(result, BaseException)
            if isinstance(result, Eof):
                raise UpstreamError("EOF")
            raise UpstreamError(f"read tcp {conn.local}->{self.addr}: read: {strerror(result)}")

    async def _ask(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: Stream,
        query: bytes,
        deadline: float,
        *,
        catch_all: bool,
    ) -> Result:
        qid = ids.next().to_bytes(2, "big")
        fut: asyncio.Future[Result] = loop.create_future()
        conn.waiter, conn.qid, conn.catch_all, conn.got_data = fut, qid, catch_all, False
        if conn.closed or conn.transport is None:
            return Eof()
        msg = qid + query[2:]
        conn.transport.write(len(msg).to_bytes(2, "big") + msg)
        timer = loop.call_at(deadline, expire_future, fut)
        try:
            return await fut
        finally:
            timer.cancel()
            conn.waiter = None

    async def _dial(
        self, loop: asyncio.AbstractEventLoop, transport: str, timeout: float
    ) -> tuple[Stream, bool]:
        """A cached connection (True) or a new one (False)."""
        idle = self._idle[transport]
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.closed or self._expired(conn.used, conn.created, now):
                conn.close()
                continue
            self._hits[transport].inc()
            return conn, True
        self._misses[transport].inc()
        return await self._connect(loop, timeout), False

    async def _connect(self, loop: asyncio.AbstractEventLoop, timeout: float) -> Stream:
        conn = Stream()
        local = (self.source_address, 0) if self.source_address else None
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                if self.tls:
                    await loop.create_connection(
                        lambda: conn,
                        self.host,
                        self.port,
                        ssl=self.ssl_context,
                        server_hostname=self.server_name,
                        local_addr=local,
                    )
                else:
                    await loop.create_connection(
                        lambda: conn, self.host, self.port, local_addr=local
                    )
        except TimeoutError:
            conn.close()
            raise UpstreamError(f"dial tcp {self.addr}: i/o timeout") from None
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            reason = exc.verify_message or exc.reason or str(exc)
            raise UpstreamError(f"tls: failed to verify certificate: {reason}") from None
        except ssl.SSLError as exc:
            conn.close()
            raise UpstreamError(f"tls: {(exc.reason or str(exc)).lower()}") from None
        except OSError as exc:
            conn.close()
            raise UpstreamError(f"dial tcp {self.addr}: connect: {strerror(exc)}") from None
        return conn

    def _yield(self, conn: Stream, transport: str, loop: asyncio.AbstractEventLoop) -> None:
        """Put a connection back in the cache after a good reply."""
        if conn.closed or self._closed or self.expire <= 0:
            conn.close()
            return
        conn.used = time.monotonic()
        idle = self._idle[transport]
        if self.max_idle_conns and len(idle) >= self.max_idle_conns:
            conn.close()
            return
        idle.append(conn)
        self._schedule_sweep(loop)

    # -- expiry ----------------------------------------------------------------------------
    def _too_old(self, created: float, now: float) -> bool:
        return bool(self.max_age) and now - created > self.max_age

    def _expired(self, used: float, created: float, now: float) -> bool:
        return now - used > self.expire or self._too_old(created, now)

    def _schedule_sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._sweeper is None and not self._closed:
            self._sweeper = loop.call_later(max(self.expire, 0.01), self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close what has been idle too long (CoreDNS's cleanup ticker); again while any is idle."""
        self._sweeper = None
        now = time.monotonic()
        self._drop_stale_udp(now)
        for transport, idle in self._idle.items():
            keep = [c for c in idle if not c.closed and not self._expired(c.used, c.created, now)]
            for conn in idle:
                if conn not in keep:
                    conn.close()
            self._idle[transport] = keep
        if any(self._idle.values()) or any(s.users == 0 for s in self._udp):
            self._schedule_sweep(loop)

    # -- health checks ---------------------------------------------------------------------
    async def probe(self, query: bytes, proto: str, timeout: float) -> bytes:
        """One health-check exchange on a fresh socket; any message with a header counts.

        Over UDP only a datagram with the check's own ID is a reply: others are ignored until
        the timeout, as miekg/dns's ``Exchange`` ignores mismatched IDs on packet connections (so
        an upstream answering with wrong IDs, or sending garbage, fails its checks in CoreDNS
        too). Over TCP a reply with another ID still counts (miekg returns it with ``ErrId`` and
        CoreDNS's check accepts any response header)."""
        loop = asyncio.get_running_loop()
        transport = self.transport_for(proto)
        if transport != UDP:
            conn = await self._connect(loop, timeout)
            try:
                result = await self._ask(loop, conn, query, loop.time() + timeout, catch_all=True)
            finally:
                conn.close()
            if isinstance(result, bytes):
                return result
            if result is TIMEOUT:
                raise UpstreamError(f"read tcp {conn.local}->{self.addr}: i/o timeout")
            raise UpstreamError(f"read tcp {conn.local}->{self.addr}: {result}")
        sock = self._open_udp(loop)
        fut: asyncio.Future[Result] = loop.create_future()
        sock.pending[int.from_bytes(query[:2], "big")] = fut
        timer = loop.call_later(timeout, expire_future, fut)
        try:
            failed = await sock.ready
            if failed is None and sock.transport is not None:
                sock.transport.sendto(query)
                result = await fut
            else:
                result = failed or Eof()
        finally:
            timer.cancel()
            sock.close()
        if isinstance(result, bytes):
            return result
        if result is TIMEOUT:
            raise UpstreamError(f"read udp {sock.local}->{self.addr}: i/o timeout")
        assert isinstance(result, BaseException)
        raise UpstreamError(f"read udp {sock.local}->{self.addr}: read: {strerror(result)}")

    # -- shutdown --------------------------------------------------------------------------
    def close(self) -> None:
        """Close every socket and cached connection; later exchanges still work (new sockets)."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for sock in self._udp:
            sock.close()
        self._udp = []
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
            idle.clear()
