"""THE record matrix (coredns-behaviour.md §7): one row per query, against one cluster.

Each row: query name and type, options variant, rcode, answer and additional records as zone-file
text (sorted), whether the SOA is in the authority section, and the CNAME target left to the
handler. Every answer is also packed with dnslib and parsed back with dnspython.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import dns.message
import dns.rdatatype
import pytest
from dnslib import QTYPE, RR, DNSHeader, DNSQuestion, DNSRecord

from dnsd.plugins.kubernetes.objects import (
    convert_endpointslice,
    convert_namespace,
    convert_pod,
    convert_service,
)
from dnsd.plugins.kubernetes.records import Answer, Options, ns_records, resolve, soa_record
from dnsd.plugins.kubernetes.selector import parse_selector
from dnsd.plugins.kubernetes.store import Store
from tests.plugins.kubernetes.test_objects import Obj, ep, eps, ns, pod, svc

SERIAL = 1700000000
TIMES = f"{SERIAL} 7200 1800 86400 5"
SOA = f"cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. {TIMES}"
REV_SOA = f"in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. {TIMES}"

NAMESPACES = [ns("default", team="a"), ns("kube-system"), ns("testns", env="test")]
SERVICES = [
    svc("default", "web", "10.96.0.10", ports=[("http", "TCP", 80), ("https", "TCP", 443)]),
    svc("default", "web-alt", "10.96.0.20"),
    svc("default", "dual", ["10.96.0.11", "fd00::11"]),
    svc("default", "v6only", ["fd00::12"]),
    svc("default", "empty", "10.96.0.13"),
    svc("default", "noports", "10.96.0.14", ports=[]),
    svc("default", "hl", "None"),
    svc("default", "hl-empty", "None"),
    svc("default", "ext", None, type="ExternalName", external_name="example.com", ports=[]),
    svc(
        "default",
        "ext-int",
        None,
        type="ExternalName",
        external_name="web.default.svc.cluster.local",
        ports=[],
    ),
    svc(
        "default",
        "ext-ext",
        None,
        type="ExternalName",
        external_name="ext.default.svc.cluster.local.",
        ports=[],
    ),
    svc("default", "ext-ip", None, type="ExternalName", external_name="1.2.3.4", ports=[]),
    svc(
        "default",
        "ext-self",
        None,
        type="ExternalName",
        external_name="ext-self.default.svc.cluster.local",
        ports=[],
    ),
    svc(
        "kube-system",
        "kube-dns",
        "10.96.0.53",
        ports=[("dns", "UDP", 53), ("dns-tcp", "TCP", 53)],
    ),
    svc("testns", "app", "10.96.1.1"),
]
SLICES = [
    eps(
        "default",
        "web",
        ep("10.244.0.5", pod="web-0"),
        ep("10.244.0.6", hostname="web-b", pod="web-1"),
        ports=[("http", "TCP", 8080), ("https", "TCP", 8443)],
    ),
    eps("default", "web-alt", ep("10.244.0.5", pod="web-0")),
    eps(
        "default",
        "hl",
        ep("10.244.1.1", hostname="db-0", pod="db-0"),
        ep("10.244.1.2", pod="db-1"),
        ep("10.244.1.3", pod="db-2", ready=False),
    ),
    eps("default", "hl", ep("fd00::1:5"), family="IPv6"),
    eps("kube-system", "kube-dns", ep("10.244.9.9", pod="coredns-abc"), ports=[("dns", "UDP", 53)]),
]
PODS = [
    pod("default", "web-0", "10.244.0.5"),
    pod("default", "dual-pod", "10.244.0.7", "fd00::7"),
]

ZONES = ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")
BASE = Options(zones=ZONES, dns_ips=("10.244.9.9",))
OPTIONS = {
    "default": BASE,
    "ns-fallback": Options(zones=ZONES, dns_ips=("192.0.2.53", "2001:db8::53")),
    "ignore-empty": Options(zones=ZONES, ignore_empty_service=True),
    "pod-names": Options(zones=ZONES, endpoint_pod_names=True),
    "insecure": Options(zones=ZONES, pods="insecure"),
    "verified": Options(zones=ZONES, pods="verified"),
    "only-default": Options(zones=ZONES, namespaces=frozenset({"default"})),
    "labels-test": Options(zones=ZONES, namespace_labels=parse_selector("env=test")),
    "noendpoints": Options(zones=ZONES, noendpoints=True),
    "ttl-3600": Options(zones=ZONES, ttl=3600),
}


def cluster() -> Store:
    store = Store()
    store.replace(
        "Namespace", {("", o["metadata"]["name"]): convert_namespace(o) for o in NAMESPACES}
    )
    store.replace("Service", {_key(o): convert_service(o) for o in SERVICES})
    store.replace("EndpointSlice", {_key(o): convert_endpointslice(o) for o in SLICES})
    store.replace("Pod", {_key(o): convert_pod(o) for o in PODS})
    store.serial = SERIAL
    return store


def _key(obj: Obj) -> tuple[str, str]:
    return (obj["metadata"]["namespace"], obj["metadata"]["name"])


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
    cname_target: str | None = None
    #: Expected SOA text when ``soa`` (default: cluster.local's).
    soa_text: str = field(default=SOA)


NODATA = {"soa": True}
NXDOMAIN = {"rcode": "NXDOMAIN", "soa": True}
W = "web.default.svc.cluster.local."
HL = "hl.default.svc.cluster.local."

CASES = [
    # -- the apex and the special names
    Case(
        "dns-version",
        "dns-version.cluster.local.",
        "TXT",
        answer=['dns-version.cluster.local. 28800 IN TXT "1.1.0"'],
    ),
    Case("dns-version-A", "dns-version.cluster.local.", "A", **NODATA),
    Case("apex-SOA", "cluster.local.", "SOA", answer=[SOA]),
    Case(
        "apex-NS",
        "cluster.local.",
        "NS",
        answer=["cluster.local. 5 IN NS kube-dns.kube-system.svc.cluster.local."],
        extra=["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.53"],
    ),
    Case(
        "apex-NS-fallback",
        "cluster.local.",
        "NS",
        opts="ns-fallback",
        answer=["cluster.local. 5 IN NS ns.dns.cluster.local."],
        extra=[
            "ns.dns.cluster.local. 5 IN A 192.0.2.53",
            "ns.dns.cluster.local. 5 IN AAAA 2001:db8::53",
        ],
    ),
    Case(
        "ns.dns-A", "ns.dns.cluster.local.", "A", answer=["ns.dns.cluster.local. 5 IN A 10.96.0.53"]
    ),
    Case("ns.dns-AAAA", "ns.dns.cluster.local.", "AAAA", **NODATA),
    Case(
        "ns.dns-AAAA-fallback",
        "ns.dns.cluster.local.",
        "AAAA",
        opts="ns-fallback",
        answer=["ns.dns.cluster.local. 5 IN AAAA 2001:db8::53"],
    ),
    Case("ns.dns-SRV", "ns.dns.cluster.local.", "SRV", **NODATA),
    Case("dns-ENT", "dns.cluster.local.", "A", **NODATA),
    Case("apex-A", "cluster.local.", "A", **NODATA),
    Case("apex-SRV", "cluster.local.", "SRV", **NODATA),
    Case("svc-A", "svc.cluster.local.", "A", **NODATA),
    Case("pod-A", "pod.cluster.local.", "A", **NODATA),
    Case("namespace-A", "default.svc.cluster.local.", "A", **NODATA),
    Case("namespace-NS", "default.svc.cluster.local.", "NS", **NODATA),
    Case("unknown-label", "foo.cluster.local.", "A", **NXDOMAIN),
    Case("unknown-namespace-NS", "foo.svc.cluster.local.", "NS", **NXDOMAIN),
    Case("too-many-labels", "a.b.c.web.default.svc.cluster.local.", "A", **NXDOMAIN),
    # -- ClusterIP services
    Case("clusterip-A", W, "A", answer=[f"{W} 5 IN A 10.96.0.10"]),
    Case("clusterip-AAAA", W, "AAAA", **NODATA),
    Case(
        "dual-A",
        "dual.default.svc.cluster.local.",
        "A",
        answer=["dual.default.svc.cluster.local. 5 IN A 10.96.0.11"],
    ),
    Case(
        "dual-AAAA",
        "dual.default.svc.cluster.local.",
        "AAAA",
        answer=["dual.default.svc.cluster.local. 5 IN AAAA fd00::11"],
    ),
    Case("v6only-A", "v6only.default.svc.cluster.local.", "A", **NODATA),
    Case(
        "zero-endpoints-still-answered",
        "empty.default.svc.cluster.local.",
        "A",
        answer=["empty.default.svc.cluster.local. 5 IN A 10.96.0.13"],
    ),
    Case(
        "ignore-empty-service",
        "empty.default.svc.cluster.local.",
        "A",
        opts="ignore-empty",
        **NXDOMAIN,
    ),
    Case(
        "ignore-empty-service-AAAA",
        "empty.default.svc.cluster.local.",
        "AAAA",
        opts="ignore-empty",
        **NXDOMAIN,
    ),
    Case(
        "ignore-empty-keeps-backed", W, "A", opts="ignore-empty", answer=[f"{W} 5 IN A 10.96.0.10"]
    ),
    Case(
        "no-ports-A",
        "noports.default.svc.cluster.local.",
        "A",
        answer=["noports.default.svc.cluster.local. 5 IN A 10.96.0.14"],
    ),
    Case("no-ports-SRV", "noports.default.svc.cluster.local.", "SRV", **NODATA),
    Case("unknown-service", "nope.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case("unknown-service-AAAA", "nope.default.svc.cluster.local.", "AAAA", **NXDOMAIN),
    # -- headless services
    Case("headless-A", HL, "A", answer=[f"{HL} 5 IN A 10.244.1.1", f"{HL} 5 IN A 10.244.1.2"]),
    Case("headless-AAAA", HL, "AAAA", answer=[f"{HL} 5 IN AAAA fd00::1:5"]),
    Case("headless-no-endpoints", "hl-empty.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case("headless-no-endpoints-AAAA", "hl-empty.default.svc.cluster.local.", "AAAA", **NXDOMAIN),
    # -- endpoint names
    Case("endpoint-hostname", f"db-0.{HL}", "A", answer=[f"db-0.{HL} 5 IN A 10.244.1.1"]),
    Case(
        "endpoint-dashed-ip", f"10-244-1-2.{HL}", "A", answer=[f"10-244-1-2.{HL} 5 IN A 10.244.1.2"]
    ),
    Case(
        "endpoint-dashed-ipv6",
        f"fd00--1-5.{HL}",
        "AAAA",
        answer=[f"fd00--1-5.{HL} 5 IN AAAA fd00::1:5"],
    ),
    Case("endpoint-other-family", f"db-0.{HL}", "AAAA", **NODATA),
    Case("endpoint-pod-name-off", f"db-1.{HL}", "A", **NXDOMAIN),
    Case(
        "endpoint-pod-name",
        f"db-1.{HL}",
        "A",
        opts="pod-names",
        answer=[f"db-1.{HL} 5 IN A 10.244.1.2"],
    ),
    Case(
        "endpoint-hostname-wins",
        f"db-0.{HL}",
        "A",
        opts="pod-names",
        answer=[f"db-0.{HL} 5 IN A 10.244.1.1"],
    ),
    Case("endpoint-not-ready", f"10-244-1-3.{HL}", "A", **NXDOMAIN),
    Case(
        "endpoint-of-clusterip",
        f"10-244-0-5.{W}",
        "A",
        answer=[f"10-244-0-5.{W} 5 IN A 10.244.0.5"],
    ),
    Case(
        "endpoint-of-clusterip-hostname", f"web-b.{W}", "A", answer=[f"web-b.{W} 5 IN A 10.244.0.6"]
    ),
    Case("endpoint-unknown", f"zzz.{W}", "A", **NXDOMAIN),
    Case("endpoint-unknown-TXT", f"zzz.{W}", "TXT", **NXDOMAIN),
    Case(
        "endpoint-SRV",
        f"db-0.{HL}",
        "SRV",
        answer=[f"db-0.{HL} 5 IN SRV 0 100 80 db-0.{HL}"],
        extra=[f"db-0.{HL} 5 IN A 10.244.1.1"],
    ),
    Case("endpoints-off", HL, "A", opts="noendpoints", **NXDOMAIN),
    Case("endpoint-names-off", f"10-244-0-5.{W}", "A", opts="noendpoints", **NXDOMAIN),
    Case(
        "clusterip-with-endpoints-off",
        W,
        "A",
        opts="noendpoints",
        answer=[f"{W} 5 IN A 10.96.0.10"],
    ),
    # -- SRV
    Case(
        "srv-port-proto",
        f"_http._tcp.{W}",
        "SRV",
        answer=[f"_http._tcp.{W} 5 IN SRV 0 100 80 {W}"],
        extra=[f"{W} 5 IN A 10.96.0.10"],
    ),
    Case(
        "srv-without-underscores",
        f"https.tcp.{W}",
        "SRV",
        answer=[f"https.tcp.{W} 5 IN SRV 0 100 443 {W}"],
        extra=[f"{W} 5 IN A 10.96.0.10"],
    ),
    Case(
        "srv-case-insensitive",
        "_HTTP._TCP.web.default.svc.Cluster.Local.",
        "SRV",
        answer=[
            "_HTTP._TCP.web.default.svc.Cluster.Local. 5 IN SRV 0 100 80 "
            "web.default.svc.Cluster.Local."
        ],
        extra=["web.default.svc.Cluster.Local. 5 IN A 10.96.0.10"],
    ),
    Case(
        "srv-bare-service",
        W,
        "SRV",
        answer=[f"{W} 5 IN SRV 0 50 80 {W}", f"{W} 5 IN SRV 0 50 443 {W}"],
        extra=[f"{W} 5 IN A 10.96.0.10"],
    ),
    Case("srv-wrong-proto", f"_http._udp.{W}", "SRV", **NXDOMAIN),
    Case("srv-unknown-port", f"_ftp._tcp.{W}", "SRV", **NXDOMAIN),
    Case(
        "srv-port-name-A",  # CoreDNS answers addresses for port names too
        f"_http._tcp.{W}",
        "A",
        answer=[f"_http._tcp.{W} 5 IN A 10.96.0.10"],
    ),
    Case(
        "srv-dual-stack",
        "_http._tcp.dual.default.svc.cluster.local.",
        "SRV",
        answer=[
            "_http._tcp.dual.default.svc.cluster.local. 5 IN SRV 0 50 80 "
            "dual.default.svc.cluster.local."
        ],
        extra=[
            "dual.default.svc.cluster.local. 5 IN A 10.96.0.11",
            "dual.default.svc.cluster.local. 5 IN AAAA fd00::11",
        ],
    ),
    Case(
        "srv-headless",
        f"_http._tcp.{HL}",
        "SRV",
        answer=[
            f"_http._tcp.{HL} 5 IN SRV 0 33 80 db-0.{HL}",
            f"_http._tcp.{HL} 5 IN SRV 0 33 80 10-244-1-2.{HL}",
            f"_http._tcp.{HL} 5 IN SRV 0 33 80 fd00--1-5.{HL}",
        ],
        extra=[
            f"db-0.{HL} 5 IN A 10.244.1.1",
            f"10-244-1-2.{HL} 5 IN A 10.244.1.2",
            f"fd00--1-5.{HL} 5 IN AAAA fd00::1:5",
        ],
    ),
    Case(
        "srv-udp-port",
        "_dns._udp.kube-dns.kube-system.svc.cluster.local.",
        "SRV",
        answer=[
            "_dns._udp.kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 "
            "kube-dns.kube-system.svc.cluster.local."
        ],
        extra=["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.53"],
    ),
    Case("srv-headless-empty", "_http._tcp.hl-empty.default.svc.cluster.local.", "SRV", **NXDOMAIN),
    # -- ExternalName
    Case(
        "externalname-A",
        "ext.default.svc.cluster.local.",
        "A",
        answer=["ext.default.svc.cluster.local. 5 IN CNAME example.com."],
        cname_target="example.com.",
    ),
    Case(
        "externalname-AAAA",
        "ext.default.svc.cluster.local.",
        "AAAA",
        answer=["ext.default.svc.cluster.local. 5 IN CNAME example.com."],
        cname_target="example.com.",
    ),
    Case(
        "externalname-CNAME",
        "ext.default.svc.cluster.local.",
        "CNAME",
        answer=["ext.default.svc.cluster.local. 5 IN CNAME example.com."],
    ),
    Case("externalname-SRV", "ext.default.svc.cluster.local.", "SRV", **NODATA),
    Case("externalname-TXT", "ext.default.svc.cluster.local.", "TXT", **NODATA),
    Case("externalname-subname", "x.ext.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case("externalname-holding-ip", "ext-ip.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case(
        "externalname-in-zone-followed",
        "ext-int.default.svc.cluster.local.",
        "A",
        answer=[f"ext-int.default.svc.cluster.local. 5 IN CNAME {W}", f"{W} 5 IN A 10.96.0.10"],
    ),
    Case("externalname-in-zone-nothing", "ext-int.default.svc.cluster.local.", "AAAA", **NODATA),
    Case(
        "externalname-chain-to-outside",
        "ext-ext.default.svc.cluster.local.",
        "A",
        answer=[
            "ext-ext.default.svc.cluster.local. 5 IN CNAME ext.default.svc.cluster.local.",
            "ext.default.svc.cluster.local. 5 IN CNAME example.com.",
        ],
        cname_target="example.com.",
    ),
    Case("externalname-to-itself", "ext-self.default.svc.cluster.local.", "A", **NODATA),
    # -- pods
    Case("pods-disabled", "10-244-0-5.default.pod.cluster.local.", "A", **NXDOMAIN),
    Case("pods-disabled-namespace", "default.pod.cluster.local.", "A", **NXDOMAIN),
    Case(
        "pods-insecure",
        "1-2-3-4.default.pod.cluster.local.",
        "A",
        opts="insecure",
        answer=["1-2-3-4.default.pod.cluster.local. 5 IN A 1.2.3.4"],
    ),
    Case(
        "pods-insecure-ipv6",
        "2001-db8--1.default.pod.cluster.local.",
        "AAAA",
        opts="insecure",
        answer=["2001-db8--1.default.pod.cluster.local. 5 IN AAAA 2001:db8::1"],
    ),
    Case(
        "pods-insecure-ipv6-A",
        "2001-db8--1.default.pod.cluster.local.",
        "A",
        opts="insecure",
        **NODATA,
    ),
    Case(
        "pods-insecure-not-an-ip",
        "web-0.default.pod.cluster.local.",
        "A",
        opts="insecure",
        **NXDOMAIN,
    ),
    Case(
        "pods-insecure-no-namespace",
        "1-2-3-4.nope.pod.cluster.local.",
        "A",
        opts="insecure",
        **NXDOMAIN,
    ),
    Case("pods-namespace", "default.pod.cluster.local.", "A", opts="insecure", **NODATA),
    Case("pods-sub-name", "x.1-2-3-4.default.pod.cluster.local.", "A", opts="insecure", **NXDOMAIN),
    Case(
        "pods-verified",
        "10-244-0-5.default.pod.cluster.local.",
        "A",
        opts="verified",
        answer=["10-244-0-5.default.pod.cluster.local. 5 IN A 10.244.0.5"],
    ),
    Case(
        "pods-verified-second-ip",
        "fd00--7.default.pod.cluster.local.",
        "AAAA",
        opts="verified",
        answer=["fd00--7.default.pod.cluster.local. 5 IN AAAA fd00::7"],
    ),
    Case(
        "pods-verified-wrong-namespace",
        "10-244-0-5.kube-system.pod.cluster.local.",
        "A",
        opts="verified",
        **NXDOMAIN,
    ),
    Case(
        "pods-verified-unknown",
        "10-244-0-99.default.pod.cluster.local.",
        "A",
        opts="verified",
        **NXDOMAIN,
    ),
    # -- PTR
    Case(
        "ptr-clusterip",
        "10.0.96.10.in-addr.arpa.",
        "PTR",
        answer=[f"10.0.96.10.in-addr.arpa. 5 IN PTR {W}"],
    ),
    Case(
        "ptr-clusterip-ipv6",
        "1.1.0.0." + "0." * 24 + "0.0.d.f.ip6.arpa.",
        "PTR",
        answer=[
            "1.1.0.0." + "0." * 24 + "0.0.d.f.ip6.arpa. 5 IN PTR dual.default.svc.cluster.local."
        ],
    ),
    Case(
        "ptr-endpoint-in-two-services",
        "5.0.244.10.in-addr.arpa.",
        "PTR",
        answer=[
            f"5.0.244.10.in-addr.arpa. 5 IN PTR 10-244-0-5.{W}",
            "5.0.244.10.in-addr.arpa. 5 IN PTR 10-244-0-5.web-alt.default.svc.cluster.local.",
        ],
    ),
    Case(
        "ptr-endpoint-pod-names",
        "5.0.244.10.in-addr.arpa.",
        "PTR",
        opts="pod-names",
        answer=[
            f"5.0.244.10.in-addr.arpa. 5 IN PTR web-0.{W}",
            "5.0.244.10.in-addr.arpa. 5 IN PTR web-0.web-alt.default.svc.cluster.local.",
        ],
    ),
    Case(
        "ptr-endpoint-hostname",
        "6.0.244.10.in-addr.arpa.",
        "PTR",
        answer=[f"6.0.244.10.in-addr.arpa. 5 IN PTR web-b.{W}"],
    ),
    Case(
        "ptr-endpoint-ipv6",
        "5.0.0.0.1.0.0.0." + "0." * 20 + "0.0.d.f.ip6.arpa.",
        "PTR",
        answer=["5.0.0.0.1.0.0.0." + "0." * 20 + f"0.0.d.f.ip6.arpa. 5 IN PTR fd00--1-5.{HL}"],
    ),
    Case("ptr-not-ready", "3.1.244.10.in-addr.arpa.", "PTR", soa_text=REV_SOA, **NXDOMAIN),
    Case("ptr-unknown", "1.1.1.1.in-addr.arpa.", "PTR", soa_text=REV_SOA, **NXDOMAIN),
    Case("ptr-partial", "96.10.in-addr.arpa.", "PTR", soa_text=REV_SOA, **NXDOMAIN),
    Case("ptr-leading-zero", "010.0.96.10.in-addr.arpa.", "PTR", soa_text=REV_SOA, **NXDOMAIN),
    Case("ptr-apex", "in-addr.arpa.", "PTR", soa_text=REV_SOA, **NODATA),
    Case("ptr-name-other-type", "10.0.96.10.in-addr.arpa.", "A", soa_text=REV_SOA, **NODATA),
    Case(
        "ptr-endpoints-off",
        "5.0.244.10.in-addr.arpa.",
        "PTR",
        opts="noendpoints",
        soa_text=REV_SOA,
        **NXDOMAIN,
    ),
    Case(
        "ptr-filtered-namespace",
        "1.1.96.10.in-addr.arpa.",
        "PTR",
        opts="only-default",
        soa_text=REV_SOA,
        **NXDOMAIN,
    ),
    Case(
        "ptr-namespace-labels",
        "1.1.96.10.in-addr.arpa.",
        "PTR",
        opts="labels-test",
        answer=["1.1.96.10.in-addr.arpa. 5 IN PTR app.testns.svc.cluster.local."],
    ),
    Case("ptr-forward-name", W, "PTR", **NODATA),
    # -- namespaces
    Case("unknown-namespace", "web.nope.svc.cluster.local.", "A", **NXDOMAIN),
    Case(
        "filtered-namespace", "app.testns.svc.cluster.local.", "A", opts="only-default", **NXDOMAIN
    ),
    Case(
        "filtered-namespace-itself",
        "testns.svc.cluster.local.",
        "A",
        opts="only-default",
        **NXDOMAIN,
    ),
    Case("configured-namespace", W, "A", opts="only-default", answer=[f"{W} 5 IN A 10.96.0.10"]),
    Case(
        "namespace-labels-match",
        "app.testns.svc.cluster.local.",
        "A",
        opts="labels-test",
        answer=["app.testns.svc.cluster.local. 5 IN A 10.96.1.1"],
    ),
    Case("namespace-labels-no-match", W, "A", opts="labels-test", **NXDOMAIN),
    # -- existing names, other types
    Case("other-type-TXT", W, "TXT", **NODATA),
    Case("other-type-MX", W, "MX", **NODATA),
    Case("other-type-NS", W, "NS", **NODATA),
    Case("other-type-SOA", W, "SOA", **NODATA),
    Case("other-type-CNAME", W, "CNAME", **NODATA),
    Case("other-type-ANY", W, "ANY", **NODATA),
    Case("missing-type-TXT", "nope.default.svc.cluster.local.", "TXT", **NXDOMAIN),
    Case("missing-type-SOA", "nope.default.svc.cluster.local.", "SOA", **NXDOMAIN),
    # -- wildcards (removed in CoreDNS 1.9.0)
    Case("wildcard-service", "*.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case("wildcard-namespace", "web.*.svc.cluster.local.", "A", **NXDOMAIN),
    Case("wildcard-any", "any.default.svc.cluster.local.", "A", **NXDOMAIN),
    Case("wildcard-srv", "_http._tcp.*.default.svc.cluster.local.", "SRV", **NXDOMAIN),
    # -- case
    Case(
        "case-kept-in-owner",
        "Web.Default.SVC.Cluster.LOCAL.",
        "A",
        answer=["Web.Default.SVC.Cluster.LOCAL. 5 IN A 10.96.0.10"],
    ),
    Case(
        "case-kept-in-soa",
        "Nope.Default.SVC.Cluster.LOCAL.",
        "A",
        soa_text=SOA.replace("cluster.local.", "Cluster.LOCAL."),
        **NXDOMAIN,
    ),
    Case(
        "case-srv-targets",
        "HL.default.svc.CLUSTER.local.",
        "SRV",
        answer=[
            f"HL.default.svc.CLUSTER.local. 5 IN SRV 0 33 80 {e}.hl.default.svc.CLUSTER.local."
            for e in ("db-0", "10-244-1-2", "fd00--1-5")
        ],
        extra=[
            "db-0.hl.default.svc.CLUSTER.local. 5 IN A 10.244.1.1",
            "10-244-1-2.hl.default.svc.CLUSTER.local. 5 IN A 10.244.1.2",
            "fd00--1-5.hl.default.svc.CLUSTER.local. 5 IN AAAA fd00::1:5",
        ],
    ),
    # -- TTL
    Case(
        "ttl",
        W,
        "A",
        opts="ttl-3600",
        answer=[f"{W} 3600 IN A 10.96.0.10"],
    ),
    Case(
        "ttl-soa-capped",
        "nope.default.svc.cluster.local.",
        "A",
        opts="ttl-3600",
        soa_text=SOA.replace(" 5 IN", " 300 IN").replace("86400 5", "86400 3600"),
        **NXDOMAIN,
    ),
]


def text(records: Sequence[RR]) -> list[str]:
    return sorted(" ".join(str(rr).split()) for rr in records)


@pytest.fixture(scope="module")
def store() -> Store:
    return cluster()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix(store: Store, case: Case) -> None:
    qtype = getattr(QTYPE, case.qtype)
    got = resolve(store, OPTIONS[case.opts], case.qname, qtype)
    assert got is not None
    assert (dns_rcode(got.rcode), text(got.answer), text(got.extra)) == (
        case.rcode,
        sorted(case.answer),
        sorted(case.extra),
    )
    assert got.soa is case.soa
    assert text(got.authority) == ([" ".join(case.soa_text.split())] if case.soa else [])
    assert got.cname_target == case.cname_target
    roundtrip(case.qname, qtype, got)


def dns_rcode(rcode: int) -> str:
    return {0: "NOERROR", 3: "NXDOMAIN"}[rcode]


def roundtrip(qname: str, qtype: int, got: Answer) -> None:
    """Pack with dnslib, parse with dnspython: the records are valid on the wire."""
    msg = DNSRecord(DNSHeader(id=1, qr=1, aa=1, rcode=got.rcode), q=DNSQuestion(qname, qtype))
    for rr in got.answer:
        msg.add_answer(rr)
    for rr in got.authority:
        msg.add_auth(rr)
    for rr in got.extra:
        msg.add_ar(rr)
    parsed = dns.message.from_wire(bytes(msg.pack()))
    assert sum(len(r) for r in parsed.answer) == len(got.answer)
    assert sum(len(r) for r in parsed.authority) == len(got.authority)
    assert sum(len(r) for r in parsed.additional) == len(got.extra)


def test_the_matrix_covers_every_section_7_row() -> None:
    ids = {c.id for c in CASES}
    for needed in (
        "dns-version",
        "apex-SOA",
        "apex-NS",
        "ns.dns-A",
        "apex-A",
        "svc-A",
        "pod-A",
        "namespace-NS",
        "unknown-label",
        "unknown-namespace-NS",
        "too-many-labels",
        "dual-AAAA",
        "zero-endpoints-still-answered",
        "headless-A",
        "headless-no-endpoints",
        "endpoint-of-clusterip",
        "srv-headless",
        "srv-bare-service",
        "externalname-A",
        "externalname-CNAME",
        "externalname-subname",
        "externalname-holding-ip",
        "pods-insecure",
        "pods-verified",
        "ptr-endpoint-in-two-services",
        "ptr-unknown",
        "filtered-namespace",
        "other-type-TXT",
        "wildcard-service",
        "case-kept-in-owner",
    ):
        assert needed in ids


@pytest.mark.parametrize(
    "qname", ["example.com.", "local.", ".", "cluster.local.example."], ids=lambda q: q
)
def test_outside_the_zones(store: Store, qname: str) -> None:
    assert resolve(store, BASE, qname, QTYPE.A) is None


def test_raw_labels_as_sent(store: Store) -> None:
    labels = (b"WEB", b"default", b"svc", b"cluster", b"local")
    got = resolve(store, BASE, labels, QTYPE.A)
    assert got is not None and text(got.answer) == [
        "WEB.default.svc.cluster.local. 5 IN A 10.96.0.10"
    ]
    assert got.zone == "cluster.local."


def test_cname_comes_before_its_target(store: Store) -> None:
    got = resolve(store, BASE, "ext-int.default.svc.cluster.local.", QTYPE.A)
    assert got is not None
    assert [QTYPE[rr.rtype] for rr in got.answer] == ["CNAME", "A"]


def test_srv_weight_floor_and_minimum() -> None:
    store = cluster()
    many = [ep(f"10.1.{i // 250}.{i % 250}") for i in range(150)]
    store.upsert("Service", ("default", "big"), convert_service(svc("default", "big", "None")))
    store.upsert(
        "EndpointSlice", ("default", "big"), convert_endpointslice(eps("default", "big", *many[:7]))
    )
    got = resolve(store, BASE, "big.default.svc.cluster.local.", QTYPE.SRV)
    assert got is not None and {rr.rdata.weight for rr in got.answer} == {14}  # floor(100/7)
    store.upsert(
        "EndpointSlice", ("default", "big"), convert_endpointslice(eps("default", "big", *many))
    )
    got = resolve(store, BASE, "big.default.svc.cluster.local.", QTYPE.SRV)
    assert got is not None and {rr.rdata.weight for rr in got.answer} == {1}
    assert len(got.answer) == 150


def test_zone_is_the_longest_match(store: Store) -> None:
    opts = Options(zones=("local.", "cluster.local."))
    got = resolve(store, opts, W, QTYPE.A)
    assert got is not None and got.zone == "cluster.local."
    got = resolve(store, opts, "x.local.", QTYPE.A)
    assert got is not None and got.zone == "local." and got.rcode == 3


def test_answers_follow_the_store() -> None:
    store = cluster()
    store.delete("Service", ("default", "web"))
    got = resolve(store, BASE, W, QTYPE.A)
    assert got is not None and got.rcode == 3
    store.upsert(
        "Service", ("default", "web"), convert_service(svc("default", "web", "10.96.0.99"))
    )
    got = resolve(store, BASE, W, QTYPE.A)
    assert got is not None and text(got.answer) == [f"{W} 5 IN A 10.96.0.99"]
    assert store.serial != SERIAL


def test_soa_record_and_ns_records(store: Store) -> None:
    assert str(soa_record("Example.", 30, 2**32 + 5).rdata) == (
        "ns.dns.Example. hostmaster.Example. 5 7200 1800 86400 30"
    )
    answer, extra = ns_records(store, Options(dns_ips=("10.244.9.9",)), "cluster.local.")
    assert text(answer) == ["cluster.local. 5 IN NS kube-dns.kube-system.svc.cluster.local."]
    assert text(extra) == ["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.53"]


def test_ns_records_for_a_headless_dns_service() -> None:
    store = cluster()
    store.upsert(
        "Service",
        ("kube-system", "kube-dns"),
        convert_service(svc("kube-system", "kube-dns", "None")),
    )
    for opts, label in (
        (BASE, "10-244-9-9"),
        (replace(BASE, endpoint_pod_names=True), "coredns-abc"),
    ):
        answer, extra = ns_records(store, opts, "cluster.local.")
        name = f"{label}.kube-dns.kube-system.svc.cluster.local."
        assert text(answer) == [f"cluster.local. 5 IN NS {name}"]
        assert text(extra) == [f"{name} 5 IN A 10.244.9.9"]


def test_options_normalise() -> None:
    opts = Options(zones=("Cluster.Local", "10.in-addr.arpa."), namespaces=frozenset({"Default"}))
    assert opts.zones == ("cluster.local.", "10.in-addr.arpa.")
    assert opts.primary_zone == "cluster.local."
    assert opts.namespaces == frozenset({"default"})
    assert Options(zones=("in-addr.arpa.", "example.")).primary_zone == "example."


def test_dnspython_sees_the_same_records(store: Store) -> None:
    got = resolve(store, BASE, f"_http._tcp.{HL}", QTYPE.SRV)
    assert got is not None
    msg = DNSRecord(DNSHeader(id=1, qr=1), q=DNSQuestion(f"_http._tcp.{HL}", QTYPE.SRV))
    for rr in got.answer:
        msg.add_answer(rr)
    parsed = dns.message.from_wire(bytes(msg.pack()))
    rrset = parsed.find_rrset(
        parsed.answer, dns.name.from_text(f"_http._tcp.{HL}"), 1, dns.rdatatype.SRV
    )
    assert sorted(str(r.target) for r in rrset) == sorted(
        [f"db-0.{HL}", f"10-244-1-2.{HL}", f"fd00--1-5.{HL}"]
    )


SCOPES = [
    ("svc.demo.svc.cluster.local.", "A", "demo"),
    ("_http._tcp.web.Demo.svc.cluster.local.", "SRV", "demo"),
    ("ep-0.db.demo.svc.cluster.local.", "A", "demo"),
    ("nothing.here.svc.cluster.local.", "A", "here"),
    ("10-244-0-5.demo.pod.cluster.local.", "A", "demo"),
    ("a.b.c.d.e.demo.svc.cluster.local.", "A", "demo"),
    ("demo.svc.cluster.local.", "A", None),
    ("svc.cluster.local.", "A", None),
    ("cluster.local.", "SOA", None),
    ("ns.dns.cluster.local.", "A", None),
    ("dns-version.cluster.local.", "TXT", None),
    ("x.demo.other.cluster.local.", "A", None),
    ("5.0.244.10.in-addr.arpa.", "PTR", None),
]


@pytest.mark.parametrize(("qname", "qtype", "namespace"), SCOPES)
def test_answer_namespace_scopes_the_memo(
    store: Store, qname: str, qtype: str, namespace: str | None
) -> None:
    got = resolve(store, OPTIONS["insecure"], qname, getattr(QTYPE, qtype))
    assert got is not None
    assert got.namespace == namespace
