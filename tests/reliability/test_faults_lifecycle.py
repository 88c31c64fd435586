"""Config reloads that fail halfway, and SIGTERM with a lame duck, under a steady load (issue 7,
point 2 e and f).

A reload whose later server block fails (a setup error, or a port another process holds) must
leave the old config serving on its untouched sockets, losing no query meanwhile. SIGTERM to the
real ``dnsd`` process with ``health { lameduck 2s }`` must keep every query answered until the
lame duck ends.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import dns.asyncquery
import dns.message
import dns.query
import dns.rcode
import pytest

from dnsd.testing import free_port, serve_corefile, wait_for
from tests.reliability import Figures, record
from tests.reliability.steady import SteadyLoad, expect

pytestmark = pytest.mark.reliability

NAME = "a.example.org"


def block(port: int, address: str, tmp_path: Path) -> str:
    return (
        f".:{port} {{\n    bind 127.0.0.1\n    hosts {tmp_path / 'absent'} {{\n"
        f"        {address} {NAME}\n        reload 0\n    }}\n}}\n"
    )


def held_port() -> tuple[int, socket.socket, socket.socket]:
    """A port another process could hold: bound for UDP and TCP here."""
    port = free_port()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", port))
    tcp.listen()
    return port, udp, tcp


async def test_reload_failing_halfway_keeps_the_old_config(tmp_path: Path) -> None:
    port = free_port()
    good = block(port, "10.0.0.1", tmp_path)
    busy, udp, tcp = held_port()
    bad = {
        "setup error in a later block": good
        + block(free_port(), "10.0.0.9", tmp_path)
        + "example.net {\n    forward .\n}\n",
        "port of a later block in use": good.replace("10.0.0.1", "10.0.0.9")
        + block(busy, "10.0.0.9", tmp_path),
    }
    failed = 0
    try:
        async with serve_corefile(good, force_port=False) as srv:
            listener = srv.runtime.listeners[next(iter(srv.runtime.listeners))]
            probes = [expect(NAME, "A", "10.0.0.1")]
            async with SteadyLoad("127.0.0.1", port, probes, rate=300) as load:
                await load.wait_sent(30)
                for _ in range(5):
                    for text in bad.values():
                        assert not await srv.reload(text)
                        failed += 1
                        await load.wait_sent(15)
                await load.stop()
            kept = srv.runtime.listeners[next(iter(srv.runtime.listeners))] is listener
            # the reload path still works afterwards
            assert await srv.reload(good.replace("10.0.0.1", "10.0.0.2"))
            q = dns.message.make_query(NAME, "A")
            reply = await dns.asyncquery.udp(q, "127.0.0.1", port=port, timeout=2)
    finally:
        udp.close()
        tcp.close()
    assert load.wrong == 0 and load.lost == 0, load.problems
    assert kept, "the old listener must serve on"
    assert [rd.to_text() for rrset in reply.answer for rd in rrset] == ["10.0.0.2"]
    record(
        load.figures(
            "Corefile reload failing halfway (a later block's setup error or busy port)",
            None,
            f"failed reloads during the load: {failed}; old config kept serving",
        )
    )


LAMEDUCK = 2.0
#: Queries sent this close to the lame duck's end may meet the closing sockets.
EDGE = 0.3


def answered(port: int) -> bool:
    try:
        q = dns.message.make_query(NAME, "A")
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3).rcode() == 0
    except (dns.exception.Timeout, OSError):
        return False


async def test_sigterm_with_lameduck_answers_until_it_ends(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "Corefile"
    text = block(port, "10.0.0.1", tmp_path)
    conf.write_text(
        text.replace(
            "    bind", "    health 127.0.0.1:0 {\n        lameduck 2s\n    }\n    bind", 1
        )
    )
    out = (tmp_path / "out.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dnsd", "-conf", str(conf), "-quiet"],
        cwd=tmp_path,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_for(lambda: answered(port), timeout=15)
        probes = [expect(NAME, "A", "10.0.0.1")]
        async with SteadyLoad("127.0.0.1", port, probes, rate=200, timeout=1.0) as load:
            await load.wait_sent(40)
            sigterm = load.now()
            proc.send_signal(signal.SIGTERM)
            await wait_for(lambda: proc.poll() is not None, timeout=LAMEDUCK + 10)
            exited = load.now()
            await load.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        out.close()
    log = (tmp_path / "out.txt").read_text()
    assert proc.returncode == 0, log
    assert exited - sigterm >= LAMEDUCK
    before_end = load.within(0, sigterm + LAMEDUCK - EDGE)
    in_lameduck = load.within(sigterm, sigterm + LAMEDUCK - EDGE)
    bad = [o for o in before_end if not o.right]
    assert len(in_lameduck) > 100 and not bad, load.problems
    assert "Going into lameduck mode for 2s" in log and "Traceback" not in log
    after = len(load.within(sigterm + LAMEDUCK - EDGE))
    record(
        Figures(
            scenario="SIGTERM under load with health { lameduck 2s } (dnsd process)",
            group="faults",
            sent=len(before_end),
            answered=sum(1 for o in before_end if o.latency is not None),
            wrong=sum(1 for o in before_end if o.latency is not None and not o.right),
            lost=sum(1 for o in before_end if o.latency is None),
            notes=f"answered in the lame duck: {len(in_lameduck)}; not counted: {after} queries"
            f" sent in its last {EDGE}s or after the exit ({exited - sigterm:.2f}s after SIGTERM)",
        )
    )
