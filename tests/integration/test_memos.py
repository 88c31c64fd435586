"""hosts and file offer memos: a repeated question skips the chain until their data reload."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import dns.rcode

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ZONE = """$ORIGIN example.org.
$TTL 3600
@ IN SOA ns hostmaster {serial} 7200 3600 1209600 3600
@ IN NS ns
ns IN A 192.0.2.53
www IN A {address}
"""


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    return listener.dispatcher


async def address(srv: TestServer, name: str) -> str:
    reply = await srv.query(name, "A")
    assert reply.rcode() == dns.rcode.NOERROR
    return str(reply.answer[0][0].address)


async def until(srv: TestServer, name: str, want: str, timeout: float = 5.0) -> None:
    """Ask (memo hits included) until ``want`` is the answer; a memo that outlives its data
    would keep the old one past the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (got := await address(srv, name)) != want:
        assert loop.time() < deadline, f"still {got}"
        await asyncio.sleep(0.01)


def replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.rename(tmp, path)


async def test_hosts_memo_lasts_until_the_file_changes(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("10.0.0.1 a.example.org\n")
    text = f"example.org {{\n    hosts {hosts} {{\n        reload 1h\n    }}\n}}\n"
    async with serve_corefile(text) as srv:
        for _ in range(3):
            assert await address(srv, "a.example.org") == "10.0.0.1"
        assert len(dispatcher(srv).memos) == 1
        replace(hosts, "10.0.0.2 a.example.org\n")  # seen through the folder hint
        await until(srv, "a.example.org", "10.0.0.2")


async def test_file_memo_lasts_until_the_zone_reloads(tmp_path: Path) -> None:
    db = tmp_path / "db.example.org"
    db.write_text(ZONE.format(serial=1, address="192.0.2.1"))
    text = f"example.org {{\n    file {db} {{\n        reload 1h\n    }}\n}}\n"
    async with serve_corefile(text) as srv:
        for _ in range(3):
            assert await address(srv, "www.example.org") == "192.0.2.1"
        assert len(dispatcher(srv).memos) == 1
        replace(db, ZONE.format(serial=2, address="192.0.2.2"))
        await until(srv, "www.example.org", "192.0.2.2")
