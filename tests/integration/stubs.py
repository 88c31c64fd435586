"""Tiny plugins for tests, registered with ``REGISTRY.add`` for the duration of a test."""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import RR, A, DNSLabel

from dnsd.controller import Controller
from dnsd.errors import PluginError
from dnsd.plugin import REGISTRY, Next
from dnsd.reply import Reply
from dnsd.request import Request

#: Concurrency seen by the ``slow`` mode: [current, highest].
SLOW = [0, 0]


class Stub:
    """Behaviour chosen by the directive's first argument."""

    def __init__(self, name: str, mode: str, arg: str) -> None:
        self.name = name
        self.mode = mode
        self.arg = arg

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if self.mode == "many":  # answer with N A records
            msg = req.reply(aa=True)
            owner = DNSLabel(list(req.labels))
            for i in range(int(self.arg)):
                msg.add_answer(RR(owner, 1, 1, 60, A(f"10.0.{i // 256}.{i % 256}")))
            return Reply(msg)
        if self.mode == "raise":
            raise RuntimeError("boom")
        if self.mode == "fail":
            raise PluginError("deliberate failure")
        if self.mode == "none":
            return None
        if self.mode == "pass":
            return await next(req)
        if self.mode == "tag":  # answer with an A record naming the block (10.0.0.N)
            msg = req.reply(aa=True)
            msg.add_answer(RR(DNSLabel(list(req.labels)), 1, 1, 0, A(f"10.0.0.{self.arg}")))
            return Reply(msg)
        if self.mode == "wire":  # a pre-encoded reply (like cache/forward)
            msg = req.reply(aa=True)
            msg.add_answer(RR(DNSLabel(list(req.labels)), 1, 1, 0, A("192.0.2.1")))
            return Reply(wire=bytes(msg.pack()))
        if self.mode == "slow":  # hold the query a while, tracking how many run at once
            SLOW[0] += 1
            SLOW[1] = max(SLOW)
            try:
                await asyncio.sleep(float(self.arg))
            finally:
                SLOW[0] -= 1
            return Reply(req.reply(aa=True))
        if self.mode == "block":  # a buggy plugin that blocks the event loop
            time.sleep(float(self.arg))
            return Reply(req.reply(aa=True))
        if self.mode == "cname":  # CNAME to arg, target resolved through the server's own chain
            from dnslib import CNAME

            from dnsd.upstream import lookup

            msg = req.reply(aa=True)
            msg.add_answer(RR(DNSLabel(list(req.labels)), 5, 1, 0, CNAME(self.arg)))
            target = await lookup(req, self.arg, req.qtype)
            if target is not None:
                for rr in target.rr:
                    msg.add_answer(rr)
            return Reply(msg)
        if self.mode == "drop":
            return Reply.dropped()
        raise PluginError(f"unknown stub mode {self.mode}")


def _module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    def setup(c: Controller) -> None:
        while c.next():
            args = c.remaining_args()
            if not args:
                c.arg_err()
            c.add_handler(Stub(name, args[0], args[1] if len(args) > 1 else ""))

    module.NAME = name  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    return module


@contextmanager
def stub_plugin(name: str = "stub") -> Iterator[None]:
    """Register the ``stub`` directive (last in the chain) while the block runs."""
    REGISTRY.add(_module(name))
    try:
        yield
    finally:
        REGISTRY.remove(name)
