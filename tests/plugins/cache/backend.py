"""A stand-in for the chain below the cache: answers from a table and counts its calls.

Use it directly as the ``next`` of ``Cache.serve`` in handler tests, or as the
``cachebackend`` directive (last in the chain) with :func:`backend_plugin` in
server tests.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dnslib import RR, DNSRecord

from dnsd.controller import Controller
from dnsd.errors import PluginError
from dnsd.plugin import REGISTRY, Next
from dnsd.reply import Reply
from dnsd.request import Request

NAME = "cachebackend"


@dataclass
class Answer:
    """What the backend answers: records as zone-file lines, ``{q}`` is the asked name."""

    rcode: int = 0
    answer: list[str] = field(default_factory=list)
    authority: list[str] = field(default_factory=list)
    additional: list[str] = field(default_factory=list)
    aa: bool = True
    ra: bool = True
    ad: bool = False
    tc: bool = False
    #: Hand the reply over as bytes (as forward does) rather than as a dnslib message.
    wire: bool = False
    #: Answer for another name than the asked one.
    qname: str | None = None
    #: Raise PluginError instead of answering.
    fail: bool = False
    #: Return None (nothing answered).
    none: bool = False


class Backend:
    """Answers ``answers[(name, qtype)]`` (lowercase name with the dot) or ``default``."""

    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer(answer=["{q} 300 IN A 192.0.2.1"])
        self.answers: dict[tuple[str, int], Answer] = {}
        self.calls = 0
        self.requests: list[Request] = []
        #: When set, every call waits for it first.
        self.gate: asyncio.Event | None = None

    async def __call__(self, req: Request) -> Reply | None:
        self.calls += 1
        self.requests.append(req)
        if self.gate is not None:
            await self.gate.wait()
        spec = self.answers.get((req.name_lower, req.qtype), self.default)
        if spec.fail:
            raise PluginError("backend down")
        if spec.none:
            return None
        return reply(req, spec)


def reply(req: Request, spec: Answer) -> Reply:
    msg = req.reply(rcode=spec.rcode, aa=spec.aa)
    msg.header.ra = int(spec.ra)
    msg.header.ad = int(spec.ad)
    msg.header.tc = int(spec.tc)
    if spec.qname is not None:
        msg = DNSRecord(msg.header, q=DNSRecord.question(spec.qname, req.type_name).q)
    for section, lines in (
        (msg.add_answer, spec.answer),
        (msg.add_auth, spec.authority),
        (msg.add_ar, spec.additional),
    ):
        for line in lines:
            section(*RR.fromZone(line.replace("{q}", req.qname)))
    if spec.wire:
        return Reply(wire=bytes(msg.pack()))
    return Reply(msg)


class _Handler:
    name = NAME

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def serve(self, req: Request, next: Next) -> Reply | None:
        return await self.backend(req)


@contextmanager
def backend_plugin(backend: Backend) -> Iterator[Backend]:
    """Register the ``cachebackend`` directive, answering from ``backend``, while the block runs."""
    module = types.ModuleType(NAME)

    def setup(c: Controller) -> None:
        while c.next():
            c.add_handler(_Handler(backend))

    module.NAME = NAME  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    REGISTRY.add(module)
    try:
        yield backend
    finally:
        REGISTRY.remove(NAME)
