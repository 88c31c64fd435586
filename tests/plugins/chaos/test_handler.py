"""Handler of *chaos*: one row per question; the answer as zone-file text, or passed on."""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass

import pytest

from dnsd.plugins.chaos.handler import Chaos
from tests.handlers import PASSED, ask, lines

HOST = socket.gethostname()
LONG = "v" * 300


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str = "TXT"
    qclass: str = "CH"
    rcode: int = 0
    #: The answer as zone-file text; None: passed to the next plugin.
    answer: list[str] | None = None


CASES = [
    Case("version-bind", "version.bind.", answer=['version.bind. 0 CH TXT "CoreDNS-001"']),
    Case("version-server", "version.server.", answer=['version.server. 0 CH TXT "CoreDNS-001"']),
    Case("case-kept", "VERSION.Bind.", answer=['VERSION.Bind. 0 CH TXT "CoreDNS-001"']),
    Case(
        "authors",
        "authors.bind.",
        answer=['authors.bind. 0 CH TXT "Miek Gieben"', 'authors.bind. 0 CH TXT "alice"'],
    ),
    Case("hostname-bind", "hostname.bind.", answer=[f'hostname.bind. 0 CH TXT "{HOST}"']),
    Case("id-server", "id.server.", answer=[f'id.server. 0 CH TXT "{HOST}"']),
    Case("other-ch-name", "example.bind."),
    Case("sub-name", "x.version.bind."),
    Case("srv-type", "authors.bind.", qtype="SRV"),
    Case("a-type", "version.bind.", qtype="A"),
    Case("in-class", "version.bind.", qclass="IN"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    h = Chaos("CoreDNS-001", ["Miek Gieben", "alice"])
    reply = await ask(h, case.qname, case.qtype, case.qclass)
    assert reply.rcode() == case.rcode
    if case.answer is None:
        assert lines(reply.answer) == [f"{case.qname} 0 IN A {PASSED}"]
        return
    assert lines(reply.answer) == sorted(case.answer)
    assert not reply.authority and not reply.additional
    assert not reply.flags & 0x0400  # no AA, as CoreDNS's SetReply


async def test_authors_are_shuffled() -> None:
    authors = [f"author{i}" for i in range(6)]
    h = Chaos("v", authors, random.Random(7))
    orders = set()
    for _ in range(20):
        reply = await ask(h, "authors.bind.", "TXT", "CH")
        got = [rr.strings[0].decode() for rrset in reply.answer for rr in rrset]
        assert sorted(got) == authors
        orders.add(tuple(got))
    assert len(orders) > 1


async def test_long_texts_cut_at_255_bytes() -> None:
    h = Chaos(LONG, [LONG])
    for qname in ("version.bind.", "authors.bind."):
        reply = await ask(h, qname, "TXT", "CH")
        [rr] = reply.answer[0]
        assert rr.strings == (b"v" * 255,)
