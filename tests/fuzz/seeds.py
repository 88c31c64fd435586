"""Seed inputs for each fuzz target, made from the project's own test data (nothing is stored
as binary files). :func:`write` puts them in a corpus folder for atheris."""

from __future__ import annotations

import hashlib
import json
import os

from dnslib import EDNS0, DNSRecord

from tests.corpus import CORPUS


def _queries() -> list[bytes]:
    out = [data for _, data in CORPUS]
    for name, qtype in (
        ("example.org.", "A"),
        ("a.example.net.", "AAAA"),
        ("version.bind.", "TXT"),
    ):
        q = DNSRecord.question(name, qtype)
        out.append(q.pack())
        q.add_ar(EDNS0(udp_len=4096))
        out.append(q.pack())
    chaos = DNSRecord.question("version.bind.", "TXT", "CH")
    out.append(chaos.pack())
    return out


_COREFILES = [
    ". {\n    whoami\n}\n",
    "example.org:1053 {\n    file db.example.org\n    log\n    errors\n}\n",
    ".:53 {\n    forward . 127.0.0.1:9 {\n        max_fails 3\n        health_check 5s\n    }\n"
    "    cache 30 {\n        success 1000\n        denial 100 5\n    }\n}\n",
    "(snip) {\n    log\n}\ncluster.local {\n    import snip\n    kubernetes cluster.local {\n"
    "        pods verified\n        fallthrough in-addr.arpa\n    }\n}\n",
    "dns://.:{$PORT} {\n    hosts {\n        10.0.0.1 a.example.org\n        ttl 60\n    }\n"
    '    rewrite name "a.b" c.d\n    template IN A example.org\n}\n',
    "a.org b.org:54,\n c.org {\n    bufsize 512\n    minimal\n    any\n    loop\n"
    "    reload 10s\n}\n",
]

_ZONE = """\
$ORIGIN example.org.
$TTL 3600
@   IN SOA ns1.example.org. admin.example.org. ( 2024010101 7200 3600 1209600 3600 )
    IN NS  ns1
    IN MX  10 mail
ns1 IN A   192.0.2.1
www IN A   192.0.2.2
    IN AAAA 2001:db8::2
ftp IN CNAME www
_sip._udp IN SRV 10 60 5060 sip
*.wild IN TXT "hello" "world"
sub IN NS ns.sub
ns.sub IN A 192.0.2.9
d IN DNAME example.net.
$GENERATE 1-3 host$ A 10.0.0.$
"""

_HOSTS = """\
127.0.0.1 localhost localhost.localdomain
::1 localhost6 ip6-localhost
10.0.0.1 a.example.org b.example.org # comment
fe80::1%eth0 link.example.org
::ffff:10.0.0.2 mapped.example.org
*.wild.example.org 10.0.0.3
10.0.0.4 *.wild.example.org
"""


def _objects() -> list[bytes]:
    meta = {"name": "web", "namespace": "default", "resourceVersion": "7"}
    service = {
        "metadata": meta,
        "spec": {
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10", "fd00::10"],
            "type": "ClusterIP",
            "ports": [{"name": "http", "protocol": "TCP", "port": 80}],
            "externalIPs": ["192.0.2.7"],
            "selector": {"app": "web"},
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.8"}, {"hostname": "lb.x"}]}},
    }
    slice_ = {
        "metadata": {
            **meta,
            "name": "web-abc",
            "labels": {"kubernetes.io/service-name": "web"},
            "annotations": {
                "endpoints.kubernetes.io/last-change-trigger-time": "2024-01-01T00:00:00.123456789Z"
            },
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["10.1.0.5"],
                "hostname": "web-0",
                "conditions": {"ready": True},
                "targetRef": {"kind": "Pod", "name": "web-0"},
                "zone": "a",
            }
        ],
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
    }
    namespace = {"metadata": {"name": "default", "labels": {"team": "a"}}}
    pod = {
        "metadata": {**meta, "name": "web-0"},
        "spec": {"hostNetwork": False},
        "status": {"phase": "Running", "podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}]},
    }
    scoped = {"metadata": meta, "spec": {"clusterIPs": ["fe80::1%eth0"]}}
    objs = [service, slice_, namespace, pod, scoped]
    out = [json.dumps(o).encode() for o in objs]
    events = [
        json.dumps({"type": t, "object": o})
        for t in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")
        for o in objs
    ]
    out.append("\n".join(events).encode())
    out.append(json.dumps({"type": "ERROR", "object": {"code": 410, "reason": "Gone"}}).encode())
    return out


def seeds(target: str) -> list[bytes]:
    if target in ("wire", "receive"):
        return _queries()
    if target == "corefile":
        return [c.encode() for c in _COREFILES]
    if target == "zonefile":
        lines = _ZONE.splitlines(keepends=True)
        return [_ZONE.encode(), "".join(lines[:3]).encode(), "".join(lines[::2]).encode()]
    if target == "hosts":
        return [_HOSTS.encode(), b"z" + _HOSTS.encode()]
    if target in ("objects", "informer"):
        return _objects()
    raise KeyError(target)


def write(target: str, folder: str) -> None:
    """Put the seeds of ``target`` in ``folder`` (created if needed), one file each."""
    os.makedirs(folder, exist_ok=True)
    for data in seeds(target):
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
