"""The query as the rules rewrite it, and what a rule is.

A :class:`State` starts as the client's question and EDNS options; request
rules change it in Corefile order. When anything changed, :meth:`State.request`
builds the query the rest of the chain sees: new wire bytes, validated like
any incoming query, with the client's transport facts and the same metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dnsd.encode import opt_record
from dnsd.plugins.rewrite.names import labels_of
from dnsd.plugins.rewrite.response import ResponseRule
from dnsd.request import Request
from dnsd.wire import BadQuery, parse_query

STOP, CONTINUE = "stop", "continue"
#: The UDP size of an OPT the rewrite adds to a query that had none (CoreDNS's).
ADDED_OPT_SIZE = 4096


@dataclass
class State:
    """The question and EDNS options being rewritten."""

    req: Request
    name: str
    qtype: int
    qclass: int
    options: list[tuple[int, bytes]] = field(default_factory=list)
    edns: bool = False

    @classmethod
    def of(cls, req: Request) -> State:
        """The client's query, untouched."""
        return cls(req, req.qname, req.qtype, req.qclass, list(req.options), req.edns)

    @property
    def lower(self) -> str:
        """The current name lowercased: what rules match against (CoreDNS's ``state.Name()``)."""
        return self.name.lower()

    def question_changed(self) -> bool:
        req = self.req
        return (self.name, self.qtype, self.qclass) != (req.qname, req.qtype, req.qclass)

    def changed(self) -> bool:
        """Does the chain need another query than the client's?"""
        req = self.req
        return self.question_changed() or (
            self.edns != req.edns or tuple(self.options) != req.options
        )

    def request(self) -> Request | None:
        """The rewritten query for the rest of the chain; None when its name is not valid."""
        labels = labels_of(self.name)
        if labels is None:
            return None
        req = self.req
        qname = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
        question = qname + self.qtype.to_bytes(2, "big") + self.qclass.to_bytes(2, "big")
        opt = b""
        if self.edns:
            data = b"".join(
                code.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
                for code, value in self.options
            )
            size = req.udp_size if req.edns else ADDED_OPT_SIZE
            opt = opt_record(size, 0, req.do, data)
        header = req.wire[:4] + b"\x00\x01\x00\x00\x00\x00" + (b"\x00\x01" if opt else b"\x00\x00")
        try:
            sub = parse_query(header + question + opt, Request)
        except BadQuery:
            return None
        sub.init(req.client, req.port, req.proto, req.local, req.server)
        sub.zone = req.zone
        sub.meta = req.meta
        sub.start = req.start
        sub.dispatcher = req.dispatcher
        return sub


class Rule(Protocol):
    """One request rule: ``rewrite`` changes ``state`` and returns what to undo in the reply,
    or None when the rule did not apply."""

    @property
    def mode(self) -> str: ...

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None: ...
