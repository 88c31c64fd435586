"""*health* through the real server: the endpoint, the self-probe, the lame duck, reloads."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp
import dns.rcode
import pytest
from prometheus_client import REGISTRY as PROM

from dnsd import testing
from dnsd.plugins.health.health import Health
from dnsd.plugins.health.overloaded import probe_once, probe_url
from dnsd.testing import free_port, serve_corefile, wait_for

DURATION_COUNT = "coredns_health_request_duration_seconds_count"
FAILURES = "coredns_health_request_failures_total"


def sample(name: str) -> float:
    return PROM.get_sample_value(name) or 0.0


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"http://127.0.0.1:{port}{path}") as resp:
            return resp.status, await resp.text()


@dataclass(frozen=True)
class HttpCase:
    corefile: str
    addr: str
    path: str
    status: int
    body: str
    method: str = "GET"


HTTP_CASES = {
    "default-address": HttpCase(". {\n    health\n    whoami\n}\n", ":8080", "/health", 200, "OK"),
    "head": HttpCase(". {\n    health\n}\n", ":8080", "/health", 200, "", method="HEAD"),
    "other-path": HttpCase(". {\n    health\n}\n", ":8080", "/ready", 404, "404 page not found\n"),
    "given-address": HttpCase(
        ". {\n    health localhost:8091\n}\n", "localhost:8091", "/health", 200, "OK"
    ),
    "with-lameduck": HttpCase(
        ". {\n    health {\n        lameduck 10ms\n    }\n}\n", ":8080", "/health", 200, "OK"
    ),
    "second-block-same-address": HttpCase(
        "a.org {\n    whoami\n}\nb.org {\n    health\n}\n", ":8080", "/health", 200, "OK"
    ),
}


@pytest.mark.parametrize("case", HTTP_CASES.values(), ids=HTTP_CASES.keys())
async def test_endpoint(case: HttpCase) -> None:
    async with serve_corefile(case.corefile) as srv:
        status, body = await get(srv.http_port(case.addr), case.path, case.method)
    assert (status, body) == (case.status, case.body)


async def test_two_addresses_export_the_same_health() -> None:
    corefile = "a.org {\n    health :8080\n}\nb.org {\n    health :8081\n}\n"
    async with serve_corefile(corefile) as srv:
        for addr in (":8080", ":8081"):
            assert await get(srv.http_port(addr), "/health") == (200, "OK")


async def test_self_probe_feeds_the_duration_histogram() -> None:
    before = sample(DURATION_COUNT)
    failures = sample(FAILURES)
    async with serve_corefile(". {\n    health\n}\n") as srv:
        await wait_for(lambda: sample(DURATION_COUNT) > before, timeout=5.0)
        assert srv.instance.shared["health::8080"]._probe is not None
    assert sample(FAILURES) == failures
    bucket = PROM.get_sample_value("coredns_health_request_duration_seconds_bucket", {"le": "2.5"})
    assert bucket is not None and bucket >= 1


def fake_runtime(port: int, remap: str | None = None) -> SimpleNamespace:
    http = SimpleNamespace(
        remap=(lambda addr: remap) if remap else None, port=lambda addr: port, sites={}
    )
    return SimpleNamespace(http=http)


async def test_failed_probe_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    before, failures = sample(DURATION_COUNT), sample(FAILURES)
    async with aiohttp.ClientSession() as session:
        ok = await probe_once(session, fake_runtime(port), ":8080")
    assert not ok
    assert sample(FAILURES) == failures + 1
    assert sample(DURATION_COUNT) == before + 1
    want = f'Local health request to "http://127.0.0.1:{port}/health" failed: '
    assert any(r.getMessage().startswith(want) for r in caplog.records), caplog.text


async def test_probe_of_unknown_listener_is_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    def no_port(addr: str) -> int:
        raise KeyError(addr)

    runtime = SimpleNamespace(http=SimpleNamespace(remap=None, port=no_port))
    failures = sample(FAILURES)
    async with aiohttp.ClientSession() as session:
        assert not await probe_once(session, runtime, ":8080")
    assert sample(FAILURES) == failures + 1
    want = 'Local health request to "http://:8080/health" failed: no listener for this address'
    assert want in caplog.messages


URL_CASES = {
    "no-host": (":8080", None, "http://127.0.0.1:4242/health"),
    "localhost": ("localhost:8080", None, "http://localhost:4242/health"),
    "ipv4": ("10.0.0.1:8080", None, "http://10.0.0.1:4242/health"),
    "ipv4-any": ("0.0.0.0:8080", None, "http://127.0.0.1:4242/health"),
    "ipv6": ("[::1]:8080", None, "http://[::1]:4242/health"),
    "ipv6-any": ("[::]:8080", None, "http://[::1]:4242/health"),
    "remapped": ("[::1]:8080", "127.0.0.1:0", "http://127.0.0.1:4242/health"),
}


@pytest.mark.parametrize(("addr", "remap", "want"), URL_CASES.values(), ids=URL_CASES.keys())
def test_probe_url(addr: str, remap: str | None, want: str) -> None:
    assert probe_url(fake_runtime(4242, remap), addr) == want


async def stop_and_watch(
    srv: testing.TestServer, watch: int
) -> tuple[float, list[tuple[int, str]], int]:
    """Stop the server and, while it is stopping, ask /health and DNS (UDP and TCP)."""
    health_port = srv.http_port(":8080")
    start = time.monotonic()
    stopping = asyncio.create_task(srv.runtime.stop())
    await wait_for(lambda: srv.runtime.stopping)
    answers: list[tuple[int, str]] = []
    dns_ok = 0
    for i in range(watch):
        answers.append(await get(health_port, "/health"))
        reply = await srv.query("example.org", "A", tcp=i % 2 == 1, timeout=1.0)
        dns_ok += reply.rcode() == dns.rcode.NOERROR
    assert not stopping.done(), "the lame duck ended before the checks did"
    await stopping
    return time.monotonic() - start, answers, dns_ok


async def test_lameduck_keeps_serving_dns_and_health(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    corefile = ". {\n    health {\n        lameduck 0.5s\n    }\n    whoami\n}\n"
    async with serve_corefile(corefile) as srv:
        elapsed, answers, dns_ok = await stop_and_watch(srv, watch=4)
        assert not srv.runtime.http.sites  # closed once the lame duck is over
    assert elapsed >= 0.45  # the 0.5s lame duck, with slack for clock granularity
    assert answers == [(200, "OK")] * 4
    assert dns_ok == 4
    assert "Going into lameduck mode for 500ms" in caplog.messages


async def test_lameduck_runs_once() -> None:
    corefile = ". {\n    health {\n        lameduck 0.3s\n    }\n}\n"
    async with serve_corefile(corefile) as srv:
        health: Health = srv.instance.shared["health::8080"]
        await srv.runtime.stop()
        start = time.monotonic()
        await health.final_shutdown()
        assert time.monotonic() - start < 0.3


async def test_without_lameduck_stop_is_quick() -> None:
    async with serve_corefile(". {\n    health\n}\n") as srv:
        start = time.monotonic()
        await srv.runtime.stop()
    assert time.monotonic() - start < 0.5


async def test_largest_lameduck_of_the_blocks_wins() -> None:
    corefile = (
        "a.org {\n    health {\n        lameduck 0.1s\n    }\n}\n"
        "b.org {\n    health {\n        lameduck 0.4s\n    }\n}\n"
    )
    async with serve_corefile(corefile) as srv:
        start = time.monotonic()
        await srv.runtime.stop()
    assert time.monotonic() - start >= 0.35  # the larger lame duck (0.4s) was used


async def test_reload_keeps_the_endpoint_and_restarts_the_probe() -> None:
    corefile = ". {\n    health\n    whoami\n}\n"
    async with serve_corefile(corefile) as srv:
        port = srv.http_port(":8080")
        old: Health = srv.instance.shared["health::8080"]
        assert old._probe is not None
        assert await srv.reload(corefile + "example.org {\n    whoami\n}\n")
        assert srv.runtime.instance is not None
        new: Health = srv.runtime.instance.shared["health::8080"]
        assert new is not old
        assert old._probe is None
        assert new._probe is not None
        assert srv.http_port(":8080") == port
        assert await get(port, "/health") == (200, "OK")


def _probe(port: int, delay: float) -> str:
    """GET /health from another thread after ``delay`` seconds: status, or 'timeout'."""
    import time
    import urllib.request

    time.sleep(delay)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=0.5) as resp:
            return str(resp.status)
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return "timeout" if "timed out" in str(exc) else f"error {exc}"


async def test_a_stuck_event_loop_fails_health() -> None:
    """/health runs on the DNS loop: a plugin blocking the loop makes the probe time out."""
    import asyncio

    from tests.integration.stubs import stub_plugin

    with stub_plugin():
        text = ". {\n    health\n    stub block 1.5\n}\n"
        async with serve_corefile(text) as srv:
            port = srv.http_port(":8080")
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, _probe, port, 0.0) == "200"
            probe = loop.run_in_executor(None, _probe, port, 0.2)
            await srv.query("example.org", timeout=5)  # its handler blocks the loop 1.5 s
            assert await probe == "timeout"
            assert await loop.run_in_executor(None, _probe, port, 0.0) == "200"
