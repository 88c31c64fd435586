"""Handler of *loop*: counts its own HINFO probe; a third sighting is a forwarding loop.

After start-up a background task sends ``HINFO <rand>.<rand>.<zone>`` over UDP
to the block's own listen address (``<bind address or 127.0.0.1>:<port>``),
once a second for up to 30 seconds, until one exchange gets any reply. Then
the plugin disables itself: it only looks for loops present at start-up, and
a disabled plugin costs one attribute test per query.

As in CoreDNS the handler never answers: it counts the probe and passes every
query on (to *forward*, which is what loops). Seeing the probe more than twice
means it came back around, and the process ends through
:meth:`dnsd.runtime.Runtime.fatal` with CoreDNS's message::

    [FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".",
    see https://coredns.io/plugins/loop#troubleshooting.
    Query: "HINFO 4547991504243258144.3688648895315093531."

(on one line). An exchange that fails (timeout, ICMP error) resets the count, as
in CoreDNS, so a slow start is not mistaken for a loop. When ``fatal`` returns
(only in tests) the looping query fails with SERVFAIL, which ends the loop.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from dnslib import DNSRecord

from dnsd.errors import PluginError
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request

if TYPE_CHECKING:
    from dnsd.instance import Block, Instance, ListenAddr

log = plugin_logger("loop")

TYPE_HINFO = 13
TROUBLESHOOTING = "https://coredns.io/plugins/loop#troubleshooting"


def probe_name(zone: str) -> str:
    """``<rand>.<rand>.<zone>`` with two non-negative 63-bit numbers (CoreDNS's ``rand.Int()``)."""
    first, second = random.getrandbits(63), random.getrandbits(63)
    return f"{first}.{second}." if zone == "." else f"{first}.{second}.{zone}"


def join_host_port(host: str, port: int) -> str:
    """Go's ``net.JoinHostPort``: ``:53``, ``127.0.0.1:53``, ``[::1]:53``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Loop:
    """The counting handler and its start-up probe, one per server block."""

    name = "loop"

    #: CoreDNS's fixed timing: probe for 30 s, 1 s apart, 2 s per exchange (tests shorten them).
    window = 30.0
    interval = 1.0
    timeout = 2.0

    def __init__(self, zone: str, block: Block, instance: Instance) -> None:
        self.zone = zone
        self.qname = probe_name(zone).lower()
        #: Times the probe has been seen since the last failed exchange.
        self.seen = 0
        #: True once probing is over: the handler only passes queries on.
        self.disabled = False
        #: ``HOST:PORT`` probed, as CoreDNS prints it (``:53`` when bound to every address).
        self.addr = ""
        self.task: asyncio.Task[None] | None = None
        self._block = block
        self._instance = instance

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qtype != TYPE_HINFO or self.disabled:
            return await next(req)
        if req.name_lower == self.qname:
            self.seen += 1
            if self.seen > 2:
                self._fatal(req)
                raise PluginError("forwarding loop detected")
        return await next(req)

    def _fatal(self, req: Request) -> None:
        src = join_host_port(req.client, req.port)
        message = (
            f'plugin/loop: Loop ({src} -> {self.addr}) detected for zone "{self.zone}", '
            f'see {TROUBLESHOOTING}. Query: "HINFO {self.qname}"'
        )
        runtime: Any = self._instance.runtime
        if runtime is None:  # not serving (a bare handler in a test)
            log.critical("%s", message)
            return
        runtime.fatal(message)

    # -- the start-up probe ------------------------------------------------------------------
    async def start(self) -> None:
        """Start probing in the background: start-up must not wait for it."""
        if self.task is None and not self.disabled:
            self.task = asyncio.get_running_loop().create_task(self._probe(), name="loop-probe")

    async def stop(self) -> None:
        """Stop probing (reload or exit)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        try:
            target = await self._target(deadline)
            if target is None:
                return
            host, port = target
            while loop.time() < deadline:
                try:
                    await exchange(host, port, _probe_query(self.qname), self.timeout)
                except (OSError, TimeoutError) as exc:
                    log.debug("probe to %s failed: %s", self.addr, str(exc) or type(exc).__name__)
                    self.seen = 0
                    await asyncio.sleep(self.interval)
                    continue
                break
        finally:
            self.disabled = True

    async def _target(self, deadline: float) -> tuple[str, int] | None:
        """Where to send the probe, once this config is the one serving (a reload starts
        hooks before it swaps the listeners over)."""
        loop = asyncio.get_running_loop()
        runtime: Any = self._instance.runtime
        while runtime is None or runtime.instance is not self._instance:
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.01)
        addr = self._listen_addr()
        if addr is None:
            return None
        listener = runtime.listeners.get(addr)
        port = int(listener.port) if listener is not None else addr.port
        self.addr = join_host_port(addr.host, port)
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(addr.host, addr.host)
        return host, port

    def _listen_addr(self) -> ListenAddr | None:
        """The block's first listener: its first key on its first bind address."""
        block, routes = self._block, self._instance.routes
        mine = [addr for addr, zones in routes.items() if any(b is block for b in zones.values())]
        if block.addrs:
            first, bind = block.addrs[0], block.bind
            for addr in mine:
                if (
                    addr.port == int(first.port)
                    and routes[addr].get(first.zone) is block
                    and (not bind or addr.host == bind[0])
                ):
                    return addr
        return mine[0] if mine else None


def _probe_query(qname: str) -> bytes:
    """The probe: RD set (miekg/dns's ``SetQuestion``), a fresh ID per exchange."""
    msg = DNSRecord.question(qname, "HINFO")
    msg.header.id = random.randint(0, 0xFFFF)
    return bytes(msg.pack())


class _Exchange(asyncio.DatagramProtocol):
    def __init__(self, qid: bytes, done: asyncio.Future[bytes]) -> None:
        self.qid = qid
        self.done = done

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if data[:2] == self.qid and not self.done.done():
            self.done.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def exchange(host: str, port: int, query: bytes, timeout: float) -> bytes:
    """Send ``query`` over UDP and return the first reply with its ID (any rcode counts).

    Raises TimeoutError or OSError (an ICMP error such as port unreachable).
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Exchange(query[:2], done), remote_addr=(host, port)
    )
    try:
        transport.sendto(query)
        async with asyncio.timeout(timeout):
            return await done
    finally:
        transport.close()
        if done.done() and not done.cancelled():
            done.exception()  # mark it retrieved: no "never retrieved" log
