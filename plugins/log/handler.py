"""Handler of *log*: one INFO line per query, as CoreDNS's query log writes it.

The first rule whose zone holds the query name decides (CoreDNS's order: the
rules as written); queries outside every rule's zone pass through untouched.
A query the chain answered is logged once the server has encoded the reply
(:meth:`Request.on_reply`), so the line shows what was really sent: the
scrubbed size, TC, the rcode with its EDNS bits. A query the chain did not
answer (a plugin failed, nothing answered, acl dropped it) is logged at once
with CoreDNS's ``- - 0`` for rcode, flags and size, before *errors* logs why.
A panic is not logged here, as in CoreDNS, where it unwinds past *log*.

Lines go to the core logger, so they carry no ``plugin/log:`` prefix::

    [INFO] [::1]:50759 - 29008 "A IN example.org. udp 41 false 4096" NOERROR qr,rd,ra 68 0.0003s
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dnsd.errors import ChainError
from dnsd.log import core
from dnsd.plugin import Next
from dnsd.plugins.log.replacer import Parts, compile_format, render
from dnsd.plugins.log.response import ALL, OTHERERROR, Facts, classify
from dnsd.reply import Reply
from dnsd.request import Request

if TYPE_CHECKING:
    from dnsd.plugins.log.setup import LogOptions, LogRule


def in_zone(name: str, zone: str) -> bool:
    """True when the lowercase presentation ``name`` is ``zone`` or below it."""
    if zone == "." or name == zone:
        return True
    if not name.endswith(zone) or len(name) <= len(zone):
        return False
    cut = len(name) - len(zone) - 1
    if name[cut] != ".":
        return False
    slashes = 0  # "a\.example.org." is one label: the dot must not be escaped
    while cut - 1 - slashes >= 0 and name[cut - 1 - slashes] == "\\":
        slashes += 1
    return slashes % 2 == 0


class Rule:
    """One compiled ``log`` rule: its zone, format parts and classes (None: all)."""

    __slots__ = ("zone", "parts", "classes")

    def __init__(self, rule: LogRule) -> None:
        self.zone = rule.zone
        self.parts: Parts = compile_format(rule.format)
        self.classes: frozenset[str] | None = None if ALL in rule.classes else rule.classes

    def emit(self, req: Request, wire: bytes | None) -> None:
        """Log ``req`` if its reply's class is wanted; ``wire`` None: nothing was written."""
        facts = Facts(wire) if wire is not None else None
        if self.classes is not None:
            typ = facts.type if facts is not None else OTHERERROR
            if classify(typ) not in self.classes:
                return
        core.info(render(self.parts, req, facts))

    def observe(self, req: Request, wire: bytes | None, plugin: str | None) -> None:
        """The :meth:`Request.on_reply` callback."""
        self.emit(req, wire)


class Log:
    """Log each query of the rules' zones once its reply is known."""

    name = "log"
    #: Depends on the query's bytes only; per-query work is a reply observer (dnsd.fastpath).
    memo_safe = True

    def __init__(self, options: LogOptions) -> None:
        self.options = options
        self.rules = tuple(Rule(rule) for rule in options.rules)

    def match(self, name: str) -> Rule | None:
        """The first rule whose zone holds ``name``."""
        for rule in self.rules:
            if in_zone(name, rule.zone):
                return rule
        return None

    async def serve(self, req: Request, next: Next) -> Reply | None:
        rule = self.match(req.name_lower)
        if rule is None:
            return await next(req)
        try:
            reply = await next(req)
        except ChainError as exc:
            if not exc.panic:
                rule.emit(req, None)
            raise
        if reply is None or reply.drop:
            rule.emit(req, None)
        else:
            req.on_reply(rule.observe)
        return reply
