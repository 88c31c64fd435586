"""hello: a third-party dnsd plugin found through the ``dnsd.plugins`` entry point.

``hello [TEXT]`` answers TXT queries for ``hello.<zone>`` with TEXT (default
"hello") and passes everything else on. ``AFTER`` places it in the chain.
"""

from __future__ import annotations

from dnslib import RR, TXT, DNSLabel

from dnsd.controller import Controller
from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request

NAME = "hello"
AFTER = "log"


class Hello:
    name = NAME

    def __init__(self, text: str, zones: list[str]) -> None:
        self.text = text
        self.names = {"hello." + z if z != "." else "hello." for z in zones}

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qtype != 16 or req.name_lower not in self.names:
            return await next(req)
        msg = req.reply(aa=True)
        msg.add_answer(RR(DNSLabel(list(req.labels)), 16, 1, 0, TXT(self.text)))
        return Reply(msg)


def setup(c: Controller) -> None:
    text = "hello"
    while c.next():
        args = c.remaining_args()
        if len(args) > 1:
            c.arg_err()
        if args:
            text = args[0]
    c.add_handler(Hello(text, c.zones))
