"""cache and forward benchmarks: cache hits against a UDP echo, kubeadm's Corefile, slow upstreams.

dnsd runs as its own process pinned to core 0 (``taskset -c 0``); dnsperf (``-T 1``), the upstream
dnsd and this process are pinned to core 1. Three measurements, each recorded in its own table of
bench/README.md (section "cache_forward.py") with the date, commit and machine:

    python bench/cache_forward.py hits [--rounds 3 --seconds 10]
        cache hits of dnsd (``cache 300`` + ``forward`` to a second dnsd) against a uvloop UDP echo
        that answers precomputed replies (the "Python ceiling"), and the same dnsd with the
        kubeadm observers (``errors``, ``prometheus``); the three take turns, round after round
    python bench/cache_forward.py kubeadm [--seconds 10 --rate 2000]
        kubeadm's default Corefile (``objects`` instead of the API, ports on 127.0.0.1) with
        ~200 Services, external names through ``forward . resolv.conf`` to a dnsd on
        127.53.N.1:53 (needs root), a mix of cluster, external and 20% NXDOMAIN names;
        at full load (QPS, CPU), at a fixed rate (latency per kind of name), each kind alone
    python bench/cache_forward.py slow [--delay 1.8]
        1,000 distinct queries in a burst (50 per socket, ``--gap`` 5 ms between sockets: dnsd's
        receive buffer holds ~256) through ``forward { max_concurrent 1000 }`` to an upstream (in
        this process) that answers late: dnsd's RSS sampled every 50 ms; then 2,000 (REFUSED)
    python bench/cache_forward.py all   the three, in that order

Every subcommand takes ``--no-record`` (print only). A dnsperf run during which other processes
(not this benchmark's) used more than ``--max-other`` % of a core is run again (twice at most) and
the figure of the other processes is printed with every run. Processes are stopped by their PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from fixed_answer import cpu_seconds, ensure_dnsperf, taskset
from kubernetes import commit, machine, mib, percentile, pin_self, record, reset_hwm

ROOT = Path(__file__).resolve().parent.parent
DNSD = Path(sys.executable).parent / "dnsd"
CLK_TCK = os.sysconf("SC_CLK_TCK")

A, AAAA = 1, 28
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

EXT_ZONE = "example.com"
EXT_NAMESPACES = ("corp", "shop", "media", "mail")


class BenchError(Exception):
    """The benchmark cannot go on (a server did not start, died, or answered wrongly)."""


# -- processes ----------------------------------------------------------------------------------


class Proc:
    """A server process (dnsd or the echo) pinned to a core; its output goes to a log file."""

    def __init__(self, tmp: Path, name: str, cmd: list[str], core: int) -> None:
        self.name = name
        self.cmd = [*taskset(core), *cmd]
        self.log_path = tmp / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check(self) -> None:
        assert self.proc is not None
        rc = self.proc.poll()
        if rc is not None:
            raise BenchError(f"{self.name} exited with status {rc}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # kubeadm's Corefile has `health { lameduck 5s }`: 5 s to go
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def dnsd_proc(tmp: Path, name: str, corefile: str, core: int) -> Proc:
    conf = tmp / f"{name}.Corefile"
    conf.write_text(corefile)
    return Proc(tmp, name, [str(DNSD), "-conf", str(conf), "-quiet"], core)


@contextlib.contextmanager
def running(*procs: Proc) -> Iterator[tuple[Proc, ...]]:
    """Start the processes in order; stop them all (by PID), last first, on the way out."""
    started: list[Proc] = []
    try:
        for p in procs:
            started.append(p.start())
        yield procs
    finally:
        for p in reversed(started):
            p.stop()


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free for UDP and TCP on 127.0.0.1: each is held bound until all
    are found, so none is handed out twice (the servers bind them a moment later)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        for _ in range(count * 50):
            if len(ports) == count:
                break
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(u)
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(t)
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    if len(ports) < count:
        raise BenchError("no free ports on 127.0.0.1")
    return ports


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def proc_ticks() -> dict[int, tuple[int, int]]:
    """(utime + stime ticks, ppid) of every process now."""
    out: dict[int, tuple[int, int]] = {}
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            out[int(entry.name)] = (int(fields[11]) + int(fields[12]), int(fields[1]))
    return out


class OtherLoad:
    """CPU used by processes that are not this benchmark or its children, over a span."""

    def __init__(self) -> None:
        self.before = proc_ticks()
        self.t0 = time.monotonic()

    def percent(self) -> float:
        """Percent of one core used by other processes since the start (kernel threads too)."""
        after = proc_ticks()
        elapsed = time.monotonic() - self.t0
        ours = {os.getpid()}
        for _ in range(8):  # descendants: children of ours, a few levels deep
            ours |= {pid for pid, (_, ppid) in after.items() if ppid in ours}
        ticks = sum(
            max(0, t - self.before.get(pid, (0, 0))[0])
            for pid, (t, _) in after.items()
            if pid not in ours
        )
        return ticks / CLK_TCK / max(elapsed, 1e-3) * 100


# -- DNS over UDP -------------------------------------------------------------------------------


def encode_query(qid: int, name: str, qtype: int) -> bytes:
    """A query as dnsperf sends it: RD set, no EDNS."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    header = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0)
    return header + labels + b"\0" + struct.pack("!2H", qtype, 1)


def exchange(host: str, port: int, wire: bytes, timeout: float = 1.0) -> bytes | None:
    """One query, one reply with the same ID, or None (timeout, refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        end = time.monotonic() + timeout
        try:
            s.send(wire)
            for _ in range(100):
                left = end - time.monotonic()
                if left <= 0:
                    return None
                s.settimeout(left)
                data = s.recv(4096)
                if data[:2] == wire[:2]:
                    return data
        except OSError:
            return None
    return None


def rcode_of(wire: bytes) -> int:
    return wire[3] & 0x0F


def answers_of(wire: bytes) -> int:
    return (wire[6] << 8) | wire[7]


def wait_answer(
    proc: Proc, host: str, port: int, name: str, qtype: int = A, timeout: float = 30
) -> bytes:
    """Ask until a NOERROR reply with an answer comes (dnsd is up and has its data)."""
    end = time.monotonic() + timeout
    qid = random.randrange(1 << 16)
    while time.monotonic() < end:
        proc.check()
        qid = (qid + 1) & 0xFFFF
        reply = exchange(host, port, encode_query(qid, name, qtype), 0.3)
        if reply is not None and rcode_of(reply) == 0 and answers_of(reply) > 0:
            return reply
        time.sleep(0.05)
    raise BenchError(f"{proc.name}: no answer for {name} within {timeout:.0f}s:\n{proc.log_tail()}")


def warm(
    host: str, port: int, questions: list[tuple[str, int]], want: int = 0
) -> dict[bytes, bytes]:
    """Ask every question once; their replies by question bytes (what follows the header)."""
    replies: dict[bytes, bytes] = {}
    bad: list[str] = []
    for i, (name, qtype) in enumerate(questions):
        wire = encode_query(i & 0xFFFF, name, qtype)
        reply = exchange(host, port, wire, 2.0)
        if reply is None or rcode_of(reply) != want:
            bad.append(f"{name}/{qtype}: {'timeout' if reply is None else RCODES[rcode_of(reply)]}")
            continue
        replies[wire[12:]] = reply
    if bad:
        raise BenchError(f"{len(bad)} of {len(questions)} warm-up queries failed: {bad[:5]}")
    return replies


def http_get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples in a Prometheus text scrape (only those with ``labels``)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line[len(name) : len(name) + 1] not in ("{", " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


# -- dnsperf ------------------------------------------------------------------------------------


def dnsperf(
    port: int,
    queries: Path,
    args: argparse.Namespace,
    server: Proc,
    host: str = "127.0.0.1",
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One dnsperf run (pinned to core 1) against ``server``, rerun (twice at most) when other
    processes used more than ``--max-other`` % of a core meanwhile."""
    for attempt in range(3):
        result = _dnsperf_once(port, queries, args, server, host, extra)
        if result["other"] <= args.max_other:
            return result
        print(
            f"  disturbed: other processes used {result['other']:.1f}% of a core "
            f"(QPS {result['qps']:,.0f}); {'running again' if attempt < 2 else 'kept'}"
        )
    return result


def _dnsperf_once(
    port: int,
    queries: Path,
    args: argparse.Namespace,
    server: Proc,
    host: str,
    extra: tuple[str, ...],
) -> dict[str, Any]:
    exe = ensure_dnsperf()
    cmd = [*taskset(1), exe, "-s", host, "-p", str(port), "-d", str(queries), "-T", "1"]
    cmd += ["-l", str(args.seconds), "-c", str(args.clients), "-q", str(args.outstanding)]
    cmd += list(extra)
    load = OtherLoad()
    cpu0 = cpu_seconds(server.pid)
    perf = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60)
    cpu1 = cpu_seconds(server.pid)
    other = load.percent()
    server.check()
    out = perf.stdout
    if perf.returncode != 0 or "Queries per second" not in out:
        raise BenchError(f"dnsperf failed ({perf.returncode}):\n{out[-2000:]}\n{perf.stderr}")

    def num(pattern: str) -> float:
        m = re.search(pattern, out)
        if m is None:
            raise BenchError(f"dnsperf output without {pattern!r}")
        return float(m.group(1))

    completed = int(num(r"Queries completed:\s+(\d+)"))
    codes = re.search(r"Response codes:\s+(.*)", out)
    rcodes = ", ".join(
        f"{c} {p}%"
        for c, p in re.findall(r"([A-Z]+) \d+ \(([\d.]+)%\)", codes.group(1) if codes else "")
    )
    result = {
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "completed": completed,
        "lost": int(num(r"Queries lost:\s+(\d+)")),
        "avg_ms": num(r"Average Latency \(s\):\s+([\d.]+)") * 1000,
        "rcodes": rcodes,
        "cpu_us": (cpu1 - cpu0) / max(completed, 1) * 1e6,
        "cpu_pct": (cpu1 - cpu0) / args.seconds * 100,
        "rss": rss_kib(server.pid),
        "other": other,
        "stdout": out,
    }
    print(
        f"  {server.name}: {result['qps']:,.0f} QPS, {result['cpu_us']:.1f} µs CPU/query "
        f"(server at {result['cpu_pct']:.0f}% of its core), avg {result['avg_ms']:.3f} ms, "
        f"lost {result['lost']}, {rcodes}; other processes {other:.1f}% of a core"
    )
    return result


# -- the objects dnsd serves --------------------------------------------------------------------


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "resourceVersion": "1",
            "labels": {"kubernetes.io/metadata.name": name},
        },
    }


def external_objects(count: int) -> tuple[dict[str, Any], list[str]]:
    """LoadBalancer Services whose ingress IPs (v4 and v6) *k8s_external* serves as
    ``app-NNN.<ns>.example.com``: the upstream's "external" names."""
    items: list[dict[str, Any]] = [namespace(ns) for ns in EXT_NAMESPACES]
    names = []
    for i in range(count):
        ns, name = EXT_NAMESPACES[i % len(EXT_NAMESPACES)], f"app-{i:03d}"
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "resourceVersion": "2"},
                "spec": {
                    "type": "LoadBalancer",
                    "clusterIP": f"10.97.{i // 250}.{i % 250 + 1}",
                    "clusterIPs": [f"10.97.{i // 250}.{i % 250 + 1}"],
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
                },
                "status": {
                    "loadBalancer": {
                        "ingress": [
                            {"ip": f"203.0.{113 + i // 250}.{i % 250 + 1}"},
                            {"ip": f"2001:db8::{i + 1:x}"},
                        ]
                    }
                },
            }
        )
        names.append(f"{name}.{ns}.{EXT_ZONE}")
    return {"apiVersion": "v1", "kind": "List", "items": items}, names


def endpoint_slice(ns: str, service: str, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The IPv4 EndpointSlice of ``service`` with these endpoints, port http 8080."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service}-x7k2p",
            "namespace": ns,
            "resourceVersion": "3",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }


def cluster_objects(count: int, per_ns: int = 20) -> tuple[dict[str, Any], list[tuple[str, bool]]]:
    """``count`` ClusterIP Services in namespaces ns-NN (every other one dual-stack), each with
    an EndpointSlice of two ready endpoints; their names and whether they have an IPv6."""
    spaces = [f"ns-{n:02d}" for n in range((count + per_ns - 1) // per_ns)]
    items: list[dict[str, Any]] = [namespace(ns) for ns in ["default", "kube-system", *spaces]]
    names = []
    for i in range(count):
        ns, name, dual = spaces[i // per_ns], f"svc-{i:03d}", i % 2 == 0
        v4 = f"10.96.{1 + i // 250}.{i % 250 + 1}"
        ips = [v4, f"fd00:10:96::{i + 1:x}"] if dual else [v4]
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "resourceVersion": "2"},
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": v4,
                    "clusterIPs": ips,
                    "ipFamilies": ["IPv4", "IPv6"] if dual else ["IPv4"],
                    "selector": {"app": name},
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                },
            }
        )
        endpoints = [
            {
                "addresses": [f"10.244.{i // 100}.{(i % 100) * 2 + k + 1}"],
                "conditions": {"ready": True},
                "targetRef": {"kind": "Pod", "name": f"{name}-6d4cf-{k}", "namespace": ns},
            }
            for k in range(2)
        ]
        items.append(endpoint_slice(ns, name, endpoints))
        names.append((f"{name}.{ns}.svc.cluster.local", dual))
    return {"apiVersion": "v1", "kind": "List", "items": items}, names


UPSTREAM = """.:{port} {{
    bind {host}
    kubernetes cluster.local {{
        objects {objects}
    }}
    k8s_external {zone} {{
        ttl 3600
    }}
}}
"""


def upstream_proc(tmp: Path, host: str, port: int, externals: int) -> tuple[Proc, list[str]]:
    """A second dnsd serving the external names (TTL 3600), pinned to core 1."""
    objects, names = external_objects(externals)
    path = tmp / "external.yaml"
    path.write_text(yaml.safe_dump(objects, sort_keys=False))
    text = UPSTREAM.format(port=port, host=host, objects=path, zone=EXT_ZONE)
    return dnsd_proc(tmp, "upstream", text, core=1), names


# -- 1. cache hits against the UDP echo ---------------------------------------------------------


FRONT = """.:{port} {{
    bind 127.0.0.1
{observers}    cache 300
    forward . 127.0.0.1:{upstream}
}}
"""

HITS_HEAD = ["date", "commit", "machine", "server", "dnsperf", "rounds", "QPS", "QPS range"]
HITS_HEAD += ["avg latency ms", "lost", "server CPU µs/query", "CPU vs echo", "QPS vs echo"]
HITS_HEAD += ["RSS MiB", "other load %"]


def bench_hits(args: argparse.Namespace) -> None:
    ensure_dnsperf()
    pin_self(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        up_port, plain_port, obs_port, echo_port, metrics_port = free_ports(5)
        upstream, names = upstream_proc(tmp, "127.0.0.1", up_port, args.names)
        plain = dnsd_proc(
            tmp, "dnsd", FRONT.format(port=plain_port, observers="", upstream=up_port), core=0
        )
        observers = f"    errors\n    prometheus 127.0.0.1:{metrics_port}\n"
        observed = dnsd_proc(
            tmp,
            "dnsd+errors+prometheus",
            FRONT.format(port=obs_port, observers=observers, upstream=up_port),
            core=0,
        )
        queries = tmp / "queries"
        queries.write_text("".join(f"{name} A\n" for name in names))
        questions = [(name, A) for name in names]
        with running(upstream):
            wait_answer(upstream, "127.0.0.1", up_port, names[0])
            with running(plain, observed):
                for proc, port in ((plain, plain_port), (observed, obs_port)):
                    wait_answer(proc, "127.0.0.1", port, names[0])
                replies = warm("127.0.0.1", plain_port, questions)
                answers = tmp / "echo.json"
                answers.write_text(json.dumps({q.hex(): r[2:].hex() for q, r in replies.items()}))
                script = [sys.executable, str(Path(__file__).resolve().parent / "suite_echo.py")]
                echo = Proc(tmp, "echo", [*script, str(echo_port), str(answers)], core=0)
                with running(echo):
                    wait_answer(echo, "127.0.0.1", echo_port, names[0])
                    targets = [(echo, echo_port), (plain, plain_port), (observed, obs_port)]
                    runs = hits_rounds(args, targets, questions, queries)
                    status, scrape = http_get(metrics_port, "/metrics")
        if status == 200:
            hits = metric_sum(scrape, "coredns_cache_hits_total")
            forwarded = metric_sum(scrape, "coredns_proxy_request_duration_seconds_count")
            print(f"dnsd+errors+prometheus: {hits:,.0f} cache hits, {forwarded:,.0f} forwarded")
    echo_cpu = statistics.median(r["cpu_us"] for r in runs["echo"])
    echo_qps = statistics.median(r["qps"] for r in runs["echo"])
    for name, results in runs.items():
        qps = [r["qps"] for r in results]
        cpu = statistics.median(r["cpu_us"] for r in results)
        cells = [str(dt.date.today()), commit(), machine(), name]
        cells += [f"{args.seconds}s c{args.clients} q{args.outstanding}", str(len(results))]
        cells += [f"{statistics.median(qps):,.0f}", f"{min(qps):,.0f}-{max(qps):,.0f}"]
        cells += [f"{statistics.median(r['avg_ms'] for r in results):.3f}"]
        cells += [str(sum(r["lost"] for r in results)), f"{cpu:.1f}", f"{cpu / echo_cpu:.2f}"]
        cells += [f"{statistics.median(qps) / echo_qps:.2f}", mib(results[-1]["rss"])]
        cells += [f"{max(r['other'] for r in results):.1f}"]
        record(HITS_HEAD, cells, not args.no_record)


def hits_rounds(
    args: argparse.Namespace,
    targets: list[tuple[Proc, int]],
    questions: list[tuple[str, int]],
    queries: Path,
) -> dict[str, list[dict[str, Any]]]:
    """The servers take turns, ``--rounds`` times; dnsd's cache is warmed again before each."""
    runs: dict[str, list[dict[str, Any]]] = {proc.name: [] for proc, _ in targets}
    for n in range(args.rounds):
        print(f"round {n + 1} of {args.rounds}")
        for proc, port in targets:
            if proc.name != "echo":
                warm("127.0.0.1", port, questions)
            result = dnsperf(port, queries, args, proc)
            if result["lost"] or not result["rcodes"].startswith("NOERROR 100.00%"):
                raise BenchError(f"{proc.name}: not every query answered NOERROR: {result}")
            runs[proc.name].append(result)
    return runs


# -- 2. kubeadm's default Corefile with a realistic mix -----------------------------------------

KUBEADM = """.:{port} {{
    bind 127.0.0.1
    errors
    health 127.0.0.1:{health} {{
       lameduck 5s
    }}
    ready 127.0.0.1:{ready}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
       objects {objects}
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus 127.0.0.1:{metrics}
    forward . {resolv} {{
       max_concurrent 1000
    }}
    cache 30 {{
       disable success cluster.local
       disable denial cluster.local
    }}
    loop
    reload
    loadbalance
}}
"""

KUBEADM_HEAD = ["date", "commit", "machine", "services", "external names", "mix", "dnsperf", "QPS"]
KUBEADM_HEAD += ["avg latency ms", "lost", "rcodes", "server CPU µs/query", "forwarded"]
KUBEADM_HEAD += ["idle CPU %", "RSS MiB", "other load %"]

KIND_HEAD = ["date", "commit", "machine", "kind", "dnsperf", "QPS", "avg latency ms", "lost"]
KIND_HEAD += ["rcodes", "server CPU µs/query", "other load %"]

LATENCY_HEAD = ["date", "commit", "machine", "rate", "queries", "kind", "share", "rcodes"]
LATENCY_HEAD += ["p50 ms", "p90 ms", "p99 ms", "max ms", "lost"]

KINDS = ("cluster A", "cluster AAAA", "external A", "external AAAA", "search-path NXDOMAIN")


def free_upstream_address() -> str:
    """A 127.53.N.1 where port 53 is free for UDP and TCP (dnsd listens on both)."""
    for n in range(1, 60):
        host = f"127.53.{n}.1"
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, 53))
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind((host, 53))
        except OSError:
            continue
        return host
    raise BenchError("no 127.53.N.1 with port 53 free")


def mix_lines(
    cluster: list[tuple[str, bool]], external: list[str], count: int
) -> list[tuple[str, str, int]]:
    """(kind, name, qtype): a fifth each of cluster A, cluster AAAA, external A, external AAAA
    and search-path misses (an external name under ``default.svc.cluster.local``, as a client
    with ndots:5 tries first), names drawn at random (seeded)."""
    rng = random.Random(5)
    lines = []
    for i in range(count):
        kind = KINDS[i % 5]
        if kind.startswith("cluster"):
            name, qtype = rng.choice(cluster)[0], A if kind.endswith(" A") else AAAA
        elif kind.startswith("external"):
            name, qtype = rng.choice(external), A if kind.endswith(" A") else AAAA
        else:
            name, qtype = rng.choice(external) + ".default.svc.cluster.local", A
        lines.append((kind, name, qtype))
    return lines


def bench_kubeadm(args: argparse.Namespace) -> None:
    ensure_dnsperf()
    if os.geteuid() != 0:
        raise BenchError("kubeadm: the upstream binds 127.53.N.1:53, which needs root")
    pin_self(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        up_host = free_upstream_address()
        upstream, external = upstream_proc(tmp, up_host, 53, args.externals)
        objects, cluster = cluster_objects(args.services)
        objects_path = tmp / "cluster.yaml"
        objects_path.write_text(yaml.safe_dump(objects, sort_keys=False))
        resolv = tmp / "resolv.conf"
        resolv.write_text(f"nameserver {up_host}\noptions ndots:5\n")
        port, health, ready, metrics_port = free_ports(4)
        text = KUBEADM.format(
            port=port,
            health=health,
            ready=ready,
            metrics=metrics_port,
            objects=objects_path,
            resolv=resolv,
        )
        print(text)
        server = dnsd_proc(tmp, "dnsd-kubeadm", text, core=0)
        mix = mix_lines(cluster, external, args.lines)
        queries = tmp / "queries"
        queries.write_text("".join(f"{name} {'A' if t == A else 'AAAA'}\n" for _, name, t in mix))
        kind_of = {(name, "A" if t == A else "AAAA"): kind for kind, name, t in mix}
        ext_questions = [(name, t) for name in external for t in (A, AAAA)]
        with running(upstream, server):
            wait_answer(upstream, up_host, 53, external[0])
            wait_answer(server, "127.0.0.1", port, cluster[0][0], timeout=60)
            end = time.monotonic() + 30
            while http_get(ready, "/ready")[0] != 200:
                if time.monotonic() > end:
                    raise BenchError("dnsd-kubeadm: /ready not 200 within 30s")
                time.sleep(0.05)
            check_mix(port, mix)
            warm("127.0.0.1", port, ext_questions)
            time.sleep(1.0)
            cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
            time.sleep(5.0)
            idle_pct = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0) * 100
            print(f"idle: dnsd used {idle_pct:.1f}% of its core over 5 s without queries")
            before = http_get(metrics_port, "/metrics")[1]
            full = dnsperf(port, queries, args, server)
            after = http_get(metrics_port, "/metrics")[1]
            warm("127.0.0.1", port, ext_questions)
            paced = dnsperf_paced(port, queries, args, server)
            alone = {}
            for kind in KINDS:
                one = tmp / "queries-one-kind"
                lines = [(n, t) for k, n, t in mix if k == kind]
                one.write_text("".join(f"{n} {'A' if t == A else 'AAAA'}\n" for n, t in lines))
                warm("127.0.0.1", port, ext_questions)
                kind_args = argparse.Namespace(**{**vars(args), "seconds": args.kind_seconds})
                alone[kind] = dnsperf(port, one, kind_args, server)
    name = "coredns_proxy_request_duration_seconds_count"
    forwarded = metric_sum(after, name) - metric_sum(before, name)
    cells = [str(dt.date.today()), commit(), machine(), f"{args.services:,}", f"{args.externals:,}"]
    cells += ["cluster A+AAAA 40%, external A+AAAA 40%, NXDOMAIN 20%"]
    cells += [f"{args.seconds}s c{args.clients} q{args.outstanding}", f"{full['qps']:,.0f}"]
    cells += [f"{full['avg_ms']:.3f}", str(full["lost"]), full["rcodes"], f"{full['cpu_us']:.1f}"]
    cells += [f"{forwarded:,.0f}", f"{idle_pct:.1f}", mib(full["rss"]), f"{full['other']:.1f}"]
    record(KUBEADM_HEAD, cells, not args.no_record)
    latency_rows(args, paced, kind_of)
    for kind, result in alone.items():
        cells = [str(dt.date.today()), commit(), machine(), kind]
        cells += [f"{args.kind_seconds}s c{args.clients} q{args.outstanding}"]
        cells += [f"{result['qps']:,.0f}", f"{result['avg_ms']:.3f}", str(result["lost"])]
        cells += [result["rcodes"], f"{result['cpu_us']:.1f}", f"{result['other']:.1f}"]
        record(KIND_HEAD, cells, not args.no_record)


def check_mix(port: int, mix: list[tuple[str, str, int]]) -> None:
    """Each kind of name answers as it should before the load starts (one of each)."""
    want = {"search-path NXDOMAIN": 3}
    seen: set[str] = set()
    for kind, name, qtype in mix:
        if kind in seen:
            continue
        reply = exchange("127.0.0.1", port, encode_query(7, name, qtype), 2.0)
        code = want.get(kind, 0)
        if reply is None or rcode_of(reply) != code:
            got = "timeout" if reply is None else RCODES.get(rcode_of(reply), "?")
            raise BenchError(f"{kind} {name}: {got}, not {RCODES[code]}")
        seen.add(kind)
    print(f"one name of each kind answers as it should: {', '.join(sorted(seen))}")


def dnsperf_paced(
    port: int, queries: Path, args: argparse.Namespace, server: Proc
) -> dict[str, Any]:
    """dnsperf at a fixed rate (``--rate``, -Q) with -v: every answer's rcode and latency."""
    return dnsperf(port, queries, args, server, extra=("-Q", str(args.rate), "-v"))


def latency_rows(
    args: argparse.Namespace, paced: dict[str, Any], kind_of: dict[tuple[str, str], str]
) -> None:
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    codes: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for m in re.finditer(r"^> (\w+) (\S+) (\w+) ([\d.]+)$", paced["stdout"], re.M):
        rcode, name, qtype, seconds = m.groups()
        kind = kind_of.get((name, qtype))
        if kind is None:
            continue
        samples[kind].append(float(seconds) * 1000)
        codes[kind][rcode] += 1
    total = sum(len(v) for v in samples.values())
    everything = [x for v in samples.values() for x in v]
    base = [str(dt.date.today()), commit(), machine(), f"{args.rate:,}/s"]
    for kind, ms in [*samples.items(), ("all", everything)]:
        if not ms:
            continue
        counter = codes.get(kind) or sum(codes.values(), Counter())
        rc = ", ".join(f"{c} {n * 100 / len(ms):.1f}%" for c, n in counter.most_common())
        cells = [*base, f"{len(ms):,}", kind, f"{len(ms) * 100 / max(total, 1):.1f}%", rc]
        cells += [f"{percentile(ms, q):.3f}" for q in (0.5, 0.9, 0.99)]
        cells += [f"{max(ms):.3f}", str(paced["lost"]) if kind == "all" else "-"]
        record(LATENCY_HEAD, cells, not args.no_record)


# -- 3. 1,000 concurrent slow upstream queries --------------------------------------------------


def question_end(wire: bytes) -> int:
    """Offset just past the (uncompressed) question of a query."""
    i = 12
    for _ in range(128):
        n = wire[i]
        i += 1 + n
        if n == 0:
            break
    return i + 4


class SlowUpstream(asyncio.DatagramProtocol):
    """Answers every A query with one address after ``delay`` seconds (at once for names under
    ``fast.``, for readiness checks)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.transport: Any = None
        self.received = self.pending = self.max_pending = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) < 17:
            return
        end = question_end(data)
        answer = data[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + data[12:end]
        answer += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 1])
        if data[12:17] == b"\x04fast":
            self.transport.sendto(answer, addr)
            return
        self.received += 1
        self.pending += 1
        self.max_pending = max(self.max_pending, self.pending)
        asyncio.get_running_loop().call_later(self.delay, self._send, answer, addr)

    def _send(self, answer: bytes, addr: Any) -> None:
        self.pending -= 1
        if not self.transport.is_closing():
            self.transport.sendto(answer, addr)


class Client(asyncio.DatagramProtocol):
    """One client socket; replies are filed by query ID (unique across the burst)."""

    def __init__(self, replies: dict[int, tuple[int, float]], done: asyncio.Event, want: int):
        self.replies, self.done, self.want = replies, done, want
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) < 12:
            return
        qid = (data[0] << 8) | data[1]
        if qid not in self.replies:
            self.replies[qid] = (rcode_of(data), time.perf_counter())
            if len(self.replies) >= self.want:
                self.done.set()


SLOW_COREFILE = """.:{port} {{
    bind 127.0.0.1
    forward . 127.0.0.1:{upstream} {{
        max_concurrent {limit}
    }}
}}
"""

SLOW_HEAD = ["date", "commit", "machine", "queries", "sockets", "sent in ms", "upstream delay s"]
SLOW_HEAD += ["max_concurrent", "idle RSS MiB", "peak RSS MiB", "delta MiB", "VmHWM MiB"]
SLOW_HEAD += ["rcodes", "unanswered", "upstream max pending", "last answer s"]


async def slow_burst(args: argparse.Namespace, tmp: Path, count: int) -> list[str]:
    loop = asyncio.get_running_loop()
    up_transport, upstream = await loop.create_datagram_endpoint(
        lambda: SlowUpstream(args.delay), local_addr=("127.0.0.1", 0)
    )
    up_port = up_transport.get_extra_info("sockname")[1]
    (port,) = free_ports(1)
    text = SLOW_COREFILE.format(port=port, upstream=up_port, limit=args.limit)
    server = dnsd_proc(tmp, f"dnsd-slow-{count}", text, core=0)
    transports: list[Any] = [up_transport]
    try:
        server.start()
        replies: dict[int, tuple[int, float]] = {}
        done = asyncio.Event()
        # ready and warm: a few quick forwarded queries (the upstream socket is open)
        probe_t, _ = await loop.create_datagram_endpoint(
            lambda: Client(replies, done, args.warm),
            remote_addr=("127.0.0.1", port),
        )
        transports.append(probe_t)
        end = time.monotonic() + 30
        for i in range(10_000):
            server.check()
            if len(replies) >= 1 or time.monotonic() > end:
                break
            probe_t.sendto(encode_query(i, "fast.ready.example", A))
            await asyncio.sleep(0.05)
        if not replies:
            raise BenchError(f"{server.name} did not answer:\n{server.log_tail()}")
        replies.clear()
        for i in range(args.warm):
            probe_t.sendto(encode_query(i, f"fast.warm-{i}.example", A))
            await asyncio.sleep(0.002)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(1.0)
        pid = server.pid
        idle_samples = []
        for _ in range(10):  # 0.5 s of idle samples
            idle_samples.append(rss_kib(pid))
            await asyncio.sleep(0.05)
        idle = idle_samples[-1]
        hwm_ok = reset_hwm(pid)

        # the burst: count distinct names, 50 per socket, --gap ms between sockets
        replies = {}
        done = asyncio.Event()
        sockets = []
        for _ in range((count + 49) // 50):
            t, _ = await loop.create_datagram_endpoint(
                lambda: Client(replies, done, count), remote_addr=("127.0.0.1", port)
            )
            t.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
            sockets.append(t)
            transports.append(t)
        samples: list[tuple[float, int]] = []
        sampling = True

        async def sample() -> None:
            t0 = time.perf_counter()
            for _ in range(int((args.delay + 30) / 0.05)):
                if not sampling:
                    break
                with contextlib.suppress(OSError):
                    samples.append((time.perf_counter() - t0, rss_kib(pid)))
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        await asyncio.sleep(0.2)
        wires = [encode_query(i, f"q{i}-{count}.slow.example", A) for i in range(count)]
        t0 = time.perf_counter()
        for i, wire in enumerate(wires):
            sockets[i // 50].sendto(wire)
            if i % 50 == 49 and args.gap:  # dnsd's socket holds ~256 queued datagrams
                await asyncio.sleep(args.gap / 1000)
        sent_s = time.perf_counter() - t0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), args.delay + 10)
        await asyncio.sleep(0.3)
        sampling = False
        await sampler
        server.check()
        hwm = hwm_kib(pid) if hwm_ok else 0
    finally:
        for t in transports:
            t.close()
        server.stop()
    codes = Counter(RCODES.get(code, str(code)) for code, _ in replies.values())
    last = max((at for _, at in replies.values()), default=t0) - t0
    peak = max(rss for _, rss in samples)
    peak_at = next(at for at, rss in samples if rss == peak)
    print(
        f"{count} queries sent in {sent_s * 1000:.1f} ms over {len(sockets)} sockets; "
        f"answered {len(replies)} ({dict(codes)}), the last {last:.2f}s after the first send; "
        f"the upstream got {upstream.received} (at most {upstream.max_pending} waiting)"
    )
    print(
        f"RSS idle {mib(idle)} MiB (0.5 s of samples: {mib(min(idle_samples))}-"
        f"{mib(max(idle_samples))}), peak {mib(peak)} MiB at {peak_at:.2f}s of "
        f"{len(samples)} samples, VmHWM {mib(hwm)} MiB"
    )
    step = max(1, len(samples) // 25)
    rss_line = " ".join(f"{at:.2f}:{mib(rss)}" for at, rss in samples[::step])
    print(f"samples (s:MiB): {rss_line}")
    cells = [str(dt.date.today()), commit(), machine(), f"{count:,}", str(len(sockets))]
    cells += [
        f"{sent_s * 1000:.0f}",
        f"{args.delay:g}",
        f"{args.limit:,}",
        mib(idle),
        mib(peak),
        mib(peak - idle),
    ]
    cells += [mib(hwm) if hwm else "-", ", ".join(f"{c} {n}" for c, n in codes.most_common())]
    cells += [str(count - len(replies)), str(upstream.max_pending), f"{last:.2f}"]
    return cells


def bench_slow(args: argparse.Namespace) -> None:
    pin_self(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        for count in args.bursts:
            cells = asyncio.run(slow_burst(args, Path(tmpdir), count))
            record(SLOW_HEAD, cells, not args.no_record)


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    hits = sub.add_parser("hits", help="cache hits vs a uvloop UDP echo")
    kubeadm = sub.add_parser("kubeadm", help="kubeadm's Corefile with a realistic mix")
    slow = sub.add_parser("slow", help="1,000 concurrent slow upstream queries: RSS")
    every = sub.add_parser("all", help="hits, kubeadm and slow")
    for p in (hits, kubeadm, slow, every):
        p.add_argument("--no-record", action="store_true", help="print only")
    for p in (hits, kubeadm, every):
        p.add_argument("--seconds", type=int, default=10)
        p.add_argument("--clients", type=int, default=10)
        p.add_argument("--outstanding", type=int, default=100)
        p.add_argument(
            "--max-other", type=float, default=5.0, help="%% of a core others may use in a run"
        )
    for p in (hits, every):
        p.add_argument("--rounds", type=int, default=3)
        p.add_argument("--names", type=int, default=100, help="cached names in the query file")
    for p in (kubeadm, every):
        p.add_argument("--services", type=int, default=200)
        p.add_argument("--externals", type=int, default=100)
        p.add_argument("--lines", type=int, default=2000, help="lines in the query file")
        p.add_argument("--rate", type=int, default=2000, help="QPS of the latency run")
        p.add_argument("--kind-seconds", type=int, default=5, help="s of each kind alone")
    for p in (slow, every):
        p.add_argument("--delay", type=float, default=1.8, help="s the upstream waits")
        p.add_argument("--limit", type=int, default=1000, help="max_concurrent")
        p.add_argument("--bursts", type=int, nargs="+", default=[1000, 2000])
        p.add_argument("--warm", type=int, default=50, help="quick queries before the burst")
        p.add_argument(
            "--gap", type=float, default=5.0, help="ms between two sockets' 50 queries (0: none)"
        )
    args = ap.parse_args()
    if not DNSD.exists():
        sys.exit(f"{DNSD} not found: run `make run` or `pip install -e .` in .venv first")
    try:
        if args.command in ("hits", "all"):
            bench_hits(args)
        if args.command in ("kubeadm", "all"):
            bench_kubeadm(args)
        if args.command in ("slow", "all"):
            bench_slow(args)
    except BenchError as exc:
        sys.exit(f"cache_forward bench: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
