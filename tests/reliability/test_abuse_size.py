"""No UDP reply is ever larger than the client's advertised size (512 without EDNS).

Big answers from *hosts*, *file* and *forward* (an upstream that ignores the size it was told,
as a hostile or broken one would) are asked over UDP with no EDNS and with EDNS sizes 512,
1232 and 4096. Every reply must fit; a reply that does not hold the whole answer must carry TC,
and the same question over TCP must give the whole answer.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from dnsd.testing import TestServer, serve_corefile
from tests.plugins.forward.fakes import FakeUpstream, Outcome
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability

COUNT = 120  # A records: about 1.9 KB of answer with compression, 2.2 KB in a zone
SIZES = [None, 512, 1232, 4096]


def big_upstream(q: DNSRecord, raw: bytes, proto: str) -> Outcome:
    r = q.reply()
    if q.q.qtype == QTYPE.A:
        for i in range(COUNT):
            r.add_answer(RR(q.q.qname, QTYPE.A, rdata=A(f"10.1.{i // 250}.{i % 250 + 1}"), ttl=60))
    return bytes(r.pack())


async def udp(port: int, name: str, size: int | None) -> bytes:
    q = dns.message.make_query(name, "A", use_edns=size is not None, payload=size or 512)
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        await loop.sock_connect(s, ("127.0.0.1", port))
        await loop.sock_sendall(s, q.to_wire())
        return await asyncio.wait_for(loop.sock_recv(s, 65535), 3)


async def check_name(srv: TestServer, name: str, source: str) -> list[str]:
    """Problems with ``name``'s replies (empty when every size was respected)."""
    full = await srv.query(name, "A", tcp=True)
    whole = sum(len(rrset) for rrset in full.answer)
    problems = []
    if whole != COUNT:
        problems.append(f"{source}: TCP answer has {whole} records, want {COUNT}")
    for size in SIZES:
        wire = await udp(srv.port, name, size)
        limit = 512 if size is None else size
        msg = dns.message.from_wire(wire, ignore_trailing=True)
        got = sum(len(rrset) for rrset in msg.answer)
        tc = bool(msg.flags & dns.flags.TC)
        if len(wire) > limit:
            problems.append(f"{source} size {size}: {len(wire)} bytes > {limit}")
        if got < COUNT and not tc:
            problems.append(f"{source} size {size}: {got}/{COUNT} records without TC")
    return problems


async def test_no_udp_reply_exceeds_the_advertised_size(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "".join(f"10.2.{i // 250}.{i % 250 + 1} big.hosts.test\n" for i in range(COUNT))
    )
    zone = tmp_path / "zone.db"
    zone.write_text(
        "$ORIGIN zone.test.\n$TTL 60\n@ IN SOA ns hostmaster 1 7200 3600 1209600 60\n"
        "@ IN NS ns\nns IN A 192.0.2.53\n"
        + "".join(f"big IN A 10.3.{i // 250}.{i % 250 + 1}\n" for i in range(COUNT))
    )
    async with FakeUpstream(big_upstream) as fake:
        text = (
            f"hosts.test {{\n    hosts {hosts}\n}}\n"
            f"zone.test {{\n    file {zone}\n}}\n"
            f"fwd.test {{\n    forward . {fake.addr}\n}}\n"
        )
        async with serve_corefile(text) as srv:
            problems: list[str] = []
            for name, source in [
                ("big.hosts.test", "hosts"),
                ("big.zone.test", "file"),
                ("big.fwd.test", "forward"),
            ]:
                problems += await check_name(srv, name, source)
    asked = 3 * (len(SIZES) + 1)
    record(
        Figures(
            scenario=f"{COUNT} A records from hosts, file, forward; EDNS none/512/1232/4096",
            group="abuse",
            sent=asked,
            answered=asked,
            wrong=len(problems),
            lost=0,
            notes="every UDP reply within the advertised size (512 without EDNS), TC set when "
            "cut; TCP gives the whole answer" + (f"; problems: {problems[:3]}" if problems else ""),
        )
    )
    assert problems == []
