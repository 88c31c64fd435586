"""Upstreams that fail under a steady query load (issue 7, point 2 c).

One *forward* upstream at a time plays a fault: silent (time-out), a closed port (ICMP refused),
garbage bytes, replies with a mismatched ID, or REFUSED. While it does, every query must get its
answer within the configured time (SERVFAIL after ``max_connect_attempts`` reads of
``read_timeout``; REFUSED is the upstream's own answer, handed back as CoreDNS does), and the
health checks must mark the upstream down. Then the upstream is repaired: the checks mark it up
and answers come back; the time that takes is the recovery figure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import dns.message
import dns.rcode
import pytest

from dnsd.plugins.forward.handler import Forward
from dnsd.plugins.forward.upstream import Upstream
from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.forward.fakes import (
    Behave,
    FakeUpstream,
    answer,
    garbage,
    rcode_only,
    silent,
    wrong_id,
)
from tests.reliability import record
from tests.reliability.steady import Probe, SteadyLoad, addresses, until

pytestmark = pytest.mark.reliability

READ_TIMEOUT = 0.25
ATTEMPTS = 2  # CoreDNS's max_connect_attempts default: twice the upstreams
#: Slack on a busy 2-core machine above the configured time.
MARGIN = 1.0
GOOD = "192.0.2.1"
NAME = "example.org"


def corefile(addr: str) -> str:
    return (
        ".:53 {\n    forward . "
        f"{addr} {{\n        read_timeout {int(READ_TIMEOUT * 1000)}ms\n"
        "        health_check 100ms\n        max_fails 1\n    }\n}\n"
    )


def probe(fault_rcode: int) -> Probe:
    """Right: the fault's rcode, or (once repaired) the upstream's answer."""

    def check(reply: dns.message.Message) -> bool:
        if reply.rcode() == fault_rcode:
            return True
        return reply.rcode() == dns.rcode.NOERROR and addresses(reply) == [GOOD]

    return Probe(NAME, "A", check, f"{dns.rcode.to_text(fault_rcode)} or NOERROR [{GOOD}]")


def the_upstream(srv: TestServer) -> Upstream:
    (handler,) = [h for h in srv.instance.blocks[0].handlers if isinstance(h, Forward)]
    (upstream,) = handler.upstreams
    return upstream


@asynccontextmanager
async def closed_port() -> AsyncIterator[FakeUpstream]:
    """A fake that has been stopped: its port refuses (ICMP port unreachable) until restarted."""
    fake = FakeUpstream(answer(GOOD))
    await fake.start()
    await fake.stop()
    try:
        yield fake
    finally:
        await fake.stop()


async def repaired(srv: TestServer, upstream: Upstream) -> float:
    """Seconds until the upstream is up again and answers right."""

    async def look() -> tuple[bool, Any]:
        reply = await srv.query(NAME, "A", timeout=5)
        return upstream.down(1), (reply.rcode(), addresses(reply))

    return await until(look, lambda got: got == (False, (dns.rcode.NOERROR, [GOOD])), 10)


FAULTS: list[tuple[str, Behave | None]] = [
    ("time-out", silent),
    ("closed-port", None),
    ("garbage", garbage),
    ("mismatched-id", wrong_id),
]


@pytest.mark.parametrize(("case", "behave"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_failing_upstream_servfail_in_time_down_and_back_up(
    case: str, behave: Behave | None
) -> None:
    bound = ATTEMPTS * READ_TIMEOUT + MARGIN
    fake_cm = closed_port() if behave is None else FakeUpstream(behave)
    async with fake_cm as fake, serve_corefile(corefile(fake.addr)) as srv:
        upstream = the_upstream(srv)
        load = SteadyLoad(srv.host, srv.port, [probe(dns.rcode.SERVFAIL)], rate=40, workers=8)
        async with load:
            await load.wait_sent(8)
            await wait_for(lambda: upstream.down(1), timeout=5)  # the checks mark it down
            await load.wait_sent(8)
            in_fault = list(load.outcomes)
            repair = load.now()
            if behave is None:
                await fake.start()  # listening again on the same port
            else:
                fake.behave = answer(GOOD)
            recovery = await repaired(srv, upstream)
            await load.wait_sent(8)
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert all(o.rcode == dns.rcode.SERVFAIL for o in in_fault)
    slowest = max(o.latency or 0.0 for o in in_fault)
    assert slowest <= bound, f"SERVFAIL took {slowest:.2f}s, configured {bound - MARGIN:.2f}s"
    assert load.within(repair)[-1].rcode == dns.rcode.NOERROR
    record(
        load.figures(
            f"upstream fault: {case} (read_timeout {READ_TIMEOUT}s)",
            recovery,
            f"slowest SERVFAIL: {slowest:.2f}s; marked down, then up",
        )
    )


async def test_refusing_upstream_is_answered_as_is_and_stays_up() -> None:
    """REFUSED is an answer: handed back at once, and a health check would count it healthy
    (CoreDNS: any reply is), so the upstream is never marked down."""
    async with FakeUpstream(rcode_only(dns.rcode.REFUSED)) as fake:
        async with serve_corefile(corefile(fake.addr)) as srv:
            upstream = the_upstream(srv)
            handler = [h for h in srv.instance.blocks[0].handlers if isinstance(h, Forward)][0]
            load = SteadyLoad(srv.host, srv.port, [probe(dns.rcode.REFUSED)], rate=100)
            async with load:
                await load.wait_sent(50)
                in_fault = list(load.outcomes)
                assert not upstream.down(1) and not handler.health[id(upstream)].running
                repair = load.now()
                fake.behave = answer(GOOD)
                recovery = await repaired(srv, upstream)
                await load.wait_sent(20)
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert all(o.rcode == dns.rcode.REFUSED for o in in_fault)
    assert fake.count(checks=True) == fake.count()  # no health check was ever sent
    slowest = max(o.latency or 0.0 for o in in_fault)
    assert slowest <= READ_TIMEOUT + MARGIN
    assert load.within(repair)[-1].rcode == dns.rcode.NOERROR
    record(
        load.figures(
            "upstream fault: answers REFUSED",
            recovery,
            f"REFUSED handed back (slowest {slowest:.2f}s); never marked down",
        )
    )


async def test_closed_port_fails_fast() -> None:
    """An ICMP port-unreachable fails the query at once, not after the read timeout."""
    async with closed_port() as fake, serve_corefile(corefile(fake.addr)) as srv:
        start = asyncio.get_running_loop().time()
        reply = await srv.query(NAME, "A", timeout=5)
        took = asyncio.get_running_loop().time() - start
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert took < READ_TIMEOUT
