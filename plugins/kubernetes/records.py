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

from collections.abc import Sequence

from dnslib import CNAME, RR, SRV, TXT, DNSLabel

from dnsd.plugins.kubernetes.answer import (
    A_,
    AAAA_,
    CNAME_,
    DNS_SCHEMA_VERSION,
    DNS_VERSION_TTL,
    IN,
    NO_PORTS,
    NOERROR,
    NS_,
    NXDOMAIN,
    PODS_MODES,
    SOA_,
    SRV_,
    TXT_,
    Answer,
    Item,
    Options,
    Query,
    address_rr,
    ep_label,
    ip_family,
    join,
    label,
    match_zone,
    soa_record,
)
from dnsd.plugins.kubernetes.objects import Port, canonical_ip
from dnsd.plugins.kubernetes.reverse import ns_addrs, ns_records, reverse
from dnsd.plugins.kubernetes.store import Store

__all__ = ["Answer", "Options", "resolve", "soa_record", "ns_records", "match_zone", "ep_label"]
__all__ += ["DNS_SCHEMA_VERSION", "PODS_MODES"]


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
    q = Query(store, opts, labels, low, matched[0], qtype)
    if matched[1] and q.rel:
        return reverse(q)
    answer = _forward(q)
    rel = q.rel
    if len(rel) >= 3 and rel[-1] in ("svc", "pod"):
        answer.namespace = rel[-2]  # Services, slices, Pods of that namespace; Namespaces
    return answer


# -- forward zones ---------------------------------------------------------------------------


def _forward(q: Query) -> Answer:
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
        ips = dict.fromkeys(ip for _, ip in ns_addrs(q.store, q.opts, q.zone))
        answer = [address_rr(q.owner, ip, q.opts.ttl) for ip in ips if ip_family(ip) == want]
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
        reply.answer = [RR(q.owner, CNAME_, IN, q.opts.ttl, CNAME(label(target)))]
    return reply if reply.answer else q.negative(NOERROR)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _items(q: Query, rel: Sequence[str]) -> tuple[list[Item], str] | None:
    """The records under relative name ``rel`` (address records and the SRV base name), or
    None when the name does not exist (CoreDNS: Records, findServices, findPods)."""
    rel = tuple(rel)
    n = len(rel)
    if n == 0 or rel == ("dns-version",) or rel == ("dns",):
        return [], ""
    if rel == ("ns", "dns"):
        ips = dict.fromkeys(ip for _, ip in ns_addrs(q.store, q.opts, q.zone))
        return [(ip_family(ip), ip, 0, None) for ip in ips], ""
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
    q: Query, namespace: str, name: str, endpoint: str, port: str, proto: str
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
                    for p in s.ports or NO_PORTS:
                        if _port_match(port, proto, p):
                            found = True
                            items.append((s.family, ip, p.port, ep))
        return (items, base) if found else None
    for p in svc.ports or NO_PORTS:
        if _port_match(port, proto, p):
            found = True
            items.extend((ip_family(ip), ip, p.port, None) for ip in svc.cluster_ips)
    return (items, base) if found else None


def _valid_target(name: str) -> bool:
    """An ExternalName usable as a CNAME target: a domain name, not an IP address."""
    text = name.rstrip(".")
    if not text or len(text) > 253 or not text.isascii() or canonical_ip(text) is not None:
        return False
    return all(0 < len(label) <= 63 for label in text.split("."))


def _pods(q: Query, namespace: str, rest: Sequence[str]) -> tuple[list[Item], str] | None:
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
    return [(ip_family(ip), ip, 0, None)], f"{name}.{namespace}.pod"


def _addresses(
    q: Query,
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
                records.append(address_rr(owner, host, ttl))
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
        cname = RR(owner, CNAME_, IN, ttl, CNAME(label(target)))
        inside = _in_zone(q, target_low)
        if inside is None:
            records.append(cname)
            external = target
            continue
        found = _items(q, inside)
        if found is not None:
            low = target_low.rstrip(".").split(".")
            more, ext = _addresses(q, label(target), low, found[0], want, [*chain, target_low])
            if more:
                records += [cname, *more]
                external = external or ext
    return records, external


def _in_zone(q: Query, name_low: str) -> list[str] | None:
    """The labels of absolute ``name_low`` relative to the query's zone, None outside it."""
    if q.zone_low == ".":
        return name_low.rstrip(".").split(".") if name_low != "." else []
    if name_low == q.zone_low:
        return []
    if name_low.endswith("." + q.zone_low):
        return name_low[: -len(q.zone_low) - 1].split(".")
    return None


def _srv(q: Query, items: list[Item], base: str) -> tuple[list[RR], list[RR]]:
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
        target = join(ep_label(q.opts, ep, host) if ep is not None else "", base, q.zone)
        name = label(target)
        if (target, port) not in seen:
            seen.add((target, port))
            answer.append(RR(q.owner, SRV_, IN, ttl, SRV(0, weight, port, name)))
        if (target, host) not in seen:
            seen.add((target, host))
            extra.append(address_rr(name, host, ttl))
    return answer, extra
