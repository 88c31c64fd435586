"""Compact, immutable records of the four resources *kubernetes* watches, and their converters.

An informer (or the ``objects`` file source) turns each raw API object (a ``json.loads`` dict)
into one of these records with ``convert_*``; nothing else of the object is kept. Memory is what
matters here (10k Services and 100k endpoint addresses must fit well under 150 MiB), so records
are frozen slotted dataclasses holding tuples and strings, namespaces, names, port names and
other repeated strings are interned, and IP addresses are canonical text (``ipaddress``
``compressed`` form; packed bytes would save ~25 bytes per address, not worth the conversions
on every answer).

Converters never raise: a missing field or a field of the wrong type makes the object absent
(``None``, which the caller counts and treats as a delete) or the field empty. What they keep
follows CoreDNS's ``plugin/kubernetes/object``:

- Service: ``clusterIPs`` (else ``clusterIP``; ``None`` means headless), type, externalName,
  ports (name, protocol, port), ``externalIPs`` and ``status.loadBalancer.ingress`` (IP or
  hostname) for *k8s_external*, and whether it has a selector (programming latency).
- EndpointSlice: the owning Service (label ``kubernetes.io/service-name``; a slice without it is
  absent), the address family (``FQDN`` slices are absent), the ready endpoints only
  (``conditions.ready`` true or unset) with their addresses, hostname, Pod name (``targetRef`` of
  kind Pod, names of 64+ octets dropped as CoreDNS does) and topology zone, the ports (a missing
  port number is ``-1``, as CoreDNS's sentinel), and the annotation
  ``endpoints.kubernetes.io/last-change-trigger-time`` as a unix time (programming latency).
- Namespace: name and labels.
- Pod: namespace, name, every IP of ``status.podIPs`` (CoreDNS keeps only ``podIP``) and
  ``spec.hostNetwork`` (such a pod has its node's IP: *autopath* cannot tell it apart);
  terminating (``metadata.deletionTimestamp``) and finished (phase Succeeded/Failed) pods are
  absent.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Key", "Port", "Service", "Endpoint", "EndpointSlice", "Namespace", "Pod"]
__all__ += ["Resource", "SERVICES", "ENDPOINTSLICES", "NAMESPACES", "PODS", "RESOURCES"]
__all__ += ["convert_service", "convert_endpointslice", "convert_namespace", "convert_pod"]
__all__ += ["object_key", "canonical_ip"]

#: (namespace, name); cluster-scoped objects (Namespaces) use ("", name).
Key = tuple[str, str]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"

_intern = sys.intern


@dataclass(frozen=True, slots=True)
class Port:
    """A Service or EndpointSlice port; ``port`` is -1 when the slice leaves it unset."""

    name: str
    protocol: str
    port: int


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    #: ClusterIP, NodePort, LoadBalancer or ExternalName.
    type: str
    #: The cluster IPs (both families when dual-stack); empty when headless or unallocated.
    cluster_ips: tuple[str, ...]
    headless: bool
    #: spec.externalName as written (only meaningful for type ExternalName).
    external_name: str
    ports: tuple[Port, ...]
    #: spec.externalIPs.
    external_ips: tuple[str, ...] = ()
    #: status.loadBalancer.ingress: an IP, or a hostname where the ingress has no IP.
    ingress: tuple[str, ...] = ()
    #: spec.selector is set (its endpoints are managed by the EndpointSlice controller).
    selector: bool = False

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One ready endpoint of a slice: nearly always one address, kept without a tuple."""

    #: The first address.
    address: str
    hostname: str = ""
    #: Name of the Pod of ``targetRef`` ('' when none, not a Pod, or longer than 63 octets).
    pod_name: str = ""
    #: Topology zone ('' when unset).
    zone: str = ""
    #: Further addresses (rare: the API allows up to 100, all fungible).
    more: tuple[str, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        return (self.address, *self.more) if self.more else (self.address,)


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    namespace: str
    #: The slice's own name.
    name: str
    #: The Service it belongs to (label kubernetes.io/service-name).
    service: str
    #: 4 (addressType IPv4) or 6 (IPv6).
    family: int
    endpoints: tuple[Endpoint, ...]
    ports: tuple[Port, ...]
    #: endpoints.kubernetes.io/last-change-trigger-time as a unix time, None when absent.
    trigger_time: float | None = None

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def service_key(self) -> Key:
        return (self.namespace, self.service)


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    #: Sorted (key, value) pairs.
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> Key:
        return ("", self.name)

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    ips: tuple[str, ...]
    #: ``spec.hostNetwork``: the pod shares its node's IP with the node and its other such pods.
    host_network: bool = False

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


# -- helpers tolerant of any JSON shape ------------------------------------------------------


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def canonical_ip(text: object) -> str | None:
    """``text`` as canonical IP text (``2001:db8::1``), None when it is not an IP address.

    A scoped IPv6 address (``fe80::1%eth0``, which ``ipaddress`` accepts) is not one: it cannot
    go into an AAAA record, and answering with it raised (SERVFAIL) before fuzzing found it.
    """
    if not isinstance(text, str) or not text or "%" in text:
        return None
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def _port_number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= 65535 else None


def object_key(obj: Mapping[str, Any]) -> Key | None:
    """(namespace, name) from ``metadata``; None when the object has no name."""
    meta = _dict(obj.get("metadata"))
    name = _str(meta.get("name"))
    if not name:
        return None
    return (_intern(_str(meta.get("namespace"))), name)


def _namespaced(obj: Mapping[str, Any]) -> Key | None:
    key = object_key(obj)
    return key if key is not None and key[0] else None


# -- converters ------------------------------------------------------------------------------


#: Port lists already seen, shared by every object that has the same (most Services of a cluster
#: use a handful: 10 MB less at 50,000 Services). Emptied when it reaches _PORTS_LIMIT.
_PORTS: dict[tuple[Port, ...], tuple[Port, ...]] = {}
_PORTS_LIMIT = 4096


def _ports(items: object, *, need_number: bool) -> tuple[Port, ...]:
    if not isinstance(items, list) or not items:
        return ()
    ports = _port_list(items, need_number=need_number)
    shared = _PORTS.get(ports)
    if shared is None:
        if len(_PORTS) >= _PORTS_LIMIT:
            _PORTS.clear()
        shared = _PORTS[ports] = ports
    return shared


def _port_list(items: object, *, need_number: bool) -> tuple[Port, ...]:
    ports: list[Port] = []
    for item in _list(items):
        if not isinstance(item, dict):
            continue
        number = _port_number(item.get("port"))
        if number is None:
            if need_number or item.get("port") is not None:
                continue
            number = -1
        protocol = _str(item.get("protocol")) or "TCP"
        ports.append(Port(_intern(_str(item.get("name"))), _intern(protocol), number))
    return tuple(ports)


def convert_service(obj: dict[str, Any]) -> Service | None:
    """The Service record of a v1 Service, None when it has no namespace or name."""
    key = _namespaced(obj)
    if key is None:
        return None
    spec = _dict(obj.get("spec"))
    type_ = _intern(_str(spec.get("type")) or "ClusterIP")
    raw_ips = [ip for ip in _list(spec.get("clusterIPs")) if isinstance(ip, str)]
    if not raw_ips and _str(spec.get("clusterIP")):
        raw_ips = [spec["clusterIP"]]
    headless = bool(raw_ips) and raw_ips[0] == "None"
    cluster_ips: tuple[str, ...] = ()
    if not headless:
        cluster_ips = tuple(ip for ip in map(canonical_ip, raw_ips) if ip is not None)
    external_ips = tuple(
        ip for ip in map(canonical_ip, _list(spec.get("externalIPs"))) if ip is not None
    )
    ingress: list[str] = []
    for lb in _list(_dict(_dict(obj.get("status")).get("loadBalancer")).get("ingress")):
        lb = _dict(lb)
        ip = canonical_ip(lb.get("ip"))
        host = _str(lb.get("hostname"))
        if ip is not None or host:
            ingress.append(ip if ip is not None else host)
    return Service(
        namespace=key[0],
        name=_intern(key[1]),
        type=type_,
        cluster_ips=cluster_ips,
        headless=headless,
        external_name=_str(spec.get("externalName")) if type_ == "ExternalName" else "",
        ports=_ports(spec.get("ports"), need_number=True),
        external_ips=external_ips,
        ingress=tuple(ingress),
        selector=bool(_dict(spec.get("selector"))),
    )


def _ready(endpoint: Mapping[str, Any]) -> bool:
    # Per the API: an unset ready condition means "unknown", to be read as ready.
    return _dict(endpoint.get("conditions")).get("ready") is not False


def _endpoint(item: Mapping[str, Any], family: int) -> Endpoint | None:
    addresses: list[str] = []
    for text in _list(item.get("addresses")):
        ip = canonical_ip(text)
        if ip is not None and (6 if ":" in ip else 4) == family:
            addresses.append(ip)
    if not addresses:
        return None
    ref = _dict(item.get("targetRef"))
    pod = _str(ref.get("name")) if _str(ref.get("kind")) in ("Pod", "") else ""
    return Endpoint(
        address=addresses[0],
        more=tuple(addresses[1:]) if len(addresses) > 1 else (),
        hostname=_str(item.get("hostname")),
        pod_name=pod if len(pod) < 64 else "",
        zone=_intern(_str(item.get("zone"))),
    )


def parse_time(text: object) -> float | None:
    """RFC 3339 (with nanoseconds, as Kubernetes writes it) to a unix time; None if invalid."""
    if not isinstance(text, str) or not text:
        return None
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat wants at most 6 fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[: min(digits, 6)] + rest[digits:]
        text = head + ("." + rest if digits else rest)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


def convert_endpointslice(obj: dict[str, Any]) -> EndpointSlice | None:
    """The record of a discovery.k8s.io/v1 EndpointSlice; None without a service label or for
    addressType FQDN."""
    key = _namespaced(obj)
    if key is None:
        return None
    meta = _dict(obj.get("metadata"))
    service = _str(_dict(meta.get("labels")).get(SERVICE_NAME_LABEL))
    family = {"IPv4": 4, "IPv6": 6}.get(_str(obj.get("addressType")), 0)
    if not service or not family:
        return None
    endpoints = []
    for item in _list(obj.get("endpoints")):
        if isinstance(item, dict) and _ready(item):
            endpoint = _endpoint(item, family)
            if endpoint is not None:
                endpoints.append(endpoint)
    return EndpointSlice(
        namespace=key[0],
        name=key[1],
        service=_intern(service),
        family=family,
        endpoints=tuple(endpoints),
        ports=_ports(obj.get("ports"), need_number=False),
        trigger_time=parse_time(_dict(meta.get("annotations")).get(TRIGGER_TIME_ANNOTATION)),
    )


def convert_namespace(obj: dict[str, Any]) -> Namespace | None:
    """The record of a v1 Namespace (name and labels)."""
    name = _str(_dict(obj.get("metadata")).get("name"))
    if not name:
        return None
    labels = _dict(_dict(obj.get("metadata")).get("labels"))
    pairs = sorted((_intern(k), _intern(v)) for k, v in labels.items() if isinstance(v, str) and k)
    return Namespace(_intern(name), tuple(pairs))


def convert_pod(obj: dict[str, Any]) -> Pod | None:
    """The record of a v1 Pod; None when it is terminating or has finished."""
    key = _namespaced(obj)
    if key is None:
        return None
    if _dict(obj.get("metadata")).get("deletionTimestamp"):
        return None
    status = _dict(obj.get("status"))
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
    raw = [_dict(item).get("ip") for item in _list(status.get("podIPs"))]
    if not raw:
        raw = [status.get("podIP")]
    ips = tuple(dict.fromkeys(ip for ip in map(canonical_ip, raw) if ip is not None))
    return Pod(key[0], key[1], ips, _dict(obj.get("spec")).get("hostNetwork") is True)


@dataclass(frozen=True)
class Resource:
    """A watched resource: kind (as the store knows it), plural, cluster-wide list path, and the
    converter from a raw object to its record."""

    kind: str
    plural: str
    path: str
    convert: Callable[[dict[str, Any]], object | None]


SERVICES = Resource("Service", "services", "/api/v1/services", convert_service)
ENDPOINTSLICES = Resource(
    "EndpointSlice",
    "endpointslices",
    "/apis/discovery.k8s.io/v1/endpointslices",
    convert_endpointslice,
)
NAMESPACES = Resource("Namespace", "namespaces", "/api/v1/namespaces", convert_namespace)
PODS = Resource("Pod", "pods", "/api/v1/pods", convert_pod)

#: By kind.
RESOURCES: dict[str, Resource] = {r.kind: r for r in (SERVICES, ENDPOINTSLICES, NAMESPACES, PODS)}
