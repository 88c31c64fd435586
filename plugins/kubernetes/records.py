"""The Kubernetes DNS records (kubernetes/dns specification 1.1.0, CoreDNS's matrix), from a store.

API for the handler::

    answer = resolve(store, opts, req.labels, req.qtype)   # or a qname string
    if answer is None: the name is outside opts.zones -> pass to the next plugin
    else: reply with answer.rcode (AA set), answer.answer, answer.authority and answer.extra

- ``Answer.rcode`` is NOERROR or NXDOMAIN. NXDOMAIN is a "name error": the handler applies
  ``fallthrough`` to it, and while the store is not synced answers SERVFAIL (still with the SOA)
  as CoreDNS does.
- ``Answer.authority`` holds the zone's SOA on every negative answer (NXDOMAIN and NODATA) and is
  empty otherwise; ``Answer.soa`` says whether it is there.
- ``Answer.cname_target``: the answer ends with a CNAME to a name outside the zone (ExternalName
  Service, A/AAAA queries only). The handler looks that name up with the same qtype through the
  server's own chain and appends the lookup's answer records (CoreDNS: plugin/pkg/upstream). Targets
  inside the zone are followed here, as CoreDNS does (at most 8 CNAMEs, no loops).
- ``soa_record(zone, ttl, serial)`` and ``ns_records(store, opts, zone)`` build the apex records.

Owner names are the query's labels as sent (case kept); names built from objects keep the
objects' names and the query's spelling of the zone; comparisons ignore ASCII case.

Where dnsd differs from CoreDNS (each is a name that exists answering NODATA rather than
NXDOMAIN, or an obvious bug not copied):

- a name that has some record answers NODATA for every other type: TXT and SOA queries are
  decided like the others (CoreDNS answers TXT with NODATA for *any* name, and SOA with the zone's
  SOA for any name); ``dns-version.<zone>`` and ``dns.<zone>`` exist (CoreDNS: NXDOMAIN for A);
  a reverse name with a PTR answers NODATA for other types (CoreDNS: NXDOMAIN);
- ``x.<pod>.<ns>.pod.<zone>`` is NXDOMAIN (CoreDNS ignores the extra labels);
- pods are found by any of their IPs (``status.podIPs``), IPs are compared in canonical form;
- the NS records' addresses use all of a Service's cluster IPs (dual stack), reverse zones name
  them in the primary zone, and PTR answers also respect ``namespace_labels``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from dnslib import AAAA, CNAME, NS, PTR, RR, SOA, SRV, TXT, A, DNSLabel

from dnsd.plugins.kubernetes.objects import Endpoint, Port, canonical_ip
from dnsd.plugins.kubernetes.selector import Selector
from dnsd.plugins.kubernetes.store import Store

__all__ = ["Answer", "Options", "resolve", "soa_record", "ns_records", "match_zone", "ep_label"]
__all__ += ["DNS_SCHEMA_VERSION", "PODS_MODES"]

A_, NS_, CNAME_, SOA_, PTR_, TXT_, AAAA_, SRV_ = 1, 2, 5, 6, 12, 16, 28, 33
NOERROR, NXDOMAIN = 0, 3
IN = 1

DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800
PODS_MODES = ("disabled", "insecure", "verified")

_NO_PORTS = (Port("", "", -1),)  # CoreDNS's sentinel: a port-less object still has addresses
_REVERSE = ("in-addr.arpa.", "ip6.arpa.")

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
            primary = next((z for z in zones if not z.endswith(_REVERSE)), "")
            object.__setattr__(self, "primary_zone", primary)
        matching = sorted(
            ((_zone_labels(z), z.endswith(_REVERSE)) for z in zones), key=lambda x: -len(x[0])
        )
        object.__setattr__(self, "_zones", tuple(matching))


def _zone_labels(zone: str) -> tuple[str, ...]:
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


def _join(*parts: str) -> str:
    """Absolute name from relative parts and a final absolute zone."""
    zone = parts[-1]
    rel = ".".join(p for p in parts[:-1] if p)
    if not rel:
        return zone
    return rel + ("." if zone == "." else "." + zone)


def _label(text: str) -> DNSLabel:
    return DNSLabel(text.encode())


def soa_record(zone: str, ttl: int, serial: int) -> RR:
    """CoreDNS's SOA: ``zone. min(ttl,300) SOA ns.dns.zone. hostmaster.zone. serial 7200 1800
    86400 ttl``."""
    times = (serial & 0xFFFFFFFF, 7200, 1800, 86400, ttl)
    rdata = SOA(_label(_join("ns.dns", zone)), _label(_join("hostmaster", zone)), times)
    return RR(_label(zone), SOA_, IN, min(ttl, 300), rdata)


def _address(owner: DNSLabel, ip: str, ttl: int) -> RR:
    if ":" in ip:
        return RR(owner, AAAA_, IN, ttl, AAAA(ip))
    return RR(owner, A_, IN, ttl, A(ip))


def _family(ip: str) -> int:
    return 6 if ":" in ip else 4


class _Query:
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


def _split(qname: str | Sequence[bytes]) -> tuple[bytes, ...]:
    if isinstance(qname, str):
        text = qname.rstrip(".")
        return tuple(text.encode("latin-1").split(b".")) if text else ()
    return tuple(qname)


def resolve(store: Store, opts: Options, qname: str | Sequence[bytes], qtype: int) -> Answer | None:
    """The answer for ``qname`` (raw labels, or presentation text) and ``qtype``; None when the
    name is outside ``opts.zones``."""
    labels = _split(qname)
    low = tuple([lab.decode("latin-1").lower() for lab in labels])
    matched = match_zone(opts, low)
    if matched is None:
        return None
    q = _Query(store, opts, labels, low, matched[0], qtype)
    return _reverse(q) if matched[1] else _forward(q)


# -- forward zones ---------------------------------------------------------------------------


def _forward(q: _Query) -> Answer:
    rel, qtype = q.rel, q.qtype
    if not rel:
        if qtype == SOA_:
            return Answer(NOERROR, q.zone, [soa_record(q.zone, q.opts.ttl, q.store.serial)])
        if qtype == NS_:
            answer, extra = ns_records(q.store, q.opts, q.zone)
            if answer:
                return Answer(NOERROR, q.zone, answer, extra=extra)
        return q.negative(NOERROR)
    if rel == ("dns-version",) and qtype == TXT_:
        txt = RR(q.owner, TXT_, IN, DNS_VERSION_TTL, TXT(DNS_SCHEMA_VERSION))
        return Answer(NOERROR, q.zone, [txt])
    if rel == ("ns", "dns"):
        if qtype not in (A_, AAAA_):
            return q.negative(NOERROR)
        want = 4 if qtype == A_ else 6
        ips = dict.fromkeys(ip for _, ip in _ns_addrs(q.store, q.opts, q.zone))
        answer = [_address(q.owner, ip, q.opts.ttl) for ip in ips if _family(ip) == want]
        return Answer(NOERROR, q.zone, answer) if answer else q.negative(NOERROR)
    found = _items(q, rel)
    if found is None:
        return q.negative(NXDOMAIN)
    items, base = found
    reply = Answer(NOERROR, q.zone)
    if qtype in (A_, AAAA_):
        want = 4 if qtype == A_ else 6
        reply.answer, reply.cname_target = _addresses(q, q.owner, q.low, items, want, [])
    elif qtype == SRV_:
        reply.answer, reply.extra = _srv(q, items, base)
    elif qtype == CNAME_ and items and items[0][0] == 0:
        target = _absolute(items[0][1])
        reply.answer = [RR(q.owner, CNAME_, IN, q.opts.ttl, CNAME(_label(target)))]
    return reply if reply.answer else q.negative(NOERROR)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _items(q: _Query, rel: Sequence[str]) -> tuple[list[Item], str] | None:
    """The records under relative name ``rel`` (address records and the SRV base name), or
    None when the name does not exist (CoreDNS: Records, findServices, findPods)."""
    rel = tuple(rel)
    n = len(rel)
    if n == 0 or rel == ("dns-version",) or rel == ("dns",):
        return [], ""
    if rel == ("ns", "dns"):
        ips = dict.fromkeys(ip for _, ip in _ns_addrs(q.store, q.opts, q.zone))
        return [(_family(ip), ip, 0, None) for ip in ips], ""
    kind = rel[-1]
    if kind not in ("svc", "pod"):
        return None
    if n == 1:
        return [], ""
    namespace = rel[-2]
    if not q.exposed(namespace):
        return None
    if kind == "pod":
        return _pods(q, namespace, rel[:-2])
    if n == 2:
        return [], ""
    endpoint = port = proto = ""
    if n == 4:
        endpoint = rel[0]
    elif n == 5:
        port, proto = rel[0].removeprefix("_"), rel[1].removeprefix("_")
    elif n > 5:
        return None
    return _services(q, namespace, rel[-3], endpoint, port, proto)


def _port_match(port: str, proto: str, p: Port) -> bool:
    return (not port or port == p.name.lower()) and (not proto or proto == p.protocol.lower())


def _services(
    q: _Query, namespace: str, name: str, endpoint: str, port: str, proto: str
) -> tuple[list[Item], str] | None:
    svc = q.store.service(namespace, name)
    if svc is None:
        return None
    slices = () if q.opts.noendpoints else q.store.slices(namespace, name)
    external = svc.type == "ExternalName"
    if q.opts.ignore_empty_service and not external and not svc.headless:
        if not any(ep.addresses for s in slices for ep in s.endpoints):
            return None
    base = f"{svc.name}.{svc.namespace}.svc"
    if external:
        target = svc.external_name
        if endpoint or not _valid_target(target):
            return None
        return [(0, target, 0, None)], base
    items: list[Item] = []
    found = False
    if svc.headless or endpoint:
        for s in slices:
            for ep in s.endpoints:
                for ip in ep.addresses:
                    if endpoint and ep_label(q.opts, ep, ip).lower() != endpoint:
                        continue
                    for p in s.ports or _NO_PORTS:
                        if _port_match(port, proto, p):
                            found = True
                            items.append((s.family, ip, p.port, ep))
        return (items, base) if found else None
    for p in svc.ports or _NO_PORTS:
        if _port_match(port, proto, p):
            found = True
            items.extend((_family(ip), ip, p.port, None) for ip in svc.cluster_ips)
    return (items, base) if found else None


def _valid_target(name: str) -> bool:
    """An ExternalName usable as a CNAME target: a domain name, not an IP address."""
    text = name.rstrip(".")
    if not text or len(text) > 253 or not text.isascii() or canonical_ip(text) is not None:
        return False
    return all(0 < len(label) <= 63 for label in text.split("."))


def _pods(q: _Query, namespace: str, rest: Sequence[str]) -> tuple[list[Item], str] | None:
    mode = q.opts.pods
    if mode not in ("insecure", "verified"):
        return None
    if not rest:
        return [], ""
    if len(rest) > 1:
        return None
    name = rest[0]
    if name.count("-") == 3 and "--" not in name:
        ip = canonical_ip(name.replace("-", "."))
    else:
        ip = canonical_ip(name.replace("-", ":"))
    if ip is None:
        return None
    if mode == "verified" and not any(p.namespace == namespace for p in q.store.pods_by_ip(ip)):
        return None
    return [(_family(ip), ip, 0, None)], f"{name}.{namespace}.pod"


def _addresses(
    q: _Query,
    owner: DNSLabel,
    owner_low: Sequence[str],
    items: list[Item],
    want: int,
    chain: list[str],
) -> tuple[list[RR], str | None]:
    """A or AAAA records (CoreDNS plugin.A/AAAA), following CNAMEs that stay in the zone."""
    records: list[RR] = []
    external: str | None = None
    seen: set[str] = set()
    ttl = q.opts.ttl
    for family, host, _, _ in items:
        if family == want:
            if host not in seen:
                seen.add(host)
                records.append(_address(owner, host, ttl))
            continue
        if family:
            continue
        target = _absolute(host)
        target_low = target.lower()
        me = ".".join(owner_low) + "."
        if target_low == me or target_low.endswith("." + me) or len(chain) > 7:
            continue  # x CNAME x (or below x), or too long a chain
        if target_low in chain:
            continue  # a loop
        cname = RR(owner, CNAME_, IN, ttl, CNAME(_label(target)))
        inside = _in_zone(q, target_low)
        if inside is None:
            records.append(cname)
            external = target
            continue
        found = _items(q, inside)
        if found is not None:
            low = target_low.rstrip(".").split(".")
            more, ext = _addresses(q, _label(target), low, found[0], want, [*chain, target_low])
            if more:
                records += [cname, *more]
                external = external or ext
    return records, external


def _in_zone(q: _Query, name_low: str) -> list[str] | None:
    """The labels of absolute ``name_low`` relative to the query's zone, None outside it."""
    if q.zone_low == ".":
        return name_low.rstrip(".").split(".") if name_low != "." else []
    if name_low == q.zone_low:
        return []
    if name_low.endswith("." + q.zone_low):
        return name_low[: -len(q.zone_low) - 1].split(".")
    return None


def _srv(q: _Query, items: list[Item], base: str) -> tuple[list[RR], list[RR]]:
    """CoreDNS's plugin.SRV: priority 0, weight floor(100/N) (at least 1) over the N entries,
    targets' addresses in the additional section."""
    items = [i for i in items if i[0]]  # SRV never follows an ExternalName
    if not items:
        return [], []
    weight = max(1, int(100.0 / (100 * len(items)) * 100.0))
    ttl = q.opts.ttl
    answer: list[RR] = []
    extra: list[RR] = []
    seen: set[tuple[str, object]] = set()
    for _, host, port, ep in items:
        if port == -1:
            continue
        target = _join(ep_label(q.opts, ep, host) if ep is not None else "", base, q.zone)
        name = _label(target)
        if (target, port) not in seen:
            seen.add((target, port))
            answer.append(RR(q.owner, SRV_, IN, ttl, SRV(0, weight, port, name)))
        if (target, host) not in seen:
            seen.add((target, host))
            extra.append(_address(name, host, ttl))
    return answer, extra


# -- the apex NS records -----------------------------------------------------------------------


def _ns_addrs(store: Store, opts: Options, zone: str) -> list[tuple[str, str]]:
    """(name, IP) of this server (CoreDNS nsAddrs): the Services whose endpoints hold one of
    ``opts.dns_ips`` (headless: the endpoints' names), else ``ns.dns.<zone>`` with those IPs."""
    if zone.lower().endswith(_REVERSE):
        zone = opts.primary_zone
    found: list[tuple[str, str]] = []
    if not opts.noendpoints:
        for local in opts.dns_ips:
            for s in store.slices_by_ip(local):
                svc = store.service(s.namespace, s.service)
                if svc is None:
                    continue
                name = _join(svc.name, svc.namespace, "svc", zone)
                if not svc.headless:
                    found.extend((name, ip) for ip in svc.cluster_ips)
                    continue
                for ep in s.endpoints:
                    found.extend((_join(ep_label(opts, ep, ip), name), ip) for ip in ep.addresses)
    if not found:
        found = [(_join("ns.dns", zone), ip) for ip in opts.dns_ips]
    unique: dict[str, str] = {}
    for name, ip in found:
        unique.setdefault(ip, name)
    return [(name, ip) for ip, name in unique.items()]


def ns_records(store: Store, opts: Options, zone: str) -> tuple[list[RR], list[RR]]:
    """The apex NS records of ``zone`` (as spelled in the query) and their addresses."""
    answer: list[RR] = []
    extra: list[RR] = []
    seen: set[str] = set()
    owner = _label(zone)
    for name, ip in _ns_addrs(store, opts, zone):
        target = _label(name)
        extra.append(_address(target, ip, opts.ttl))
        if name not in seen:
            seen.add(name)
            answer.append(RR(owner, NS_, IN, opts.ttl, NS(target)))
    return answer, extra


# -- reverse zones -----------------------------------------------------------------------------


def _reverse(q: _Query) -> Answer:
    if not q.rel:
        return _forward(q)  # the apex: SOA, NS, else NODATA
    ip = _reverse_ip(q.low)
    targets = _ptr_targets(q, ip) if ip is not None else []
    if not targets:
        return q.negative(NXDOMAIN)
    if q.qtype != PTR_:
        return q.negative(NOERROR)
    answer = [RR(q.owner, PTR_, IN, q.opts.ttl, PTR(_label(t))) for t in targets]
    return Answer(NOERROR, q.zone, answer)


def _reverse_ip(low: Sequence[str]) -> str | None:
    """The address of a full reverse name (``4.3.2.1.in-addr.arpa``), None otherwise."""
    if tuple(low[-2:]) == ("in-addr", "arpa") and len(low) == 6:
        return canonical_ip(".".join(reversed(low[:4])))
    if tuple(low[-2:]) == ("ip6", "arpa") and len(low) == 34:
        nibbles = low[:32]
        if not all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
            return None
        digits = "".join(reversed(nibbles))
        return ipaddress.IPv6Address(int(digits, 16)).compressed
    return None


def _ptr_targets(q: _Query, ip: str) -> list[str]:
    """CoreDNS serviceRecordForIP: the first Service with that cluster IP, else one name per
    endpoint (and Service) holding it, all in the primary zone."""
    opts, store = q.opts, q.store
    filtered = bool(opts.namespaces) or opts.namespace_labels is not None
    zone = opts.primary_zone
    for svc in store.services_by_ip(ip):
        if not filtered or q.exposed(svc.namespace):
            return [_join(svc.name, svc.namespace, "svc", zone)]
    if opts.noendpoints:
        return []
    targets: list[str] = []
    for s in store.slices_by_ip(ip):
        if filtered and not q.exposed(s.namespace):
            continue
        for ep in s.endpoints:
            if ip in ep.addresses:
                name = _join(ep_label(opts, ep, ip), s.service, s.namespace, "svc", zone)
                if name not in targets:
                    targets.append(name)
    return targets
