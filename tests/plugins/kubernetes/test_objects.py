"""Converters from raw API objects to the compact records, and the raw-object builders the other
kubernetes tests use (``svc``, ``eps``, ``ep``, ``ns``, ``pod``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from dnsd.plugins.kubernetes.objects import (
    ENDPOINTSLICES,
    NAMESPACES,
    PODS,
    RESOURCES,
    SERVICES,
    Endpoint,
    EndpointSlice,
    Namespace,
    Pod,
    Port,
    Service,
    canonical_ip,
    convert_endpointslice,
    convert_namespace,
    convert_pod,
    convert_service,
    object_key,
    parse_time,
)

Obj = dict[str, Any]
PortSpec = tuple[str, str, int | None]

# -- raw object builders (shared with test_store, test_records, test_source) ------------------


def svc(
    namespace: str,
    name: str,
    cluster_ip: str | Sequence[str] | None = "10.0.0.1",
    *,
    ports: Sequence[PortSpec] = (("http", "TCP", 80),),
    type: str = "ClusterIP",
    external_name: str | None = None,
    external_ips: Sequence[str] = (),
    ingress: Sequence[Obj] = (),
) -> Obj:
    """A v1 Service; ``cluster_ip`` a list means spec.clusterIPs, "None" means headless."""
    spec: Obj = {"type": type, "ports": [_port(p) for p in ports]}
    if isinstance(cluster_ip, str):
        spec["clusterIP"] = cluster_ip
    elif cluster_ip is not None:
        spec["clusterIP"] = cluster_ip[0]
        spec["clusterIPs"] = list(cluster_ip)
    if external_name is not None:
        spec["externalName"] = external_name
    if external_ips:
        spec["externalIPs"] = list(external_ips)
    obj: Obj = {"kind": "Service", "metadata": {"namespace": namespace, "name": name}, "spec": spec}
    if ingress:
        obj["status"] = {"loadBalancer": {"ingress": list(ingress)}}
    return obj


def _port(p: PortSpec) -> Obj:
    out: Obj = {"name": p[0], "protocol": p[1]}
    if p[2] is not None:
        out["port"] = p[2]
    return out


def ep(
    *addresses: str,
    hostname: str | None = None,
    pod: str | None = None,
    ready: bool | None = True,
    zone: str | None = None,
) -> Obj:
    """One EndpointSlice endpoint."""
    out: Obj = {"addresses": list(addresses)}
    if ready is not None:
        out["conditions"] = {"ready": ready}
    if hostname is not None:
        out["hostname"] = hostname
    if pod is not None:
        out["targetRef"] = {"kind": "Pod", "namespace": "x", "name": pod}
    if zone is not None:
        out["zone"] = zone
    return out


def eps(
    namespace: str,
    service: str,
    *endpoints: Obj,
    name: str | None = None,
    ports: Sequence[PortSpec] = (("http", "TCP", 80),),
    family: str = "IPv4",
    trigger: str | None = None,
) -> Obj:
    """A discovery.k8s.io/v1 EndpointSlice of ``service``."""
    meta: Obj = {
        "namespace": namespace,
        "name": name or f"{service}-{family.lower()}",
        "labels": {"kubernetes.io/service-name": service},
    }
    if trigger is not None:
        meta["annotations"] = {"endpoints.kubernetes.io/last-change-trigger-time": trigger}
    return {
        "kind": "EndpointSlice",
        "metadata": meta,
        "addressType": family,
        "endpoints": list(endpoints),
        "ports": [_port(p) for p in ports],
    }


def ns(name: str, **labels: str) -> Obj:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}}


def pod(
    namespace: str, name: str, *ips: str, phase: str = "Running", deleting: bool = False
) -> Obj:
    meta: Obj = {"namespace": namespace, "name": name}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    status: Obj = {"phase": phase}
    if ips:
        status["podIP"] = ips[0]
        status["podIPs"] = [{"ip": ip} for ip in ips]
    return {"kind": "Pod", "metadata": meta, "status": status}


# -- converters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    obj: Obj
    want: object


SERVICE_CASES = [
    Case(
        "cluster-ip",
        svc("default", "web", "10.96.0.10", ports=[("http", "TCP", 80), ("dns", "UDP", 53)]),
        Service(
            "default",
            "web",
            "ClusterIP",
            ("10.96.0.10",),
            False,
            "",
            (Port("http", "TCP", 80), Port("dns", "UDP", 53)),
        ),
    ),
    Case(
        "dual-stack-canonical",
        svc("default", "dual", ["10.96.0.11", "FD00:0::0011"], ports=[]),
        Service("default", "dual", "ClusterIP", ("10.96.0.11", "fd00::11"), False, "", ()),
    ),
    Case(
        "headless",
        svc("default", "hl", "None"),
        Service("default", "hl", "ClusterIP", (), True, "", (Port("http", "TCP", 80),)),
    ),
    Case(
        "headless-clusterips",
        svc("default", "hl", ["None"], ports=[]),
        Service("default", "hl", "ClusterIP", (), True, "", ()),
    ),
    Case(
        "external-name",
        svc("default", "ext", None, type="ExternalName", external_name="Example.COM", ports=[]),
        Service("default", "ext", "ExternalName", (), False, "Example.COM", ()),
    ),
    Case(
        "external-name-ignored-on-other-types",
        svc("default", "x", "10.0.0.2", external_name="example.com", ports=[]),
        Service("default", "x", "ClusterIP", ("10.0.0.2",), False, "", ()),
    ),
    Case(
        "ports-defaults-and-invalid",
        svc(
            "default",
            "p",
            "10.0.0.3",
            ports=[("", "", 80), ("bad", "TCP", 0), ("big", "TCP", 70000), ("none", "TCP", None)],
        ),
        Service("default", "p", "ClusterIP", ("10.0.0.3",), False, "", (Port("", "TCP", 80),)),
    ),
    Case(
        "external-ips-and-ingress",
        svc(
            "default",
            "lb",
            "10.0.0.4",
            ports=[],
            type="LoadBalancer",
            external_ips=["192.0.2.1", "bogus"],
            ingress=[{"ip": "198.51.100.1"}, {"hostname": "lb.example.com"}, {}],
        ),
        Service(
            "default",
            "lb",
            "LoadBalancer",
            ("10.0.0.4",),
            False,
            "",
            (),
            ("192.0.2.1",),
            ("198.51.100.1", "lb.example.com"),
        ),
    ),
    Case(
        "unallocated-cluster-ip",
        svc("default", "u", "", ports=[]),
        Service("default", "u", "ClusterIP", (), False, "", ()),
    ),
    Case(
        "selector",
        {
            **svc("default", "s", "None", ports=[]),
            "spec": {"clusterIP": "None", "selector": {"a": "b"}},
        },
        Service("default", "s", "ClusterIP", (), True, "", (), selector=True),
    ),
    Case("no-namespace", {"metadata": {"name": "x"}, "spec": {}}, None),
    Case("no-name", {"metadata": {"namespace": "x"}}, None),
    Case(
        "garbage-spec",
        {"metadata": {"namespace": "d", "name": "g"}, "spec": ["x"], "status": 7},
        Service("d", "g", "ClusterIP", (), False, "", ()),
    ),
]


@pytest.mark.parametrize("case", SERVICE_CASES, ids=[c.id for c in SERVICE_CASES])
def test_convert_service(case: Case) -> None:
    assert convert_service(case.obj) == case.want


SLICE_CASES = [
    Case(
        "ready-unset-and-false",
        eps(
            "default",
            "hl",
            ep("10.0.0.1", hostname="db-0", pod="db-0", zone="z1"),
            ep("10.0.0.2", ready=None),
            ep("10.0.0.3", ready=False),
            name="hl-abc",
        ),
        EndpointSlice(
            "default",
            "hl-abc",
            "hl",
            4,
            (Endpoint("10.0.0.1", "db-0", "db-0", "z1"), Endpoint("10.0.0.2")),
            (Port("http", "TCP", 80),),
        ),
    ),
    Case(
        "ipv6-canonical-and-wrong-family-dropped",
        eps("default", "s", ep("FD00::0001", "10.0.0.9"), ep("10.0.0.8"), family="IPv6", ports=[]),
        EndpointSlice("default", "s-ipv6", "s", 6, (Endpoint("fd00::1"),), ()),
    ),
    Case(
        "port-unset-is-minus-one",
        eps("default", "s", ep("10.0.0.1"), ports=[("", "UDP", None), ("x", "", 53)]),
        EndpointSlice(
            "default",
            "s-ipv4",
            "s",
            4,
            (Endpoint("10.0.0.1"),),
            (Port("", "UDP", -1), Port("x", "TCP", 53)),
        ),
    ),
    Case(
        "long-pod-name-and-non-pod-ref",
        {
            **eps("default", "s", ep("10.0.0.1", pod="p" * 64), ep("10.0.0.2"), ports=[]),
            "endpoints": [
                ep("10.0.0.1", pod="p" * 64),
                {"addresses": ["10.0.0.2"], "targetRef": {"kind": "Node", "name": "n1"}},
                {"addresses": ["10.0.0.3"], "targetRef": {"name": "p3"}},
            ],
        },
        EndpointSlice(
            "default",
            "s-ipv4",
            "s",
            4,
            (Endpoint("10.0.0.1"), Endpoint("10.0.0.2"), Endpoint("10.0.0.3", "", "p3")),
            (),
        ),
    ),
    Case(
        "trigger-time",
        eps("default", "s", ports=[], trigger="2024-01-02T03:04:05.123456789Z"),
        EndpointSlice("default", "s-ipv4", "s", 4, (), (), 1704164645.123456),
    ),
    Case("fqdn-ignored", eps("default", "s", ep("a.example"), family="FQDN"), None),
    Case(
        "no-service-label",
        {"metadata": {"namespace": "d", "name": "x"}, "addressType": "IPv4"},
        None,
    ),
    Case(
        "garbage-endpoints",
        {
            **eps("d", "s", ports=[]),
            "endpoints": [1, {"addresses": "10.0.0.1"}, {"addresses": [None, "bad"]}],
            "ports": {"x": 1},
        },
        EndpointSlice("d", "s-ipv4", "s", 4, (), ()),
    ),
]


@pytest.mark.parametrize("case", SLICE_CASES, ids=[c.id for c in SLICE_CASES])
def test_convert_endpointslice(case: Case) -> None:
    assert convert_endpointslice(case.obj) == case.want


NAMESPACE_CASES = [
    Case(
        "labels-sorted",
        ns("prod", team="a", env="prod"),
        Namespace("prod", (("env", "prod"), ("team", "a"))),
    ),
    Case(
        "bad-labels-skipped",
        {"metadata": {"name": "x", "labels": {"a": 1, "b": "2"}}},
        Namespace("x", (("b", "2"),)),
    ),
    Case("no-labels", {"metadata": {"name": "x"}}, Namespace("x")),
    Case("no-name", {"metadata": {"labels": {}}}, None),
]


@pytest.mark.parametrize("case", NAMESPACE_CASES, ids=[c.id for c in NAMESPACE_CASES])
def test_convert_namespace(case: Case) -> None:
    assert convert_namespace(case.obj) == case.want


POD_CASES = [
    Case(
        "dual-stack",
        pod("d", "p", "10.244.0.1", "fd00::1"),
        Pod("d", "p", ("10.244.0.1", "fd00::1")),
    ),
    Case(
        "pod-ip-only",
        {"metadata": {"namespace": "d", "name": "p"}, "status": {"podIP": "10.244.0.1"}},
        Pod("d", "p", ("10.244.0.1",)),
    ),
    Case("pending-no-ip", pod("d", "p", phase="Pending"), Pod("d", "p", ())),
    Case(
        "host-network",
        {**pod("d", "p", "192.168.1.5"), "spec": {"hostNetwork": True}},
        Pod("d", "p", ("192.168.1.5",), host_network=True),
    ),
    Case(
        "host-network-false",
        {**pod("d", "p", "10.244.0.1"), "spec": {"hostNetwork": False}},
        Pod("d", "p", ("10.244.0.1",)),
    ),
    Case(
        "host-network-not-a-bool",
        {**pod("d", "p", "10.244.0.1"), "spec": {"hostNetwork": "true"}},
        Pod("d", "p", ("10.244.0.1",)),
    ),
    Case("terminating", pod("d", "p", "10.244.0.1", deleting=True), None),
    Case("succeeded", pod("d", "p", "10.244.0.1", phase="Succeeded"), None),
    Case("failed", pod("d", "p", "10.244.0.1", phase="Failed"), None),
    Case("no-namespace", {"metadata": {"name": "p"}}, None),
]


@pytest.mark.parametrize("case", POD_CASES, ids=[c.id for c in POD_CASES])
def test_convert_pod(case: Case) -> None:
    assert convert_pod(case.obj) == case.want


CONVERTERS: list[Callable[[Obj], object | None]] = [
    convert_service,
    convert_endpointslice,
    convert_namespace,
    convert_pod,
]
GARBAGE: list[Obj] = [
    {},
    {"metadata": None},
    {"metadata": []},
    {"metadata": {"name": 5, "namespace": ["x"]}},
    {"metadata": {"name": "n", "namespace": "d", "labels": "x", "annotations": 3}, "spec": 1},
    {"metadata": {"name": "n", "namespace": "d"}, "status": {"podIPs": "x", "loadBalancer": 1}},
    {"metadata": {"name": "n", "namespace": "d"}, "addressType": 4, "endpoints": None},
]


def test_scoped_ipv6_addresses_are_not_addresses() -> None:
    """Found by fuzzing (tests/fuzz): ``fe80::1%eth0`` reached the store and made every answer
    for the name raise when its AAAA record was built."""
    assert canonical_ip("fe80::1%eth0") is None
    assert canonical_ip("10.0.0.1%x") is None
    meta = {"name": "web", "namespace": "default"}
    service = convert_service(
        {"metadata": meta, "spec": {"clusterIPs": ["fe80::1%eth0", "fd00::1"]}}
    )
    assert service is not None and service.cluster_ips == ("fd00::1",)
    slice_ = convert_endpointslice(
        {
            "metadata": {**meta, "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv6",
            "endpoints": [{"addresses": ["fe80::2%1"]}, {"addresses": ["fd00::2"]}],
        }
    )
    assert slice_ is not None and [e.address for e in slice_.endpoints] == ["fd00::2"]
    pod = convert_pod({"metadata": meta, "status": {"podIPs": [{"ip": "fe80::3%lo"}]}})
    assert pod is not None and pod.ips == ()


@pytest.mark.parametrize("convert", CONVERTERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("obj", GARBAGE, ids=range(len(GARBAGE)))
def test_converters_never_raise(convert: Callable[[Obj], object | None], obj: Obj) -> None:
    convert(obj)


TIMES = [
    ("2024-01-02T03:04:05Z", 1704164645.0),
    ("2024-01-02T03:04:05.5Z", 1704164645.5),
    ("2024-01-02T03:04:05.123456789Z", 1704164645.123456),
    ("2024-01-02T04:04:05+01:00", 1704164645.0),
    ("2024-01-02T03:04:05", None),  # no zone
    ("yesterday", None),
    ("", None),
    (17, None),
]


@pytest.mark.parametrize(("text", "want"), TIMES, ids=[str(t[0]) for t in TIMES])
def test_parse_time(text: object, want: float | None) -> None:
    got = parse_time(text)
    assert got == pytest.approx(want) if want is not None else got is None


def test_strings_are_interned() -> None:
    a = convert_service(svc("default", "web"))
    b = convert_endpointslice(eps("".join(["def", "ault"]), "".join(["w", "eb"]), ep("10.0.0.1")))
    assert a is not None and b is not None
    assert a.namespace is b.namespace
    assert a.name is b.service
    assert a.ports[0].name is b.ports[0].name


def test_equal_port_lists_are_shared() -> None:
    a = convert_service(svc("a", "web", ports=[("http", "TCP", 80), ("dns", "UDP", 53)]))
    b = convert_service(svc("b", "api", ports=[("http", "TCP", 80), ("dns", "UDP", 53)]))
    c = convert_service(svc("c", "db", ports=[("http", "TCP", 80)]))
    d = convert_service(svc("d", "db", ports=[("http", "TCP", 81)]))
    assert a is not None and b is not None and c is not None and d is not None
    assert a.ports is b.ports
    assert c.ports == (Port("http", "TCP", 80),)
    assert d.ports == (Port("http", "TCP", 81),)
    assert convert_service(svc("e", "none", ports=[])).ports == ()  # type: ignore[union-attr]


def test_object_key() -> None:
    assert object_key(svc("default", "web")) == ("default", "web")
    assert object_key(ns("kube-system")) == ("", "kube-system")
    assert object_key({"metadata": {}}) is None


def test_resources() -> None:
    assert [(r.kind, r.plural, r.path) for r in RESOURCES.values()] == [
        ("Service", "services", "/api/v1/services"),
        ("EndpointSlice", "endpointslices", "/apis/discovery.k8s.io/v1/endpointslices"),
        ("Namespace", "namespaces", "/api/v1/namespaces"),
        ("Pod", "pods", "/api/v1/pods"),
    ]
    assert SERVICES.convert is convert_service
    assert ENDPOINTSLICES.convert is convert_endpointslice
    assert NAMESPACES.convert is convert_namespace
    assert PODS.convert is convert_pod


def test_records_are_frozen_and_slotted() -> None:
    record = Endpoint("10.0.0.1")
    with pytest.raises(AttributeError):
        record.hostname = "x"  # type: ignore[misc]
    assert not hasattr(record, "__dict__")


def test_endpoint_with_several_addresses() -> None:
    record = convert_endpointslice(eps("d", "s", ep("10.0.0.1", "bad", "10.0.0.2"), ports=[]))
    assert record is not None
    assert record.endpoints == (Endpoint("10.0.0.1", more=("10.0.0.2",)),)
    assert record.endpoints[0].addresses == ("10.0.0.1", "10.0.0.2")
    assert Endpoint("10.0.0.3").addresses == ("10.0.0.3",)
