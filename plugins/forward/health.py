"""Health checks of one upstream (CoreDNS's ``pkg/proxy/health.go`` and ``pkg/up``).

A check is ``. IN NS`` (RD set unless ``no_rec``; another name with ``domain``)
sent over the upstream's own transport (UDP; TCP with ``force_tcp``; TLS for
tls://) on a fresh socket. Any reply, even SERVFAIL or REFUSED, is healthy.

Checks do not run all the time: the first failed query starts a loop that checks
at once and then every ``health_check`` interval until one check succeeds, which
clears the upstream's failure count and ends the loop. Each failed check adds
one; the upstream is down while the count is above ``max_fails``.
"""

from __future__ import annotations

import asyncio

from dnslib import DNSRecord

from dnsd.plugins.forward import metrics
from dnsd.plugins.forward.conn import ids
from dnsd.plugins.forward.upstream import Upstream, UpstreamError

#: CoreDNS's health-check client read timeout; dnsd also never waits longer than read_timeout.
CHECK_TIMEOUT = 1.0
#: Floor for the interval between checks, so ``health_check 0s`` cannot spin.
MIN_INTERVAL = 0.01


def check_query(domain: str, recursion_desired: bool) -> bytes:
    """``DOMAIN IN NS`` without EDNS, RD as asked (the ID is replaced per check)."""
    q = DNSRecord.question(domain, "NS")
    q.header.rd = int(recursion_desired)
    q.header.id = 0
    return bytes(q.pack())


class HealthCheck:
    """The check loop of one upstream: started by a failed query, ended by a healthy reply."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        interval: float = 0.5,
        recursion_desired: bool = True,
        domain: str = ".",
        proto: str = "udp",
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.upstream = upstream
        self.interval = max(interval, MIN_INTERVAL)
        self.query = check_query(domain, recursion_desired)
        self.proto = proto
        self.timeout = min(timeout, CHECK_TIMEOUT)
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._failures = metrics.healthcheck_failures.labels(metrics.PROXY_NAME, upstream.addr)

    @property
    def running(self) -> bool:
        """True while the check loop runs."""
        return self._task is not None

    def kick(self) -> None:
        """Start checking, unless a check loop already runs (CoreDNS's ``probe.Do``)."""
        if self._task is not None or self._stopped:
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while not self._stopped:
                if await self.check():
                    return
                await asyncio.sleep(self.interval)
        finally:
            self._task = None

    async def check(self) -> bool:
        """One check: True and the failure count cleared, or False and one more failure."""
        query = ids.next().to_bytes(2, "big") + self.query[2:]
        try:
            await self.upstream.probe(query, self.proto, self.timeout)
        except UpstreamError:
            self._failures.inc()
            self.upstream.fails += 1
            return False
        self.upstream.fails = 0
        return True

    def stop(self) -> None:
        """No more checks (shutdown)."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
