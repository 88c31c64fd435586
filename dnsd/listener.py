"""UDP and TCP listeners: sockets with SO_REUSEPORT, RFC 7766 TCP with pipelining and limits.

A :class:`Listener` owns its sockets for the life of the process (a reload
keeps them) and forwards every message to its current
:class:`~dnsd.server.Dispatcher`.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

from dnsd.instance import ListenAddr
from dnsd.log import core as log
from dnsd.server import Dispatcher


def _family(host: str) -> tuple[socket.AddressFamily, str]:
    if host == "":
        return (
            (socket.AF_INET6, "::") if socket.has_ipv6 and _ipv6_works() else (socket.AF_INET, "")
        )
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), host


def _ipv6_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::", 0))
        return True
    except OSError:
        return False


def make_socket(addr: ListenAddr, kind: socket.SocketKind) -> socket.socket:
    """A bound socket for ``addr`` (dual-stack when binding every address)."""
    family, host = _family(addr.host)
    proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if kind == socket.SOCK_DGRAM:
            _grow_receive_buffer(sock)
        # getaddrinfo keeps an IPv6 scope (fe80::1%eth0) that a plain 2-tuple would lose.
        flags = socket.AI_NUMERICHOST | socket.AI_PASSIVE
        info = socket.getaddrinfo(host or None, addr.port, family, kind, 0, flags)
        sock.bind(info[0][4])
        if kind == socket.SOCK_STREAM:
            sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        where = f"{addr.host}:{addr.port}" if addr.host else f":{addr.port}"
        raise OSError(exc.errno, f"listen {proto} {where}: {exc.strerror}") from None
    return sock


#: UDP receive buffer asked for: a burst of a few thousand queries must not be dropped by the
#: kernel before the loop reads it (the default, 208 KiB, held 256 queries of a 1,000 burst).
UDP_RECEIVE_BUFFER = 4 << 20


def _grow_receive_buffer(sock: socket.socket) -> None:
    """Ask for :data:`UDP_RECEIVE_BUFFER`, past net.core.rmem_max when allowed (root, NET_ADMIN)."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, UDP_RECEIVE_BUFFER)
            return
        except OSError:
            pass
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    except OSError:
        log.debug("could not grow the UDP receive buffer")


class Listener:
    """One address: a UDP endpoint and a TCP server sharing the same port."""

    def __init__(self, addr: ListenAddr, dispatcher: Dispatcher) -> None:
        self.addr = addr
        self.dispatcher = dispatcher
        self.connections = 0
        self.rejected = 0
        #: Open TCP connections, closed with the listener.
        self.clients: set[TCPProtocol] = set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def open(self) -> None:
        """Bind both sockets; on failure nothing stays open."""
        loop = asyncio.get_running_loop()
        udp_sock = make_socket(self.addr, socket.SOCK_DGRAM)
        try:
            tcp_sock = make_socket(self.addr, socket.SOCK_STREAM)
        except OSError:
            udp_sock.close()
            raise
        transport, _ = await loop.create_datagram_endpoint(lambda: UDPProtocol(self), sock=udp_sock)
        self._udp = transport
        self._tcp = await loop.create_server(lambda: TCPProtocol(self), sock=tcp_sock)

    @property
    def port(self) -> int:
        """The bound port (useful when binding port 0)."""
        assert self._udp is not None
        return int(self._udp.get_extra_info("sockname")[1])

    async def close(self) -> None:
        """Stop listening and close the open TCP connections (their buffered answers are sent)."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for client in list(self.clients):
            client.close()


class UDPProtocol(asyncio.DatagramProtocol):
    """Every datagram goes to the listener's current dispatcher."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not every loop's datagram transport subclasses DatagramTransport (asyncio's does not).
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        transport = self.transport
        if transport is None:
            return

        def send(wire: bytes) -> None:
            if not transport.is_closing():
                transport.sendto(wire, addr)

        self.listener.dispatcher.receive(data, addr[0], addr[1], "udp", send)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp error on %s: %s", self.listener.addr.label, exc)


class TCPProtocol(asyncio.Protocol):
    """One TCP connection: length-prefixed messages, pipelined, answered as they are ready."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.inflight = 0
        self.queries = 0
        self.paused = False
        self.finishing = False
        self.timer: asyncio.TimerHandle | None = None
        self.write_timer: asyncio.TimerHandle | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.counted = False

    # -- connection ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        limits = self.listener.dispatcher.limits
        if self.listener.connections >= limits.max_connections:
            self.listener.rejected += 1
            log.debug("tcp connection refused on %s: limit reached", self.listener.addr.label)
            self.transport.abort()
            return
        self.listener.connections += 1
        self.listener.clients.add(self)
        self.counted = True
        peer = self.transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        self.transport.set_write_buffer_limits(high=256 * 1024)
        self._arm(limits.read)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.listener.connections -= 1
            self.listener.clients.discard(self)
            self.counted = False
        self._cancel()
        if self.write_timer is not None:
            self.write_timer.cancel()
        self.transport = None

    def _arm(self, seconds: float) -> None:
        self._cancel()
        if seconds > 0:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(seconds, self._timeout)

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timeout(self) -> None:
        self.timer = None
        if self.transport is not None and self.inflight == 0:
            self.transport.close()

    # -- reading ---------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self.buf += data
        buf = self.buf
        while len(buf) >= 2 and not self.finishing and not self.paused:
            size = (buf[0] << 8) | buf[1]
            if size == 0:
                self._close()
                return
            if len(buf) < size + 2:
                break
            frame = bytes(buf[2 : size + 2])
            del buf[: size + 2]
            self._query(frame)
        if len(buf) > 65537:  # cannot happen with a 2-byte length; guard anyway
            self._close()

    def _query(self, frame: bytes) -> None:
        transport = self.transport
        if transport is None:
            return
        self._cancel()
        limits = self.listener.dispatcher.limits
        self.queries += 1
        if limits.max_queries > 0 and self.queries >= limits.max_queries:
            self.finishing = True
        task = self.listener.dispatcher.receive(
            frame, self.peer[0], self.peer[1], "tcp", self._write
        )
        if task is None:
            self._idle()
            return
        self.inflight += 1
        task.add_done_callback(self._done)
        if self.inflight >= limits.max_inflight and not self.paused:
            self.paused = True
            transport.pause_reading()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.inflight -= 1
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
            if self.buf:  # frames that arrived while paused
                self.data_received(b"")
        self._idle()

    def _idle(self) -> None:
        if self.inflight:
            return
        if self.finishing:
            self._close()
        else:
            self._arm(self.listener.dispatcher.limits.idle)

    def _write(self, wire: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(len(wire).to_bytes(2, "big") + wire)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        """Close the connection (the listener is going away)."""
        self.finishing = True
        self._close()

    # -- writing ---------------------------------------------------------------------------
    def pause_writing(self) -> None:
        loop = asyncio.get_running_loop()
        seconds = self.listener.dispatcher.limits.write
        self.write_timer = loop.call_later(seconds, self._write_timeout)

    def resume_writing(self) -> None:
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None

    def _write_timeout(self) -> None:
        self.write_timer = None
        if self.transport is not None:
            self.transport.abort()
