"""*minimal* end to end: with *file* and *kubernetes* behind it, and in front of *forward*.

The same table runs against a server answering itself (messages) and against one that
forwards to it through *cache* (bytes): answers lose their authority and additional
records, denials keep their SOA, delegations their NS and glue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "examples" / "cluster.yaml"

ZONE = """$ORIGIN example.org.
$TTL 3600
@ IN SOA ns hostmaster 1 7200 3600 1209600 3600
@ IN NS ns
ns IN A 192.0.2.53
www IN A 192.0.2.1
sub IN NS ns.sub
ns.sub IN A 192.0.2.54
"""


def backend(db: Path, minimal: bool) -> str:
    line = "    minimal\n" if minimal else ""
    return (
        f"example.org {{\n{line}    file {db}\n}}\n"
        f"cluster.local {{\n{line}    kubernetes cluster.local {{\n"
        f"        objects {CLUSTER}\n    }}\n}}\n"
    )


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str
    rcode: int
    answer: int  # records in the answer section
    ns: list[str]  # authority as "owner TYPE", with minimal (TTLs vary through cache)
    extra: int  # additional records (OPT not counted), with minimal
    #: Without minimal: (authority, additional) record counts, to show something was cut.
    whole: tuple[int, int]


CASES = [
    Case("file-answer", "www.example.org", "A", 0, 1, [], 0, (1, 0)),
    Case("file-nodata", "www.example.org", "AAAA", 0, 0, ["example.org. SOA"], 0, (1, 0)),
    Case("file-nxdomain", "nx.example.org", "A", 3, 0, ["example.org. SOA"], 0, (1, 0)),
    Case(
        "file-delegation",
        "x.sub.example.org",
        "A",
        0,
        0,
        ["sub.example.org. NS"],
        1,
        (1, 1),
    ),
    Case("k8s-srv", "_http._tcp.web.demo.svc.cluster.local", "SRV", 0, 1, [], 0, (0, 2)),
    Case("k8s-a", "web.demo.svc.cluster.local", "A", 0, 1, [], 0, (0, 0)),
    Case("k8s-nxdomain", "nx.demo.svc.cluster.local", "A", 3, 0, ["cluster.local. SOA"], 0, (1, 0)),
]


@asynccontextmanager
async def servers(tmp_path: Path, via: str, minimal: bool = True) -> AsyncIterator[TestServer]:
    """The server to ask: the backend itself, or a front forwarding to it through *cache*."""
    db = tmp_path / "db.example.org"
    db.write_text(ZONE)
    if via == "direct":
        async with serve_corefile(backend(db, minimal)) as srv:
            yield srv
        return
    async with serve_corefile(backend(db, False)) as back:
        line = "    minimal\n" if minimal else ""
        front = f". {{\n{line}    cache 30\n    forward . {back.host}:{back.port}\n}}\n"
        async with serve_corefile(front) as srv:
            yield srv


def check(reply: dns.message.Message, case: Case) -> None:
    assert reply.rcode() == case.rcode
    assert sum(len(r) for r in reply.answer) == case.answer
    got = [f"{r.name} {dns.rdatatype.to_text(r.rdtype)}" for r in reply.authority for _ in r]
    assert got == case.ns
    assert sum(len(r) for r in reply.additional) == case.extra


@pytest.mark.parametrize("via", ["direct", "forward"])
async def test_minimal_replies(tmp_path: Path, via: str) -> None:
    async with servers(tmp_path, via) as srv:
        for case in CASES:
            for _ in range(2):  # the second from cache (bytes) or a memo
                reply = await srv.query(case.qname, case.qtype, use_edns=0)
                check(reply, case)
                assert reply.edns == 0  # the OPT record stays


@pytest.mark.parametrize("via", ["direct", "forward"])
async def test_without_minimal_the_sections_are_there(tmp_path: Path, via: str) -> None:
    """The table's cut records really exist: the same server without *minimal* sends them."""
    async with servers(tmp_path, via, minimal=False) as srv:
        for case in CASES:
            reply = await srv.query(case.qname, case.qtype)
            got = (
                sum(len(r) for r in reply.authority),
                sum(len(r) for r in reply.additional),
            )
            assert got == case.whole, case.id


async def test_memo_replays_the_minimal_reply(tmp_path: Path) -> None:
    async with servers(tmp_path, "direct") as srv:
        (listener,) = srv.runtime.listeners.values()
        dispatcher: Dispatcher = listener.dispatcher
        for _ in range(3):
            reply = await srv.query("_http._tcp.web.demo.svc.cluster.local", "SRV")
            assert reply.rcode() == dns.rcode.NOERROR
            assert not reply.additional and not reply.authority
        assert len(dispatcher.memos) == 1
