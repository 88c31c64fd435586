"""One upstream: exchanges over UDP and TCP, socket and connection reuse, errors, health checks."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from dnslib import DNSRecord
from prometheus_client import REGISTRY

from dnsd.plugins.forward.health import HealthCheck, check_query
from dnsd.plugins.forward.message import ext_rcode, matches
from dnsd.plugins.forward.targets import To
from dnsd.plugins.forward.upstream import MUX, Upstream, UpstreamError
from dnsd.testing import free_port, wait_for
from tests.plugins.forward.fakes import (
    FakeUpstream,
    answer,
    garbage,
    rcode_only,
    silent,
    slow,
    wrong_id,
)


def query(name: str = "example.org.", qtype: str = "A", qid: int = 4242) -> bytes:
    q = DNSRecord.question(name, qtype)
    q.header.id = qid
    return bytes(q.pack())


def question(wire: bytes) -> bytes:
    """The question section of a query with no other records."""
    return wire[12:]


def upstream(fake: FakeUpstream | int, **kw: object) -> Upstream:
    port = fake if isinstance(fake, int) else fake.port
    return Upstream(To("dns", "127.0.0.1", port), **kw)  # type: ignore[arg-type]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("proto", ["udp", "tcp"])
async def test_exchange_returns_the_reply_under_a_fresh_id(proto: str) -> None:
    async with FakeUpstream(answer("192.0.2.9")) as fake:
        up = upstream(fake)
        try:
            wire = await up.exchange(query(qid=4242), proto, 1.0)
        finally:
            up.close()
    reply = DNSRecord.parse(wire)
    assert str(reply.a.rdata) == "192.0.2.9"
    assert fake.count(proto) == 1
    assert reply.header.id != 4242 or True  # the ID is random; the server restores the client's


async def test_udp_socket_is_shared_and_reused() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake)
        labels = {"proxy_name": "forward", "to": up.addr, "proto": "udp"}
        hits = sample("coredns_proxy_conn_cache_hits_total", **labels)
        misses = sample("coredns_proxy_conn_cache_misses_total", **labels)
        try:
            for _ in range(3):
                await up.exchange(query(), "udp", 1.0)
            assert len(up._udp) == 1
        finally:
            up.close()
    assert sample("coredns_proxy_conn_cache_misses_total", **labels) - misses == 1
    assert sample("coredns_proxy_conn_cache_hits_total", **labels) - hits == 2


async def test_udp_burst_opens_one_socket_per_mux_queries() -> None:
    async with FakeUpstream(slow(0.2)) as fake:
        up = upstream(fake)
        try:
            replies = await asyncio.gather(
                *(up.exchange(query(qid=i), "udp", 2.0) for i in range(MUX + 10))
            )
            assert len(up._udp) == 2
        finally:
            up.close()
    assert all(DNSRecord.parse(r).a.rdata for r in replies)


async def test_udp_wrong_id_is_dropped_and_times_out() -> None:
    async with FakeUpstream(wrong_id) as fake:
        up = upstream(fake)
        try:
            with pytest.raises(UpstreamError) as exc:
                await up.exchange(query(), "udp", 0.2)
        finally:
            up.close()
    assert re.fullmatch(
        rf"read udp 127\.0\.0\.1:\d+->127\.0\.0\.1:{fake.port}: i/o timeout", str(exc.value)
    )


async def test_udp_closed_port_fails_at_once() -> None:
    port = free_port()
    up = upstream(port)
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        with pytest.raises(UpstreamError) as exc:
            await up.exchange(query(), "udp", 2.0)
    finally:
        up.close()
    assert re.fullmatch(
        rf"read udp 127\.0\.0\.1:\d+->127\.0\.0\.1:{port}: read: connection refused", str(exc.value)
    )
    assert loop.time() - start < 1.0  # the ICMP error, not the timeout


async def test_tcp_connection_is_reused() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake)
        try:
            for _ in range(4):
                await up.exchange(query(), "tcp", 1.0)
        finally:
            up.close()
    assert fake.tcp_connections == 1
    assert fake.count("tcp") == 4


async def test_tcp_expire_zero_never_reuses() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake, expire=0.0)
        try:
            for _ in range(3):
                await up.exchange(query(), "tcp", 1.0)
        finally:
            up.close()
    assert fake.tcp_connections == 3


async def test_tcp_max_idle_conns_caps_the_cache() -> None:
    async with FakeUpstream(slow(0.1)) as fake:
        up = upstream(fake, max_idle_conns=1)
        try:
            await asyncio.gather(*(up.exchange(query(), "tcp", 2.0) for _ in range(3)))
            assert fake.tcp_connections == 3
            assert len(up._idle["tcp"]) == 1
            await up.exchange(query(), "tcp", 1.0)
        finally:
            up.close()
    assert fake.tcp_connections == 3  # the cached one served the fourth query


async def test_tcp_max_age_retires_old_connections() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake, expire=10.0, max_age=0.05)
        try:
            await up.exchange(query(), "tcp", 1.0)
            await asyncio.sleep(0.1)  # older than max_age, still well within expire
            await up.exchange(query(), "tcp", 1.0)
        finally:
            up.close()
    assert fake.tcp_connections == 2


async def test_tcp_cached_connection_closed_by_upstream_is_replaced() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake)
        try:
            await up.exchange(query(), "tcp", 1.0)
            fake.hang_up()
            await wait_for(lambda: all(c.closed for c in up._idle["tcp"]))
            wire = await up.exchange(query(), "tcp", 1.0)
        finally:
            up.close()
    assert DNSRecord.parse(wire).a.rdata
    assert fake.tcp_connections == 2


async def test_tcp_refused_and_timeout_messages() -> None:
    port = free_port()
    up = upstream(port)
    try:
        with pytest.raises(UpstreamError) as exc:
            await up.exchange(query(), "tcp", 1.0)
    finally:
        up.close()
    assert str(exc.value) == f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    async with FakeUpstream(silent) as fake:
        up = upstream(fake)
        try:
            with pytest.raises(UpstreamError) as exc:
                await up.exchange(query(), "tcp", 0.2)
        finally:
            up.close()
    assert re.fullmatch(
        rf"read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:{fake.port}: i/o timeout", str(exc.value)
    )


async def test_idle_sockets_expire() -> None:
    async with FakeUpstream(answer()) as fake:
        up = upstream(fake, expire=0.05)
        try:
            await up.exchange(query(), "udp", 1.0)
            await up.exchange(query(), "tcp", 1.0)
            assert len(up._udp) == 1 and len(up._idle["tcp"]) == 1
            await wait_for(lambda: not up._udp and not up._idle["tcp"], timeout=2.0)
        finally:
            up.close()


async def test_request_duration_is_observed_per_rcode() -> None:
    async with FakeUpstream(rcode_only(3)) as fake:
        up = upstream(fake)
        labels = {"proxy_name": "forward", "to": up.addr, "rcode": "NXDOMAIN"}
        before = sample("coredns_proxy_request_duration_seconds_count", **labels)
        try:
            await up.exchange(query(), "udp", 1.0)
        finally:
            up.close()
    assert sample("coredns_proxy_request_duration_seconds_count", **labels) - before == 1


MATCH_CASES = [
    ("same", "example.org.", "A", True),
    ("other-case", "EXAMPLE.org.", "A", True),
    ("other-name", "example.net.", "A", False),
    ("other-type", "example.org.", "AAAA", False),
]


@pytest.mark.parametrize(
    ("name", "qtype", "want"), [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES]
)
def test_matches(name: str, qtype: str, want: bool) -> None:
    q = query("example.org.", "A")
    reply = DNSRecord.parse(query(name, qtype)).reply()
    assert matches(bytes(reply.pack()), question(q)) is want


def test_matches_needs_a_response_with_one_question() -> None:
    q = query()
    assert not matches(q, question(q))  # QR clear
    reply = DNSRecord.parse(q).reply()
    reply.questions = []
    assert not matches(bytes(reply.pack()), question(q))
    assert not matches(b"\x00" * 5, question(q))


def test_ext_rcode_reads_the_opt() -> None:
    from dnslib import EDNS0

    reply = DNSRecord.parse(query()).reply()
    reply.add_ar(EDNS0(ext_rcode=1))
    assert ext_rcode(bytes(reply.pack())) == 1
    assert ext_rcode(query()) == 0


# -- health checks ------------------------------------------------------------------------


def test_check_query_is_root_ns_with_rd() -> None:
    q = DNSRecord.parse(check_query(".", True))
    assert (str(q.q.qname), q.q.qtype, q.header.rd) == (".", 2, 1)
    q = DNSRecord.parse(check_query("example.com.", False))
    assert (str(q.q.qname), q.header.rd, q.ar) == ("example.com.", 0, [])


@pytest.mark.parametrize("proto", ["udp", "tcp"])
async def test_health_check_any_reply_is_healthy(proto: str) -> None:
    async with FakeUpstream(rcode_only(2)) as fake:  # SERVFAIL still means "up"
        up = upstream(fake)
        up.fails = 5
        check = HealthCheck(up, proto=proto, recursion_desired=False, domain="example.com.")
        assert await check.check()
    assert up.fails == 0
    assert [(s.proto, s.qname, s.qtype, s.rd) for s in fake.seen] == [
        (proto, "example.com.", "NS", False)
    ]


async def test_health_check_failures_count_and_loop_until_healthy() -> None:
    port = free_port()
    up = upstream(port)
    check = HealthCheck(up, interval=0.02, timeout=0.2)
    labels = {"proxy_name": "forward", "to": up.addr}
    before = sample("coredns_proxy_healthcheck_failures_total", **labels)
    try:
        check.kick()
        check.kick()  # one loop at a time
        await wait_for(lambda: up.fails >= 3)
        assert up.down(2) and not up.down(0)
        assert check.running
        async with FakeUpstream(answer(), port=port):
            await wait_for(lambda: not check.running)
        assert up.fails == 0 and not up.down(2)
    finally:
        check.stop()
        up.close()
    assert sample("coredns_proxy_healthcheck_failures_total", **labels) - before >= 3


HEALTH_CASES = [
    ("silent", silent, "udp", False),
    ("garbage", garbage, "udp", False),
    ("wrong-id", wrong_id, "udp", False),
    ("wrong-id-tcp", wrong_id, "tcp", True),
    ("refused", rcode_only(5), "udp", True),
]


@pytest.mark.parametrize(
    ("behave", "proto", "healthy"),
    [c[1:] for c in HEALTH_CASES],
    ids=[c[0] for c in HEALTH_CASES],
)
async def test_health_check_verdicts(behave: Any, proto: str, healthy: bool) -> None:
    """A reply with a DNS header is healthy, whatever its rcode (CoreDNS's rule). Over UDP a
    reply with another ID is not the check's reply and is ignored until the timeout (miekg/dns
    skips mismatched IDs on packet connections); over TCP it still counts (miekg's ErrId comes
    with the message, and CoreDNS's check accepts any response)."""
    async with FakeUpstream(behave) as fake:
        up = upstream(fake)
        check = HealthCheck(up, timeout=0.1, proto=proto)
        assert await check.check() is healthy
    assert up.fails == int(not healthy)
