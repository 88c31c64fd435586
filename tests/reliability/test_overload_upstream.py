"""1,500 concurrent queries to a slow upstream, bounded by forward's ``max_concurrent 1000``.

kubeadm's Corefile sets ``max_concurrent 1000``; CoreDNS answers REFUSED beyond it (and does
not count it as an upstream failure). One process holds the client, dnsd (serve_corefile) and
a fake upstream that answers every query 1.5 s late, so RSS is read from /proc/self. Pass
conditions: exactly 1,000 queries reach the upstream, the other 500 are REFUSED at once,
the 1,000 get their right answer when the upstream replies, and RSS grows at most 20 MiB
(bench/cache_forward.py ``slow`` measures the same at full scale).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import time

import dns.message
import dns.rcode
import pytest

from dnsd.plugins.forward.handler import Forward
from dnsd.testing import serve_corefile, wait_for
from tests.loadtools import MIB, rss
from tests.plugins.forward.fakes import FakeUpstream, slow
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability

LIMIT = 1000
COUNT = 1500
DELAY = 1.5
BUDGET = 20 * MIB


def query(i: int) -> bytes:
    q = dns.message.make_query(f"q{i}.example.org", "A", id=i)
    return q.to_wire()


async def test_slow_upstream_burst_is_bounded_by_max_concurrent() -> None:
    async with FakeUpstream(slow(DELAY)) as fake:
        text = (
            f".:53 {{\n    forward . {fake.addr} {{\n        max_concurrent {LIMIT}\n    }}\n}}\n"
        )
        async with serve_corefile(text) as srv:
            handler = next(h for h in srv.instance.blocks[0].handlers if isinstance(h, Forward))
            gc.collect()
            before = rss(os.getpid())
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.setblocking(False)
            sock.connect(("127.0.0.1", srv.port))
            loop = asyncio.get_running_loop()
            replies: dict[int, tuple[float, dns.message.Message]] = {}

            def readable() -> None:
                while True:
                    try:
                        data = sock.recv(4096)
                    except BlockingIOError:
                        return
                    msg = dns.message.from_wire(data)
                    replies[msg.id] = (time.monotonic(), msg)

            loop.add_reader(sock.fileno(), readable)
            peak = before
            try:
                start = time.monotonic()
                for i in range(COUNT):  # in batches of 50: dnsd's receive buffer holds them
                    sock.send(query(i))
                    if i % 50 == 49:
                        want = min(LIMIT, i + 1)
                        await wait_for(
                            lambda i=i, want=want: (
                                handler.concurrent >= want or len(replies) + handler.concurrent > i
                            ),
                            timeout=10,
                        )
                        peak = max(peak, rss(os.getpid()))
                in_flight = handler.concurrent
                peak = max(peak, rss(os.getpid()))
                await wait_for(lambda: len(replies) >= COUNT, timeout=DELAY + 10)
                done = time.monotonic() - start
            finally:
                loop.remove_reader(sock.fileno())
                sock.close()
    refused = [t - start for t, m in replies.values() if m.rcode() == dns.rcode.REFUSED]
    right = [
        m
        for _, m in replies.values()
        if m.rcode() == dns.rcode.NOERROR and [rr.to_text() for rr in m.answer[0]] == ["192.0.2.1"]
    ]
    wrong = len(replies) - len(refused) - len(right)
    grown = peak - before
    record(
        Figures(
            scenario=f"{COUNT:,} queries to an upstream {DELAY} s late, max_concurrent {LIMIT}",
            group="overload",
            sent=COUNT,
            answered=len(replies),
            wrong=wrong,
            lost=COUNT - len(replies),
            notes=(
                f"upstream saw {fake.count()}, in flight at most {in_flight}, REFUSED "
                f"{len(refused)} (all within {max(refused, default=0):.2f} s), answered "
                f"{len(right)} after {done:.1f} s; RSS +{grown / MIB:.1f} MiB"
            ),
        )
    )
    assert in_flight == LIMIT
    assert fake.count() == LIMIT
    assert len(refused) == COUNT - LIMIT and max(refused) < DELAY, "REFUSED was not immediate"
    assert len(right) == LIMIT and wrong == 0
    assert grown <= BUDGET, f"RSS grew {grown / MIB:.1f} MiB"
