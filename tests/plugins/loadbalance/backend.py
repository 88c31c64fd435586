"""Helpers for loadbalance tests: queries, canned replies (message or bytes), a stub backend."""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RR, DNSRecord

from dnsd.controller import Controller
from dnsd.plugin import REGISTRY, Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query

#: What the ``lbstub`` directive answers: lowercased qname -> (answer, additional) zone lines.
ANSWERS: dict[str, tuple[list[str], list[str]]] = {}


def request(qname: str, qtype: str) -> Request:
    """A query as the chain sees it, from 127.0.0.1 over UDP."""
    wire = bytes(DNSRecord.question(qname, qtype).pack())
    return parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "127.0.0.1", "dns://:53")


def reply_msg(
    req: Request, answer: list[str], extra: list[str] | None = None, rcode: int = 0
) -> DNSRecord:
    """A reply to ``req`` with records given as zone-file lines."""
    msg = req.reply(rcode=rcode, aa=True)
    for line in answer:
        msg.add_answer(*RR.fromZone(line))
    for line in extra or []:
        msg.add_ar(*RR.fromZone(line))
    return msg


def make_next(msg: DNSRecord, form: str) -> Next:
    """A ``next`` returning ``msg`` as a fresh Reply each call: ``msg`` or ``wire`` form."""
    wire = bytes(msg.pack())

    async def nxt(req: Request) -> Reply | None:
        if form == "wire":
            return Reply(wire=wire, plugin="stub")
        return Reply(DNSRecord.parse(wire), plugin="stub")

    return nxt


def sections(reply: Reply) -> tuple[list[str], list[str]]:
    """(answer, additional) of a reply as 'TYPE rdata' strings, in order, OPT left out."""
    msg = DNSRecord.parse(reply.wire) if reply.wire is not None else reply.msg
    return _texts(msg.rr), _texts(msg.ar)


def _texts(rrs: list[RR]) -> list[str]:
    return [f"{QTYPE.get(rr.rtype)} {rr.rdata}" for rr in rrs if rr.rtype != 41]


class Stub:
    """Answers from :data:`ANSWERS` as a message (``msg``) or as bytes (``wire``); NXDOMAIN else."""

    name = "lbstub"

    def __init__(self, form: str) -> None:
        self.form = form

    async def serve(self, req: Request, next: Next) -> Reply | None:
        found = ANSWERS.get(req.name_lower)
        if found is None:
            return Reply(req.reply(rcode=3, aa=True))
        msg = reply_msg(req, *found)
        if self.form == "wire":
            return Reply(wire=bytes(msg.pack()))
        return Reply(msg)


def _module() -> types.ModuleType:
    module = types.ModuleType("lbstub")

    def setup(c: Controller) -> None:
        while c.next():
            args = c.remaining_args()
            c.add_handler(Stub(args[0] if args else "msg"))

    module.NAME = "lbstub"  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    return module


@contextmanager
def lbstub() -> Iterator[None]:
    """Register the ``lbstub`` directive (last in the chain) while the block runs."""
    REGISTRY.add(_module())
    try:
        yield
    finally:
        REGISTRY.remove("lbstub")
        ANSWERS.clear()
