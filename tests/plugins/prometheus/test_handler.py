"""Handler of *prometheus*: what one query adds to the core metrics."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import dns.message
import pytest
from prometheus_client import REGISTRY as PROM

from dnsd.plugins.prometheus.handler import Prometheus
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query

_servers = itertools.count()


def make_request(
    qtype: str, *, proto: str = "udp", client: str = "192.0.2.1", do: bool = False
) -> Request:
    """A real validated request, with a server label no other test uses."""
    query = dns.message.make_query("www.example.org", qtype, want_dnssec=do)
    server = f"dns://handler-test-{next(_servers)}:53"
    req = parse_query(query.to_wire(), Request).init(client, 5353, proto, "::", server)
    req.zone = "example.org."
    return req


def reply_wire(req: Request, rcode: int) -> bytes:
    return bytes(req.reply(rcode).pack())


@dataclass(frozen=True)
class Case:
    qtype: str = "A"
    proto: str = "udp"
    client: str = "192.0.2.1"
    do: bool = False
    rcode: int | None = 0  # None: nothing was sent (acl's drop)
    plugin: str | None = "whoami"
    #: label values expected (beyond server/zone/view)
    type_label: str = "A"
    family: str = "1"
    rcode_label: str = "NOERROR"
    plugin_label: str = "whoami"


CASES = {
    "a-udp": Case(),
    "aaaa-tcp-ipv6": Case(
        qtype="AAAA", proto="tcp", client="2001:db8::1", type_label="AAAA", family="2"
    ),
    "unmonitored-type-is-other": Case(qtype="NAPTR", type_label="other"),
    "https-is-monitored": Case(qtype="HTTPS", type_label="HTTPS"),
    "nxdomain": Case(rcode=3, rcode_label="NXDOMAIN"),
    "servfail-written-by-server": Case(
        rcode=2, plugin=None, rcode_label="SERVFAIL", plugin_label=""
    ),
    "refused": Case(rcode=5, rcode_label="REFUSED"),
    "do-bit": Case(do=True),
    "nothing-sent": Case(rcode=None, plugin="acl", plugin_label=""),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_one_query_is_reported_once(case: Case) -> None:
    req = make_request(case.qtype, proto=case.proto, client=case.client, do=case.do)
    wire = None if case.rcode is None else reply_wire(req, case.rcode)

    async def next(r: Request) -> Reply | None:
        assert r is req
        return Reply.dropped() if wire is None else Reply(wire=wire)

    reply = await Prometheus().serve(req, next)
    assert reply is not None
    base = {"server": req.server, "zone": "example.org.", "view": ""}
    # nothing is counted until the server knows the final reply
    assert (
        PROM.get_sample_value(
            "coredns_dns_requests_total",
            {**base, "proto": case.proto, "family": case.family, "type": case.type_label},
        )
        is None
    )

    req.replied(wire, case.plugin)

    def value(name: str, **labels: str) -> float | None:
        return PROM.get_sample_value(name, {**base, **labels})

    requests = value(
        "coredns_dns_requests_total", proto=case.proto, family=case.family, type=case.type_label
    )
    assert requests == 1
    responses = value(
        "coredns_dns_responses_total", rcode=case.rcode_label, plugin=case.plugin_label
    )
    assert responses == 1
    assert value("coredns_dns_request_duration_seconds_count") == 1
    assert value("coredns_dns_request_size_bytes_sum", proto=case.proto) == len(req.wire)
    assert value("coredns_dns_response_size_bytes_sum", proto=case.proto) == len(wire or b"")
    do = PROM.get_sample_value(
        "coredns_dns_do_requests_total", {"server": req.server, "view": "", "zone": "example.org."}
    )
    assert do == (1 if case.do else None)


async def test_same_labels_accumulate() -> None:
    req = make_request("A")
    for _ in range(3):
        clone = parse_query(req.wire, Request).init(req.client, 1, "udp", "::", req.server)
        clone.zone = req.zone

        async def next(r: Request) -> Reply | None:
            return None

        await Prometheus().serve(clone, next)
        clone.replied(reply_wire(clone, 0), "whoami")
    labels = {
        "server": req.server,
        "zone": "example.org.",
        "view": "",
        "rcode": "NOERROR",
        "plugin": "whoami",
    }
    assert PROM.get_sample_value("coredns_dns_responses_total", labels) == 3
