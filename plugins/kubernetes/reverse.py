"""Reverse zones (PTR for cluster IPs and endpoint IPs) and the apex NS records."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from dnslib import NS, PTR, RR

from dnsd.plugins.kubernetes.answer import (
    IN,
    NOERROR,
    NS_,
    NXDOMAIN,
    PTR_,
    REVERSE_ZONES,
    Answer,
    Options,
    Query,
    address_rr,
    ep_label,
    join,
    label,
)
from dnsd.plugins.kubernetes.objects import canonical_ip
from dnsd.plugins.kubernetes.store import Store

# -- the apex NS records -----------------------------------------------------------------------


def ns_addrs(store: Store, opts: Options, zone: str) -> list[tuple[str, str]]:
    """(name, IP) of this server (CoreDNS nsAddrs): the Services whose endpoints hold one of
    ``opts.dns_ips`` (headless: the endpoints' names), else ``ns.dns.<zone>`` with those IPs."""
    if zone.lower().endswith(REVERSE_ZONES):
        zone = opts.primary_zone
    found: list[tuple[str, str]] = []
    if not opts.noendpoints:
        for local in opts.dns_ips:
            for s in store.slices_by_ip(local):
                svc = store.service(s.namespace, s.service)
                if svc is None:
                    continue
                name = join(svc.name, svc.namespace, "svc", zone)
                if not svc.headless:
                    found.extend((name, ip) for ip in svc.cluster_ips)
                    continue
                for ep in s.endpoints:
                    found.extend((join(ep_label(opts, ep, ip), name), ip) for ip in ep.addresses)
    if not found:
        found = [(join("ns.dns", zone), ip) for ip in opts.dns_ips]
    unique: dict[str, str] = {}
    for name, ip in found:
        unique.setdefault(ip, name)
    return [(name, ip) for ip, name in unique.items()]


def ns_records(store: Store, opts: Options, zone: str) -> tuple[list[RR], list[RR]]:
    """The apex NS records of ``zone`` (as spelled in the query) and their addresses."""
    answer: list[RR] = []
    extra: list[RR] = []
    seen: set[str] = set()
    owner = label(zone)
    for name, ip in ns_addrs(store, opts, zone):
        target = label(name)
        extra.append(address_rr(target, ip, opts.ttl))
        if name not in seen:
            seen.add(name)
            answer.append(RR(owner, NS_, IN, opts.ttl, NS(target)))
    return answer, extra


# -- reverse zones -----------------------------------------------------------------------------


def reverse(q: Query) -> Answer:
    """A name below a reverse zone's apex (the apex itself is answered like a forward zone's)."""
    ip = _reverse_ip(q.low)
    targets = _ptr_targets(q, ip) if ip is not None else []
    if not targets:
        return q.negative(NXDOMAIN)
    if q.qtype != PTR_:
        return q.negative(NOERROR)
    answer = [RR(q.owner, PTR_, IN, q.opts.ttl, PTR(label(t))) for t in targets]
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


def _ptr_targets(q: Query, ip: str) -> list[str]:
    """CoreDNS serviceRecordForIP: the first Service with that cluster IP, else one name per
    endpoint (and Service) holding it, all in the primary zone."""
    opts, store = q.opts, q.store
    filtered = bool(opts.namespaces) or opts.namespace_labels is not None
    zone = opts.primary_zone
    for svc in store.services_by_ip(ip):
        if not filtered or q.exposed(svc.namespace):
            return [join(svc.name, svc.namespace, "svc", zone)]
    if opts.noendpoints:
        return []
    targets: list[str] = []
    for s in store.slices_by_ip(ip):
        if filtered and not q.exposed(s.namespace):
            continue
        for ep in s.endpoints:
            if ip in ep.addresses:
                name = join(ep_label(opts, ep, ip), s.service, s.namespace, "svc", zone)
                if name not in targets:
                    targets.append(name)
    return targets
