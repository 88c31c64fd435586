"""k8s_external end to end: the real server, *kubernetes* reading an ``objects`` file, dnspython."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import TestServer, serve_corefile
from tests.plugins.kubernetes.test_objects import ep, eps, ns, svc

OBJECTS: list[dict[str, Any]] = [
    ns("default"),
    ns("demo"),
    svc("demo", "web", "10.96.0.20", external_ips=["192.0.2.10", "2001:db8::10"]),
    svc(
        "demo",
        "gateway",
        "10.96.0.21",
        type="LoadBalancer",
        ports=[("https", "TCP", 443)],
        ingress=[{"ip": "198.51.100.7"}],
    ),
    svc(
        "demo",
        "cloud",
        "10.96.0.22",
        type="LoadBalancer",
        ingress=[{"hostname": "lb.target.example"}],
    ),
    svc("demo", "internal", "10.96.0.23"),
    svc("demo", "db", "None", ports=[("postgres", "TCP", 5432)]),
    eps(
        "demo",
        "db",
        ep("10.244.2.1", hostname="db-0"),
        ep("10.244.2.2", hostname="db-1"),
        ports=[("postgres", "TCP", 5432)],
    ),
]


def write_objects(path: Path, objects: list[dict[str, Any]]) -> None:
    items = [{"apiVersion": "v1", **o} for o in objects]
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def corefile(path: Path, *options: str) -> str:
    ext = "k8s_external example.com in-addr.arpa"
    if options:
        ext += " {\n" + "".join(f"        {o}\n" for o in options) + "    }"
    return (
        ". {\n"
        f"    kubernetes cluster.local {{\n        objects {path}\n    }}\n"
        f"    {ext}\n"
        "    stub tag 9\n"
        "}\n"
        "target.example {\n    stub tag 7\n}\n"
    )


@asynccontextmanager
async def server(tmp_path: Path, *options: str) -> AsyncIterator[TestServer]:
    from tests.integration.stubs import stub_plugin

    path = tmp_path / "cluster.json"
    write_objects(path, OBJECTS)
    with stub_plugin():
        async with serve_corefile(corefile(path, *options)) as srv:
            yield srv


def rrs(reply: dns.message.Message, section: str = "answer") -> list[str]:
    out = []
    for rrset in getattr(reply, section):
        for rd in rrset:
            out.append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    return sorted(out)


SOA = "example.com. SOA ns1.dns.example.com. hostmaster.dns.example.com."
MATRIX = [
    # (id, options, qname, qtype, rcode, answer records "name TYPE rdata", SOA in authority)
    ("external-A", (), "web.demo.example.com", "A", "NOERROR",
     ["web.demo.example.com. A 192.0.2.10"], False),
    ("external-AAAA", (), "web.demo.example.com", "AAAA", "NOERROR",
     ["web.demo.example.com. AAAA 2001:db8::10"], False),
    ("case-kept", (), "WEB.Demo.Example.COM", "A", "NOERROR",
     ["WEB.Demo.Example.COM. A 192.0.2.10"], False),
    ("load-balancer-A", (), "gateway.demo.example.com", "A", "NOERROR",
     ["gateway.demo.example.com. A 198.51.100.7"], False),
    ("load-balancer-SRV", (), "_https._tcp.gateway.demo.example.com", "SRV", "NOERROR",
     ["_https._tcp.gateway.demo.example.com. SRV 0 100 443 gateway.demo.example.com."], False),
    ("ingress-hostname-resolved", (), "cloud.demo.example.com", "A", "NOERROR",
     ["cloud.demo.example.com. CNAME lb.target.example.", "lb.target.example. A 10.0.0.7"], False),
    ("other-type-nodata", (), "web.demo.example.com", "MX", "NOERROR", [], True),
    ("cluster-ip-only", (), "internal.demo.example.com", "A", "NXDOMAIN", [], True),
    ("missing-namespace", (), "web.nope.example.com", "A", "NXDOMAIN", [], True),
    ("namespace-nodata", (), "demo.example.com", "A", "NOERROR", [], True),
    ("headless-off", (), "db.demo.example.com", "A", "NXDOMAIN", [], True),
    ("headless", ("headless",), "db.demo.example.com", "A", "NOERROR",
     ["db.demo.example.com. A 10.244.2.1", "db.demo.example.com. A 10.244.2.2"], False),
    ("headless-endpoint", ("headless",), "db-1.db.demo.example.com", "A", "NOERROR",
     ["db-1.db.demo.example.com. A 10.244.2.2"], False),
    ("PTR", (), "10.2.0.192.in-addr.arpa", "PTR", "NOERROR",
     ["10.2.0.192.in-addr.arpa. PTR web.demo.example.com."], False),
    ("apex-NS", (), "example.com", "NS", "NOERROR",
     ["example.com. NS ns1.dns.example.com."], False),
    ("fallthrough", ("fallthrough",), "internal.demo.example.com", "A", "NOERROR",
     ["internal.demo.example.com. A 10.0.0.9"], False),
    ("fallthrough-zones", ("fallthrough in-addr.arpa",), "internal.demo.example.com", "A",
     "NXDOMAIN", [], True),
    ("cluster-zone-untouched", (), "web.demo.svc.cluster.local", "A", "NOERROR",
     ["web.demo.svc.cluster.local. A 10.96.0.20"], False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "qname", "qtype", "rcode", "answer", "soa"),
    [m[1:] for m in MATRIX],
    ids=[m[0] for m in MATRIX],
)
async def test_matrix(
    tmp_path: Path,
    options: tuple[str, ...],
    qname: str,
    qtype: str,
    rcode: str,
    answer: list[str],
    soa: bool,
) -> None:
    async with server(tmp_path, *options) as srv:
        for tcp in (False, True):
            reply = await srv.query(qname, qtype, tcp=tcp)
            assert dns.rcode.to_text(reply.rcode()) == rcode
            assert rrs(reply) == sorted(answer)
            authority = [r.rsplit(" ", 5)[0] for r in rrs(reply, "authority")]
            assert authority == ([SOA] if soa else [])
            if answer and "10.0.0.9" not in answer[0]:
                assert reply.flags & dns.flags.AA


async def test_soa_fields(tmp_path: Path) -> None:
    async with server(tmp_path, "ttl 30") as srv:
        reply = await srv.query("example.com", "SOA")
    (rrset,) = reply.answer
    soa = rrset[0]
    assert rrset.ttl == 30
    assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (7200, 1800, 86400, 30)
    assert soa.serial > 0


async def test_reload_rebinds_to_the_new_data(tmp_path: Path) -> None:
    async with server(tmp_path) as srv:
        path = tmp_path / "cluster.json"
        moved = svc("demo", "web", "10.96.0.20", external_ips=["192.0.2.99"])
        write_objects(path, [o if o["metadata"].get("name") != "web" else moved for o in OBJECTS])
        assert await srv.reload(corefile(path))
        reply = await srv.query("web.demo.example.com", "A")
        assert rrs(reply) == ["web.demo.example.com. A 192.0.2.99"]
        ptr = await srv.query("10.2.0.192.in-addr.arpa", "PTR")
        assert ptr.rcode() == dns.rcode.NXDOMAIN
