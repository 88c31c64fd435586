"""1,000 slow upstream queries in flight must cost little memory (the issue's 20 MiB budget).

The whole test runs in one process: the client (one UDP socket), the dnsd server
with *forward*, and the slow fake upstream holding 1,000 pending replies. The RSS
growth between a warmed-up idle server and the moment all 1,000 queries wait on
the upstream bounds what forward (and the server's per-query task) costs.
"""

from __future__ import annotations

import gc
import socket

from dnslib import DNSRecord

from dnsd.plugins.forward.handler import Forward
from dnsd.testing import serve_corefile, wait_for
from tests.plugins.forward.fakes import FakeUpstream, slow

COUNT = 1000
BUDGET = 20 * 1024 * 1024


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def _flood(port: int, count: int, base: int, handler: Forward) -> socket.socket:
    """Send ``count`` queries from one socket, 50 at a time, each batch seen by forward."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    sock.connect(("127.0.0.1", port))
    start = handler.concurrent
    for i in range(count):
        q = DNSRecord.question(f"q{base + i}.example.org", "A")
        q.header.id = i
        sock.send(q.pack())
        if i % 50 == 49 or i == count - 1:
            await wait_for(lambda n=i: handler.concurrent >= start + n + 1, timeout=10)
    return sock


async def test_thousand_slow_queries_stay_within_budget() -> None:
    async with FakeUpstream(slow(1.5)) as fake:
        text = f".:53 {{\n    forward . {fake.addr} {{\n        max_concurrent 5000\n    }}\n}}\n"
        async with serve_corefile(text) as srv:
            handler = next(h for h in srv.instance.blocks[0].handlers if isinstance(h, Forward))
            warm = await _flood(srv.port, 200, 0, handler)  # warm pools, arenas, caches
            await wait_for(lambda: handler.concurrent == 0, timeout=10)
            warm.close()
            gc.collect()
            before = rss()
            sock = await _flood(srv.port, COUNT, 10_000, handler)
            peak = rss()
            await wait_for(lambda: handler.concurrent == 0, timeout=10)
            sock.close()
    grown = peak - before
    assert grown < BUDGET, f"{COUNT} pending queries grew RSS by {grown / 2**20:.1f} MiB"
