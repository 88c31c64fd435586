"""A steady, bounded query load for the fault tests: dnspython clients asking known names.

::

    async with SteadyLoad(host, port, [expect("web.demo.svc", "A", "10.96.0.20")]) as load:
        ... break something, repair it ...
    assert load.wrong == 0 and load.lost == 0, load.problems

``workers`` clients each send one UDP query, wait for its answer (or ``timeout``), then wait for
their next slot so that together they ask about ``rate`` queries a second. Every query is judged
by its probe's ``check``; a query with no answer within ``timeout`` (or refused by the kernel
because nothing listens) is *lost*. The load ends at :meth:`SteadyLoad.stop`, after
``max_queries`` or after ``max_seconds``, whichever comes first: it is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from tests.reliability import Figures

Check = Callable[[dns.message.Message], bool]


@dataclass(frozen=True)
class Probe:
    """One question of the load and what a right answer is."""

    qname: str
    qtype: str
    check: Check
    #: How a right answer looks, for failure messages.
    want: str


def addresses(reply: dns.message.Message) -> list[str]:
    return sorted(rd.to_text() for rrset in reply.answer for rd in rrset)


def expect(qname: str, qtype: str, *rdata: str, rcode: int = dns.rcode.NOERROR) -> Probe:
    """``qname qtype`` must be answered ``rcode`` with exactly the records ``rdata`` (as text)."""
    want = sorted(rdata)

    def check(reply: dns.message.Message) -> bool:
        return reply.rcode() == rcode and addresses(reply) == want

    return Probe(qname, qtype, check, f"{dns.rcode.to_text(rcode)} {want}")


def expect_rcode(qname: str, qtype: str, *rcodes: int) -> Probe:
    """``qname qtype`` must be answered with one of ``rcodes`` (records not looked at)."""

    def check(reply: dns.message.Message) -> bool:
        return reply.rcode() in rcodes

    return Probe(qname, qtype, check, "/".join(dns.rcode.to_text(r) for r in rcodes))


@dataclass(frozen=True)
class Outcome:
    """One query: when it was sent (seconds since the load began), its latency (None: lost),
    the rcode received (None: lost) and whether it was right."""

    at: float
    latency: float | None
    rcode: int | None
    right: bool
    probe: Probe


@dataclass
class SteadyLoad:
    host: str
    port: int
    probes: Sequence[Probe]
    rate: float = 200.0
    workers: int = 4
    timeout: float = 2.0
    max_queries: int = 5000
    max_seconds: float = 30.0
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _started: float = 0.0

    async def __aenter__(self) -> SteadyLoad:
        self._started = time.monotonic()
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(self.workers)]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    def now(self) -> float:
        """Seconds since the load began (the clock of :attr:`Outcome.at`)."""
        return time.monotonic() - self._started

    async def stop(self) -> None:
        """End the load; the queries in flight get their answer or their timeout."""
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def wait_sent(self, count: int) -> None:
        """Wait until ``count`` more queries have been judged (bounded by the load's own limits)."""
        goal = len(self.outcomes) + count
        while len(self.outcomes) < goal:
            if self._stop.is_set() or all(t.done() for t in self._tasks):
                raise AssertionError(f"the load ended after {len(self.outcomes)} queries")
            await asyncio.sleep(0.01)

    async def _worker(self, index: int) -> None:
        interval = self.workers / self.rate
        loop = asyncio.get_running_loop()
        slot = loop.time() + interval * index / self.workers
        i = index
        while not self._stop.is_set():
            if len(self.outcomes) >= self.max_queries or self.now() >= self.max_seconds:
                return
            probe = self.probes[i % len(self.probes)]
            i += self.workers
            self.outcomes.append(await self._ask(probe))
            slot += interval
            delay = slot - loop.time()
            if delay > 0:  # pacing, not waiting for a condition
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                except TimeoutError:
                    pass
            else:
                slot = loop.time()

    async def _ask(self, probe: Probe) -> Outcome:
        query = dns.message.make_query(probe.qname, probe.qtype)
        at = self.now()
        start = time.monotonic()
        try:
            reply = await dns.asyncquery.udp(query, self.host, port=self.port, timeout=self.timeout)
        except (dns.exception.Timeout, OSError):
            return Outcome(at, None, None, False, probe)
        latency = time.monotonic() - start
        return Outcome(at, latency, reply.rcode(), probe.check(reply), probe)

    # -- figures -------------------------------------------------------------------------------
    def within(self, start: float = 0.0, end: float = float("inf")) -> list[Outcome]:
        """The queries sent in [start, end) on the load's clock."""
        return [o for o in self.outcomes if start <= o.at < end]

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def answered(self) -> int:
        return sum(1 for o in self.outcomes if o.latency is not None)

    @property
    def wrong(self) -> int:
        return sum(1 for o in self.outcomes if o.latency is not None and not o.right)

    @property
    def lost(self) -> int:
        return sum(1 for o in self.outcomes if o.latency is None)

    @property
    def slowest(self) -> float:
        return max((o.latency for o in self.outcomes if o.latency is not None), default=0.0)

    @property
    def problems(self) -> list[str]:
        """The first few wrong or lost queries, for assertion messages."""
        bad = [o for o in self.outcomes if not o.right][:5]
        return [
            f"t={o.at:.2f}s {o.probe.qname} {o.probe.qtype}: "
            + ("lost" if o.rcode is None else f"rcode {dns.rcode.to_text(o.rcode)}")
            + f", want {o.probe.want}"
            for o in bad
        ]

    def figures(self, scenario: str, recovery_s: float | None = None, notes: str = "") -> Figures:
        return Figures(
            scenario=scenario,
            group="faults",
            sent=self.sent,
            answered=self.answered,
            wrong=self.wrong,
            lost=self.lost,
            recovery_s=None if recovery_s is None else round(recovery_s, 3),
            notes=notes,
        )


async def until(get: Callable[[], Any], want: Callable[[Any], bool], timeout: float) -> float:
    """Await ``get()`` until ``want(result)``; returns the seconds it took (AssertionError after
    ``timeout``, with the last result)."""
    start = time.monotonic()
    last: Any = None
    while time.monotonic() - start < timeout:
        last = await get()
        if want(last):
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    raise AssertionError(f"not recovered within {timeout}s; last: {last!r}")
