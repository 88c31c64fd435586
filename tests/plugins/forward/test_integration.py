"""forward through the real server: dnsd upstreams, misbehaving fakes, every option end to end."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.forward.handler import Forward
from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.plugins.forward.fakes import (
    FakeUpstream,
    StreamProxy,
    answer,
    garbage,
    rcode_only,
    silent,
    slow,
    truncating,
    wrong_id,
    wrong_question,
)

ROOT = Path(__file__).resolve().parents[3]
WHOAMI = ".:53 {\n    whoami\n}\n"
CLUSTER = f"""cluster.local:53 {{
    kubernetes cluster.local {{
        objects {ROOT / "examples" / "cluster.yaml"}
    }}
}}
"""
NOERROR, SERVFAIL, NXDOMAIN, REFUSED, FORMERR = 0, 2, 3, 5, 1


def fwd(to: str, *lines: str, zone: str = ".", extra: str = "") -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f".:53 {{\n    errors\n    forward {zone} {to}{block}\n{extra}}}\n"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def addresses(reply: Any) -> list[str]:
    return [rd.address for rrset in reply.answer for rd in rrset if hasattr(rd, "address")]


def srv_proto(reply: Any) -> str:
    """whoami's SRV owner says which transport reached it: _udp or _tcp."""
    return next(str(r.name).split(".")[0] for r in reply.additional if r.rdtype == 33)


def handlers(srv: TestServer) -> list[Forward]:
    return [h for h in srv.instance.blocks[0].handlers if isinstance(h, Forward)]


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "plugin/errors"]


# -- a dnsd upstream ----------------------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_dnsd_upstream_over_the_clients_transport(tcp: bool) -> None:
    async with serve_corefile(WHOAMI) as up, serve_corefile(fwd(f"127.0.0.1:{up.port}")) as srv:
        reply = await srv.query("example.org", "A", tcp=tcp)
    assert reply.rcode() == NOERROR
    assert srv_proto(reply) == ("_tcp" if tcp else "_udp")


TRANSPORT_CASES = [
    ("force_tcp-udp-client", "force_tcp", False, "_tcp"),
    ("force_tcp-wins-over-prefer_udp", "force_tcp\n        prefer_udp", False, "_tcp"),
    ("prefer_udp-tcp-client", "prefer_udp", True, "_udp"),
]


@pytest.mark.parametrize(
    ("option", "tcp", "want"), [c[1:] for c in TRANSPORT_CASES], ids=[c[0] for c in TRANSPORT_CASES]
)
async def test_transport_options(option: str, tcp: bool, want: str) -> None:
    async with serve_corefile(WHOAMI) as up:
        async with serve_corefile(fwd(f"127.0.0.1:{up.port}", option)) as srv:
            reply = await srv.query("example.org", "A", tcp=tcp)
    assert srv_proto(reply) == want


async def test_answers_and_nxdomain_from_a_kubernetes_upstream() -> None:
    async with serve_corefile(CLUSTER) as up, serve_corefile(fwd(f"127.0.0.1:{up.port}")) as srv:
        found = await srv.query("web.demo.svc.cluster.local", "A", use_edns=0)
        missing = await srv.query("nope.demo.svc.cluster.local", "A")
    assert addresses(found) == ["10.96.10.20"]
    assert found.flags & dns.flags.AA  # the upstream's bytes, flags and all
    assert found.edns == 0  # the client's EDNS, added by the server's scrub
    assert missing.rcode() == NXDOMAIN
    assert missing.authority  # the upstream's SOA came through


async def test_client_id_and_case_are_kept() -> None:
    async with FakeUpstream(answer()) as fake, serve_corefile(fwd(fake.addr)) as srv:
        q = dns.message.make_query("ExAmPlE.org", "A")
        q.id = 4321
        reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, timeout=2)
    assert reply.id == 4321
    assert str(reply.question[0].name) == "ExAmPlE.org."


async def test_non_in_class_is_forwarded() -> None:
    async with FakeUpstream(rcode_only(NOERROR)) as fake, serve_corefile(fwd(fake.addr)) as srv:
        reply = await srv.query("version.bind", "TXT", rdclass=dns.rdataclass.CH)
    assert reply.rcode() == NOERROR
    assert fake.count() == 1


# -- which names ----------------------------------------------------------------------------


async def test_from_zone_and_except() -> None:
    async with FakeUpstream(answer("192.0.2.1")) as fake:
        text = fwd(fake.addr, "except skip.example.org", zone="example.org", extra="    whoami\n")
        async with serve_corefile(text) as srv:
            inside = await srv.query("www.example.org", "A")
            apex = await srv.query("example.org", "A")
            excepted = await srv.query("a.skip.example.org", "A")
            outside = await srv.query("example.net", "A")
    assert addresses(inside) == addresses(apex) == ["192.0.2.1"]
    assert addresses(excepted) == addresses(outside) == []  # whoami answered
    assert excepted.flags & dns.flags.AA and outside.flags & dns.flags.AA
    assert fake.count() == 2


async def test_several_forwards_are_tried_in_corefile_order() -> None:
    async with (
        FakeUpstream(answer("192.0.2.1")) as lab,
        FakeUpstream(answer("192.0.2.2")) as local,
        FakeUpstream(answer("192.0.2.3")) as rest,
    ):
        text = (
            ".:53 {\n"
            f"    forward lab.example.local {lab.addr}\n"
            f"    forward example.local {local.addr}\n"
            f"    forward . {rest.addr}\n"
            "}\n"
        )
        async with serve_corefile(text) as srv:
            got = [
                addresses(await srv.query(name, "A"))
                for name in ("a.lab.example.local", "a.example.local", "example.org")
            ]
    assert got == [["192.0.2.1"], ["192.0.2.2"], ["192.0.2.3"]]


NEXT_CASES = [
    ("next-nxdomain", ["next NXDOMAIN"], rcode_only(NXDOMAIN), True),
    ("next-other-rcode", ["next SERVFAIL"], rcode_only(NXDOMAIN), False),
    ("next-on-nodata", ["next_on_nodata"], rcode_only(NOERROR), True),
    ("nodata-without-option", ["next NXDOMAIN"], rcode_only(NOERROR), False),
]


@pytest.mark.parametrize(
    ("lines", "first", "passed"), [c[1:] for c in NEXT_CASES], ids=[c[0] for c in NEXT_CASES]
)
async def test_next_hands_over_to_the_next_forward(
    lines: list[str], first: Any, passed: bool
) -> None:
    async with FakeUpstream(first) as one, FakeUpstream(answer("192.0.2.2")) as two:
        body = "".join(f"        {line}\n" for line in lines)
        text = f".:53 {{\n    forward . {one.addr} {{\n{body}    }}\n    forward . {two.addr}\n}}\n"
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert (addresses(reply) == ["192.0.2.2"]) is passed
    assert one.count() == 1 and two.count() == int(passed)


async def test_next_is_ignored_when_no_forward_follows() -> None:
    async with FakeUpstream(rcode_only(NXDOMAIN)) as fake:
        text = fwd(fake.addr, "next NXDOMAIN", extra="    whoami\n")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert reply.rcode() == NXDOMAIN  # not whoami's answer


# -- errors and failover -------------------------------------------------------------------


async def test_failover_tries_the_next_upstream_once_each() -> None:
    async with FakeUpstream(rcode_only(SERVFAIL)) as bad, FakeUpstream(answer()) as good:
        text = fwd(f"{bad.addr} {good.addr}", "policy sequential", "failover SERVFAIL REFUSED")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert addresses(reply) == ["192.0.2.1"]
    assert (bad.count(), good.count()) == (1, 1)


async def test_failover_returns_the_last_answer_when_all_fail() -> None:
    async with FakeUpstream(rcode_only(SERVFAIL)) as one, FakeUpstream(rcode_only(REFUSED)) as two:
        text = fwd(f"{one.addr} {two.addr}", "policy sequential", "failover SERVFAIL REFUSED")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert reply.rcode() == REFUSED
    assert (one.count(), two.count()) == (1, 1)


@pytest.mark.parametrize("rcode", [REFUSED, SERVFAIL], ids=["refused", "servfail"])
async def test_error_rcodes_pass_through_without_failover(rcode: int) -> None:
    async with FakeUpstream(rcode_only(rcode)) as fake, FakeUpstream(answer()) as other:
        text = fwd(f"{fake.addr} {other.addr}", "policy sequential")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
    assert reply.rcode() == rcode
    assert other.count() == 0


async def test_wrong_question_is_formerr() -> None:
    async with FakeUpstream(wrong_question) as fake, serve_corefile(fwd(fake.addr)) as srv:
        reply = await srv.query("example.org", "A")
    assert reply.rcode() == FORMERR
    assert str(reply.question[0].name) == "example.org."


BAD_UPSTREAMS = [("silent", silent), ("wrong-id", wrong_id), ("garbage", garbage)]


@pytest.mark.parametrize("behave", [c[1] for c in BAD_UPSTREAMS], ids=[c[0] for c in BAD_UPSTREAMS])
async def test_bad_upstream_times_out_and_logs(
    behave: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeUpstream(behave) as fake:
        text = fwd(fake.addr, "read_timeout 200ms")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", timeout=5)
    assert reply.rcode() == SERVFAIL
    assert fake.count() == 2  # max_connect_attempts: twice the upstreams
    (line,) = error_lines(caplog)
    pattern = (
        rf"2 example\.org\. A: plugin/forward: read udp 127\.0\.0\.1:\d+->{fake.addr}: i/o timeout"
    )
    assert re.fullmatch(pattern, line)


@pytest.mark.parametrize("behave", [c[1] for c in BAD_UPSTREAMS], ids=[c[0] for c in BAD_UPSTREAMS])
async def test_bad_upstream_moves_on_to_the_next(behave: Any) -> None:
    async with FakeUpstream(behave) as bad, FakeUpstream(answer()) as good:
        text = fwd(
            f"{bad.addr} {good.addr}",
            "policy sequential",
            "read_timeout 200ms",
            "health_check 50ms",
        )
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", timeout=5)
            # the error started health checks of the bad upstream
            await wait_for(lambda: bad.count(checks=True) > bad.count())
    assert addresses(reply) == ["192.0.2.1"]
    assert good.count() == 1


async def test_max_connect_attempts_caps_the_tries() -> None:
    async with FakeUpstream(silent) as fake:
        text = fwd(fake.addr, "read_timeout 100ms", "max_connect_attempts 3", "max_fails 0")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", timeout=5)
    assert reply.rcode() == SERVFAIL
    assert fake.count() == 3


async def test_all_upstreams_down_then_a_random_one_is_tried() -> None:
    async with FakeUpstream(silent) as one, FakeUpstream(silent) as two:
        text = fwd(
            f"{one.addr} {two.addr}", "read_timeout 100ms", "health_check 20ms", "max_fails 1"
        )
        async with serve_corefile(text) as srv:
            (handler,) = handlers(srv)
            await srv.query("example.org", "A", timeout=5)
            await wait_for(lambda: all(u.down(1) for u in handler.upstreams))
            broken = sample("coredns_forward_healthcheck_broken_total")
            seen = one.count() + two.count()
            reply = await srv.query("example.org", "A", timeout=5)
    assert reply.rcode() == SERVFAIL
    assert sample("coredns_forward_healthcheck_broken_total") > broken
    assert one.count() + two.count() > seen  # tried anyway


async def test_failfast_answers_servfail_without_trying(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeUpstream(silent) as fake:
        text = fwd(
            fake.addr,
            "read_timeout 100ms",
            "health_check 20ms",
            "max_fails 1",
            "failfast_all_unhealthy_upstreams",
        )
        async with serve_corefile(text) as srv:
            (handler,) = handlers(srv)
            await srv.query("example.org", "A", timeout=5)
            await wait_for(lambda: handler.upstreams[0].down(1))
            caplog.clear()
            seen = fake.count("udp")
            reply = await srv.query("example.org", "A", timeout=5)
    assert reply.rcode() == SERVFAIL
    assert fake.count("udp") == seen
    assert error_lines(caplog) == ["2 example.org. A: plugin/forward: no healthy proxies"]


async def test_killed_upstream_is_skipped_and_comes_back() -> None:
    """Stop one dnsd upstream: checks mark it down, traffic moves; restart it: it is used again."""
    async with serve_corefile(WHOAMI) as backup:
        first = serve_corefile(WHOAMI)
        srv_a = await first.__aenter__()
        port = srv_a.port
        a = f"127.0.0.1:{port}"
        text = fwd(
            f"{a} 127.0.0.1:{backup.port}",
            "policy sequential",
            "read_timeout 300ms",
            "health_check 30ms",
            "max_fails 1",
        )
        try:
            async with serve_corefile(text) as srv:
                (handler,) = handlers(srv)
                upstream = handler.upstreams[0]

                def used(to: str) -> float:
                    return sample(
                        "coredns_proxy_request_duration_seconds_count",
                        proxy_name="forward",
                        to=to,
                        rcode="NOERROR",
                    )

                assert (await srv.query("example.org", "A")).rcode() == NOERROR
                assert used(a) >= 1
                await first.__aexit__(None, None, None)  # kill it
                reply = await srv.query("example.org", "A", timeout=5)
                assert reply.rcode() == NOERROR  # the backup answered
                await wait_for(lambda: upstream.down(1), timeout=5)
                before = used(a)
                for _ in range(3):
                    assert (await srv.query("example.org", "A")).rcode() == NOERROR
                assert used(a) == before  # skipped while down
                again = f".:{port} {{\n    whoami\n}}\n"
                first = serve_corefile(again, force_port=False)
                await first.__aenter__()
                await wait_for(lambda: not upstream.down(1), timeout=5)
                assert (await srv.query("example.org", "A")).rcode() == NOERROR
                assert used(a) == before + 1
        finally:
            await first.__aexit__(None, None, None)


# -- TC, concurrency, reuse ----------------------------------------------------------------


async def test_truncated_udp_reply_is_retried_over_tcp_with_prefer_udp() -> None:
    async with FakeUpstream(truncating("192.0.2.7")) as fake:
        async with serve_corefile(fwd(fake.addr, "prefer_udp")) as srv:
            reply = await srv.query("example.org", "A", tcp=True)
            udp_reply = await srv.query("example.org", "A")
    assert addresses(reply) == addresses(udp_reply) == ["192.0.2.7"]
    assert [s.proto for s in fake.seen] == ["udp", "tcp", "udp", "tcp"]


async def test_truncated_udp_reply_reaches_a_udp_client_as_is() -> None:
    async with FakeUpstream(truncating()) as fake, serve_corefile(fwd(fake.addr)) as srv:
        reply = await srv.query("example.org", "A")
        again = await srv.query("example.org", "A", tcp=True)  # the client's own retry
    assert reply.flags & dns.flags.TC and not reply.answer
    assert addresses(again) == ["192.0.2.7"]
    assert [s.proto for s in fake.seen] == ["udp", "tcp"]


async def _burst(srv: TestServer, count: int) -> list[int]:
    async def one(i: int) -> int:
        q = dns.message.make_query(f"q{i}.example.org", "A")
        reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, timeout=5)
        return int(reply.rcode())

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def test_max_concurrent_refuses_the_excess_of_a_burst() -> None:
    async with FakeUpstream(slow(0.5)) as fake:
        async with serve_corefile(fwd(fake.addr, "max_concurrent 20")) as srv:
            before = sample("coredns_forward_max_concurrent_rejects_total")
            rcodes = await _burst(srv, 200)
            (handler,) = handlers(srv)
            assert handler.concurrent == 0
    refused = rcodes.count(REFUSED)
    assert rcodes.count(NOERROR) + refused == 200
    assert 20 <= rcodes.count(NOERROR) <= 60 and refused >= 140
    assert sample("coredns_forward_max_concurrent_rejects_total") - before == refused
    assert fake.count() == rcodes.count(NOERROR)


@pytest.mark.parametrize("option", ["force_tcp", "prefer_udp"])
async def test_tcp_connections_are_reused(option: str) -> None:
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port) as proxy:
        labels = {"proxy_name": "forward", "to": f"127.0.0.1:{proxy.port}", "proto": "tcp"}
        hits = sample("coredns_proxy_conn_cache_hits_total", **labels)
        lines = ["force_tcp"] if option == "force_tcp" else []
        async with serve_corefile(fwd(f"127.0.0.1:{proxy.port}", *lines)) as srv:
            for _ in range(5):
                reply = await srv.query("example.org", "A", tcp=True)
                assert reply.rcode() == NOERROR
    assert proxy.connections == 1
    assert sample("coredns_proxy_conn_cache_hits_total", **labels) - hits == 4


async def test_kubeadm_corefile_with_resolv_conf(tmp_path: Path) -> None:
    """``forward . /etc/resolv.conf { max_concurrent 1000 }`` with a nameserver on port 53."""
    host = f"127.53.{random.randrange(256)}.{random.randrange(1, 255)}"  # port 53 is shared
    try:
        up_cm = serve_corefile(WHOAMI, host=host, force_port=False)
        await up_cm.__aenter__()
    except (OSError, PermissionError) as exc:
        pytest.skip(f"cannot serve {host}:53 here: {exc}")
    try:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"search svc.cluster.local\nnameserver {host}\noptions ndots:5\n")
        text = fwd(str(resolv), "max_concurrent 1000")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
            (handler,) = handlers(srv)
    finally:
        await up_cm.__aexit__(None, None, None)
    assert reply.rcode() == NOERROR
    assert [u.addr for u in handler.upstreams] == [f"{host}:53"]
    assert handler.max_concurrent == 1000


async def test_reload_closes_the_old_upstream_sockets() -> None:
    async with FakeUpstream(answer()) as fake, serve_corefile(fwd(fake.addr, "force_tcp")) as srv:
        await srv.query("example.org", "A")
        (old,) = handlers(srv)
        assert old.upstreams[0]._idle["tcp"]
        assert await srv.reload(fwd(fake.addr, "force_tcp", "expire 5s"))
        assert not old.upstreams[0]._idle["tcp"]
        reply = await srv.query("example.org", "A")
    assert addresses(reply) == ["192.0.2.1"]
    assert fake.tcp_connections == 2


# -- more options end to end ---------------------------------------------------------------


async def test_source_address() -> None:
    async with serve_corefile(WHOAMI) as up:
        text = fwd(f"127.0.0.1:{up.port}", "source_address 127.0.0.2")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A")
            tcp_reply = await srv.query("example.org", "A", tcp=True)
    # whoami reports the address the query came from: forward's source address
    for r in (reply, tcp_reply):
        assert [rd.address for rrset in r.additional if rrset.rdtype == 1 for rd in rrset] == [
            "127.0.0.2"
        ]


POLICY_CASES = [
    ("sequential", [6, 0]),
    ("round_robin", [3, 3]),
]


@pytest.mark.parametrize(("policy", "want"), POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
async def test_policy_spreads_the_queries(policy: str, want: list[int]) -> None:
    async with FakeUpstream(answer()) as one, FakeUpstream(answer()) as two:
        async with serve_corefile(fwd(f"{one.addr} {two.addr}", f"policy {policy}")) as srv:
            for _ in range(6):
                assert (await srv.query("example.org", "A")).rcode() == NOERROR
    assert [one.count(), two.count()] == want


async def test_random_policy_uses_every_upstream() -> None:
    async with FakeUpstream(answer()) as one, FakeUpstream(answer()) as two:
        async with serve_corefile(fwd(f"{one.addr} {two.addr}")) as srv:
            for _ in range(40):
                await srv.query("example.org", "A")
    assert one.count() + two.count() == 40
    assert one.count() and two.count()


async def test_health_check_options_shape_the_check_query() -> None:
    async with FakeUpstream(silent) as fake:
        text = fwd(fake.addr, "read_timeout 100ms", "health_check 50ms no_rec domain example.com")
        async with serve_corefile(text) as srv:
            await srv.query("example.org", "A", timeout=5)
            await wait_for(lambda: fake.count(checks=True) > fake.count())
    checks = [s for s in fake.seen if s.qtype == "NS"]
    assert {(s.proto, s.qname, s.rd) for s in checks} == {("udp", "example.com.", False)}


async def test_max_fails_zero_never_checks() -> None:
    async with FakeUpstream(silent) as fake:
        text = fwd(fake.addr, "read_timeout 100ms", "max_fails 0", "health_check 10ms")
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", timeout=5)
            (handler,) = handlers(srv)
            assert not any(check.running for check in handler.health.values())
    assert reply.rcode() == SERVFAIL
    assert fake.count(checks=True) == fake.count()  # no NS check queries


REUSE_CASES = [
    ("default", [], 1),
    ("expire-0s", ["expire 0s"], 5),
    ("max_age", ["max_age 10s"], 1),
]


@pytest.mark.parametrize(
    ("lines", "connections"), [c[1:] for c in REUSE_CASES], ids=[c[0] for c in REUSE_CASES]
)
async def test_connection_cache_options(lines: list[str], connections: int) -> None:
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port) as proxy:
        text = fwd(f"127.0.0.1:{proxy.port}", "force_tcp", "max_idle_conns 1", *lines)
        async with serve_corefile(text) as srv:
            for _ in range(5):
                assert (await srv.query("example.org", "A")).rcode() == NOERROR
    assert proxy.connections == connections
