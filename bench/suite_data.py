"""The suite's workloads as data: the names every server serves, the query files, and each
server's configuration rendered from the same names (knot zone files, unbound local-data,
dnsmasq host-records, dnsd's kubernetes objects, the echo's precomputed replies).

Nothing here starts a process or opens a socket; tests/bench/test_suite.py checks that every
rendering holds the same names and addresses.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cache_forward import KUBEADM, UPSTREAM, cluster_objects, external_objects, mix_lines, namespace
from dnslib import AAAA as AAAA_RD
from dnslib import QTYPE, RR, SOA, DNSHeader, DNSQuestion, DNSRecord
from dnslib import A as A_RD

QTYPES = {"A": 1, "AAAA": 28}
NOERROR, NXDOMAIN = 0, 3
CLUSTER = "cluster.local"
EXTERNAL = "example.com"

Addrs = tuple[tuple[str, ...], tuple[str, ...]]  # (IPv4 addresses, IPv6 addresses)
Question = tuple[str, str]  # (name without the final dot, "A" or "AAAA")


@dataclass(frozen=True)
class Zone:
    """A zone and its host names: every name not in ``hosts`` is NXDOMAIN."""

    origin: str
    ttl: int
    hosts: Mapping[str, Addrs]

    def soa(self) -> str:
        return f"ns.dns.{self.origin}. hostmaster.{self.origin}. 1 7200 1800 86400 {self.ttl}"

    def holds(self, name: str) -> bool:
        return name == self.origin or name.endswith("." + self.origin)

    def lookup(self, name: str, qtype: str) -> tuple[int, tuple[str, ...]]:
        """(rcode, sorted addresses): NXDOMAIN, NODATA (NOERROR, none) or the addresses."""
        addrs = self.hosts.get(name)
        if addrs is None:
            return NXDOMAIN, ()
        return NOERROR, tuple(sorted(addrs[0] if qtype == "A" else addrs[1]))


@dataclass(frozen=True)
class Workload:
    """One query file, sent over one transport to every server of its data set."""

    name: str
    title: str
    questions: tuple[Question, ...]
    transport: str = "udp"


@dataclass(frozen=True)
class DataSet:
    """Names served by the servers that take turns on its workloads.

    ``local`` zones every peer serves itself (knot zone, unbound local-data, dnsmasq
    host-record, dnsd's kubernetes plugin); ``external`` names come from the upstream dnsd:
    dnsd, unbound and dnsmasq forward and cache them, knot serves them from a zone of its own.
    """

    name: str
    local: tuple[Zone, ...]
    external: Zone | None
    workloads: tuple[Workload, ...]
    objects: dict[str, Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def zones(self) -> tuple[Zone, ...]:
        return self.local + ((self.external,) if self.external else ())

    def expect(self, name: str, qtype: str) -> tuple[int, tuple[str, ...]]:
        for zone in sorted(self.zones, key=lambda z: -len(z.origin)):
            if zone.holds(name):
                return zone.lookup(name, qtype)
        raise ValueError(f"{name} is in no zone of {self.name}")

    def external_questions(self) -> list[Question]:
        """The questions of this data set's workloads that a cache must hold (to warm it)."""
        if self.external is None:
            return []
        seen = dict.fromkeys(
            q for w in self.workloads for q in w.questions if self.external.holds(q[0])
        )
        return list(seen)


# -- the data sets ------------------------------------------------------------------------------


def cluster_ip(i: int) -> str:
    return str(ipaddress.IPv4Address("10.96.0.0") + 1 + i)


def pod_ip(j: int) -> str:
    return str(ipaddress.IPv4Address("10.128.0.0") + 1 + j)


def service(ns: str, name: str, ips: list[str]) -> dict[str, Any]:
    """A Service as the API returns it (``None`` first address: headless)."""
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "clusterIP": ips[0],
        "clusterIPs": ips,
        "selector": {"app": name},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
    }
    if ips[0] != "None":
        spec["ipFamilies"] = ["IPv6" if ":" in ip else "IPv4" for ip in ips]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "2"},
        "spec": spec,
    }


def k8s_names(services: int) -> list[Question]:
    """performance.md's query file: ``svc-N.default.svc.cluster.local`` A, every fifth name one
    that does not exist (``nx-N...``: 20% NXDOMAIN); 5 x ``services`` lines."""
    out = []
    for n in range(5 * services):
        name = f"nx-{n}" if n % 5 == 4 else f"svc-{n % services}"
        out.append((f"{name}.default.svc.{CLUSTER}", "A"))
    return out


def k8s_data(services: int = 1000) -> DataSet:
    """(a) kubernetes names and (d) the same over TCP: ``services`` ClusterIP Services in
    ``default``; peers serve the same A records from a zone / local-data / host-records."""
    items = [namespace("default")]
    hosts: dict[str, Addrs] = {}
    for i in range(services):
        items.append(service("default", f"svc-{i}", [cluster_ip(i)]))
        hosts[f"svc-{i}.default.svc.{CLUSTER}"] = ((cluster_ip(i),), ())
    questions = tuple(k8s_names(services))
    title = f"{services:,} ClusterIP names A, 20% NXDOMAIN"
    return DataSet(
        name="k8s",
        local=(Zone(CLUSTER, 5, hosts),),
        external=None,
        workloads=(
            Workload("k8s", title, questions),
            Workload("tcp", f"{title}, over TCP", questions, transport="tcp"),
        ),
        objects={"apiVersion": "v1", "kind": "List", "items": items},
    )


def external_zone(count: int) -> Zone:
    """The upstream's names (cache_forward.external_objects), TTL 3600 as it serves them."""
    objects, _ = external_objects(count)
    hosts: dict[str, Addrs] = {}
    for item in objects["items"]:
        if item["kind"] != "Service":
            continue
        meta = item["metadata"]
        ips = [ing["ip"] for ing in item["status"]["loadBalancer"]["ingress"]]
        hosts[f"{meta['name']}.{meta['namespace']}.{EXTERNAL}"] = (
            tuple(ip for ip in ips if ":" not in ip),
            tuple(ip for ip in ips if ":" in ip),
        )
    return Zone(EXTERNAL, 3600, hosts)


def cache_data(externals: int = 100) -> DataSet:
    """(b) cache hits: the upstream's names, A, asked again and again."""
    zone = external_zone(externals)
    questions = tuple((name, "A") for name in zone.hosts)
    title = f"{externals} external names A, cache hits"
    return DataSet("cache", (), zone, (Workload("cache", title, questions),))


def kubeadm_data(services: int = 200, externals: int = 100, lines: int = 2000) -> DataSet:
    """(c) kubeadm's Corefile and cache_forward.py's mix: a fifth each of cluster A, cluster
    AAAA (half NODATA), cached external A and AAAA, search-path NXDOMAIN misses."""
    objects, cluster = cluster_objects(services)
    hosts: dict[str, Addrs] = {}
    for item in objects["items"]:
        if item["kind"] != "Service":
            continue
        meta, ips = item["metadata"], item["spec"]["clusterIPs"]
        hosts[f"{meta['name']}.{meta['namespace']}.svc.{CLUSTER}"] = (
            tuple(ip for ip in ips if ":" not in ip),
            tuple(ip for ip in ips if ":" in ip),
        )
    ext = external_zone(externals)
    mix = mix_lines(cluster, list(ext.hosts), lines)
    questions = tuple((name, "A" if qtype == 1 else "AAAA") for _, name, qtype in mix)
    title = "kubeadm mix: cluster A+AAAA 40%, external A+AAAA 40%, NXDOMAIN 20%"
    return DataSet(
        name="kubeadm",
        local=(Zone(CLUSTER, 30, hosts),),
        external=ext,
        workloads=(Workload("kubeadm", title, questions),),
        objects=objects,
    )


# -- rendering ----------------------------------------------------------------------------------


def query_file(questions: Iterable[Question]) -> str:
    """dnsperf's input: one ``name TYPE`` a line."""
    return "".join(f"{name} {qtype}\n" for name, qtype in questions)


def knot_zone(zone: Zone) -> str:
    lines = [f"$ORIGIN {zone.origin}.", f"$TTL {zone.ttl}", f"@ SOA {zone.soa()}"]
    lines.append(f"@ NS ns.dns.{zone.origin}.")
    for name, (v4, v6) in zone.hosts.items():
        lines += [f"{name}. A {ip}" for ip in v4] + [f"{name}. AAAA {ip}" for ip in v6]
    return "\n".join(lines) + "\n"


def knot_conf(folder: Path, port: int, zones: Iterable[Zone]) -> str:
    """knotd on 127.0.0.1:port, one UDP and one TCP worker (it runs on one core), zone files
    ``<origin>.zone`` in ``folder``, nothing written back."""
    zone_lines = "".join(f"  - domain: {z.origin}\n" for z in zones)
    return f"""server:
    rundir: "{folder}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: error
database:
    storage: "{folder}"
control:
    listen: "{folder}/knot.sock"
template:
  - id: default
    storage: "{folder}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
{zone_lines}"""


def unbound_conf(
    folder: Path, port: int, local: Iterable[Zone], forward: tuple[str, int] | None
) -> str:
    """unbound on 127.0.0.1:port, one thread, the local zones ``static`` with local-data,
    everything else forwarded (and cached) to ``forward``."""
    lines = [
        "server:",
        "    interface: 127.0.0.1",
        f"    port: {port}",
        "    do-ip6: no",
        "    num-threads: 1",
        '    username: ""',
        '    chroot: ""',
        f'    directory: "{folder}"',
        '    pidfile: ""',
        "    use-syslog: no",
        "    verbosity: 0",
        "    access-control: 127.0.0.0/8 allow",
        "    do-not-query-localhost: no",
        '    module-config: "iterator"',
        "    incoming-num-tcp: 100",
    ]
    for zone in local:
        lines += [f'    local-zone: "{zone.origin}." static']
        lines += [f'    local-data: "{zone.origin}. {zone.ttl} IN SOA {zone.soa()}"']
        for name, (v4, v6) in zone.hosts.items():
            lines += [f'    local-data: "{name}. {zone.ttl} IN A {ip}"' for ip in v4]
            lines += [f'    local-data: "{name}. {zone.ttl} IN AAAA {ip}"' for ip in v6]
    if forward is not None:
        lines += ["forward-zone:", '    name: "."', f"    forward-addr: {forward[0]}@{forward[1]}"]
    lines += ["remote-control:", "    control-enable: no"]
    return "\n".join(lines) + "\n"


def dnsmasq_conf(
    port: int, local: Iterable[Zone], forward: tuple[str, int] | None, log: Path
) -> str:
    """dnsmasq on 127.0.0.1:port: host-records (TTL ``local-ttl``) under ``local=/zone/`` (other
    names there NXDOMAIN), everything else forwarded (and cached) to ``forward``."""
    local = list(local)
    ttl = min((z.ttl for z in local), default=5)
    lines = [f"port={port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv"]
    lines += ["no-hosts", "user=root", "pid-file=", f"local-ttl={ttl}", "cache-size=10000"]
    lines += [f"log-facility={log}"]
    for zone in local:
        lines.append(f"local=/{zone.origin}/")
        for name, (v4, v6) in zone.hosts.items():
            lines.append("host-record=" + ",".join([name, *v4, *v6]))
    if forward is not None:
        lines.append(f"server={forward[0]}#{forward[1]}")
    return "\n".join(lines) + "\n"


def question_wire(name: str, qtype: str) -> bytes:
    """The question section of a query as dnsperf sends it (RD, no EDNS): the echo's key."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return labels + b"\0" + struct.pack("!2H", QTYPES[qtype], 1)


def reply_wire(data: DataSet, name: str, qtype: str) -> bytes:
    """The reply (without its 2-byte ID) an authoritative server gives: the addresses, or the
    zone's SOA in the authority section for NXDOMAIN and NODATA."""
    zone = next(z for z in sorted(data.zones, key=lambda z: -len(z.origin)) if z.holds(name))
    rcode, addrs = zone.lookup(name, qtype)
    header = DNSHeader(id=0, qr=1, aa=1, rd=1, ra=1, rcode=rcode)
    msg = DNSRecord(header, q=DNSQuestion(name, QTYPES[qtype]))
    rdata = A_RD if qtype == "A" else AAAA_RD
    for ip in addrs:
        msg.add_answer(RR(name, QTYPE.reverse[qtype], rdata=rdata(ip), ttl=zone.ttl))
    if not addrs:
        mname, rname, *times = zone.soa().split()
        soa = SOA(mname, rname, [int(t) for t in times])
        msg.add_auth(RR(zone.origin, QTYPE.SOA, rdata=soa, ttl=zone.ttl))
    return bytes(msg.pack())[2:]


def echo_table(data: DataSet) -> dict[str, str]:
    """The echo's replies for every question of the data set's workloads: question bytes (hex)
    -> reply without its ID (hex)."""
    questions = dict.fromkeys(q for w in data.workloads for q in w.questions)
    return {question_wire(n, t).hex(): reply_wire(data, n, t).hex() for n, t in questions}


# -- dnsd ---------------------------------------------------------------------------------------

K8S_COREFILE = """.:{port} {{
    bind 127.0.0.1
    kubernetes cluster.local {{
        objects {objects}
    }}
}}
"""

CACHE_COREFILE = """.:{port} {{
    bind 127.0.0.1
    cache 300
    forward . {upstream}
}}
"""


def dnsd_corefile(
    data: DataSet, port: int, objects: Path, upstream: str, extra_ports: Iterable[int] = ()
) -> str:
    """dnsd's Corefile for a data set: a bare kubernetes block (k8s), cache + forward (cache),
    or kubeadm's default Corefile (cache_forward.KUBEADM: ports on 127.0.0.1, ``objects``, and
    ``forward . resolv.conf`` whose nameserver is ``upstream``)."""
    if data.name == "k8s":
        return K8S_COREFILE.format(port=port, objects=objects)
    if data.name == "cache":
        return CACHE_COREFILE.format(port=port, upstream=upstream)
    health, ready, metrics = extra_ports
    return KUBEADM.format(
        port=port,
        health=health,
        ready=ready,
        metrics=metrics,
        objects=objects,
        resolv=objects.with_name("resolv.conf"),
    )


def upstream_corefile(host: str, port: int, objects: Path) -> str:
    return UPSTREAM.format(port=port, host=host, objects=objects, zone=EXTERNAL)
