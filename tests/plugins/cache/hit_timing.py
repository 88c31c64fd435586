"""Micro-timing of a cache hit (not a test): ``.venv/bin/python tests/plugins/cache/hit_timing.py``.

Prints microseconds per hit for the handler alone (``Cache.serve`` on a parsed
query) and for the whole server path without sockets (validation, routing, the
chain, scrubbing), next to the same server path answering from *whoami*'s
pre-built reply... the cheapest chain there is. The hit path never awaits, so
coroutines are driven with ``send(None)``: no event loop in the numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dnslib import EDNS0, RR, A, DNSRecord

from dnsd.instance import load
from dnsd.plugins.cache.handler import Cache
from dnsd.plugins.cache.setup import CacheOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.server import Dispatcher
from dnsd.wire import parse_query

N = 200_000


def run(coro: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the hit path awaited")


def query(name: str = "www.Example.org", edns: bool = True) -> bytes:
    q = DNSRecord.question(name, "A")
    q.header.id = 4321
    if edns:
        q.add_ar(EDNS0(udp_len=1232))
    return bytes(q.pack())


async def backend(req: Request) -> Reply:
    msg = req.reply()
    for i in range(2):
        msg.add_answer(RR(req.qname, 1, 1, 300, A(f"192.0.2.{i + 1}")))
    return Reply(msg)


def per_call(fn: Callable[[], object], n: int = N) -> float:
    for _ in range(1000):
        fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def handler_only() -> float:
    cache = Cache(CacheOptions())
    wire = query()
    req = parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "::", "dns://:53")
    run(cache.serve(req, backend))  # miss: stores

    def hit() -> None:
        r = parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "::", "dns://:53")
        run(cache.serve(r, backend))

    def parse_only() -> None:
        parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "::", "dns://:53")

    return per_call(hit) - per_call(parse_only)


def server_path(corefile: str) -> float:
    instance = load(corefile, "Corefile", dns_port="1053", registry=_registry())
    addr = next(iter(instance.routes))
    dispatcher = Dispatcher(addr, instance.routes[addr], False)
    wire = query()
    sent: list[bytes] = []

    def one() -> None:
        req = parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "::", dispatcher.label)
        req.dispatcher = dispatcher
        zone, block = dispatcher.route(req.name_lower, req.qtype)  # type: ignore[misc]
        sent.append(run(dispatcher.answer(req, zone, block)))

    one()
    us = per_call(one)
    assert sent[-1][:2] == wire[:2]
    return us


def _registry() -> Any:
    import types

    from dnsd.plugin import Registry

    registry = Registry()
    module = types.ModuleType("timingbackend")
    module.NAME = "timingbackend"  # type: ignore[attr-defined]

    class Backend:
        name = "timingbackend"

        async def serve(self, req: Request, next: Any) -> Reply:
            return await backend(req)

    module.setup = lambda c: [c.next(), c.add_handler(Backend())]  # type: ignore[attr-defined]
    registry.add(module)
    return registry


CACHED = ". {\n    cache\n    timingbackend\n}\n"
WHOAMI = ". {\n    whoami\n}\n"
BACKEND = ". {\n    timingbackend\n}\n"

if __name__ == "__main__":
    print(f"cache handler, per hit:          {handler_only():6.2f} µs")
    print(f"server path, cache hit:          {server_path(CACHED):6.2f} µs")
    print(f"server path, whoami (no cache):  {server_path(WHOAMI):6.2f} µs")
    print(f"server path, backend (no cache): {server_path(BACKEND):6.2f} µs")
