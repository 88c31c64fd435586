"""Handler of *chaos*: CH TXT answers for the chaos names, everything else passes on.

The reply is CoreDNS's: the question echoed, RD copied, no AA, one TXT record
per string with TTL 0 in class CH, the owner written as the client wrote it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dnslib import RR, TXT, DNSLabel

from dnsd.plugin import Next
from dnsd.plugins.chaos.answers import texts, trim
from dnsd.reply import Reply
from dnsd.request import Request

CLASS_CH, TYPE_TXT = 3, 16


class Chaos:
    """Answer ``version.bind``, ``version.server``, ``authors.bind``, ``hostname.bind`` and
    ``id.server`` (CH TXT)."""

    name = "chaos"
    #: Whether it answers depends on the question alone; what passes on is untouched.
    memo_safe = True

    def __init__(
        self, version: str, authors: Sequence[str], rng: random.Random | None = None
    ) -> None:
        self.version = trim(version)
        self.authors = tuple(trim(a) for a in authors)
        self.rng = rng or random.Random()

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qclass != CLASS_CH or req.qtype != TYPE_TXT:
            return await next(req)
        found = texts(req.name_lower, self.version, self.authors, self.rng)
        if found is None:
            return await next(req)
        msg = req.reply()
        owner = DNSLabel(list(req.labels))
        for text in found:
            msg.add_answer(RR(owner, TYPE_TXT, CLASS_CH, 0, TXT(text)))
        return Reply(msg)
