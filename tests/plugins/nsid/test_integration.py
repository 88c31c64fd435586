"""*nsid* end to end: *kubernetes* behind it with memos, *cache* and *forward*, and dig +nsid."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.message
import dns.rcode
import pytest

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "examples" / "cluster.yaml"
K8S = f"    kubernetes cluster.local {{\n        objects {CLUSTER}\n    }}\n"
NAME = "web.demo.svc.cluster.local"
ASK = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


def nsid(reply: dns.message.Message) -> bytes | None:
    found = [o.to_wire() for o in reply.options if o.otype == dns.edns.OptionType.NSID]
    assert len(found) <= 1
    return found[0] if found else None


async def ask(
    srv: TestServer, asks: bool, *, source: str | None = None, qtype: str = "A"
) -> dns.message.Message:
    q = dns.message.make_query(NAME, qtype, use_edns=0, options=[ASK] if asks else [])
    return await dns.asyncquery.udp(q, srv.host, port=srv.port, timeout=2.0, source=source)


async def test_nsid_on_every_copy_and_only_when_asked() -> None:
    async with serve_corefile(f". {{\n    nsid dnsd-7\n{K8S}}}\n") as srv:
        for _ in range(3):  # the later copies are memos: the option is in the bytes kept
            reply = await ask(srv, True)
            assert reply.rcode() == dns.rcode.NOERROR
            assert str(reply.answer[0][0]) == "10.96.10.20"
            assert nsid(reply) == b"dnsd-7"
        memos = dispatcher(srv).memos
        assert len(memos) == 1
        for _ in range(2):  # the same question without the option: its own memo, no NSID
            assert nsid(await ask(srv, False)) is None
        assert len(memos) == 2
        # Another client asking the same bytes gets the same reply: nothing in it is theirs.
        reply = await ask(srv, True, source="127.0.0.2")
        assert nsid(reply) == b"dnsd-7"
        # Denials carry it too (the SOA reply of kubernetes).
        reply = await ask(srv, True, qtype="TXT")
        assert nsid(reply) == b"dnsd-7"


async def test_nsid_over_tcp() -> None:
    async with serve_corefile(f". {{\n    nsid dnsd-7\n{K8S}}}\n") as srv:
        q = dns.message.make_query(NAME, "A", use_edns=0, options=[ASK])
        reply = await dns.asyncquery.tcp(q, srv.host, port=srv.port, timeout=2.0)
    assert nsid(reply) == b"dnsd-7"


async def test_relayed_and_cached_replies_carry_our_nsid() -> None:
    """The upstream (another dnsd with its own *nsid*) answers with its identifier; ours
    replaces it, on the relayed reply and on the copy *cache* serves."""
    async with serve_corefile(f". {{\n    nsid back\n{K8S}}}\n") as back:
        front = f". {{\n    nsid front\n    cache 30\n    forward . {back.host}:{back.port}\n}}\n"
        async with serve_corefile(front) as srv:
            assert nsid(await ask(back, True)) == b"back"
            for _ in range(3):
                reply = await ask(srv, True)
                assert str(reply.answer[0][0]) == "10.96.10.20"
                assert nsid(reply) == b"front"
            assert nsid(await ask(srv, False)) is None


async def test_default_is_the_hostname() -> None:
    import socket

    async with serve_corefile(f". {{\n    nsid\n{K8S}}}\n") as srv:
        reply = await ask(srv, True)
    assert nsid(reply) == socket.gethostname().encode()


@pytest.mark.e2e
async def test_dig_nsid() -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.fail("dig not found: run the README's test command (apt bind9-dnsutils)")
    async with serve_corefile(f". {{\n    nsid dnsd-7\n{K8S}}}\n") as srv:
        outs = []
        for flag in ("+nsid", "+nonsid"):
            argv = [dig, f"@{srv.host}", "-p", str(srv.port), NAME, "A", flag]
            proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
            out, _ = await asyncio.wait_for(proc.communicate(), 15)
            outs.append(out.decode())
    asked, plain = outs
    assert "status: NOERROR" in asked, asked
    assert '; NSID: 64 6e 73 64 2d 37 ("dnsd-7")' in asked, asked
    assert "NSID" not in plain, plain
