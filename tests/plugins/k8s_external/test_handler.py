"""Handler of *k8s_external*: one row per query against one cluster held by a real *kubernetes*
handler (bound the way the start-up hook binds it).

Each row: query name and type, options variant, rcode, answer and additional records as zone-file
text (sorted, read back by dnspython from the packed reply), whether the SOA is in the authority
section, or that the query was passed to the next plugin.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import pytest

from dnsd.fall import Fallthrough
from dnsd.plugins.k8s_external.handler import K8sExternal
from dnsd.plugins.k8s_external.setup import K8sExternalOptions
from dnsd.plugins.k8s_external.source import Cluster
from dnsd.plugins.kubernetes import records as k8s_records
from dnsd.plugins.kubernetes.handler import Kubernetes
from dnsd.plugins.kubernetes.objects import (
    convert_endpointslice,
    convert_namespace,
    convert_service,
)
from dnsd.plugins.kubernetes.selector import parse_selector
from dnsd.plugins.kubernetes.setup import KubernetesOptions
from dnsd.plugins.kubernetes.store import Store
from tests.handlers import PASSED, ask, lines
from tests.plugins.kubernetes.test_objects import ep, eps, ns, svc

SERIAL = 1700000000

NAMESPACES = [ns("default", team="a"), ns("kube-system"), ns("secret", team="x")]
SERVICES = [
    svc("default", "svc1", "10.0.0.1", external_ips=["1.2.3.4"]),
    svc("default", "svc6", "10.0.0.6", external_ips=["1:2::5"]),
    svc("default", "dual", "10.0.0.7", external_ips=["1.2.3.7", "fd00::7"]),
    svc(
        "default",
        "lb",
        "10.0.0.2",
        type="LoadBalancer",
        ports=[("http", "TCP", 80), ("https", "TCP", 443)],
        ingress=[{"ip": "5.6.7.8"}],
    ),
    svc("default", "lbhost", "10.0.0.3", type="LoadBalancer", ingress=[{"hostname": "lb.ex.net"}]),
    svc(
        "default",
        "mixed",
        "10.0.0.4",
        type="LoadBalancer",
        external_ips=["1.2.3.10"],
        ingress=[{"hostname": "lb.ex.net"}],
    ),
    svc("default", "multi", "10.0.0.5", external_ips=["1.2.3.5", "1.2.3.6"]),
    svc("default", "noports", "10.0.0.8", external_ips=["1.2.3.8"], ports=[]),
    svc("default", "internal", "10.0.0.9"),
    svc("default", "web", "10.0.0.11"),
    svc("default", "hl", "None", ports=[("postgres", "TCP", 5432)]),
    svc("default", "hl-ext", "None", external_ips=["1.2.3.9"]),
    svc("default", "hl-empty", "None"),
    svc(
        "kube-system",
        "kube-dns",
        "10.96.0.10",
        external_ips=["192.0.2.53", "2001:db8::53"],
        ports=[("dns", "UDP", 53)],
    ),
    svc("secret", "vault", "10.0.1.1", external_ips=["1.2.3.20"]),
]
SLICES = [
    eps(
        "default",
        "hl",
        ep("10.244.1.1", hostname="db-0", pod="db-0"),
        ep("10.244.1.2", pod="db-1"),
        ep("10.244.1.3", pod="db-2", ready=False),
        ports=[("postgres", "TCP", 5432)],
    ),
    eps(
        "default",
        "hl",
        ep("fd00::1:5", pod="db-3"),
        family="IPv6",
        ports=[("postgres", "TCP", 5432)],
    ),
    eps("default", "web", ep("10.244.2.1", pod="web-0")),
    eps("kube-system", "kube-dns", ep("10.244.9.9", pod="coredns-abc"), ports=[("dns", "UDP", 53)]),
]

ZONES = ("example.com.", "in-addr.arpa.", "ip6.arpa.")
BASE = K8sExternalOptions(zones=ZONES)
DNS_IPS = {"dns_ips": ("10.244.9.9",)}
#: variant -> (k8s_external options, the kubernetes plugin's record options)
VARIANTS: dict[str, tuple[K8sExternalOptions, dict[str, Any]]] = {
    "default": (BASE, DNS_IPS),
    "headless": (K8sExternalOptions(zones=ZONES, headless=True), DNS_IPS),
    "headless-pod-names": (
        K8sExternalOptions(zones=ZONES, headless=True),
        {"endpoint_pod_names": True},
    ),
    "apex-ttl": (K8sExternalOptions(zones=ZONES, apex="ext", ttl=30), DNS_IPS),
    "ns-fallback": (BASE, {"dns_ips": ("198.51.100.1", "2001:db8::1")}),
    "only-default": (BASE, {"namespaces": frozenset({"default"})}),
    "labels-a": (BASE, {"namespace_labels": parse_selector("team=a")}),
    "fallthrough": (K8sExternalOptions(zones=ZONES, fallthrough=Fallthrough((".",))), {}),
}


def cluster(*, synced: bool = True) -> Store:
    store = Store()
    store.replace(
        "Namespace", {("", o["metadata"]["name"]): convert_namespace(o) for o in NAMESPACES}
    )
    store.replace("Service", {key(o): convert_service(o) for o in SERVICES})
    store.replace("EndpointSlice", {key(o): convert_endpointslice(o) for o in SLICES})
    if synced:
        for kind in ("Namespace", "Service", "EndpointSlice"):
            store.synced(kind)
    store.serial = SERIAL
    return store


def key(obj: dict[str, Any]) -> tuple[str, str]:
    return (obj["metadata"]["namespace"], obj["metadata"]["name"])


def kubernetes(store: Store, **ropts: Any) -> Kubernetes:
    zones = ("cluster.local.",)
    return Kubernetes(
        KubernetesOptions(zones=zones), store, k8s_records.Options(zones=zones, **ropts)
    )


@functools.cache
def handler(variant: str) -> K8sExternal:
    opts, ropts = VARIANTS[variant]
    h = K8sExternal(opts)
    h.bind(kubernetes(cluster(), **ropts))
    return h


def soa_line(zone: str = "example.com.", apex: str = "dns", ttl: int = 5) -> str:
    times = f"{SERIAL} 7200 1800 86400 {ttl}"
    return f"{zone} {ttl} IN SOA ns1.{apex}.{zone} hostmaster.{apex}.{zone} {times}"


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str
    rcode: str = "NOERROR"
    answer: Sequence[str] = ()
    extra: Sequence[str] = ()
    soa: bool = False
    opts: str = "default"
    #: Expected SOA text when ``soa``.
    soa_text: str = field(default=soa_line())
    #: The query went to the next plugin.
    passed: bool = False


NODATA: dict[str, Any] = {"soa": True}
NXDOMAIN: dict[str, Any] = {"rcode": "NXDOMAIN", "soa": True}
S1 = "svc1.default.example.com."
HL = "hl.default.example.com."
NS1 = "ns1.dns.example.com."
REV_SOA = soa_line("in-addr.arpa.")

CASES = [
    # -- the apex and the name server's names
    Case("apex-SOA", "example.com.", "SOA", answer=[soa_line()]),
    Case(
        "apex-NS",
        "example.com.",
        "NS",
        answer=[f"example.com. 5 IN NS {NS1}"],
        extra=[f"{NS1} 5 IN A 192.0.2.53", f"{NS1} 5 IN AAAA 2001:db8::53"],
    ),
    Case(
        "apex-NS-not-in-cluster",
        "example.com.",
        "NS",
        opts="ns-fallback",
        answer=[f"example.com. 5 IN NS {NS1}"],
        extra=[f"{NS1} 5 IN A 198.51.100.1", f"{NS1} 5 IN AAAA 2001:db8::1"],
    ),
    Case("apex-A", "example.com.", "A", **NODATA),
    Case("apex-SRV", "example.com.", "SRV", **NODATA),
    Case("apex-label-ENT", "dns.example.com.", "A", **NODATA),
    Case("apex-label-NS", "dns.example.com.", "NS", **NODATA),
    Case("ns1-A", NS1, "A", answer=[f"{NS1} 5 IN A 192.0.2.53"]),
    Case("ns1-AAAA", NS1, "AAAA", answer=[f"{NS1} 5 IN AAAA 2001:db8::53"]),
    Case("ns1-TXT", NS1, "TXT", **NODATA),
    Case(
        "ns1-case-kept",
        "NS1.Dns.Example.COM.",
        "A",
        answer=["NS1.Dns.Example.COM. 5 IN A 192.0.2.53"],
    ),
    Case("ns2", "ns2.dns.example.com.", "A", **NXDOMAIN),
    Case("below-ns1", "x.ns1.dns.example.com.", "A", **NXDOMAIN),
    Case(
        "apex-option-SOA",
        "example.com.",
        "SOA",
        opts="apex-ttl",
        answer=[soa_line(apex="ext", ttl=30)],
    ),
    Case(
        "apex-option-ns1",
        "ns1.ext.example.com.",
        "A",
        opts="apex-ttl",
        answer=["ns1.ext.example.com. 30 IN A 192.0.2.53"],
    ),
    Case(
        "apex-option-dns-is-a-namespace",
        "dns.example.com.",
        "A",
        opts="apex-ttl",
        **NXDOMAIN,
        soa_text=soa_line(apex="ext", ttl=30),
    ),
    # -- namespaces
    Case("namespace", "default.example.com.", "A", **NODATA),
    Case("namespace-unknown", "nope.example.com.", "A", **NXDOMAIN),
    Case("namespace-not-configured", "secret.example.com.", "A", opts="only-default", **NXDOMAIN),
    Case(
        "service-not-configured", "vault.secret.example.com.", "A", opts="only-default", **NXDOMAIN
    ),
    Case("service-label-filtered", "vault.secret.example.com.", "A", opts="labels-a", **NXDOMAIN),
    Case(
        "service-label-kept",
        S1,
        "A",
        opts="labels-a",
        answer=[f"{S1} 5 IN A 1.2.3.4"],
    ),
    # -- external IPs
    Case("external-A", S1, "A", answer=[f"{S1} 5 IN A 1.2.3.4"]),
    Case("external-AAAA-nodata", S1, "AAAA", **NODATA),
    Case("external-TXT-nodata", S1, "TXT", **NODATA),
    Case("external-PTR-nodata", S1, "PTR", **NODATA),
    Case(
        "external-AAAA",
        "svc6.default.example.com.",
        "AAAA",
        answer=["svc6.default.example.com. 5 IN AAAA 1:2::5"],
    ),
    Case("external-v6-A-nodata", "svc6.default.example.com.", "A", **NODATA),
    Case(
        "dual-A",
        "dual.default.example.com.",
        "A",
        answer=["dual.default.example.com. 5 IN A 1.2.3.7"],
    ),
    Case(
        "dual-AAAA",
        "dual.default.example.com.",
        "AAAA",
        answer=["dual.default.example.com. 5 IN AAAA fd00::7"],
    ),
    Case(
        "case-kept",
        "SVC1.Default.Example.COM.",
        "A",
        answer=["SVC1.Default.Example.COM. 5 IN A 1.2.3.4"],
    ),
    Case(
        "extra-label-ignored-as-coredns",
        f"anything.{S1}",
        "A",
        answer=[f"anything.{S1} 5 IN A 1.2.3.4"],
    ),
    Case("too-many-labels", f"a.b.c.{S1}", "A", **NXDOMAIN),
    Case(
        "multi-A",
        "multi.default.example.com.",
        "A",
        answer=[
            "multi.default.example.com. 5 IN A 1.2.3.5",
            "multi.default.example.com. 5 IN A 1.2.3.6",
        ],
    ),
    Case(
        "no-ports-A",
        "noports.default.example.com.",
        "A",
        answer=["noports.default.example.com. 5 IN A 1.2.3.8"],
    ),
    Case("no-ports-SRV", "noports.default.example.com.", "SRV", **NODATA),
    Case("cluster-ip-only", "internal.default.example.com.", "A", **NXDOMAIN),
    Case("unknown-service", "nope.default.example.com.", "A", **NXDOMAIN),
    Case("unknown-service-AAAA", "nope.default.example.com.", "AAAA", **NXDOMAIN),
    # -- load balancers
    Case(
        "lb-A-once-for-two-ports",
        "lb.default.example.com.",
        "A",
        answer=["lb.default.example.com. 5 IN A 5.6.7.8"],
    ),
    Case(
        "lb-SRV",
        "lb.default.example.com.",
        "SRV",
        answer=[
            "lb.default.example.com. 5 IN SRV 0 50 80 lb.default.example.com.",
            "lb.default.example.com. 5 IN SRV 0 50 443 lb.default.example.com.",
        ],
        extra=["lb.default.example.com. 5 IN A 5.6.7.8"],
    ),
    Case(
        "lb-hostname-CNAME",
        "lbhost.default.example.com.",
        "A",
        answer=["lbhost.default.example.com. 5 IN CNAME lb.ex.net."],
    ),
    Case(
        "lb-hostname-AAAA-CNAME",
        "lbhost.default.example.com.",
        "AAAA",
        answer=["lbhost.default.example.com. 5 IN CNAME lb.ex.net."],
    ),
    Case(
        "lb-hostname-SRV",
        "lbhost.default.example.com.",
        "SRV",
        answer=["lbhost.default.example.com. 5 IN SRV 0 100 80 lb.ex.net."],
    ),
    Case(
        "external-IP-and-hostname",
        "mixed.default.example.com.",
        "A",
        answer=[
            "mixed.default.example.com. 5 IN A 1.2.3.10",
            "mixed.default.example.com. 5 IN CNAME lb.ex.net.",
        ],
    ),
    # -- SRV
    Case(
        "SRV-every-port",
        S1,
        "SRV",
        answer=[f"{S1} 5 IN SRV 0 100 80 {S1}"],
        extra=[f"{S1} 5 IN A 1.2.3.4"],
    ),
    Case(
        "SRV-named-port",
        f"_http._tcp.{S1}",
        "SRV",
        answer=[f"_http._tcp.{S1} 5 IN SRV 0 100 80 {S1}"],
        extra=[f"{S1} 5 IN A 1.2.3.4"],
    ),
    Case(
        "SRV-without-underscores",
        f"http.tcp.{S1}",
        "SRV",
        answer=[f"http.tcp.{S1} 5 IN SRV 0 100 80 {S1}"],
        extra=[f"{S1} 5 IN A 1.2.3.4"],
    ),
    Case(
        "SRV-port-labels-A",
        f"_http._tcp.{S1}",
        "A",
        answer=[f"_http._tcp.{S1} 5 IN A 1.2.3.4"],
    ),
    Case("SRV-wrong-protocol", f"_http._udp.{S1}", "SRV", **NXDOMAIN),
    Case("SRV-wrong-port", f"_https._tcp.{S1}", "SRV", **NXDOMAIN),
    Case(
        "SRV-two-addresses-one-target",
        "multi.default.example.com.",
        "SRV",
        answer=["multi.default.example.com. 5 IN SRV 0 50 80 multi.default.example.com."],
        extra=[
            "multi.default.example.com. 5 IN A 1.2.3.5",
            "multi.default.example.com. 5 IN A 1.2.3.6",
        ],
    ),
    # -- headless
    Case("headless-off", HL, "A", **NXDOMAIN),
    Case(
        "headless-A",
        HL,
        "A",
        opts="headless",
        answer=[f"{HL} 5 IN A 10.244.1.1", f"{HL} 5 IN A 10.244.1.2"],
    ),
    Case("headless-AAAA", HL, "AAAA", opts="headless", answer=[f"{HL} 5 IN AAAA fd00::1:5"]),
    Case(
        "headless-SRV",
        HL,
        "SRV",
        opts="headless",
        answer=[
            f"{HL} 5 IN SRV 0 33 5432 db-0.{HL}",
            f"{HL} 5 IN SRV 0 33 5432 10-244-1-2.{HL}",
            f"{HL} 5 IN SRV 0 33 5432 fd00--1-5.{HL}",
        ],
        extra=[
            f"db-0.{HL} 5 IN A 10.244.1.1",
            f"10-244-1-2.{HL} 5 IN A 10.244.1.2",
            f"fd00--1-5.{HL} 5 IN AAAA fd00::1:5",
        ],
    ),
    Case(
        "headless-SRV-named-port",
        f"_postgres._tcp.{HL}",
        "SRV",
        opts="headless",
        answer=[
            f"_postgres._tcp.{HL} 5 IN SRV 0 33 5432 db-0.{HL}",
            f"_postgres._tcp.{HL} 5 IN SRV 0 33 5432 10-244-1-2.{HL}",
            f"_postgres._tcp.{HL} 5 IN SRV 0 33 5432 fd00--1-5.{HL}",
        ],
        extra=[
            f"db-0.{HL} 5 IN A 10.244.1.1",
            f"10-244-1-2.{HL} 5 IN A 10.244.1.2",
            f"fd00--1-5.{HL} 5 IN AAAA fd00::1:5",
        ],
    ),
    Case(
        "headless-endpoint",
        f"db-0.{HL}",
        "A",
        opts="headless",
        answer=[f"db-0.{HL} 5 IN A 10.244.1.1"],
    ),
    Case(
        "headless-endpoint-case",
        f"DB-0.{HL}",
        "A",
        opts="headless",
        answer=[f"DB-0.{HL} 5 IN A 10.244.1.1"],
    ),
    Case(
        "headless-endpoint-dashed",
        f"10-244-1-2.{HL}",
        "A",
        opts="headless",
        answer=[f"10-244-1-2.{HL} 5 IN A 10.244.1.2"],
    ),
    Case(
        "headless-endpoint-v6",
        f"fd00--1-5.{HL}",
        "AAAA",
        opts="headless",
        answer=[f"fd00--1-5.{HL} 5 IN AAAA fd00::1:5"],
    ),
    Case(
        "headless-endpoint-pod-name",
        f"db-1.{HL}",
        "A",
        opts="headless-pod-names",
        answer=[f"db-1.{HL} 5 IN A 10.244.1.2"],
    ),
    Case("headless-endpoint-pod-name-off", f"db-1.{HL}", "A", opts="headless", **NXDOMAIN),
    Case("headless-endpoint-not-ready", f"10-244-1-3.{HL}", "A", opts="headless", **NXDOMAIN),
    Case("headless-endpoint-wrong-type", f"db-0.{HL}", "AAAA", opts="headless", **NODATA),
    Case(
        "headless-with-external-IPs",
        "hl-ext.default.example.com.",
        "A",
        opts="headless",
        answer=["hl-ext.default.example.com. 5 IN A 1.2.3.9"],
    ),
    Case(
        "headless-no-endpoints", "hl-empty.default.example.com.", "A", opts="headless", **NXDOMAIN
    ),
    Case(
        "headless-clusterip-service", "web.default.example.com.", "A", opts="headless", **NXDOMAIN
    ),
    Case(
        "headless-clusterip-endpoint-as-coredns",
        "10-244-2-1.web.default.example.com.",
        "A",
        opts="headless",
        answer=["10-244-2-1.web.default.example.com. 5 IN A 10.244.2.1"],
    ),
    # -- reverse
    Case("PTR", "4.3.2.1.in-addr.arpa.", "PTR", answer=[f"4.3.2.1.in-addr.arpa. 5 IN PTR {S1}"]),
    Case(
        "PTR-load-balancer",
        "8.7.6.5.in-addr.arpa.",
        "PTR",
        answer=["8.7.6.5.in-addr.arpa. 5 IN PTR lb.default.example.com."],
    ),
    Case(
        "PTR-v6",
        "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.ip6.arpa.",
        "PTR",
        answer=[
            "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.ip6.arpa. 5 IN PTR "
            "svc6.default.example.com."
        ],
    ),
    Case("PTR-unknown", "9.9.9.9.in-addr.arpa.", "PTR", **NXDOMAIN, soa_text=REV_SOA),
    Case(
        "PTR-cluster-ip-is-not-external",
        "1.0.0.10.in-addr.arpa.",
        "PTR",
        **NXDOMAIN,
        soa_text=REV_SOA,
    ),
    Case("PTR-name-A", "4.3.2.1.in-addr.arpa.", "A", **NODATA, soa_text=REV_SOA),
    Case("PTR-partial-name", "3.2.1.in-addr.arpa.", "PTR", **NXDOMAIN, soa_text=REV_SOA),
    Case("PTR-reverse-apex", "in-addr.arpa.", "SOA", answer=[REV_SOA]),
    Case(
        "PTR-other-namespace",
        "20.3.2.1.in-addr.arpa.",
        "PTR",
        answer=["20.3.2.1.in-addr.arpa. 5 IN PTR vault.secret.example.com."],
    ),
    Case(
        "PTR-namespace-not-configured",
        "20.3.2.1.in-addr.arpa.",
        "PTR",
        opts="only-default",
        **NXDOMAIN,
        soa_text=REV_SOA,
    ),
    # -- what is not ours
    Case("outside-the-zones", "www.example.org.", "A", passed=True),
    Case("fallthrough-NXDOMAIN", "nope.example.com.", "A", opts="fallthrough", passed=True),
    Case("fallthrough-not-NODATA", "default.example.com.", "A", opts="fallthrough", **NODATA),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_handler(case: Case) -> None:
    reply = await ask(handler(case.opts), case.qname, case.qtype)
    if case.passed:
        assert lines(reply.answer) == [f"{case.qname} 0 IN A {PASSED}"]
        return
    assert reply.flags & dns.flags.AA
    got = (dns.rcode.to_text(reply.rcode()), lines(reply.answer), lines(reply.additional))
    assert got == (case.rcode, sorted(case.answer), sorted(case.extra))
    assert lines(reply.authority) == ([case.soa_text] if case.soa else [])


@pytest.mark.parametrize("qclass", ["CH", "ANY"])
async def test_other_classes_pass(qclass: str) -> None:
    reply = await ask(handler("default"), S1, "A", qclass)
    assert lines(reply.answer) == [f"{S1} 0 IN A {PASSED}"]


async def test_zone_transfers_are_refused() -> None:
    reply = await ask(handler("default"), "example.com.", "AXFR")
    assert reply.rcode() == dns.rcode.REFUSED


async def test_unbound_passes() -> None:
    h = K8sExternal(BASE)
    reply = await ask(h, S1, "A")
    assert lines(reply.answer) == [f"{S1} 0 IN A {PASSED}"]


async def test_servfail_until_kubernetes_synced() -> None:
    store = cluster(synced=False)
    h = K8sExternal(BASE)
    h.bind(kubernetes(store))
    missing = await ask(h, "nope.default.example.com.", "A")
    assert missing.rcode() == dns.rcode.SERVFAIL
    assert lines(missing.authority) == [soa_line()]
    found = await ask(h, S1, "A")  # what is known is answered
    assert lines(found.answer) == [f"{S1} 5 IN A 1.2.3.4"]
    for kind in ("Namespace", "Service", "EndpointSlice"):
        store.synced(kind)
    assert (await ask(h, "nope.default.example.com.", "A")).rcode() == dns.rcode.NXDOMAIN


async def test_follows_the_store_and_its_serial() -> None:
    store = cluster()
    h = K8sExternal(BASE)
    h.bind(kubernetes(store))
    assert h.cluster is not None and h.cluster.serial == SERIAL
    new = convert_service(svc("default", "late", "10.0.0.30", external_ips=["1.2.3.30"]))
    plain = convert_service(svc("default", "plain", "10.0.0.31"))

    store.upsert("Service", ("default", "plain"), plain)  # nothing external: same serial
    assert h.cluster.serial == SERIAL
    before = int(time.time())
    store.upsert("Service", ("default", "late"), new)
    assert h.cluster.serial >= before
    ptr = await ask(h, "30.3.2.1.in-addr.arpa.", "PTR")
    assert lines(ptr.answer) == ["30.3.2.1.in-addr.arpa. 5 IN PTR late.default.example.com."]

    store.delete("Service", ("default", "late"))
    gone = await ask(h, "30.3.2.1.in-addr.arpa.", "PTR")
    assert gone.rcode() == dns.rcode.NXDOMAIN

    h.unbind()  # stops following: later changes are not indexed
    store.upsert("Service", ("default", "late"), new)
    assert h.cluster is None


async def test_headless_serial_follows_endpoints() -> None:
    store = cluster()
    h = K8sExternal(K8sExternalOptions(zones=ZONES, headless=True))
    h.bind(kubernetes(store))
    assert h.cluster is not None
    h.cluster.serial = 0
    store.upsert("EndpointSlice", ("default", "web-ipv4"), None)  # a ClusterIP service: no change
    assert h.cluster.serial == 0
    store.delete("EndpointSlice", ("default", "hl-ipv6"))
    assert h.cluster.serial > 0
    reply = await ask(h, HL, "AAAA")
    assert (reply.rcode(), reply.answer) == (dns.rcode.NOERROR, [])  # IPv4 endpoints are left


def test_bind_needs_a_service_source() -> None:
    with pytest.raises(TypeError, match="service_source"):
        Cluster.bind(object(), headless=False)


def test_bind_reads_the_kubernetes_settings() -> None:
    k8s = kubernetes(
        cluster(),
        namespaces=frozenset({"Default"}),
        endpoint_pod_names=True,
        dns_ips=("10.0.0.53",),
    )
    c = Cluster.bind(k8s, headless=False)
    assert c.settings.namespaces == frozenset({"default"})
    assert c.settings.endpoint_pod_names is True
    assert c.settings.dns_ips == ("10.0.0.53",)
    assert c.ready() is True
    c.close()
    c.close()  # twice is harmless
