"""The informer and the API client against the fake API server, over real HTTP and through the
real ``kubernetes`` package: list then watch, resume, relist on 410, faults, limits, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from dnsd.plugins.kubernetes.client import Api, TokenBucket, make_api
from dnsd.plugins.kubernetes.informer import Backoff, Informer, ResourceLike
from dnsd.testing import wait_for
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    RecordingSink,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
    wait_until,
)

# -- stand-ins for objects.Resource and its converters (same shape) -----------------------------


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    path: str
    convert: Callable[[dict[str, Any]], object | None]


def convert_service(obj: dict[str, Any]) -> object | None:
    labels = obj["metadata"].get("labels") or {}
    if labels.get("dns") == "skip":
        return None
    if labels.get("dns") == "explode":
        raise RuntimeError("converter bug")
    return obj["spec"].get("clusterIP", "")


def convert_pod(obj: dict[str, Any]) -> object | None:
    if obj["status"].get("phase") in ("Succeeded", "Failed"):
        return None
    return obj["status"].get("podIP", "")


SERVICES = Resource("Service", "services", "/api/v1/services", convert_service)
PODS = Resource("Pod", "pods", "/api/v1/pods", convert_pod)
NAMESPACES = Resource("Namespace", "namespaces", "/api/v1/namespaces", lambda o: "ns")

# short timeouts so every failure path finishes in well under a second
FAST: dict[str, Any] = {
    "connect_timeout": 1.0,
    "read_timeout": 5.0,
    "backoff_min": 0.01,
    "backoff_max": 0.05,
    "watch_timeout": 60.0,
}


def svc(name: str, ip: str, ns: str = "default", **kw: Any) -> dict[str, Any]:
    return make_service(ns, name, cluster_ip=ip, **kw)


_APIS: list[Api] = []


def rest_api(fake: FakeAPI, **kw: Any) -> Api:
    limits = {"qps": 0.0, "burst": 0, "max_inflight": 0, **kw}
    api = make_api(kubeconfig=None, context=None, endpoint=fake.url, tls=None, **limits)
    _APIS.append(api)
    return api


@pytest.fixture(autouse=True)
def close_apis() -> Iterator[None]:
    """Close every Api a test made (their pooled sockets would warn when collected)."""
    yield
    while _APIS:
        _APIS.pop().close()


@pytest.fixture
def fake() -> Iterator[FakeAPI]:
    with FakeAPI() as api:
        yield api


class Harness:
    """Starts informers and stops them (asserting they end) when the test ends."""

    def __init__(self, fake: FakeAPI) -> None:
        self.fake = fake
        self.started: list[Informer] = []

    def start(
        self,
        resource: ResourceLike = SERVICES,
        sink: RecordingSink | None = None,
        api: Api | None = None,
        **kw: Any,
    ) -> tuple[Informer, RecordingSink]:
        sink = sink or RecordingSink()
        informer = Informer(api or rest_api(self.fake), resource, sink, **{**FAST, **kw})
        informer.start()
        self.started.append(informer)
        return informer, sink

    def synced(self, **kw: Any) -> tuple[Informer, RecordingSink]:
        informer, sink = self.start(**kw)
        assert informer.wait_synced(5), informer.last_error
        return informer, sink

    def stop_all(self) -> None:
        for informer in self.started:
            informer.stop()
        for informer in self.started:
            assert informer.join(5), "informer thread did not end"


@pytest.fixture
def harness(fake: FakeAPI) -> Iterator[Harness]:
    h = Harness(fake)
    yield h
    h.stop_all()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- list, watch, events ------------------------------------------------------------------------


def test_list_then_watch(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.add("Service", svc("b", "10.0.0.2", ns="other"))
    informer, sink = harness.synced()
    assert sink.snapshot("Service") == {("default", "a"): "10.0.0.1", ("other", "b"): "10.0.0.2"}
    assert sink.methods()[:2] == ["replace", "synced"]
    assert informer.has_synced and informer.last_error is None
    watch = wait_until(lambda: fake.watches("Service"))[0]
    (listed,) = fake.lists("Service")
    assert listed.params == {"limit": "500"}
    assert watch.params["resourceVersion"] == "3"  # the list's resourceVersion
    assert watch.params["watch"] == "true"
    assert watch.params["allowWatchBookmarks"] == "true"
    assert 54 <= int(watch.params["timeoutSeconds"]) <= 66  # 60s ± 10%
    assert watch.headers["Accept"] == "application/json"
    assert watch.headers["User-Agent"].startswith("dnsd/")


STEPS = [
    # (id, action, expected state afterwards)
    ("added", lambda f: f.add("Service", svc("b", "10.0.0.2")), {"a": "10.0.0.1", "b": "10.0.0.2"}),
    ("modified", lambda f: f.update("Service", svc("a", "10.0.0.9")), {"a": "10.0.0.9"}),
    ("deleted", lambda f: f.delete("Service", "default", "a"), {}),
    (
        "convert-none-deletes",
        lambda f: f.update("Service", svc("a", "10.0.0.1", labels={"dns": "skip"})),
        {},
    ),
    (
        "convert-raises-deletes",
        lambda f: f.update("Service", svc("a", "10.0.0.1", labels={"dns": "explode"})),
        {},
    ),
]


@pytest.mark.parametrize(("action", "want"), [s[1:] for s in STEPS], ids=[s[0] for s in STEPS])
def test_watch_events_reach_sink(
    fake: FakeAPI,
    harness: Harness,
    action: Callable[[FakeAPI], object],
    want: dict[str, str],
) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    informer, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    action(fake)
    expected = {("default", k): v for k, v in want.items()}
    wait_until(lambda: sink.snapshot("Service") == expected)
    wait_until(lambda: informer.resource_version == fake.resource_version)
    assert sink.methods().count("replace") == 1


def test_list_leaves_out_what_convert_rejects(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Pod", make_pod("default", "running", "10.1.0.1"))
    fake.add("Pod", make_pod("default", "done", "10.1.0.2", phase="Succeeded"))
    fake.add("Service", svc("ok", "10.0.0.1"))
    fake.add("Service", svc("bad", "10.0.0.2", labels={"dns": "explode"}))
    _, pods = harness.synced(resource=PODS)
    services_informer, services = harness.synced()
    assert pods.snapshot("Pod") == {("default", "running"): "10.1.0.1"}
    assert services.snapshot("Service") == {("default", "ok"): "10.0.0.1"}
    assert services_informer.bad_objects == 1


def test_cluster_scoped_keys(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Namespace", make_namespace("default"))
    _, sink = harness.synced(resource=NAMESPACES)
    fake.add("Namespace", make_namespace("prod"))
    wait_until(lambda: sink.snapshot("Namespace") == {("", "default"): "ns", ("", "prod"): "ns"})


def test_paged_list(fake: FakeAPI, harness: Harness) -> None:
    for i in range(5):
        fake.add("Service", svc(f"s{i}", f"10.0.0.{i}"))
    _, sink = harness.synced(page_size=2)
    assert len(sink.snapshot("Service")) == 5
    pages = fake.lists("Service")
    assert [("continue" in r.params) for r in pages] == [False, True, True]
    assert all(r.params["limit"] == "2" for r in pages)
    assert sink.methods().count("replace") == 1


def test_expired_continue_token_restarts_the_list(fake: FakeAPI, harness: Harness) -> None:
    for i in range(4):
        fake.add("Service", svc(f"s{i}", f"10.0.0.{i}"))
    fake.fail(410, watch=False, when=lambda p: "continue" in p)
    _, sink = harness.synced(page_size=2)
    assert len(sink.snapshot("Service")) == 4
    assert [("continue" in r.params) for r in fake.lists()] == [False, True, False, True]
    assert sink.methods().count("replace") == 1


# -- resume -------------------------------------------------------------------------------------


def test_resume_after_server_closes_stream(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    informer, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    fake.add("Service", svc("b", "10.0.0.2"))
    wait_until(lambda: ("default", "b") in sink.snapshot("Service"))
    seen = fake.resource_version
    fake.close_watches()
    second = wait_until(lambda: fake.watches("Service")[1:])[0]
    assert second.params["resourceVersion"] == seen
    fake.add("Service", svc("c", "10.0.0.3"))
    wait_until(lambda: ("default", "c") in sink.snapshot("Service"))
    assert len(fake.lists("Service")) == 1  # resumed, not relisted


@pytest.mark.parametrize("how", ["on-demand", "periodic"])
def test_resume_from_bookmark_resource_version(how: str) -> None:
    """The watch of Services never sees the Namespace change; only the BOOKMARK tells it the
    newer resourceVersion, and the next watch must start from there."""
    with FakeAPI(bookmark_interval=0.05 if how == "periodic" else None) as fake:
        harness = Harness(fake)
        try:
            fake.add("Service", svc("a", "10.0.0.1"))
            informer, _ = harness.synced()
            wait_until(lambda: fake.watch_count == 1)
            fake.add("Namespace", make_namespace("elsewhere"))
            bookmark_rv = fake.resource_version
            if how == "on-demand":
                fake.bookmark()
            wait_until(lambda: informer.resource_version == bookmark_rv)
            fake.close_watches()
            second = wait_until(lambda: fake.watches("Service")[1:])[0]
            assert second.params["resourceVersion"] == bookmark_rv
        finally:
            harness.stop_all()


def test_resume_after_server_side_timeout(fake: FakeAPI, harness: Harness) -> None:
    informer, sink = harness.synced(watch_timeout=1.0, watch_jitter=0.0)
    first = wait_until(lambda: fake.watches("Service"))[0]
    assert first.params["timeoutSeconds"] == "1"
    wait_until(lambda: len(fake.watches("Service")) >= 2, timeout=5)
    fake.add("Service", svc("late", "10.0.0.7"))
    wait_until(lambda: ("default", "late") in sink.snapshot("Service"))
    assert len(fake.lists("Service")) == 1


# -- 410 Gone -----------------------------------------------------------------------------------


def _expire_by_error_event(fake: FakeAPI) -> None:
    """The informer is cut off, changes happen and the history is compacted meanwhile: its
    resumed watch gets an ERROR event with code 410."""
    fake.stop()
    fake.delete("Service", "default", "b")
    fake.add("Service", svc("c", "10.0.0.3"))
    fake.compact()
    fake.start()


def _expire_by_http_410(fake: FakeAPI) -> None:
    """Cut off while changes happen; when it comes back, its watch gets an HTTP 410."""
    fake.stop()
    fake.delete("Service", "default", "b")
    fake.add("Service", svc("c", "10.0.0.3"))
    fake.fail(410, watch=True)
    fake.start()


@pytest.mark.parametrize(
    "expire", [_expire_by_error_event, _expire_by_http_410], ids=["error-event", "http-410"]
)
def test_gone_relists_and_replaces(
    fake: FakeAPI, harness: Harness, expire: Callable[[FakeAPI], None]
) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.add("Service", svc("b", "10.0.0.2"))
    _, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    before = len(fake.watches("Service"))
    expire(fake)
    wait_until(lambda: len(fake.lists("Service")) == 2)
    want = {("default", "a"): "10.0.0.1", ("default", "c"): "10.0.0.3"}
    wait_until(lambda: sink.snapshot("Service") == want)
    replaces = [c for c in sink.calls if c[0] == "replace"]
    assert len(replaces) == 2 and replaces[-1][2] == want  # the store deletes b by diffing
    assert "delete" not in sink.methods()
    assert sink.synced_kinds == ["Service"]
    relist_rv = fake.resource_version
    last = wait_until(
        lambda: [
            w for w in fake.watches("Service")[before:] if w.params["resourceVersion"] == relist_rv
        ]
    )
    assert last


# -- faults -------------------------------------------------------------------------------------

FAULTS = [
    ("500", {"status": 500}),
    ("503", {"status": 503}),
    ("garbage", {"garbage": True}),
]


@pytest.mark.parametrize("fault", [f[1] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_list_faults_back_off_then_sync(
    fake: FakeAPI, harness: Harness, fault: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.fail(**fault, watch=False, count=2)
    with caplog.at_level(logging.WARNING, logger="plugin/kubernetes"):
        informer, sink = harness.start()
        assert informer.wait_synced(5)
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2
    for r in retries:  # CoreDNS logs failed lists as [ERROR] plugin/kubernetes: Failed to watch
        assert r.levelno == logging.ERROR
        assert r.getMessage().startswith("Failed to watch: list /api/v1/services: ")
    assert sink.snapshot("Service") == {("default", "a"): "10.0.0.1"}
    assert len(fake.lists("Service")) == 3
    assert sink.methods().count("replace") == 1
    assert informer.last_error is None


@pytest.mark.parametrize("fault", [f[1] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_watch_faults_back_off_and_keep_data(
    fake: FakeAPI, harness: Harness, fault: dict[str, Any]
) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    informer, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    rv = informer.resource_version
    fake.fail(**fault, watch=True, count=3)
    fake.close_watches()
    wait_until(lambda: len(fake.watches("Service")) >= 5)  # 1 + 3 failed + 1 good
    assert informer.last_error is not None
    assert {w.params["resourceVersion"] for w in fake.watches("Service")} == {rv}
    fake.add("Service", svc("b", "10.0.0.2"))
    wait_until(lambda: ("default", "b") in sink.snapshot("Service"))
    assert sink.snapshot("Service")[("default", "a")] == "10.0.0.1"
    assert sink.methods() == ["replace", "synced", "upsert"]
    assert len(fake.lists("Service")) == 1
    assert informer.last_error is None


def test_malformed_watch_events_are_skipped(fake: FakeAPI, harness: Harness) -> None:
    """Valid JSON that is not an event, an object without a name: skipped, the stream goes on."""
    informer, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    nameless = {"type": "ADDED", "object": {"metadata": {"namespace": "x"}}}
    lines = [b"[1, 2]", b'{"type": "ADDED", "object": "nope"}', json.dumps(nameless).encode()]
    fake.fail(watch=True, lines=lines)
    fake.close_watches()
    wait_until(lambda: fake.watch_count == 1 and len(fake.watches()) == 2)
    fake.add("Service", svc("a", "10.0.0.1"))
    wait_until(lambda: sink.snapshot("Service") == {("default", "a"): "10.0.0.1"})
    assert informer.bad_objects == 3
    assert len(fake.watches()) == 2 and informer.last_error is None


def test_api_server_down_then_back(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.add("Service", svc("b", "10.0.0.2"))
    informer, sink = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    errors_before = sample(
        "coredns_kubernetes_rest_client_requests_total",
        code="<error>",
        method="GET",
        host=fake.host,
    )
    fake.stop()
    wait_until(lambda: informer.last_error and "watch" in informer.last_error)
    wait_until(
        lambda: (
            sample(
                "coredns_kubernetes_rest_client_requests_total",
                code="<error>",
                method="GET",
                host=fake.host,
            )
            >= errors_before + 2
        )
    )
    assert len(sink.snapshot("Service")) == 2  # data kept while the API is away
    fake.delete("Service", "default", "a")
    fake.add("Service", svc("c", "10.0.0.3"))
    fake.start()
    want = {("default", "b"): "10.0.0.2", ("default", "c"): "10.0.0.3"}
    wait_until(lambda: sink.snapshot("Service") == want)
    assert len(fake.lists("Service")) == 1  # the history was still there: resumed, no relist


def test_unreachable_at_start_then_syncs(harness: Harness) -> None:
    with FakeAPI() as fake:
        fake.stop()
        informer, sink = harness.start(api=rest_api(fake))
        wait_until(lambda: informer.last_error and "list" in informer.last_error)
        assert not informer.has_synced and sink.calls == []
        fake.add("Service", svc("a", "10.0.0.1"))
        fake.start()
        assert informer.wait_synced(5)
        assert sink.snapshot("Service") == {("default", "a"): "10.0.0.1"}
        informer.stop()
        assert informer.join(2)


def test_silent_watch_is_detected_by_the_read_timeout(fake: FakeAPI, harness: Harness) -> None:
    informer, sink = harness.synced(read_timeout=0.3)
    wait_until(lambda: fake.watch_count == 1)
    fake.fail(hang=True, watch=True)
    fake.close_watches()  # the next watch gets its headers, then silence
    wait_until(lambda: len(fake.watches("Service")) >= 3, timeout=3)
    fake.add("Service", svc("a", "10.0.0.1"))
    wait_until(lambda: ("default", "a") in sink.snapshot("Service"))
    assert len(fake.lists("Service")) == 1


def test_hung_list_is_detected_by_the_read_timeout(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.fail(hang=True, watch=False)
    informer, sink = harness.start(read_timeout=0.3)
    assert informer.wait_synced(3)
    assert len(fake.lists("Service")) == 2
    assert sink.snapshot("Service") == {("default", "a"): "10.0.0.1"}


def test_sink_errors_do_not_stop_the_informer(fake: FakeAPI, harness: Harness) -> None:
    class Flaky(RecordingSink):
        def upsert(self, kind: str, key: tuple[str, str], item: object) -> None:
            if key[1] == "boom":
                raise RuntimeError("sink bug")
            super().upsert(kind, key, item)

    _, sink = harness.synced(sink=Flaky())
    fake.add("Service", svc("boom", "10.0.0.1"))
    fake.add("Service", svc("fine", "10.0.0.2"))
    wait_until(lambda: sink.snapshot("Service") == {("default", "fine"): "10.0.0.2"})


# -- selectors ----------------------------------------------------------------------------------


def test_label_and_field_selectors_are_sent_and_honoured(fake: FakeAPI, harness: Harness) -> None:
    fake.add("Service", svc("web", "10.0.0.1", labels={"app": "web"}))
    fake.add("Service", svc("db", "10.0.0.2", labels={"app": "db"}))
    fake.add("Service", svc("sys", "10.0.0.3", ns="kube-system", labels={"app": "web"}))
    _, sink = harness.synced(
        label_selector="app in (web,api)", field_selector="metadata.namespace!=kube-system"
    )
    assert sink.snapshot("Service") == {("default", "web"): "10.0.0.1"}
    watch = wait_until(lambda: fake.watches("Service"))[0]
    for request in (fake.lists("Service")[0], watch):
        assert request.params["labelSelector"] == "app in (web,api)"
        assert request.params["fieldSelector"] == "metadata.namespace!=kube-system"
    fake.update("Service", svc("db", "10.0.0.2", labels={"app": "api"}))  # now selected: ADDED
    fake.update("Service", svc("web", "10.0.0.1", labels={"app": "old"}))  # now not: DELETED
    wait_until(lambda: sink.snapshot("Service") == {("default", "db"): "10.0.0.2"})


def test_empty_selectors_are_not_sent(fake: FakeAPI, harness: Harness) -> None:
    harness.synced()
    watch = wait_until(lambda: fake.watches("Service"))[0]
    for request in (fake.lists("Service")[0], watch):
        assert "labelSelector" not in request.params and "fieldSelector" not in request.params


# -- stop ---------------------------------------------------------------------------------------


def _watching(fake: FakeAPI, harness: Harness) -> Informer:
    informer, _ = harness.synced()
    wait_until(lambda: fake.watch_count == 1)
    return informer


def _backing_off(fake: FakeAPI, harness: Harness) -> Informer:
    fake.fail(500, count=100)
    informer, _ = harness.start(backoff_min=30.0, backoff_max=30.0)
    wait_until(lambda: informer.last_error)
    return informer


def _silent_watch(fake: FakeAPI, harness: Harness) -> Informer:
    informer = _watching(fake, harness)
    fake.fail(hang=True, watch=True)
    fake.close_watches()
    wait_until(lambda: len(fake.watches("Service")) == 2 and fake.watch_count == 1)
    return informer


def _rate_limited(fake: FakeAPI, harness: Harness) -> Informer:
    class Limiter(TokenBucket):
        entered = threading.Event()

        def wait(self, stop: threading.Event | None = None) -> float:
            self.entered.set()
            return super().wait(stop)

    api = rest_api(fake)
    api.limiter = limiter = Limiter(0.01, 1)
    limiter.reserve()  # the only token is gone: the next request waits 100s
    informer, _ = harness.start(api=api)
    assert limiter.entered.wait(2)
    return informer


STOPS = [
    ("watching", _watching),
    ("backing-off", _backing_off),
    ("silent-watch", _silent_watch),
    ("rate-limited", _rate_limited),
]


@pytest.mark.parametrize("state", [s[1] for s in STOPS], ids=[s[0] for s in STOPS])
def test_stop_ends_the_thread_promptly(
    fake: FakeAPI, harness: Harness, state: Callable[[FakeAPI, Harness], Informer]
) -> None:
    informer = state(fake, harness)
    started = time.monotonic()
    informer.stop()
    assert informer.join(2)
    assert time.monotonic() - started < 1.0


def test_stop_before_start_and_twice() -> None:
    with FakeAPI() as fake:
        informer = Informer(rest_api(fake), SERVICES, RecordingSink(), **FAST)
        informer.stop()
        assert informer.join(0.1)
        informer.start()
        assert informer.join(2)  # stopped before it began: ends at once
        informer.stop()
        assert fake.requests == []


# -- client-side limits -------------------------------------------------------------------------


TOKEN_BUCKET = [
    # (id, qps, burst, request times, expected waits)
    ("unlimited", 0.0, 0, [0, 0, 0, 0], [0, 0, 0, 0]),
    ("burst-then-rate", 10.0, 2, [0, 0, 0, 0], [0, 0, 0.1, 0.2]),
    ("refills-over-time", 10.0, 2, [0, 0, 1.0, 1.0, 1.0], [0, 0, 0, 0, 0.1]),
    ("burst-defaults-to-qps", 3.0, 0, [0, 0, 0, 0], [0, 0, 0, 1 / 3]),
    ("burst-at-least-one", 0.5, 0, [0, 0], [0, 2.0]),
]


@pytest.mark.parametrize(
    ("qps", "burst", "times", "waits"),
    [t[1:] for t in TOKEN_BUCKET],
    ids=[t[0] for t in TOKEN_BUCKET],
)
def test_token_bucket(qps: float, burst: int, times: list[float], waits: list[float]) -> None:
    now = [0.0]
    bucket = TokenBucket(qps, burst, clock=lambda: now[0])
    got = []
    for t in times:
        now[0] = t
        got.append(bucket.reserve())
    assert got == pytest.approx(waits)


def test_qps_limits_real_requests(fake: FakeAPI) -> None:
    api = rest_api(fake, qps=20.0, burst=2)
    before = sample(
        "coredns_kubernetes_rest_client_rate_limiter_duration_seconds_sum",
        verb="GET",
        host=fake.host,
    )
    started = time.monotonic()
    for _ in range(5):
        api.get("/api/v1/services", {}, timeout=(1, 1)).read()
    assert time.monotonic() - started >= 0.14  # 2 at once, then 3 at 20/s
    waited = (
        sample(
            "coredns_kubernetes_rest_client_rate_limiter_duration_seconds_sum",
            verb="GET",
            host=fake.host,
        )
        - before
    )
    assert waited == pytest.approx(0.15, abs=0.03)


@pytest.mark.parametrize(("max_inflight", "peak"), [(1, 1), (2, 2), (0, 3)])
def test_max_inflight_caps_concurrent_lists(
    fake: FakeAPI, harness: Harness, max_inflight: int, peak: int
) -> None:
    fake.fail(delay=0.3, watch=False, count=3)
    api = rest_api(fake, max_inflight=max_inflight)
    informers = [harness.start(resource=r, api=api)[0] for r in (SERVICES, PODS, NAMESPACES)]
    for informer in informers:
        assert informer.wait_synced(5)
    # watches do not keep their slot: all three are watching at once
    wait_until(lambda: fake.watch_count == 3)
    assert fake.peak_inflight == peak


# -- metrics ------------------------------------------------------------------------------------


def test_rest_metrics(fake: FakeAPI, harness: Harness) -> None:
    names = {
        "500": ("coredns_kubernetes_rest_client_requests_total", {"code": "500", "method": "GET"}),
        "200": ("coredns_kubernetes_rest_client_requests_total", {"code": "200", "method": "GET"}),
        "duration": (
            "coredns_kubernetes_rest_client_request_duration_seconds_count",
            {"verb": "GET"},
        ),
        "limiter": (
            "coredns_kubernetes_rest_client_rate_limiter_duration_seconds_count",
            {"verb": "GET"},
        ),
    }

    def values() -> dict[str, float]:
        return {k: sample(n, host=fake.host, **labels) for k, (n, labels) in names.items()}

    before = values()
    fake.fail(500, watch=False)
    harness.synced()
    want = {"500": 1, "200": 2, "duration": 3, "limiter": 3}  # failed list, list, watch
    wait_until(lambda: {k: v - before[k] for k, v in values().items()} == want)


# -- make_api -----------------------------------------------------------------------------------


def _kubeconfig(path: Path, contexts: dict[str, tuple[str, str]], current: str) -> str:
    """A kubeconfig with one cluster+user per context: name -> (server, token)."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": n, "cluster": {"server": s}} for n, (s, _) in contexts.items()],
        "users": [{"name": n, "user": {"token": t}} for n, (_, t) in contexts.items()],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in contexts],
    }
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize(("context", "token"), [(None, "tok-a"), ("b", "tok-b")])
def test_kubeconfig_auth_and_context(
    fake: FakeAPI, tmp_path: Path, context: str | None, token: str
) -> None:
    cfg = _kubeconfig(
        tmp_path / "config",
        {"a": (fake.url, "tok-a"), "b": (fake.url + "/", "tok-b")},
        current="a",
    )
    api = make_api(
        kubeconfig=cfg, context=context, endpoint=None, tls=None, qps=0, burst=0, max_inflight=0
    )
    api.get("/api/v1/namespaces", {}, timeout=(1, 1)).read()
    assert fake.requests[-1].headers["Authorization"] == f"Bearer {token}"
    assert api.host == fake.host


MAKE_API_ERRORS = [
    # (id, kwargs, message start)
    ("no-in-cluster-config", {}, "no in-cluster Kubernetes configuration"),
    ("missing-kubeconfig", {"kubeconfig": "/nonexistent/kubeconfig"}, "kubeconfig file not found"),
    ("unknown-context", {"kubeconfig": "KUBECONFIG", "context": "nope"}, "invalid kubeconfig"),
    (
        "missing-tls-file",
        {"endpoint": "https://10.0.0.1:6443", "tls": ("/no/cert", "/no/key", "/no/ca")},
        "tls cert file not found: /no/cert",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), [e[1:] for e in MAKE_API_ERRORS], ids=[e[0] for e in MAKE_API_ERRORS]
)
def test_make_api_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], message: str
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    args: dict[str, Any] = {"kubeconfig": None, "context": None, "endpoint": None, "tls": None}
    args.update(kwargs)
    if args["kubeconfig"] == "KUBECONFIG":
        args["kubeconfig"] = _kubeconfig(tmp_path / "c", {"a": ("http://x", "t")}, "a")
    with pytest.raises(ValueError) as info:
        make_api(**args, qps=0, burst=0, max_inflight=0)
    assert str(info.value).startswith(message)


def test_api_error_carries_the_status(fake: FakeAPI) -> None:
    from dnsd.plugins.kubernetes.client import ApiError

    fake.fail(410, watch=False)
    with pytest.raises(ApiError) as info:
        rest_api(fake).get("/api/v1/services", {}, timeout=(1, 1))
    assert (info.value.status, info.value.code) == (410, 410)
    assert info.value.message == "injected HTTP 410"


def test_backoff_grows_with_jitter_and_resets() -> None:
    rand = iter([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    backoff = Backoff(0.2, 1.0, rand=lambda: next(rand))
    assert [backoff.next() for _ in range(5)] == pytest.approx([0.2, 0.4, 0.8, 0.5, 1.0])
    backoff.reset()
    assert backoff.next() == pytest.approx(0.2)


def test_many_informers_share_one_api(fake: FakeAPI, harness: Harness) -> None:
    api = rest_api(fake)
    fake.add("Service", svc("a", "10.0.0.1"))
    fake.add("Pod", make_pod("default", "p", "10.1.0.1"))
    sink = RecordingSink()
    for resource in (SERVICES, PODS, NAMESPACES):
        harness.synced(resource=resource, api=api, sink=sink)
    assert sink.synced_kinds == ["Service", "Pod", "Namespace"]
    assert sink.snapshot("Service") == {("default", "a"): "10.0.0.1"}
    assert sink.snapshot("Pod") == {("default", "p"): "10.1.0.1"}
    wait_until(lambda: fake.watch_count == 3)


# -- with the real objects.Resource converters and the Store -----------------------------------


def test_real_resources(fake: FakeAPI, harness: Harness) -> None:
    from dnsd.plugins.kubernetes import objects

    fake.add("Namespace", make_namespace("default"))
    fake.add("Service", svc("web", "10.0.0.1"))
    fake.add("EndpointSlice", make_slice("default", "web", "web-1", endpoints=["10.1.0.1"]))
    fake.add("Pod", make_pod("default", "done", "10.1.0.9", phase="Succeeded"))
    sink = RecordingSink()
    resources = (objects.NAMESPACES, objects.SERVICES, objects.ENDPOINTSLICES, objects.PODS)
    for resource in resources:
        harness.synced(resource=resource, sink=sink)
    assert isinstance(sink.snapshot("Namespace")[("", "default")], objects.Namespace)
    assert isinstance(sink.snapshot("Service")[("default", "web")], objects.Service)
    assert isinstance(sink.snapshot("EndpointSlice")[("default", "web-1")], objects.EndpointSlice)
    assert sink.snapshot("Pod") == {}  # a finished pod converts to None


async def test_feeds_the_store_on_its_loop(fake: FakeAPI) -> None:
    from dnsd.plugins.kubernetes import objects
    from dnsd.plugins.kubernetes.store import Store

    store = Store()
    sink = store.threadsafe(asyncio.get_running_loop())
    fake.add("Service", svc("web", "10.0.0.1"))
    informer = Informer(rest_api(fake), objects.SERVICES, sink, **FAST)
    informer.start()
    try:
        await wait_for(lambda: store.has_synced(["Service"]))
        assert store.service("default", "web") is not None
        fake.delete("Service", "default", "web")
        await wait_for(lambda: store.service("default", "web") is None)
    finally:
        informer.stop()
        assert informer.join(2)
