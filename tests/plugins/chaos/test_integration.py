"""*chaos* end to end: CH TXT through the server's routing, *kubernetes* behind it, and dig."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdataclass
import pytest

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "examples" / "cluster.yaml"
K8S = f"    kubernetes cluster.local {{\n        objects {CLUSTER}\n    }}\n"
CHAOS = "    chaos CoreDNS-001 info@coredns.io bob\n"


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


def txt(reply: dns.message.Message) -> list[str]:
    return sorted(b"".join(rr.strings).decode() for rrset in reply.answer for rr in rrset)


async def test_chaos_answers_next_to_kubernetes() -> None:
    async with serve_corefile(f". {{\n{CHAOS}{K8S}}}\n") as srv:
        cases = [
            ("version.bind", ["CoreDNS-001"]),
            ("version.server", ["CoreDNS-001"]),
            ("authors.bind", ["bob", "info@coredns.io"]),
            ("hostname.bind", [socket.gethostname()]),
            ("id.server", [socket.gethostname()]),
        ]
        for qname, want in cases:
            reply = await srv.query(qname, "TXT", rdclass="CH")
            assert reply.rcode() == dns.rcode.NOERROR
            assert txt(reply) == want
            assert reply.answer[0].rdclass == dns.rdataclass.CH
        for _ in range(3):  # IN queries go on to kubernetes, memos included (chaos is safe)
            reply = await srv.query("web.demo.svc.cluster.local", "A")
            assert str(reply.answer[0][0]) == "10.96.10.20"
        assert len(dispatcher(srv).memos) == 1


async def test_default_version_is_dnsd() -> None:
    from dnsd import __version__

    async with serve_corefile(". {\n    chaos\n}\n") as srv:
        reply = await srv.query("version.bind", "TXT", rdclass="CH")
        assert txt(reply) == [f"dnsd-{__version__}"]
        reply = await srv.query("authors.bind", "TXT", rdclass="CH")
        assert txt(reply) == ["dnsd maintainers"]
        # Another CH name with nothing behind chaos: no plugin answers, SERVFAIL (CoreDNS too).
        reply = await srv.query("example.bind", "TXT", rdclass="CH")
        assert reply.rcode() == dns.rcode.SERVFAIL


async def test_ch_class_is_refused_without_chaos() -> None:
    async with serve_corefile(f". {{\n{K8S}    whoami\n}}\n") as srv:
        reply = await srv.query("version.bind", "TXT", rdclass="CH")
    assert reply.rcode() == dns.rcode.REFUSED


async def test_chaos_names_must_route_to_its_block() -> None:
    """*chaos* in a block for cluster.local never sees version.bind: no zone matches it."""
    async with serve_corefile(f"cluster.local {{\n{CHAOS}{K8S}}}\n") as srv:
        reply = await srv.query("version.bind", "TXT", rdclass="CH")
    assert reply.rcode() == dns.rcode.REFUSED


async def test_zones_named_in_full() -> None:
    text = f"version.bind version.server authors.bind hostname.bind id.server {{\n{CHAOS}}}\n"
    async with serve_corefile(text) as srv:
        reply = await srv.query("version.server", "TXT", rdclass="CH")
        assert txt(reply) == ["CoreDNS-001"]
        reply = await srv.query("example.org", "TXT", rdclass="CH")
        assert reply.rcode() == dns.rcode.REFUSED


@pytest.mark.e2e
async def test_dig_ch_txt_version_bind() -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.fail("dig not found: run the README's test command (apt bind9-dnsutils)")
    async with serve_corefile(f". {{\n{CHAOS}{K8S}}}\n") as srv:
        argv = [dig, f"@{srv.host}", "-p", str(srv.port), "CH", "TXT", "version.bind"]
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(proc.communicate(), 15)
    text = out.decode()
    assert "status: NOERROR" in text, text
    assert 'version.bind.\t\t0\tCH\tTXT\t"CoreDNS-001"' in text, text
