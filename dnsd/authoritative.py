"""Turning an authoritative plugin's answer into a reply, as CoreDNS's backends do.

Plugins that own zones (kubernetes, k8s_external, and later hosts and file)
compute an answer, then all decide the same way: a name error falls through
when ``fallthrough`` covers the name, becomes SERVFAIL while the plugin's data
are not synced yet (so nobody caches an NXDOMAIN for a name that exists), and
otherwise is sent authoritatively with the SOA in the authority section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dnslib import RR

from dnsd.fall import Fallthrough
from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.upstream import lookup

NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3


class Sections(Protocol):
    """What a zone plugin computed for one question (kubernetes has its own :class:`Answer`)."""

    @property
    def rcode(self) -> int: ...
    @property
    def answer(self) -> Sequence[RR]: ...
    @property
    def authority(self) -> Sequence[RR]: ...
    @property
    def extra(self) -> Sequence[RR]: ...


#: (name, qtype, into the additional section): a lookup left to the server's own chain.
Lookup = tuple[str, int, bool]


@dataclass(slots=True)
class Answer:
    """What a lookup found; the sections as they go into the reply."""

    rcode: int
    answer: list[RR] = field(default_factory=list)
    #: The SOA on negative answers; the NS records of a referral.
    authority: list[RR] = field(default_factory=list)
    extra: list[RR] = field(default_factory=list)
    #: Names the server resolves through its chain (out-of-zone CNAME targets...).
    lookups: list[Lookup] = field(default_factory=list)
    #: A referral to a zone cut: sent as is, not authoritative.
    referral: bool = False


async def reply(
    req: Request,
    next: Next,
    answer: Sections,
    *,
    fallthrough: Fallthrough,
    synced: Callable[[], bool],
    lookups: Sequence[tuple[str, int, bool]] = (),
    memo: Callable[[], bool] | None = None,
) -> Reply | None:
    """The reply for ``answer``, or the next plugin's when the name falls through.

    ``lookups`` are names to resolve through the server's own chain, as
    ``(name, qtype, into_additional)``: their answer records are appended to
    the answer section (a CNAME target) or to the additional section.
    ``memo`` is the plugin's memo check (:mod:`dnsd.fastpath`): it goes with the
    reply when the reply is the plugin's own data alone (no fallthrough, no
    lookups, no SERVFAIL while unsynced).
    """
    rcode = answer.rcode
    if rcode == NXDOMAIN:
        if fallthrough.through(req.name_lower):
            return await next(req)
        if not synced():
            rcode = SERVFAIL
    msg = req.reply(rcode=rcode, aa=True)
    for rr in answer.answer:
        msg.add_answer(rr)
    for name, qtype, into_extra in lookups:
        found = await lookup(req, name, qtype)
        if found is None:
            continue
        for rr in found.rr:
            if into_extra:
                msg.add_ar(rr)
            else:
                msg.add_answer(rr)
    for rr in answer.authority:
        msg.add_auth(rr)
    for rr in answer.extra:
        msg.add_ar(rr)
    reply = Reply(msg)
    if memo is not None and not lookups and rcode != SERVFAIL:
        reply.memo = memo
    return reply
