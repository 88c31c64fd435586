"""Faults of the Kubernetes API server under a steady query load (issue 7, point 2 a and b).

A real dnsd serves *kubernetes* from the fake API server (real HTTP, real resourceVersions) while
dnspython clients keep asking names that exist before and after the fault. During each fault a
Service is added and another deleted; once the fault ends both changes must show, and the time it
takes is the recovery figure. Whatever the fault, every query of the load must be answered right.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import dns.rcode
import pytest

from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    endpoint,
    make_namespace,
    make_service,
    make_slice,
)
from tests.reliability import record
from tests.reliability.steady import SteadyLoad, addresses, expect, until

pytestmark = pytest.mark.reliability

ZONE = "svc.cluster.local"
LOAD = [
    expect(f"web.demo.{ZONE}", "A", "10.96.0.20"),
    expect(f"db.demo.{ZONE}", "A", "10.244.2.1", "10.244.2.2"),
    expect(f"db-1.db.demo.{ZONE}", "A", "10.244.2.2"),
    expect(f"nope.demo.{ZONE}", "A", rcode=dns.rcode.NXDOMAIN),
]
#: Seconds a fault lasts while the load runs.
OUTAGE = 1.5
#: The most the watch may take to catch up after a fault (its back-off is at most 3.2 s by then).
RECOVERY = 15.0


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI(bookmark_interval=0.2) as fake:
        for ns in ("default", "demo"):
            fake.add("Namespace", make_namespace(ns))
        fake.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        fake.add("Service", make_service("demo", "gone", cluster_ip="10.96.0.30"))
        fake.add("Service", make_service("demo", "db", cluster_ip="None"))
        eps = [endpoint("10.244.2.1", hostname="db-0"), endpoint("10.244.2.2", hostname="db-1")]
        fake.add("EndpointSlice", make_slice("demo", "db", endpoints=eps))
        yield fake


@asynccontextmanager
async def k8s(api: FakeAPI) -> AsyncIterator[TestServer]:
    text = f". {{\n    kubernetes cluster.local {{\n        endpoint {api.url}\n    }}\n}}\n"
    async with serve_corefile(text) as srv:
        yield srv


def change_during_fault(api: FakeAPI) -> None:
    """What happens in the cluster while dnsd cannot see it."""
    api.add("Service", make_service("demo", "during", cluster_ip="10.96.0.60"))
    api.delete("Service", "demo", "gone")


async def changes_seen(srv: TestServer) -> float:
    """Seconds until the Service added during the fault answers and the deleted one is gone."""

    async def look() -> tuple[list[str], int]:
        added = await srv.query(f"during.demo.{ZONE}", "A")
        deleted = await srv.query(f"gone.demo.{ZONE}", "A")
        return addresses(added), deleted.rcode()

    return await until(look, lambda got: got == (["10.96.0.60"], dns.rcode.NXDOMAIN), RECOVERY)


async def before_fault(srv: TestServer, load: SteadyLoad) -> None:
    assert (await srv.query(f"gone.demo.{ZONE}", "A")).rcode() == dns.rcode.NOERROR
    await load.wait_sent(50)


def no_bug_traces(caplog: pytest.LogCaptureFixture) -> None:
    """Faults are logged as errors, never as a traceback (the informer's "a bug" path)."""
    traced = [r.getMessage() for r in caplog.records if r.exc_info]
    assert traced == []


async def test_api_server_stopped_and_restarted_under_load(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with k8s(api) as srv, SteadyLoad(srv.host, srv.port, LOAD) as load:
        await before_fault(srv, load)
        api.stop()
        change_during_fault(api)
        down = load.now()
        # the outage lasts while the load sends OUTAGE seconds of queries
        await load.wait_sent(int(OUTAGE * load.rate))
        stale = await srv.query(f"gone.demo.{ZONE}", "A")
        assert stale.rcode() == dns.rcode.NOERROR  # the last known data keep answering
        api.start()
        up = load.now()
        recovery = await changes_seen(srv)
        await load.wait_sent(20)
        await load.stop()
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert load.within(down, up), "no query was sent during the outage"
    assert any("Failed to watch" in r.getMessage() for r in caplog.records)
    no_bug_traces(caplog)
    record(
        load.figures(
            f"API server stopped {up - down:.1f} s under load, then restarted",
            recovery,
            f"queries during the outage: {len(load.within(down, up))}",
        )
    )


def inject(api: FakeAPI, fault: str, until_: float) -> None:
    """Every request (list or watch) fails as ``fault`` says until ``until_`` (monotonic)."""

    def during(params: object) -> bool:
        return time.monotonic() < until_

    if fault == "500":
        api.fail(500, count=10_000, when=during)
    else:
        api.fail(garbage=True, count=10_000, when=during)


@pytest.mark.parametrize("fault", ["500", "garbage"], ids=["http-500", "garbage-json"])
async def test_api_server_errors_back_off_and_lose_nothing(
    api: FakeAPI, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with k8s(api) as srv, SteadyLoad(srv.host, srv.port, LOAD) as load:
        await before_fault(srv, load)
        start = time.monotonic()
        inject(api, fault, start + OUTAGE)
        lists, watches = len(api.lists()), len(api.watches())
        api.close_watches()  # every watch comes back and meets the fault
        change_during_fault(api)
        await wait_for(lambda: time.monotonic() >= start + OUTAGE, timeout=OUTAGE + 1)
        recovery = await changes_seen(srv)
        await load.wait_sent(20)
        await load.stop()
        retries = len(api.watches()) - watches
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert len(api.lists()) == lists, "an error other than 410 must not relist"
    messages = [r.getMessage() for r in caplog.records if r.name == "plugin/kubernetes"]
    assert any("Failed to watch" in m and "retrying in" in m for m in messages)
    no_bug_traces(caplog)
    record(
        load.figures(
            f"API server answering {'HTTP 500' if fault == '500' else 'garbage JSON'}"
            f" for {OUTAGE:.1f} s under load",
            recovery,
            f"watch requests: {retries}; relists: 0",
        )
    )


async def test_api_server_410_relists_and_loses_nothing(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with k8s(api) as srv, SteadyLoad(srv.host, srv.port, LOAD) as load:
        await before_fault(srv, load)
        lists = len(api.lists("Service"))
        watches = len(api.watches("Service"))
        # The Service watch comes back to a request that hangs: dnsd misses what happens now...
        api.fail(watch=True, kind="Service", hang=True)
        api.close_watches()
        await wait_for(lambda: len(api.watches("Service")) > watches)
        change_during_fault(api)
        api.compact()  # ...and the history it would resume from is gone: 410 Gone, relist
        await load.wait_sent(int(OUTAGE * load.rate))
        api.close_watches()
        recovery = await changes_seen(srv)
        await load.wait_sent(20)
        await load.stop()
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert len(api.lists("Service")) > lists, "410 must relist"
    relisted = [r.getMessage() for r in caplog.records if "relisting" in r.getMessage()]
    assert any(m.startswith("services: watch expired") for m in relisted)
    no_bug_traces(caplog)
    record(
        load.figures(
            "API server answering 410 Gone (history compacted) under load",
            recovery,
            f"service relists: {len(api.lists('Service')) - lists}",
        )
    )
