"""Helpers for handler tables: a parsed request, a next plugin that says it was reached, and
the reply as dnspython sees it (sections as sorted zone-file lines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dns.message
from dnslib import RR, A, DNSLabel

from dnsd.plugin import Handler
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query

PASSED = "10.9.9.9"  # what next_plugin answers: the query fell through


def request(qname: str, qtype: str, qclass: str = "IN") -> Request:
    """A validated query from 192.0.2.1, as the server hands it to the chain."""
    q = dns.message.make_query(qname, qtype, qclass)
    return parse_query(q.to_wire(), Request).init("192.0.2.1", 5353, "udp", "::", "dns://:53")


async def next_plugin(req: Request) -> Reply | None:
    """Answers ``qname A PASSED`` with TTL 0."""
    msg = req.reply()
    msg.add_answer(RR(DNSLabel(list(req.labels)), 1, 1, 0, A(PASSED)))
    return Reply(msg)


def lines(section: Sequence[Any]) -> list[str]:
    """A section's records as sorted zone-file lines."""
    return sorted(line for rrset in section for line in rrset.to_text().splitlines())


async def ask(h: Handler, qname: str, qtype: str, qclass: str = "IN") -> dns.message.Message:
    """``h``'s reply to one question, with :func:`next_plugin` behind it."""
    reply = await h.serve(request(qname, qtype, qclass), next_plugin)
    assert reply is not None
    return dns.message.from_wire(bytes(reply.msg.pack()))
