"""*header* end to end: with *kubernetes* behind it, through *cache* and *forward*, and dig."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import pytest

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "examples" / "cluster.yaml"
K8S = f"    kubernetes cluster.local {{\n        objects {CLUSTER}\n    }}\n"
NAME = "web.demo.svc.cluster.local"
FLAGS = {"aa": dns.flags.AA, "ra": dns.flags.RA, "rd": dns.flags.RD}


def flags(reply: dns.message.Message) -> set[str]:
    return {name for name, bit in FLAGS.items() if reply.flags & bit}


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


def header(*rules: str) -> str:
    return "    header {\n" + "".join(f"        {r}\n" for r in rules) + "    }\n"


async def test_response_rules_on_kubernetes_answers() -> None:
    text = f"cluster.local {{\n{header('response set ra', 'response clear aa')}{K8S}}}\n"
    async with serve_corefile(text) as srv:
        for qname, rcode in [(NAME, dns.rcode.NOERROR), ("nx.demo.svc.cluster.local", 3)]:
            for _ in range(3):  # later copies are memos: the flags are in the remembered bytes
                reply = await srv.query(qname, "A")
                assert reply.rcode() == rcode
                assert flags(reply) == {"ra", "rd"}
        assert len(dispatcher(srv).memos) == 2


async def test_without_header_kubernetes_answers_aa_without_ra() -> None:
    """What the rules above change: *kubernetes* sets AA and leaves RA clear."""
    async with serve_corefile(f"cluster.local {{\n{K8S}}}\n") as srv:
        reply = await srv.query(NAME, "A")
    assert flags(reply) == {"aa", "rd"}


async def test_query_rules_reach_the_upstream() -> None:
    """``query clear rd`` is what *forward* sends: the upstream's reply echoes RD clear.

    The second copy comes from *cache*, which sits before *header* (CoreDNS's order): it
    answers the client's own query, RD copied from it, and only the response rule applies.
    """
    async with serve_corefile(f"cluster.local {{\n{K8S}}}\n") as back:
        front = (
            f". {{\n{header('query clear rd', 'response set ra')}    cache 30\n"
            f"    forward . {back.host}:{back.port}\n}}\n"
        )
        async with serve_corefile(front) as srv:
            got = []
            for _ in range(2):
                reply = await srv.query(NAME, "A")
                assert reply.rcode() == dns.rcode.NOERROR
                assert str(reply.answer[0][0]) == "10.96.10.20"
                got.append(flags(reply))
    assert got == [{"aa", "ra"}, {"aa", "ra", "rd"}]


async def test_deprecated_syntax_serves() -> None:
    text = f"cluster.local {{\n{header('set ra')}{K8S}}}\n"
    async with serve_corefile(text) as srv:
        reply = await srv.query(NAME, "A")
    assert flags(reply) == {"aa", "ra", "rd"}


@pytest.mark.e2e
async def test_dig_sees_the_flags() -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.fail("dig not found: run the README's test command (apt bind9-dnsutils)")
    text = f"cluster.local {{\n{header('response set ra', 'response clear aa')}{K8S}}}\n"
    async with serve_corefile(text) as srv:
        proc = await asyncio.create_subprocess_exec(
            dig, f"@{srv.host}", "-p", str(srv.port), NAME, "A", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 15)
    text_out = out.decode()
    match = re.search(r"flags:\s*([a-z ]*);", text_out)
    assert match, text_out
    assert set(match.group(1).split()) == {"qr", "rd", "ra"}, text_out
    assert "10.96.10.20" in text_out
