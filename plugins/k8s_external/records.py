"""The records of *k8s_external* (CoreDNS's external.go, apex.go, msg_to_dns.go and the kubernetes
plugin's External), from a :class:`~.source.Cluster`.

API for the handler::

    answer = resolve(cluster, opts, req.labels, req.qtype)
    if answer is None: the name is outside opts.zones -> pass to the next plugin
    else: reply with answer.rcode (AA set) and the sections, then append the answers of
          answer.lookups (name, qtype, into_extra) looked up through the server's own chain

Names under a zone (``<zone>`` as spelled in the query; comparisons ignore ASCII case):

- ``<zone>``: SOA, NS ``ns1.<apex>.<zone>`` (addresses in the additional section), else NODATA;
- ``<apex>.<zone>``: NODATA; ``ns1.<apex>.<zone>``: A/AAAA of this server (see
  :meth:`~.source.Cluster.ns_addresses`), else NODATA; anything else below: NXDOMAIN;
- ``<ns>.<zone>``: NODATA when the namespace is exposed, else NXDOMAIN;
- ``<svc>.<ns>.<zone>``, ``<x>.<svc>.<ns>.<zone>``, ``<_port>.<_proto>.<svc>.<ns>.<zone>``: the
  Service's external addresses (spec.externalIPs, then load balancer ingress IPs) for each
  matching port. An ingress hostname is a CNAME (the handler looks its target up). As in CoreDNS,
  the extra label ``x`` is not checked unless ``headless`` applies; with ``headless``, a Service
  without external addresses that is headless (or is asked for ``x``) answers its ready
  endpoints (``x`` must then name one). Nothing matching: NXDOMAIN; other types: NODATA;
- SRV: priority 0, weight floor(100/N) over the N (address, port) pairs, targets
  ``<svc>.<ns>.<zone>`` (``<ep>.<svc>.<ns>.<zone>`` for endpoints, the hostname for an ingress
  hostname) with their addresses in the additional section;
- reverse zones among the zones: PTR ``<svc>.<ns>.<first forward zone>`` for a Service's external
  IP, NXDOMAIN when none has it.

Negative answers carry the SOA ``<zone> SOA ns1.<apex>.<zone> hostmaster.<apex>.<zone> <serial>
7200 1800 86400 <ttl>``, as CoreDNS builds it (its README shows an older SOA).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from dnslib import AAAA, CNAME, NS, PTR, RR, SOA, SRV, A, DNSLabel

from dnsd.authoritative import Answer, Lookup
from dnsd.plugins.k8s_external.setup import K8sExternalOptions
from dnsd.plugins.k8s_external.source import NO_PORTS, Cluster, PortLike, ServiceLike, is_ip

__all__ = ["Answer", "resolve", "soa_record"]

A_, NS_, CNAME_, SOA_, PTR_, AAAA_, SRV_ = 1, 2, 5, 6, 12, 28, 33
NOERROR, NXDOMAIN = 0, 3
IN = 1
HOSTMASTER = "hostmaster"
NS1 = "ns1"

#: (address or hostname, family 4/6 or 0 for a hostname, port, SRV target relative to the zone)
Item = tuple[str, int, int, str]


def _label(text: str) -> DNSLabel:
    return DNSLabel(text.encode())


def _join(*parts: str) -> str:
    """An absolute name from relative parts and a final absolute zone."""
    zone = parts[-1]
    rel = ".".join(p for p in parts[:-1] if p)
    if not rel:
        return zone
    return rel + ("." if zone == "." else "." + zone)


def soa_record(opts: K8sExternalOptions, zone: str, serial: int) -> RR:
    times = (serial & 0xFFFFFFFF, 7200, 1800, 86400, opts.ttl)
    mname = _label(_join(NS1, opts.apex, zone))
    rname = _label(_join(HOSTMASTER, opts.apex, zone))
    return RR(_label(zone), SOA_, IN, opts.ttl, SOA(mname, rname, times))


def _address(owner: DNSLabel, ip: str, ttl: int) -> RR:
    if ":" in ip:
        return RR(owner, AAAA_, IN, ttl, AAAA(ip))
    return RR(owner, A_, IN, ttl, A(ip))


def _family(host: str) -> int:
    """4 or 6 for an address, 0 for a hostname (CoreDNS msg.Service.HostType)."""
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return 0


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _valid_hostname(name: str) -> bool:
    text = name.rstrip(".")
    if not text or len(text) > 253 or not text.isascii() or is_ip(text):
        return False
    return all(0 < len(label) <= 63 for label in text.split("."))


class _Query:
    """One lookup: the cluster, the options, the name (as sent and lowercased) and its zone."""

    __slots__ = ("cluster", "opts", "labels", "low", "rel", "zone", "qtype", "owner")

    def __init__(
        self,
        cluster: Cluster,
        opts: K8sExternalOptions,
        labels: Sequence[bytes],
        low: tuple[str, ...],
        nz: int,
        qtype: int,
    ) -> None:
        self.cluster = cluster
        self.opts = opts
        self.labels = labels
        self.low = low
        self.rel = low[: len(labels) - nz]
        zone = labels[len(labels) - nz :]
        self.zone = ".".join(lab.decode("latin-1") for lab in zone) + "." if zone else "."
        self.qtype = qtype
        self.owner = DNSLabel(list(labels))

    def negative(self, rcode: int) -> Answer:
        return Answer(rcode, authority=[soa_record(self.opts, self.zone, self.cluster.serial)])


def _zone_labels(zone: str) -> tuple[str, ...]:
    return tuple(zone.rstrip(".").split(".")) if zone != "." else ()


def _match_zone(opts: K8sExternalOptions, low: tuple[str, ...]) -> int | None:
    """The number of labels of the longest zone of ``opts`` holding ``low``; None outside."""
    best: int | None = None
    for zone in opts.zones:
        labels = _zone_labels(zone)
        n = len(labels)
        if n <= len(low) and (n == 0 or low[-n:] == labels) and (best is None or n > best):
            best = n
    return best


def resolve(
    cluster: Cluster, opts: K8sExternalOptions, labels: Sequence[bytes], qtype: int
) -> Answer | None:
    """The answer for the name ``labels`` (raw, as sent) and ``qtype``; None when the name is
    outside ``opts.zones``."""
    low = tuple([lab.decode("latin-1").lower() for lab in labels])
    nz = _match_zone(opts, low)
    if nz is None:
        return None
    q = _Query(cluster, opts, labels, low, nz, qtype)
    if not q.rel:
        return _apex(q)
    if q.rel[-1] == opts.apex.lower():
        return _sub_apex(q)
    return _names(q)


# -- the apex and the name server's names -----------------------------------------------------


def _apex(q: _Query) -> Answer:
    if q.qtype == SOA_:
        return Answer(NOERROR, [soa_record(q.opts, q.zone, q.cluster.serial)])
    if q.qtype == NS_:
        target = _label(_join(NS1, q.opts.apex, q.zone))
        ns = RR(_label(q.zone), NS_, IN, q.opts.ttl, NS(target))
        extra = [_address(target, ip, q.opts.ttl) for ip in q.cluster.ns_addresses()]
        return Answer(NOERROR, [ns], extra=extra)
    return q.negative(NOERROR)


def _sub_apex(q: _Query) -> Answer:
    """``<apex>.<zone>`` is an empty non-terminal, ``ns1.<apex>.<zone>`` the name server."""
    if len(q.rel) == 1:
        return q.negative(NOERROR)
    if len(q.rel) > 2 or q.rel[0] != NS1:
        return q.negative(NXDOMAIN)
    if q.qtype in (A_, AAAA_):
        want = 4 if q.qtype == A_ else 6
        ips = [ip for ip in q.cluster.ns_addresses() if _family(ip) == want]
        if ips:
            return Answer(NOERROR, [_address(q.owner, ip, q.opts.ttl) for ip in ips])
    return q.negative(NOERROR)


# -- Services ----------------------------------------------------------------------------------


def _reverse_ip(low: Sequence[str]) -> str | None:
    """The address of a full reverse name (``4.3.2.1.in-addr.arpa``), None otherwise."""
    if tuple(low[-2:]) == ("in-addr", "arpa") and len(low) == 6:
        try:
            return ipaddress.IPv4Address(".".join(reversed(low[:4]))).compressed
        except ValueError:
            return None
    if tuple(low[-2:]) == ("ip6", "arpa") and len(low) == 34:
        nibbles = low[:32]
        if not all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
            return None
        return ipaddress.IPv6Address(int("".join(reversed(nibbles)), 16)).compressed
    return None


def _names(q: _Query) -> Answer:
    ip = _reverse_ip(q.low)
    if ip is not None:
        services = q.cluster.reverse(ip)
        if services:
            if q.qtype != PTR_:
                return q.negative(NOERROR)
            return _ptr(q, services)
        if q.qtype == PTR_:
            return q.negative(NXDOMAIN)
    found = _items(q)
    if found is None:
        return q.negative(NXDOMAIN)
    reply = Answer(NOERROR)
    if q.qtype in (A_, AAAA_):
        reply.answer, reply.lookups = _addresses(q, found, 4 if q.qtype == A_ else 6)
    elif q.qtype == SRV_:
        reply.answer, reply.extra, reply.lookups = _srv(q, found)
    return reply if reply.answer else q.negative(NOERROR)


def _port_match(port: str, proto: str, p: PortLike) -> bool:
    """CoreDNS matchPortAndProtocol: an empty port or protocol matches any."""
    return (not port or port == p.name.lower()) and (not proto or proto == p.protocol.lower())


def _items(q: _Query) -> list[Item] | None:
    """The (address, port) pairs of the name, None when it does not exist (CoreDNS External)."""
    rel = q.rel
    namespace = rel[-1]
    if not q.cluster.exposed(namespace):
        return None
    if len(rel) == 1:
        return []
    if len(rel) > 4:
        return None
    endpoint = port = proto = ""
    if len(rel) == 3:
        endpoint = rel[0].removeprefix("_")
    elif len(rel) == 4:
        port, proto = rel[0].removeprefix("_"), rel[1].removeprefix("_")
    svc = q.cluster.source.service(namespace, rel[-2])
    if svc is None:
        return None
    external = q.cluster.external(svc)
    if q.opts.headless and not external and (svc.headless or endpoint):
        items = _endpoints(q, svc, endpoint, port, proto)
    else:
        base = f"{svc.name}.{svc.namespace}"
        items = [
            (host, _family(host), p.port, base)
            for host in external
            for p in svc.ports or NO_PORTS
            if _port_match(port, proto, p)
        ]
    return items or None


def _endpoints(q: _Query, svc: ServiceLike, endpoint: str, port: str, proto: str) -> list[Item]:
    items: list[Item] = []
    base = f"{svc.name}.{svc.namespace}"
    for s in q.cluster.source.slices(svc.namespace, svc.name):
        for ep in s.endpoints:
            for ip in ep.addresses:
                label = q.cluster.ep_label(ep, ip)
                if endpoint and label.lower() != endpoint:
                    continue
                for p in s.ports or NO_PORTS:
                    if _port_match(port, proto, p):
                        items.append((ip, _family(ip), p.port, f"{label}.{base}"))
    return items


def _addresses(q: _Query, items: list[Item], want: int) -> tuple[list[RR], list[Lookup]]:
    """CoreDNS a()/aaaa(): the addresses of the family, once each; a hostname is a CNAME whose
    target's records of the same type are looked up."""
    records: list[RR] = []
    lookups: list[Lookup] = []
    seen: set[str] = set()
    ttl = q.opts.ttl
    me = ".".join(q.low) + "."
    for host, family, _, _ in items:
        if family not in (want, 0) or host in seen:
            continue
        seen.add(host)
        if family:
            records.append(_address(q.owner, host, ttl))
            continue
        target = _absolute(host)
        if not _valid_hostname(target) or target.lower() == me:
            continue
        records.append(RR(q.owner, CNAME_, IN, ttl, CNAME(_label(target))))
        lookups.append((target, q.qtype, False))
    return records, lookups


def _srv(q: _Query, items: list[Item]) -> tuple[list[RR], list[RR], list[Lookup]]:
    """CoreDNS srv(): priority 0, weight floor(100/N) (at least 1) over all N pairs; one SRV per
    (target, port), one address per (target, address) in the additional section."""
    weight = max(1, int(100.0 / (100 * len(items)) * 100.0))
    ttl = q.opts.ttl
    answer: list[RR] = []
    extra: list[RR] = []
    lookups: list[Lookup] = []
    seen: set[tuple[str, object]] = set()
    for host, family, port, base in items:
        if port == -1:
            continue
        if family:
            target = _join(base, q.zone)
        elif _valid_hostname(host):
            target = _absolute(host)
        else:
            continue
        name = _label(target)
        if (target, port) not in seen:
            seen.add((target, port))
            answer.append(RR(q.owner, SRV_, IN, ttl, SRV(0, weight, port, name)))
        if (target, host) in seen:
            continue
        seen.add((target, host))
        if family:
            extra.append(_address(name, host, ttl))
        else:
            lookups += [(target, A_, True), (target, AAAA_, True)]
    return answer, extra, lookups


def _ptr(q: _Query, services: list[ServiceLike]) -> Answer:
    zone = q.opts.primary_zone
    targets = dict.fromkeys(_join(svc.name, svc.namespace, zone) for svc in services)
    ttl = q.opts.ttl
    return Answer(NOERROR, [RR(q.owner, PTR_, IN, ttl, PTR(_label(t))) for t in targets])
