"""The Store: the sink API, its indexes, change tracking and the thread-safe adapter."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from dnsd.plugins.kubernetes.objects import (
    EndpointSlice,
    Key,
    Pod,
    Service,
    convert_endpointslice,
    convert_namespace,
    convert_pod,
    convert_service,
)
from dnsd.plugins.kubernetes.store import Store
from dnsd.testing import wait_for
from tests.plugins.kubernetes.test_objects import ep, eps, ns, pod, svc


def S(*args: Any, **kw: Any) -> Service:
    record = convert_service(svc(*args, **kw))
    assert record is not None
    return record


def E(*args: Any, **kw: Any) -> EndpointSlice:
    record = convert_endpointslice(eps(*args, **kw))
    assert record is not None
    return record


def P(*args: Any, **kw: Any) -> Pod:
    record = convert_pod(pod(*args, **kw))
    assert record is not None
    return record


class Recorder:
    def __init__(self, store: Store) -> None:
        self.calls: list[tuple[str, object | None, object | None]] = []
        store.on_change(lambda kind, old, new: self.calls.append((kind, old, new)))


def test_services_by_key_and_ip() -> None:
    store = Store()
    web = S("default", "web", ["10.96.0.10", "fd00::10"])
    store.upsert("Service", web.key, web)
    assert store.service("default", "web") is web
    assert store.services_by_ip("10.96.0.10") == (web,)
    assert store.services_by_ip("fd00::10") == (web,)
    moved = S("default", "web", "10.96.0.99")
    store.upsert("Service", web.key, moved)
    assert store.services_by_ip("10.96.0.10") == ()
    assert store.services_by_ip("fd00::10") == ()
    assert store.services_by_ip("10.96.0.99") == (moved,)
    store.delete("Service", web.key)
    assert store.service("default", "web") is None
    assert store.services_by_ip("10.96.0.99") == ()
    assert len(store._services_by_ip) == 0


def test_slices_merge_per_service_and_index_ips() -> None:
    store = Store()
    v4 = E("default", "hl", ep("10.0.0.1"), ep("10.0.0.2"), name="hl-a")
    v6 = E("default", "hl", ep("fd00::1"), name="hl-b", family="IPv6")
    other = E("default", "other", ep("10.0.0.1"), name="other-a")
    for item in (v4, v6, other):
        store.upsert("EndpointSlice", item.key, item)
    assert store.slices("default", "hl") == (v4, v6)
    assert store.slices_by_ip("10.0.0.1") == (v4, other)
    assert store.slices_by_ip("fd00::1") == (v6,)
    # An update replaces the slice in place (order kept) and re-indexes its addresses.
    v4b = E("default", "hl", ep("10.0.0.2"), ep("10.0.0.3"), name="hl-a")
    store.upsert("EndpointSlice", v4b.key, v4b)
    assert store.slices("default", "hl") == (v4b, v6)
    assert store.slices_by_ip("10.0.0.1") == (other,)
    assert store.slices_by_ip("10.0.0.3") == (v4b,)
    # A slice relabelled to another service moves.
    moved = E("default", "other", ep("10.0.0.3"), name="hl-a")
    store.upsert("EndpointSlice", moved.key, moved)
    assert store.slices("default", "hl") == (v6,)
    assert store.slices("default", "other") == (other, moved)
    store.delete("EndpointSlice", v6.key)
    assert store.slices("default", "hl") == ()
    assert ("default", "hl") not in store._service_slices
    assert store.slices_by_ip("fd00::1") == ()


def test_same_ip_twice_in_a_slice() -> None:
    store = Store()
    item = E("default", "s", ep("10.0.0.1"), ep("10.0.0.1", hostname="x"))
    store.upsert("EndpointSlice", item.key, item)
    assert store.slices_by_ip("10.0.0.1") == (item,)
    store.delete("EndpointSlice", item.key)
    assert store.slices_by_ip("10.0.0.1") == ()


def test_pods_by_ip_and_namespaces() -> None:
    store = Store()
    a = P("default", "a", "10.244.0.1", "fd00::1")
    b = P("other", "b", "10.244.0.1")
    store.upsert("Pod", a.key, a)
    store.upsert("Pod", b.key, b)
    assert store.pods_by_ip("10.244.0.1") == (a, b)
    assert store.pods_by_ip("fd00::1") == (a,)
    store.upsert("Pod", a.key, None)  # convert returned None: terminating
    assert store.pods_by_ip("10.244.0.1") == (b,)
    assert store.pods_by_ip("fd00::1") == ()
    store.upsert("Namespace", ("", "default"), convert_namespace(ns("default", team="a")))
    found = store.namespace("default")
    assert found is not None and found.label_map() == {"team": "a"}
    assert store.namespace("nope") is None


def test_replace_applies_only_differences() -> None:
    store = Store()
    first = {("default", f"s{i}"): S("default", f"s{i}", f"10.0.0.{i}") for i in range(5)}
    store.replace("Service", first)
    rec = Recorder(store)
    generation = store.generation
    # A relist: equal (but new) objects, one changed, one gone, one new.
    second: dict[Key, object] = {
        ("default", f"s{i}"): S("default", f"s{i}", f"10.0.0.{i}") for i in range(4)
    }
    second[("default", "s0")] = S("default", "s0", "10.0.1.0")
    second[("default", "s9")] = S("default", "s9", "10.0.0.9")
    store.replace("Service", second)
    changes = {(kind, (old or new).name, old is None, new is None) for kind, old, new in rec.calls}  # type: ignore[union-attr]
    assert changes == {
        ("Service", "s0", False, False),
        ("Service", "s4", False, True),
        ("Service", "s9", True, False),
    }
    assert store.generation == generation + 3
    assert store.services_by_ip("10.0.0.0") == ()
    assert store.services_by_ip("10.0.0.4") == ()
    assert [s.name for s in store.services_by_ip("10.0.1.0")] == ["s0"]
    store.replace("Service", second)
    assert len(rec.calls) == 3


def test_identical_upsert_and_missing_delete_change_nothing() -> None:
    store = Store()
    web = S("default", "web")
    store.upsert("Service", web.key, web)
    rec = Recorder(store)
    generation = store.generation
    store.upsert("Service", web.key, S("default", "web"))
    store.delete("Service", ("default", "nope"))
    store.upsert("Service", ("default", "nope"), None)
    assert rec.calls == [] and store.generation == generation


def test_serial_is_the_time_of_the_last_change() -> None:
    store = Store()
    store.serial = 0
    before = int(time.time())
    store.upsert("Namespace", ("", "x"), convert_namespace(ns("x")))
    assert before <= store.serial <= int(time.time())


def test_unknown_kind_and_wrong_type_are_ignored() -> None:
    store = Store()
    store.upsert("Deployment", ("d", "x"), object())
    store.replace("Deployment", {})
    store.delete("Deployment", ("d", "x"))
    store.upsert("Service", ("d", "x"), P("d", "x"))
    assert store.service("d", "x") is None and store.generation == 0


def test_listener_errors_are_contained_and_removable() -> None:
    store = Store()
    seen: list[str] = []

    def broken(kind: str, old: object | None, new: object | None) -> None:
        raise RuntimeError("boom")

    store.on_change(broken)
    remove = store.on_change(lambda kind, old, new: seen.append(kind))
    store.upsert("Namespace", ("", "x"), convert_namespace(ns("x")))
    remove()
    store.upsert("Namespace", ("", "y"), convert_namespace(ns("y")))
    assert seen == ["Namespace"]
    assert store.namespace("y") is not None


def test_synced() -> None:
    store = Store()
    assert not store.has_synced(["Service", "Namespace"])
    store.synced("Service")
    store.synced("Namespace")
    assert store.has_synced(["Service", "Namespace"])
    assert store.synced_kinds == {"Service", "Namespace"}


async def test_threadsafe_sink_runs_on_the_loop() -> None:
    store = Store()
    sink = store.threadsafe(asyncio.get_running_loop())
    threads: list[threading.Thread] = []
    store.on_change(lambda kind, old, new: threads.append(threading.current_thread()))
    items: dict[Key, object] = {("", "a"): convert_namespace(ns("a"))}

    def informer() -> None:
        sink.replace("Namespace", items)
        items.clear()  # the sink copied it
        sink.upsert("Service", ("a", "web"), S("a", "web"))
        sink.delete("Service", ("a", "web"))
        sink.upsert("Service", ("a", "db"), S("a", "db"))
        sink.synced("Service")

    worker = threading.Thread(target=informer)
    worker.start()
    worker.join()
    await wait_for(lambda: "Service" in store.synced_kinds)
    assert store.namespace("a") is not None
    assert store.service("a", "web") is None and store.service("a", "db") is not None
    assert set(threads) == {threading.current_thread()}


def test_threadsafe_sink_after_the_loop_closed() -> None:
    loop = asyncio.new_event_loop()
    sink = Store().threadsafe(loop)
    loop.close()
    sink.upsert("Service", ("a", "web"), S("a", "web"))  # dropped, no exception


@pytest.mark.slow
def test_large_relist_is_fast_and_diffs() -> None:
    store = Store()

    def state(changed: int) -> tuple[dict[Key, object], dict[Key, object]]:
        services: dict[Key, object] = {}
        slices: dict[Key, object] = {}
        for i in range(10_000):
            name = f"svc-{i}"
            ip = f"10.{96 + i // 65536}.{i // 256 % 256}.{i % 256}"
            services[("ns", name)] = S("ns", name, ip)
            addrs = [ep(f"10.{200 + i // 6500}.{i % 250}.{j}") for j in range(10)]
            if i == changed:
                addrs = addrs[:5]
            slices[("ns", name + "-x")] = E("ns", name, *addrs, name=name + "-x")
        return services, slices

    services, slices = state(-1)
    start = time.perf_counter()
    store.replace("Service", services)
    store.replace("EndpointSlice", slices)
    first = time.perf_counter() - start
    rec = Recorder(store)
    services, slices = state(1234)
    start = time.perf_counter()
    store.replace("Service", services)
    store.replace("EndpointSlice", slices)
    relist = time.perf_counter() - start
    assert [(kind, new.name) for kind, _, new in rec.calls] == [("EndpointSlice", "svc-1234-x")]  # type: ignore[union-attr]
    assert len(store.slices("ns", "svc-1234")[0].endpoints) == 5
    assert first < 2.0 and relist < 1.0, (first, relist)


def test_ip_index_shapes() -> None:
    store = Store()
    pods = [P("default", f"p{i}", "10.244.0.1") for i in range(3)]
    for item in pods:
        store.upsert("Pod", item.key, item)
    assert store.pods_by_ip("10.244.0.1") == tuple(pods)
    store.delete("Pod", pods[1].key)
    assert store.pods_by_ip("10.244.0.1") == (pods[0], pods[2])
    store.delete("Pod", pods[0].key)
    assert store.pods_by_ip("10.244.0.1") == (pods[2],)
    store.delete("Pod", pods[2].key)
    assert store.pods_by_ip("10.244.0.1") == () and len(store._pods_by_ip) == 0


def test_stamps_per_namespace_and_for_namespaces() -> None:
    from dnsd.plugins.kubernetes.objects import Namespace as NamespaceRecord
    from dnsd.plugins.kubernetes.objects import convert_service
    from tests.plugins.kubernetes.test_objects import svc

    store = Store()
    web = convert_service(svc("a", "web"))
    store.upsert("Service", ("a", "web"), web)
    assert store.ns_stamps == {"a": 1} and store.namespaces_stamp == 0
    store.upsert("Service", ("b", "web"), convert_service(svc("b", "web")))
    assert store.ns_stamps == {"a": 1, "b": 2}
    store.upsert("Namespace", ("", "a"), NamespaceRecord("a"))
    assert store.namespaces_stamp == 3 and store.ns_stamps == {"a": 1, "b": 2}
    store.delete("Service", ("a", "web"))
    store.upsert("Service", ("a", "web"), web)  # back as it was: a new stamp all the same
    assert store.ns_stamps == {"a": 5, "b": 2} and store.generation == 5
