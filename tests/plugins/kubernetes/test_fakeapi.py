"""The fake API server itself, checked through the official ``kubernetes`` client (its generated
API classes and models, and its ``Watch``) and through our plain-HTTP :class:`Api`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch

from dnsd.plugins.kubernetes.client import Api, ApiError, make_api
from tests.plugins.kubernetes.fakeapi import (
    FakeAPI,
    endpoint,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
    wait_until,
)


@pytest.fixture
def fake() -> Iterator[FakeAPI]:
    with FakeAPI() as api:
        yield api


@pytest.fixture
def short() -> Iterator[FakeAPI]:
    """Ends a watch without timeoutSeconds after 0.3s (the API server's own limit), so tests
    that read a stream to its end are quick."""
    with FakeAPI(watch_timeout=0.3) as api:
        yield api


@pytest.fixture
def official(fake: FakeAPI) -> Iterator[k8s.ApiClient]:
    with k8s.ApiClient(k8s.Configuration(host=fake.url)) as api_client:
        yield api_client


@pytest.fixture
def raw(fake: FakeAPI) -> Iterator[Api]:
    api = make_api(
        kubeconfig=None, context=None, endpoint=fake.url, tls=None, qps=0, burst=0, max_inflight=0
    )
    yield api
    api.close()


_APIS: list[Api] = []


def quick_api(fake: FakeAPI) -> Api:
    api = make_api(
        kubeconfig=None, context=None, endpoint=fake.url, tls=None, qps=0, burst=0, max_inflight=0
    )
    _APIS.append(api)
    return api


@pytest.fixture(autouse=True)
def close_apis() -> Iterator[None]:
    yield
    while _APIS:
        _APIS.pop().close()


def get_json(api: Api, path: str, **params: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(api.get(path, params, timeout=(1, 2)).read())
    return data


def watch_events(
    api: Api, path: str, *, until: int | None = None, read_timeout: float = 2.0, **params: str
) -> list[dict[str, Any]]:
    """Events of one watch, until the server ends it or ``until`` events have come."""
    response = api.get(path, {"watch": "true", **params}, timeout=(1, read_timeout), stream=True)
    events: list[dict[str, Any]] = []
    try:
        for line in response.lines():
            events.append(json.loads(line))
            if until is not None and len(events) >= until:
                break
    finally:
        response.close()
    return events


def names(doc: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in doc["items"]]


def populate(fake: FakeAPI) -> None:
    fake.add("Namespace", make_namespace("default"))
    fake.add("Namespace", make_namespace("prod", {"env": "prod"}))
    fake.add(
        "Service", make_service("default", "web", cluster_ip="10.0.0.1", labels={"app": "web"})
    )
    fake.add("Service", make_service("prod", "db", cluster_ip="None", labels={"app": "db"}))
    fake.add("Service", make_service("prod", "ext", external_name="example.org"))
    fake.add(
        "EndpointSlice",
        make_slice(
            "default",
            "web",
            "web-1",
            endpoints=[endpoint("10.1.0.1", hostname="a", pod="web-a", zone="z1"), "10.1.0.2"],
        ),
    )
    fake.add("Pod", make_pod("default", "web-a", "10.1.0.1"))
    fake.add("Pod", make_pod("prod", "job", "10.1.0.3", phase="Succeeded"))


# -- the official client's API classes and models ------------------------------------------------

LISTS = [
    # (id, api class, method, args, expected names)
    ("services", "CoreV1Api", "list_service_for_all_namespaces", (), ["web", "db", "ext"]),
    ("services-in-prod", "CoreV1Api", "list_namespaced_service", ("prod",), ["db", "ext"]),
    ("namespaces", "CoreV1Api", "list_namespace", (), ["default", "prod"]),
    ("pods", "CoreV1Api", "list_pod_for_all_namespaces", (), ["web-a", "job"]),
    ("pods-in-default", "CoreV1Api", "list_namespaced_pod", ("default",), ["web-a"]),
    ("slices", "DiscoveryV1Api", "list_endpoint_slice_for_all_namespaces", (), ["web-1"]),
    ("slices-in-prod", "DiscoveryV1Api", "list_namespaced_endpoint_slice", ("prod",), []),
]


@pytest.mark.parametrize(
    ("api_class", "method", "args", "want"), [x[1:] for x in LISTS], ids=[x[0] for x in LISTS]
)
def test_official_client_lists_models(
    fake: FakeAPI,
    official: k8s.ApiClient,
    api_class: str,
    method: str,
    args: tuple[str, ...],
    want: list[str],
) -> None:
    populate(fake)
    result = getattr(getattr(k8s, api_class)(official), method)(*args)
    assert sorted(i.metadata.name for i in result.items) == sorted(want)
    assert result.metadata.resource_version == fake.resource_version
    for item in result.items:
        assert item.metadata.uid and int(item.metadata.resource_version) > 1


def test_built_objects_deserialise(fake: FakeAPI, official: k8s.ApiClient) -> None:
    populate(fake)
    core = k8s.CoreV1Api(official)
    services = {s.metadata.name: s for s in core.list_service_for_all_namespaces().items}
    assert services["web"].spec.cluster_ip == "10.0.0.1"
    assert services["web"].spec.ports[0].port == 80
    assert services["db"].spec.cluster_ip == "None"
    assert services["ext"].spec.type == "ExternalName"
    assert services["ext"].spec.external_name == "example.org"
    (eps,) = k8s.DiscoveryV1Api(official).list_endpoint_slice_for_all_namespaces().items
    assert eps.metadata.labels["kubernetes.io/service-name"] == "web"
    assert [e.addresses for e in eps.endpoints] == [["10.1.0.1"], ["10.1.0.2"]]
    assert eps.endpoints[0].target_ref.name == "web-a"
    assert eps.endpoints[0].conditions.ready is True
    pods = {p.metadata.name: p for p in core.list_pod_for_all_namespaces().items}
    assert pods["web-a"].status.pod_ip == "10.1.0.1"
    assert pods["job"].status.phase == "Succeeded"


def test_official_watch_resumes_with_bookmarks() -> None:
    """kubernetes.watch.Watch, as measured in ecosystem §2: events, then BOOKMARKs move its
    resource_version, and the server closes the stream at timeoutSeconds."""
    with FakeAPI(bookmark_interval=0.1) as fake:
        fake.add("Service", make_service("default", "a", cluster_ip="10.0.0.1"))
        with k8s.ApiClient(k8s.Configuration(host=fake.url)) as api_client:
            core = k8s.CoreV1Api(api_client)
            start_rv = core.list_service_for_all_namespaces().metadata.resource_version
            fake.add("Namespace", make_namespace("bump"))
            w = k8s_watch.Watch()
            seen = []
            for event in w.stream(
                core.list_service_for_all_namespaces,
                resource_version=start_rv,
                allow_watch_bookmarks=True,
                timeout_seconds=1,
                _request_timeout=(1, 3),
            ):
                seen.append(event["type"])
            assert "BOOKMARK" in seen
            assert w.resource_version == fake.resource_version


# -- list semantics -----------------------------------------------------------------------------


def test_unknown_path_is_404(raw: Api) -> None:
    with pytest.raises(ApiError) as info:
        raw.get("/api/v1/configmaps", {}, timeout=(1, 1))
    assert info.value.status == 404


def test_paging_is_a_consistent_snapshot(fake: FakeAPI, raw: Api) -> None:
    for i in range(5):
        fake.add("Service", make_service("default", f"s{i}"))
    first = get_json(raw, "/api/v1/services", limit="2")
    assert names(first) == ["s0", "s1"] and first["metadata"]["remainingItemCount"] == 3
    rv = first["metadata"]["resourceVersion"]
    fake.delete("Service", "default", "s2")  # after the snapshot: the next pages still have it
    fake.add("Service", make_service("default", "s9"))
    token = first["metadata"]["continue"]
    second = get_json(raw, "/api/v1/services", limit="2", **{"continue": token})
    third = get_json(
        raw, "/api/v1/services", limit="2", **{"continue": second["metadata"]["continue"]}
    )
    assert names(second) + names(third) == ["s2", "s3", "s4"]
    assert second["metadata"]["resourceVersion"] == rv
    assert "continue" not in third["metadata"]


def test_continue_errors(fake: FakeAPI, raw: Api) -> None:
    for i in range(3):
        fake.add("Service", make_service("default", f"s{i}"))
    token = get_json(raw, "/api/v1/services", limit="1")["metadata"]["continue"]
    with pytest.raises(ApiError) as info:
        raw.get("/api/v1/services", {"continue": token, "resourceVersion": "1"}, timeout=(1, 1))
    assert info.value.status == 400
    fake.add("Service", make_service("default", "later"))
    fake.compact()
    with pytest.raises(ApiError) as info:
        raw.get("/api/v1/services", {"continue": token}, timeout=(1, 1))
    assert (info.value.status, info.value.code) == (410, 410)


LABELS = [
    # (selector, services selected)
    ("app=web", ["a"]),
    ("app==web", ["a"]),
    ("app!=web", ["b", "c", "d"]),
    ("app in (web, db)", ["a", "b"]),
    ("app notin (web,db)", ["c", "d"]),
    ("tier", ["a", "c"]),
    ("!tier", ["b", "d"]),
    ("app=web,tier=front", ["a"]),
    ("example.com/team=x", ["c"]),
    ("tier,app notin (web)", ["c"]),
]


@pytest.mark.parametrize(("selector", "want"), LABELS, ids=[x[0] for x in LABELS])
def test_label_selectors(fake: FakeAPI, raw: Api, selector: str, want: list[str]) -> None:
    fake.add("Service", make_service("ns", "a", labels={"app": "web", "tier": "front"}))
    fake.add("Service", make_service("ns", "b", labels={"app": "db"}))
    fake.add(
        "Service", make_service("ns", "c", labels={"app": "x", "tier": "", "example.com/team": "x"})
    )
    fake.add("Service", make_service("ns", "d"))
    assert names(get_json(raw, "/api/v1/services", labelSelector=selector)) == want


FIELDS = [
    # (kind path, selector, names)
    ("/api/v1/pods", "metadata.name=p1", ["p1"]),
    ("/api/v1/pods", "metadata.name==p1", ["p1"]),
    ("/api/v1/pods", "metadata.namespace!=kube-system", ["p1", "p3"]),
    ("/api/v1/pods", "status.phase=Running", ["p1", "p2"]),
    ("/api/v1/pods", "status.phase!=Running,metadata.namespace=prod", ["p3"]),
    ("/api/v1/pods", "spec.nodeName=node-1", ["p1", "p2", "p3"]),
    ("/api/v1/namespaces", "metadata.name=prod", ["prod"]),
]


@pytest.mark.parametrize(
    ("path", "selector", "want"), FIELDS, ids=[f"{x[0].split('/')[-1]}:{x[1]}" for x in FIELDS]
)
def test_field_selectors(
    fake: FakeAPI, raw: Api, path: str, selector: str, want: list[str]
) -> None:
    fake.add("Pod", make_pod("default", "p1", "10.1.0.1"))
    fake.add("Pod", make_pod("kube-system", "p2", "10.1.0.2"))
    fake.add("Pod", make_pod("prod", "p3", "10.1.0.3", phase="Failed"))
    fake.add("Namespace", make_namespace("prod"))
    assert sorted(names(get_json(raw, path, fieldSelector=selector))) == want


BAD_REQUESTS = [
    # (id, path, params)
    ("label-syntax", "/api/v1/services", {"labelSelector": "app in web"}),
    ("label-empty-term", "/api/v1/services", {"labelSelector": "a=b,,c"}),
    ("field-unsupported", "/api/v1/services", {"fieldSelector": "status.phase=Running"}),
    ("field-syntax", "/api/v1/pods", {"fieldSelector": "metadata.name"}),
    ("watch-not-bool", "/api/v1/services", {"watch": "yes"}),
    ("bad-limit", "/api/v1/services", {"limit": "x"}),
    ("bad-resource-version", "/api/v1/services", {"watch": "1", "resourceVersion": "x"}),
]


@pytest.mark.parametrize(
    ("path", "params"), [x[1:] for x in BAD_REQUESTS], ids=[x[0] for x in BAD_REQUESTS]
)
def test_bad_requests_are_400(raw: Api, path: str, params: dict[str, str]) -> None:
    with pytest.raises(ApiError) as info:
        raw.get(path, params, timeout=(1, 1))
    assert info.value.status == 400


# -- watch semantics ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "t", "T", "true", "TRUE", "True"])
def test_watch_parses_like_go_parsebool(fake: FakeAPI, raw: Api, value: str) -> None:
    fake.add("Service", make_service("default", "a"))
    response = raw.get(
        "/api/v1/services", {"watch": value, "resourceVersion": "0"}, timeout=(1, 2), stream=True
    )
    try:
        first = json.loads(next(iter(response.lines())))
    finally:
        response.close()
    assert first["type"] == "ADDED"
    assert fake.requests[-1].watch


@pytest.mark.parametrize("value", ["0", "false", "F"])
def test_watch_false_is_a_list(fake: FakeAPI, raw: Api, value: str) -> None:
    assert get_json(raw, "/api/v1/services", watch=value)["kind"] == "ServiceList"


@pytest.mark.parametrize("rv", ["", "0"])
def test_watch_without_resource_version_replays_state(short: FakeAPI, rv: str) -> None:
    short.add("Service", make_service("default", "a"))
    short.add("Service", make_service("default", "b"))
    short.delete("Service", "default", "a")
    events = watch_events(quick_api(short), "/api/v1/services", resourceVersion=rv)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]


def test_watch_from_resource_version_sends_later_changes(short: FakeAPI) -> None:
    short.add("Service", make_service("default", "a"))
    rv = short.resource_version
    short.update("Service", make_service("default", "a", cluster_ip="10.0.0.9"))
    short.add("Service", make_service("default", "b"))
    short.delete("Service", "default", "a")
    short.add("Namespace", make_namespace("other-kind"))  # not a Service: not sent
    events = watch_events(quick_api(short), "/api/v1/services", resourceVersion=rv)
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert got == [("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)


def test_watch_follows_live_changes_in_a_namespace(fake: FakeAPI, raw: Api) -> None:
    rv = fake.resource_version
    response = raw.get(
        "/api/v1/namespaces/prod/services",
        {"watch": "true", "resourceVersion": rv},
        timeout=(1, 2),
        stream=True,
    )
    try:
        wait_until(lambda: fake.watch_count == 1)
        fake.add("Service", make_service("default", "elsewhere"))
        fake.add("Service", make_service("prod", "here"))
        line = next(iter(response.lines()))
    finally:
        response.close()
    assert json.loads(line)["object"]["metadata"]["name"] == "here"


def test_watch_sends_selector_edges_as_added_and_deleted(short: FakeAPI) -> None:
    short.add("Service", make_service("default", "a", labels={"app": "web"}))
    rv = short.resource_version
    short.update("Service", make_service("default", "a", labels={"app": "db"}))
    short.update("Service", make_service("default", "a", labels={"app": "web", "v": "2"}))
    short.update("Service", make_service("default", "a", labels={"app": "web", "v": "3"}))
    events = watch_events(
        quick_api(short), "/api/v1/services", resourceVersion=rv, labelSelector="app=web"
    )
    assert [e["type"] for e in events] == ["DELETED", "ADDED", "MODIFIED"]
    assert events[0]["object"]["metadata"]["labels"] == {"app": "web"}  # the last state it matched
    assert events[0]["object"]["metadata"]["resourceVersion"] == str(int(rv) + 1)


def test_timeout_seconds_ends_the_stream(fake: FakeAPI, raw: Api) -> None:
    started = time.monotonic()
    assert watch_events(raw, "/api/v1/services", resourceVersion="1", timeoutSeconds="1") == []
    assert 0.9 <= time.monotonic() - started < 2.0


@pytest.mark.parametrize(("allow", "want"), [("true", True), ("false", False), ("", False)])
def test_periodic_bookmarks_only_when_allowed(allow: str, want: bool) -> None:
    with FakeAPI(bookmark_interval=0.1) as fake:
        api = make_api(
            kubeconfig=None,
            context=None,
            endpoint=fake.url,
            tls=None,
            qps=0,
            burst=0,
            max_inflight=0,
        )
        fake.add("Pod", make_pod("default", "p", "10.1.0.1"))
        params = {"allowWatchBookmarks": allow, "resourceVersion": fake.resource_version}
        events = watch_events(api, "/api/v1/pods", timeoutSeconds="1", **params)
        api.close()
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bool(bookmarks) is want
    for b in bookmarks:
        assert b["object"] == {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "2"},
        }


def test_compacted_resource_version_gets_410_error_event(short: FakeAPI) -> None:
    short.add("Service", make_service("default", "a"))
    old = short.resource_version
    short.add("Service", make_service("default", "b"))
    short.compact()
    api = quick_api(short)
    (event,) = watch_events(api, "/api/v1/services", resourceVersion=str(int(old) - 1))
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    # the compaction point itself and later are still fine
    assert watch_events(api, "/api/v1/services", resourceVersion=short.resource_version) == []


# -- faults and lifecycle -----------------------------------------------------------------------


def test_fail_status_count_and_kind(fake: FakeAPI, raw: Api) -> None:
    fake.fail(503, count=2, kind="pods")
    for _ in range(2):
        with pytest.raises(ApiError) as info:
            raw.get("/api/v1/pods", {}, timeout=(1, 1))
        assert info.value.status == 503
        get_json(raw, "/api/v1/services")  # other kinds are not affected
    assert get_json(raw, "/api/v1/pods")["items"] == []


def test_fail_garbage(fake: FakeAPI, raw: Api) -> None:
    fake.fail(garbage=True, count=2)
    with pytest.raises(json.JSONDecodeError):
        get_json(raw, "/api/v1/services")
    response = raw.get("/api/v1/services", {"watch": "1"}, timeout=(1, 2), stream=True)
    assert list(response.lines()) == [b"{this is not json"]


def test_fail_hang_watch_is_silent_until_released(fake: FakeAPI, raw: Api) -> None:
    fake.fail(hang=True, watch=True)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        watch_events(raw, "/api/v1/services", read_timeout=0.2, resourceVersion="1")
    fake.fail(hang=True, watch=False)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        raw.get("/api/v1/services", {}, timeout=(1, 0.2))
    wait_until(lambda: fake.watch_count == 2)
    fake.close_watches()
    wait_until(lambda: fake.watch_count == 0)


def test_fail_delay_and_peak_inflight(fake: FakeAPI, raw: Api) -> None:
    fake.fail(delay=0.2, watch=False)
    started = time.monotonic()
    get_json(raw, "/api/v1/services")
    assert time.monotonic() - started >= 0.2
    assert fake.peak_inflight == 1


def test_requests_log(fake: FakeAPI, raw: Api) -> None:
    get_json(raw, "/api/v1/namespaces/prod/pods", labelSelector="a=b")
    (request,) = fake.requests
    assert (request.method, request.kind, request.namespace, request.watch) == (
        "GET",
        "Pod",
        "prod",
        False,
    )
    assert request.params == {"labelSelector": "a=b"}
    assert fake.lists("pods") == [request] and fake.watches() == []


def test_connections_are_kept_alive(short: FakeAPI) -> None:
    """Bodies read to their end give the connection back (closing such a response is a no-op)."""
    api = quick_api(short)
    get_json(api, "/api/v1/services")
    assert watch_events(api, "/api/v1/services", resourceVersion="1") == []  # server ends it
    response = api.get("/api/v1/pods", {}, timeout=(1, 1))
    response.read()
    response.close()
    get_json(api, "/api/v1/namespaces")
    assert len({r.peer_port for r in short.requests}) == 1


def test_stop_closes_the_port_and_start_reopens_it(fake: FakeAPI, raw: Api) -> None:
    fake.add("Service", make_service("default", "a"))
    port = fake.port
    fake.stop()
    with pytest.raises(urllib3.exceptions.NewConnectionError):
        raw.get("/api/v1/services", {}, timeout=(1, 1))
    fake.add("Service", make_service("default", "b"))
    fake.start()
    assert fake.port == port
    assert names(get_json(raw, "/api/v1/services")) == ["a", "b"]


def test_mutation_errors(fake: FakeAPI) -> None:
    fake.add("Service", make_service("default", "a"))
    with pytest.raises(ValueError):
        fake.add("Service", make_service("default", "a"))
    with pytest.raises(KeyError):
        fake.update("Service", make_service("default", "nope"))
    with pytest.raises(KeyError):
        fake.delete("Service", "default", "nope")
    stored = fake.apply("Service", make_service("default", "a", cluster_ip="10.0.0.2"))
    assert stored["spec"]["clusterIP"] == "10.0.0.2"
    assert fake.get("Service", "default", "a") == stored


async def test_usable_from_async_tests() -> None:
    with FakeAPI() as fake:
        fake.add("Namespace", make_namespace("default"))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{fake.url}/api/v1/namespaces") as response:
                body = await response.json()
    assert names(body) == ["default"]
