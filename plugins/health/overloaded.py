"""The self-probe: ``GET /health`` on our own listener once a second, timed.

A slow answer means the process (its one event loop) cannot keep up; the
duration and the failures are exported without a ``server`` label, because
being overloaded is a property of the process, not of one server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from prometheus_client import Counter, Histogram

from dnsd.address import split_addr
from dnsd.duration import format_duration
from dnsd.log import plugin_logger
from dnsd.metrics import NAMESPACE

log = plugin_logger("health")

#: CoreDNS's ``plugin.SlimTimeBuckets``: 0.25ms x 10^n, 5 buckets.
SLIM_TIME_BUCKETS = (0.00025, 0.0025, 0.025, 0.25, 2.5)
INTERVAL = 1.0
TIMEOUT = 3.0
#: A *local* request slower than this is logged.
SLOW = 1.0

request_duration = Histogram(
    "request_duration_seconds",
    "Histogram of the time (in seconds) each request took.",
    namespace=NAMESPACE,
    subsystem="health",
    buckets=SLIM_TIME_BUCKETS,
)
request_failures = Counter(
    "request_failures_total",
    "The number of times the health check failed.",
    namespace=NAMESPACE,
    subsystem="health",
)


def probe_url(runtime: Any, addr: str) -> str:
    """Where our own ``/health`` really listens (the bound port, loopback for wildcards)."""
    http = runtime.http
    bound = http.remap(addr) if http.remap is not None else addr
    host, _ = split_addr(bound)
    if host in (None, "", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{http.port(addr)}/health"


async def probe_once(session: aiohttp.ClientSession, runtime: Any, addr: str) -> bool:
    """One timed request; records the metrics and returns whether it succeeded."""
    start = time.perf_counter()
    url = f"http://{addr}/health"
    error = ""
    try:
        url = probe_url(runtime, addr)
    except (KeyError, ValueError):
        error = "no listener for this address"
    if not error:
        try:
            async with session.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    error = f"unexpected status {resp.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = str(exc) or type(exc).__name__
    elapsed = time.perf_counter() - start
    request_duration.observe(elapsed)
    if error:
        request_failures.inc()
        log.warning('Local health request to "%s" failed: %s', url, error)
        return False
    if elapsed > SLOW:
        log.warning(
            'Local health request to "%s" took more than 1s: %s', url, format_duration(elapsed)
        )
    return True


async def probe_forever(runtime: Any, addr: str, interval: float = INTERVAL) -> None:
    """Probe every ``interval`` seconds until cancelled (first probe after one interval)."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            await asyncio.sleep(interval)
            await probe_once(session, runtime, addr)
