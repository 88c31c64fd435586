"""The pieces every Kubernetes record answer is built from: options, the answer, one lookup.

See :mod:`dnsd.plugins.kubernetes.records` for the answering rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dnslib import AAAA, RR, SOA, A, DNSLabel

from dnsd.plugins.kubernetes.objects import Endpoint, Port
from dnsd.plugins.kubernetes.selector import Selector
from dnsd.plugins.kubernetes.store import Store

A_, NS_, CNAME_, SOA_, PTR_, TXT_, AAAA_, SRV_ = 1, 2, 5, 6, 12, 16, 28, 33
NOERROR, NXDOMAIN = 0, 3
IN = 1

DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800
PODS_MODES = ("disabled", "insecure", "verified")

NO_PORTS = (Port("", "", -1),)  # CoreDNS's sentinel: a port-less object still has addresses
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")

#: (family 4/6, or 0 for a CNAME target; address or target; port; endpoint for SRV names)
Item = tuple[int, str, int, Endpoint | None]


@dataclass(frozen=True, slots=True)
class Options:
    """What *records* needs of the plugin's configuration (CoreDNS's defaults)."""

    #: Absolute zones; the first non-reverse one is the primary zone (PTR targets).
    zones: tuple[str, ...] = ("cluster.local.",)
    ttl: int = 5
    pods: str = "disabled"
    endpoint_pod_names: bool = False
    #: Only these namespaces are exposed (empty: all).
    namespaces: frozenset[str] = frozenset()
    namespace_labels: Selector | None = None
    ignore_empty_service: bool = False
    noendpoints: bool = False
    #: This server's own IPs (A/AAAA of ns.dns.<zone>, or found behind a Service).
    dns_ips: tuple[str, ...] = ()
    #: Computed from ``zones`` when empty.
    primary_zone: str = ""
    _zones: tuple[tuple[tuple[str, ...], bool], ...] = field(
        init=False, default=(), repr=False, compare=False
    )

    def __post_init__(self) -> None:
        zones = tuple(z.lower() if z.endswith(".") else z.lower() + "." for z in self.zones)
        object.__setattr__(self, "zones", zones)
        object.__setattr__(self, "namespaces", frozenset(n.lower() for n in self.namespaces))
        if not self.primary_zone:
            primary = next((z for z in zones if not z.endswith(REVERSE_ZONES)), "")
            object.__setattr__(self, "primary_zone", primary)
        matching = sorted(
            ((zone_labels(z), z.endswith(REVERSE_ZONES)) for z in zones), key=lambda x: -len(x[0])
        )
        object.__setattr__(self, "_zones", tuple(matching))


def zone_labels(zone: str) -> tuple[str, ...]:
    return tuple(zone.rstrip(".").split(".")) if zone != "." else ()


@dataclass(slots=True)
class Answer:
    rcode: int
    #: The matched zone as spelled in the query, absolute.
    zone: str
    answer: list[RR] = field(default_factory=list)
    #: The SOA on negative answers.
    authority: list[RR] = field(default_factory=list)
    extra: list[RR] = field(default_factory=list)
    #: A name outside the zone the answer's last CNAME points to (see the module docstring).
    cname_target: str | None = None
    #: The namespace whose objects (and the Namespaces) alone decide this answer: a name under
    #: ``<namespace>.svc`` or ``<namespace>.pod``; None when any change may alter it.
    namespace: str | None = None

    @property
    def soa(self) -> bool:
        return bool(self.authority)


def match_zone(opts: Options, low: Sequence[str]) -> tuple[int, bool] | None:
    """(labels in the zone, is reverse) of the longest zone of ``opts`` holding the lowercased
    labels ``low``; None outside them."""
    for labels, reverse in opts._zones:
        n = len(labels)
        if n <= len(low) and (n == 0 or tuple(low[-n:]) == labels):
            return n, reverse
    return None


def join(*parts: str) -> str:
    """Absolute name from relative parts and a final absolute zone."""
    zone = parts[-1]
    rel = ".".join(p for p in parts[:-1] if p)
    if not rel:
        return zone
    return rel + ("." if zone == "." else "." + zone)


def label(text: str) -> DNSLabel:
    return DNSLabel(text.encode())


def soa_record(zone: str, ttl: int, serial: int) -> RR:
    """CoreDNS's SOA: ``zone. min(ttl,300) SOA ns.dns.zone. hostmaster.zone. serial 7200 1800
    86400 ttl``."""
    times = (serial & 0xFFFFFFFF, 7200, 1800, 86400, ttl)
    rdata = SOA(label(join("ns.dns", zone)), label(join("hostmaster", zone)), times)
    return RR(label(zone), SOA_, IN, min(ttl, 300), rdata)


def address_rr(owner: DNSLabel, ip: str, ttl: int) -> RR:
    if ":" in ip:
        return RR(owner, AAAA_, IN, ttl, AAAA(ip))
    return RR(owner, A_, IN, ttl, A(ip))


def ip_family(ip: str) -> int:
    return 6 if ":" in ip else 4


class Query:
    """One lookup: the store, the options, the name (as sent and lowercased) and its zone."""

    __slots__ = ("store", "opts", "labels", "low", "rel", "zone", "zone_low", "qtype", "owner")

    def __init__(
        self,
        store: Store,
        opts: Options,
        labels: tuple[bytes, ...],
        low: tuple[str, ...],
        nz: int,
        qtype: int,
    ) -> None:
        self.store = store
        self.opts = opts
        self.labels = labels
        self.low = low
        self.rel = low[: len(labels) - nz]
        zone = labels[len(labels) - nz :]
        self.zone = ".".join(lab.decode("latin-1") for lab in zone) + "." if zone else "."
        self.zone_low = self.zone.lower()
        self.qtype = qtype
        self.owner = DNSLabel(labels)

    def negative(self, rcode: int) -> Answer:
        soa = soa_record(self.zone, self.opts.ttl, self.store.serial)
        return Answer(rcode, self.zone, authority=[soa])

    def exposed(self, namespace: str) -> bool:
        """CoreDNS's namespaceExposed: configured, existing, and matching namespace_labels."""
        opts = self.opts
        if opts.namespaces and namespace not in opts.namespaces:
            return False
        ns = self.store.namespace(namespace)
        if ns is None:
            return False
        return opts.namespace_labels is None or opts.namespace_labels.matches(ns.label_map())


def ep_label(opts: Options, ep: Endpoint, ip: str) -> str:
    """An endpoint's name (CoreDNS endpointHostname): its hostname, else (endpoint_pod_names)
    its Pod's name, else its address dashed (``10-0-0-1``, ``2001-db8--1``, ``fd00--0``)."""
    if ep.hostname:
        return ep.hostname
    if opts.endpoint_pod_names and ep.pod_name:
        return ep.pod_name
    if ":" not in ip:
        return ip.replace(".", "-")
    dashed = ip.replace(":", "-")
    return dashed + "0" if dashed.endswith("-") else dashed
