"""The servers the suite starts (knot, unbound, dnsmasq, the echo, dnsd, the upstream dnsd), each
its own process pinned to a core and stopped by its PID, and the DNS checks run against them:
every server must answer a sample of the workload's questions as the data set says before it is
measured."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from cache_forward import BenchError, Proc, external_objects, free_ports
from dnslib import DNSRecord
from suite_data import (
    QTYPES,
    DataSet,
    Question,
    dnsd_corefile,
    dnsmasq_conf,
    echo_table,
    knot_conf,
    knot_zone,
    question_wire,
    unbound_conf,
    upstream_corefile,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


class Server(Proc):
    """A server process pinned to ``core`` (the suite's servers: 0), listening on ``port``."""

    def __init__(
        self,
        tmp: Path,
        name: str,
        cmd: list[str],
        port: int,
        core: int = 0,
        cwd: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(tmp, name, cmd, core)
        self.port, self.cwd, self.host = port, cwd, host

    def start(self) -> Server:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd
            )
        return self


def dnsd_command(conf: Path, quiet: bool = True) -> list[str]:
    """dnsd of this checkout (``python -m dnsd`` run from its root: the venv's ``dnsd`` script
    may be an editable install of another checkout)."""
    return [sys.executable, "-m", "dnsd", "-conf", str(conf), *(["-quiet"] if quiet else [])]


def dnsd_server(
    tmp: Path, name: str, corefile: str, port: int, core: int = 0, host: str = "127.0.0.1"
) -> Server:
    conf = tmp / f"{name}.Corefile"
    conf.write_text(corefile)
    return Server(tmp, name, dnsd_command(conf), port, core, cwd=ROOT, host=host)


def upstream_server(tmp: Path, count: int, host: str, port: int) -> Server:
    """The dnsd that serves ``count`` external names (``k8s_external``), on core 1 (dnsperf's:
    it is idle while the caches answer)."""
    objects, _ = external_objects(count)
    path = tmp / "external.json"
    path.write_text(json.dumps(objects))
    corefile = upstream_corefile(host, port, path)
    return dnsd_server(tmp, "upstream", corefile, port, core=1, host=host)


def build(
    name: str, tmp: Path, data: DataSet, tools: dict[str, str], upstream: tuple[str, int] | None
) -> Server:
    """One server for a data set, configured in its own folder under ``tmp``."""
    folder = tmp / f"{data.name}-{name}"
    folder.mkdir()
    ports = free_ports(4)
    port = ports[0]
    forward = upstream if data.external else None
    if name == "knot":
        for zone in data.zones:
            (folder / f"{zone.origin}.zone").write_text(knot_zone(zone))
        conf = folder / "knot.conf"
        conf.write_text(knot_conf(folder, port, data.zones))
        return Server(folder, name, [tools["knotd"], "-c", str(conf)], port)
    if name == "unbound":
        conf = folder / "unbound.conf"
        conf.write_text(unbound_conf(folder, port, data.local, forward))
        return Server(folder, name, [tools["unbound"], "-d", "-c", str(conf)], port)
    if name == "dnsmasq":
        conf = folder / "dnsmasq.conf"
        conf.write_text(dnsmasq_conf(port, data.local, forward, folder / "dnsmasq-queries.log"))
        return Server(folder, name, [tools["dnsmasq"], "-k", "-C", str(conf)], port)
    if name == "echo":
        table = folder / "echo.json"
        table.write_text(json.dumps(echo_table(data)))
        cmd = [sys.executable, str(BENCH / "suite_echo.py"), str(port), str(table)]
        return Server(folder, name, cmd, port)
    if name == "dnsd":
        objects = folder / "objects.json"
        if data.objects is not None:
            objects.write_text(json.dumps(data.objects))
        if upstream is not None:
            (folder / "resolv.conf").write_text(f"nameserver {upstream[0]}\noptions ndots:5\n")
        target = f"{upstream[0]}:{upstream[1]}" if upstream else ""
        text = dnsd_corefile(data, port, objects, target, ports[1:])
        return dnsd_server(folder, name, text, port)
    raise ValueError(f"unknown server {name}")


# -- DNS ----------------------------------------------------------------------------------------


def query(name: str, qtype: str, qid: int) -> bytes:
    """A query as dnsperf sends it: RD, no EDNS."""
    return struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + question_wire(name, qtype)


def ask(host: str, port: int, wire: bytes, tcp: bool = False, timeout: float = 2.0) -> bytes | None:
    """One query to host:port over UDP or TCP; the reply with its ID, or None."""
    end = time.monotonic() + timeout
    kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    try:
        with socket.socket(socket.AF_INET, kind) as s:
            s.settimeout(timeout)
            s.connect((host, port))
            if tcp:
                s.sendall(len(wire).to_bytes(2, "big") + wire)
                data = b""
                while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                    if time.monotonic() > end:
                        return None
                    chunk = s.recv(65536)
                    if not chunk:
                        return None
                    data += chunk
                return data[2 : 2 + int.from_bytes(data[:2], "big")]
            s.send(wire)
            for _ in range(100):
                s.settimeout(max(end - time.monotonic(), 0.001))
                reply = s.recv(65536)
                if reply[:2] == wire[:2]:
                    return reply
    except OSError:
        return None
    return None


def answer_of(reply: bytes, qtype: str) -> tuple[int, tuple[str, ...]]:
    """(rcode, sorted addresses of qtype in the answer section)."""
    msg = DNSRecord.parse(reply)
    addrs = (str(ipaddress.ip_address(str(rr.rdata))) for rr in msg.rr if rr.rtype == QTYPES[qtype])
    return msg.header.rcode, tuple(sorted(addrs))


def normalized(addrs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(str(ipaddress.ip_address(a)) for a in addrs))


def check(server: Server, data: DataSet, questions: list[Question], tcp: bool = False) -> None:
    """Every question answered as the data set says (rcode and addresses); BenchError if not."""
    bad = []
    for i, (name, qtype) in enumerate(questions):
        reply = ask(server.host, server.port, query(name, qtype, (i * 7919) & 0xFFFF), tcp)
        rcode, want = data.expect(name, qtype)
        if reply is None:
            bad.append(f"{name} {qtype}: no answer")
            continue
        got = answer_of(reply, qtype)
        if got != (rcode, normalized(want)):
            bad.append(f"{name} {qtype}: {got}, not {(rcode, want)}")
    if bad:
        transport = "TCP" if tcp else "UDP"
        raise BenchError(
            f"{server.name} ({data.name}, {transport}): {len(bad)} of {len(questions)} answers "
            f"wrong: {bad[:3]}\n{server.log_tail()}"
        )


def sample(data: DataSet, count: int = 60) -> list[Question]:
    """A fixed sample of the data set's distinct questions, with the first of each rcode."""
    distinct = list(dict.fromkeys(q for w in data.workloads for q in w.questions))
    picked = dict.fromkeys(random.Random(6).sample(distinct, min(count, len(distinct))))
    firsts: dict[tuple[int, bool], Question] = {}
    for q in distinct:
        rcode, addrs = data.expect(*q)
        firsts.setdefault((rcode, bool(addrs)), q)
    return list(dict.fromkeys([*firsts.values(), *picked]))


def wait_serving(server: Server, data: DataSet, timeout: float = 60.0) -> float:
    """Poll (every 20 ms) until the first sampled question answers right; seconds waited."""
    name, qtype = sample(data, 1)[0]
    want = data.expect(name, qtype)
    t0 = time.monotonic()
    for i in range(int(timeout / 0.02) + 1):
        server.check()
        reply = ask(server.host, server.port, query(name, qtype, i & 0xFFFF), timeout=0.2)
        if reply is not None and answer_of(reply, qtype) == (want[0], normalized(want[1])):
            return time.monotonic() - t0
        time.sleep(0.02)
    raise BenchError(f"{server.name}: {name} {qtype} not answered right within {timeout:.0f}s")


def warm(server: Server, data: DataSet) -> None:
    """Ask every external question once, so a cache holds it (dnsd, unbound, dnsmasq)."""
    missing = []
    for i, (name, qtype) in enumerate(data.external_questions()):
        reply = ask(server.host, server.port, query(name, qtype, i & 0xFFFF))
        if reply is None or answer_of(reply, qtype)[0] != 0:
            missing.append(f"{name} {qtype}")
    if missing:
        raise BenchError(f"{server.name}: warming failed for {len(missing)}: {missing[:3]}")


def first_answer(server: Server, name: str, timeout: float = 30.0) -> float:
    """Start ``server`` and time it to the first NOERROR answer with records for ``name`` A,
    asked every 2 ms on one UDP socket (refused until the port is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((server.host, server.port))
        s.setblocking(False)
        t0 = time.perf_counter()
        server.start()
        for i in range(int(timeout / 0.002)):
            if time.perf_counter() - t0 > timeout:
                break
            with contextlib.suppress(OSError):  # ECONNREFUSED: nothing bound yet
                s.send(query(name, "A", i & 0xFFFF))
            end = time.perf_counter() + 0.002
            while (left := end - time.perf_counter()) > 0:
                if not select.select([s], [], [], left)[0]:
                    break
                try:
                    reply = s.recv(65536)
                except OSError:  # the ICMP error of an earlier datagram: not bound yet
                    continue
                # every query asks the same question: any NOERROR reply with records will do
                if len(reply) > 12 and (reply[3] & 0x0F) == 0 and reply[6:8] != b"\0\0":
                    return time.perf_counter() - t0
            if i % 50 == 0:
                server.check()
    raise BenchError(f"{server.name}: no answer for {name} within {timeout:.0f}s")


def is_root() -> bool:
    return os.geteuid() == 0
