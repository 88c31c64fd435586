"""A UDP flood at twice the measured capacity: RSS bounded, admitted answers right, recovery.

dnsd runs as its own process (``python -m dnsd``) serving a *file* zone. Each case first
measures what dnsd answers per second with a short closed-loop dnsperf run (same query mix,
same machine and moment), then floods at twice that with dnsperf (``-Q 2x``, thousands
outstanding) for 5 s while a sampler asks real questions with dnspython and checks every
answer. The pass conditions: RSS at most 20 MiB above idle, no wrong answer (neither among
dnsperf's rcodes nor in the samples), and a normal query answered at once when the flood stops.

The random-name case sends only unique names (``-n 1``: dnsperf never repeats a line): before
dnsd's memo doorkeeper (dnsd/fastpath.py) each of them took an answer memo and 60,000 grew RSS
by 47 MiB.
"""

from __future__ import annotations

import random
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from tests.loadtools import (
    MIB,
    Check,
    RssPeak,
    Sampler,
    ask,
    dnsd_process,
    dnsperf,
    percentile,
    recovery,
)
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability

ZONE = """$ORIGIN example.org.
$TTL 3600
@ IN SOA ns hostmaster 1 7200 3600 1209600 3600
@ IN NS ns
ns IN A 192.0.2.53
www IN A 192.0.2.1
www IN AAAA 2001:db8::1
"""

COREFILE = """example.org:{port} {
    bind 127.0.0.1
    errors
    file ZONE
}
"""

BUDGET = 20 * MIB
FLOOD_SECONDS = 5


def is_www(reply: dns.message.Message) -> str:
    got = sorted(rr.to_text() for rrset in reply.answer for rr in rrset)
    if reply.rcode() != dns.rcode.NOERROR or got != ["192.0.2.1"]:
        return f"{dns.rcode.to_text(reply.rcode())} {got}"
    return ""


def is_nxdomain(reply: dns.message.Message) -> str:
    soa = [r for r in reply.authority if r.rdtype == dns.rdatatype.SOA]
    if reply.rcode() != dns.rcode.NXDOMAIN or reply.answer or not soa:
        return f"{dns.rcode.to_text(reply.rcode())} answer={reply.answer} soa={bool(soa)}"
    return ""


def sample(i: int) -> tuple[str, str, Check]:
    if i % 2 == 0:
        return "www.example.org", "A", is_www
    return f"sample{i}-{random.getrandbits(32):x}.example.org", "A", is_nxdomain


def write_names(path: Path, kind: str, count: int, prefix: str) -> Path:
    if kind == "repeated":  # a small working set: answered from memos after the first time
        lines = [
            "www.example.org A",
            "www.example.org AAAA",
            "ns.example.org A",
            "no.example.org A",
        ]
    else:  # unique names, never asked twice
        salt = random.getrandbits(32)
        lines = [f"{prefix}{i}x{salt:x}.example.org A" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@pytest.mark.parametrize("kind", ["repeated", "random"])
def test_udp_flood_at_twice_capacity(tmp_path: Path, kind: str) -> None:
    zone = tmp_path / "example.org.db"
    zone.write_text(ZONE, encoding="ascii")
    with dnsd_process(tmp_path, COREFILE.replace("ZONE", str(zone))) as dnsd:
        for i in range(50):  # warm: imports, arenas, the first memos
            assert ask(dnsd.port, *sample(i)[:2]) is not None
        idle = dnsd.rss()
        with RssPeak(dnsd.pid) as peak:
            probe = write_names(tmp_path / "probe.txt", kind, 200_000, "c")
            once = kind == "random"
            capacity = dnsperf(dnsd.port, probe, seconds=1.5, outstanding=200, once=once).qps
            # Enough unique names for 5 s at twice the capacity (dnsperf stops when they end).
            count = int(capacity * 2 * FLOOD_SECONDS * 1.2) + 1000
            data = write_names(tmp_path / "flood.txt", kind, count, "f")
            with Sampler(dnsd.port, sample, every=0.01) as sampler:
                flood = dnsperf(
                    dnsd.port,
                    data,
                    seconds=FLOOD_SECONDS,
                    qps=capacity * 2,
                    outstanding=20_000,
                    timeout=1.0,
                    once=once,
                    clients=8,
                )
            took = recovery(dnsd.port, lambda: _www_ok(dnsd.port))
        assert dnsd.alive()
        after = dnsd.rss()
    grown = peak.peak - idle
    expected = {"NXDOMAIN"} if kind == "random" else {"NOERROR", "NXDOMAIN"}
    rcode_wrong = sum(n for rcode, n in flood.rcodes.items() if rcode not in expected)
    wrong = rcode_wrong + len(sampler.wrongs)
    offered = flood.sent / FLOOD_SECONDS
    record(
        Figures(
            scenario=f"UDP flood at 2x capacity, {kind} names, {FLOOD_SECONDS} s",
            group="overload",
            sent=flood.sent + sampler.sent,
            answered=flood.completed + sampler.answered,
            wrong=wrong,
            lost=flood.lost + sampler.lost,
            recovery_s=round(took, 3),
            notes=(
                f"capacity {capacity:,.0f} qps, offered {offered:,.0f} qps, answered "
                f"{flood.completed / FLOOD_SECONDS:,.0f} qps; RSS idle {idle / MIB:.1f} MiB, "
                f"peak +{grown / MIB:.1f} MiB, after +{(after - idle) / MIB:.1f} MiB; "
                f"samples {sampler.answered}/{sampler.sent} answered, "
                f"p99 {percentile(sampler.latencies, 0.99) * 1000:.0f} ms"
            ),
        )
    )
    assert sampler.wrongs == [], sampler.wrongs[:5]
    assert rcode_wrong == 0, flood.rcodes
    assert flood.completed > 0 and sampler.answered > 0
    assert grown <= BUDGET, f"RSS grew {grown / MIB:.1f} MiB under the flood"
    assert took < 1.0, f"a normal query took {took:.2f} s to be answered after the flood"


def _www_ok(port: int) -> bool:
    reply = ask(port, "www.example.org", "A", timeout=0.25)
    return reply is not None and is_www(reply) == ""
