"""The *kubernetes* hook for *autopath*: ``Kubernetes.search_path(qname, client_ip)``, the
server's own search domains, and how pods are found by address."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dnsd.instance import load
from dnsd.plugins.kubernetes import records, searchpath
from dnsd.plugins.kubernetes.handler import Kubernetes
from dnsd.plugins.kubernetes.objects import Pod, convert_pod
from dnsd.plugins.kubernetes.setup import KubernetesOptions
from dnsd.plugins.kubernetes.store import Store
from tests.plugins.kubernetes.test_objects import pod

HOST = ("corp.example.", "example.net.")
OBJECTS = os.path.abspath("examples/cluster.yaml")


def P(*args: Any, host_network: bool = False, **kw: Any) -> Pod:
    obj = pod(*args, **kw)
    if host_network:
        obj["spec"] = {"hostNetwork": True}
    record = convert_pod(obj)
    assert record is not None
    return record


def handler(
    *pods: Pod, zones: tuple[str, ...] = ("cluster.local.",), mode: str = "verified"
) -> Kubernetes:
    store = Store()
    for p in pods:
        store.upsert("Pod", p.key, p)
    opts = KubernetesOptions(zones=zones, pods=mode)
    return Kubernetes(opts, store, records.Options(zones=zones, pods=mode), HOST)


def own(ns: str, zone: str = "cluster.local.") -> tuple[str, ...]:
    return (f"{ns}.svc.{zone}", f"svc.{zone}", zone, *HOST)


@dataclass(frozen=True)
class Case:
    id: str
    pods: tuple[Pod, ...]
    client: str
    qname: str = "web.default.svc.cluster.local."
    want: tuple[str, ...] | None = None
    zones: tuple[str, ...] = ("cluster.local.",)


A = P("default", "a", "10.244.0.1", "fd00::1")
CASES = [
    Case("pod", (A,), "10.244.0.1", want=own("default")),
    Case("pod-by-second-ip", (A,), "fd00::1", want=own("default")),
    Case("ipv6-written-long", (A,), "FD00:0:0::1", want=own("default")),
    Case("any-name-in-the-zone", (A,), "10.244.0.1", qname="x.cluster.local.",
         want=own("default")),
    Case("zone-apex", (A,), "10.244.0.1", qname="cluster.local.", want=own("default")),
    Case("outside-the-zones", (A,), "10.244.0.1", qname="example.com.", want=None),
    Case("longest-zone", (A,), "10.244.0.1", qname="web.default.svc.east.cluster.local.",
         zones=("cluster.local.", "east.cluster.local."),
         want=own("default", "east.cluster.local.")),
    Case("root-zone", (A,), "10.244.0.1", qname="example.com.", zones=(".",),
         want=("default.svc.", "svc.", ".", *HOST)),
    Case("no-pod", (A,), "10.244.0.9", want=None),
    Case("not-an-address", (A,), "nonsense", want=None),
    Case("two-pods-one-address", (A, P("other", "b", "10.244.0.1")), "10.244.0.1", want=None),
    Case("host-network-pod", (P("kube-system", "proxy", "192.168.1.5", host_network=True),),
         "192.168.1.5", want=None),
    Case("pending-pod-with-address", (P("demo", "p", "10.244.0.3", phase="Pending"),),
         "10.244.0.3", want=own("demo")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_search_path(case: Case) -> None:
    assert handler(*case.pods, zones=case.zones).search_path(case.qname, case.client) == case.want


@pytest.mark.parametrize("mode", ["disabled", "insecure"])
def test_needs_pods_verified(mode: str) -> None:
    h = handler(A, mode=mode)
    assert h.search_path("web.default.svc.cluster.local.", "10.244.0.1") is None
    assert h.search_path_error() == (
        "the kubernetes plugin needs 'pods verified' to find a client's namespace"
    )
    assert handler(A).search_path_error() == ""


def test_reused_address_follows_the_store() -> None:
    """Pod A (ns a) is deleted and pod B (ns b) gets its address: the next query uses B's
    namespace; while both are listed (B's event came first) nobody gets autopath."""
    a, b = P("a", "old", "10.244.0.7"), P("b", "new", "10.244.0.7")
    h = handler(a)
    qname = "x.cluster.local."
    assert h.search_path(qname, "10.244.0.7") == own("a")
    h.store.upsert("Pod", b.key, b)
    assert h.search_path(qname, "10.244.0.7") is None
    h.store.delete("Pod", a.key)
    assert h.search_path(qname, "10.244.0.7") == own("b")


def test_terminating_pod_stops_counting() -> None:
    a = P("a", "old", "10.244.0.7")
    h = handler(a)
    h.store.upsert("Pod", a.key, convert_pod(pod("a", "old", "10.244.0.7", deleting=True)))
    assert h.search_path("x.cluster.local.", "10.244.0.7") is None


HOST_CASES = [
    ("search", "nameserver 10.0.0.1\nsearch Corp.Example example.net.\n",
     ("corp.example.", "example.net.")),
    ("domain", "domain corp.example\n", ("corp.example.",)),
    ("last-wins", "search a.example\ndomain corp.example\n", ("corp.example.",)),
    ("none", "nameserver 10.0.0.1\n", ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "want"), [c[1:] for c in HOST_CASES], ids=[c[0] for c in HOST_CASES]
)
def test_host_search(tmp_path: Path, content: str, want: tuple[str, ...]) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(content)
    assert searchpath.host_search(str(path)) == want


def test_host_search_missing_file(tmp_path: Path) -> None:
    assert searchpath.host_search(str(tmp_path / "nope")) == ()


@pytest.mark.parametrize(("mode", "want"), [("verified", HOST), ("insecure", ())])
def test_setup_reads_the_servers_resolv_conf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, want: tuple[str, ...]
) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("search corp.example example.net\n")
    monkeypatch.setattr(searchpath, "RESOLV_CONF", str(path))
    text = f". {{\n kubernetes cluster.local {{\n  objects {OBJECTS}\n  pods {mode}\n }}\n}}\n"
    (h,) = load(text, "Corefile").blocks[0].handlers
    assert isinstance(h, Kubernetes)
    assert h.host_search == want
