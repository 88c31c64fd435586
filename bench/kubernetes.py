"""kubernetes benchmarks: dnsd (a separate process) against the tests' fake API server.

The fake API (tests/plugins/kubernetes/fakeapi.py: real HTTP, real resourceVersions) runs in a
thread of this process, pinned to core 1; dnsd runs pinned to core 0 (``taskset -c 0``) with
``kubernetes cluster.local { endpoint http://127.0.0.1:PORT }``. Three measurements, each
recorded in its own table of bench/README.md (section "kubernetes.py") with the date, commit and
machine:

    python bench/kubernetes.py latency [--changes 200]   change-to-answer latency
    python bench/kubernetes.py scale [--services 10000 --per-service 10]
                                     first sync, steady RSS, peak RSS during a full relist
    python bench/kubernetes.py qps [--qps-services 1000 --seconds 10]
                                     dnsperf on ClusterIP names, 20% NXDOMAIN
    python bench/kubernetes.py all   the three, in that order

Every subcommand takes ``--no-record`` (print only). dnsd's output goes to a temporary log whose
tail is shown when it fails to start; dnsd is always terminated (by its PID) on the way out.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import ipaddress
import math
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dnslib import DNSRecord
from fixed_answer import cpu_model, cpu_seconds, ensure_dnsperf, taskset

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "README.md"
DNSD = Path(sys.executable).parent / "dnsd"
ZONE = "cluster.local"
sys.path.insert(0, str(ROOT))

from tests.plugins.kubernetes.fakeapi import (  # noqa: E402
    FakeAPI,
    endpoint,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
)

COREFILE = """.:{port} {{
    bind 127.0.0.1
    ready 127.0.0.1:{ready}
    kubernetes {zone} {{
        endpoint {api}
    }}
}}
"""

A, NOERROR, NXDOMAIN = 1, 0, 3


class BenchError(Exception):
    """The benchmark cannot go on (dnsd did not start, died, or never synced)."""


# -- small helpers ------------------------------------------------------------------------------


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsd listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise BenchError("no free port on 127.0.0.1")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (KiB) and Threads of a process."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            out[key] = int(value.split()[0])
    return out


def reset_hwm(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0: clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def commit() -> str:
    """Short HEAD, with -dirty when dnsd's code (not bench/) differs from it."""

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git(
        "status", "--porcelain", "--untracked-files=no", "--", "dnsd", "plugins", "pyproject.toml"
    )
    return head + ("-dirty" if dirty else "")


def machine() -> str:
    return f"{os.cpu_count()} x {cpu_model()}"


def pin_self(core: int) -> None:
    """Keep this process (the fake API's thread included) off dnsd's core."""
    if (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def record(head: list[str], cells: list[str], enabled: bool) -> None:
    """Print the row; insert it at the end of the README table whose header is ``head``."""
    header = "| " + " | ".join(head) + " |"
    row = "| " + " | ".join(cells) + " |"
    print(header)
    print(row)
    if not enabled:
        return
    lines = RESULTS.read_text().splitlines()
    if header not in lines:
        print(f"warning: no table {header!r} in {RESULTS}; row not recorded", file=sys.stderr)
        return
    i = lines.index(header) + 2
    while i < len(lines) and lines[i].startswith("|"):
        i += 1
    lines.insert(i, row)
    RESULTS.write_text("\n".join(lines) + "\n")


# -- DNS over UDP -------------------------------------------------------------------------------


def encode_query(qid: int, name: str, qtype: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return (
        struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!2H", qtype, 1)
    )


class Resolver:
    """Blocking single-query client for dnsd on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.qid = random.randrange(1 << 16)

    def close(self) -> None:
        self.sock.close()

    def query(
        self, name: str, qtype: int = A, timeout: float = 0.2
    ) -> tuple[int, list[str]] | None:
        """(rcode, answer rdata of qtype as text), None on timeout or ICMP refusal."""
        self.qid = (self.qid + 1) & 0xFFFF
        end = time.monotonic() + timeout
        try:
            self.sock.send(encode_query(self.qid, name, qtype))
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
                data = self.sock.recv(4096)
                if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == self.qid:
                    break
        except OSError:  # timeout, or nothing listening yet (ECONNREFUSED)
            return None
        msg = DNSRecord.parse(data)
        return msg.header.rcode, [str(rr.rdata) for rr in msg.rr if rr.rtype == qtype]

    def answers(self, name: str, ip: str, timeout: float = 0.2) -> bool:
        result = self.query(name, A, timeout)
        return result is not None and result[0] == NOERROR and ip in result[1]


# -- dnsd ---------------------------------------------------------------------------------------


class Dnsd:
    """A dnsd process pinned to core 0; its output is kept in a log file for errors."""

    def __init__(self, tmp: Path, api_url: str, name: str = "dnsd") -> None:
        self.port = self.ready_port = free_port()
        for _ in range(10):  # two distinct ports
            if self.ready_port != self.port:
                break
            self.ready_port = free_port()
        self.conf = tmp / f"{name}.Corefile"
        self.conf.write_text(
            COREFILE.format(port=self.port, ready=self.ready_port, zone=ZONE, api=api_url)
        )
        self.log_path = tmp / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> None:
        cmd = [*taskset(0), str(DNSD), "-conf", str(self.conf), "-quiet"]
        with self.log_path.open("wb") as log:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check(self) -> None:
        """Raise BenchError (with the log's tail) if dnsd has exited."""
        assert self.proc is not None
        rc = self.proc.poll()
        if rc is not None:
            raise BenchError(f"dnsd exited with status {rc}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def is_ready(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.ready_port, timeout=0.5)
        try:
            conn.request("GET", "/ready")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def wait(
        self,
        what: str,
        predicate: Callable[[], bool],
        timeout: float,
        interval: float = 0.02,
        each: Callable[[], None] | None = None,
    ) -> float:
        """Poll ``predicate`` (calling ``each`` every round) until true; seconds since start."""
        end = time.monotonic() + timeout
        while True:
            self.check()
            if each is not None:
                each()
            if predicate():
                return time.perf_counter() - self.started
            if time.monotonic() >= end:
                raise BenchError(f"dnsd: {what} not within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(interval)


@contextlib.contextmanager
def running_dnsd(tmp: Path, api_url: str, name: str = "dnsd") -> Iterator[Dnsd]:
    server = Dnsd(tmp, api_url, name)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- the synthetic cluster ----------------------------------------------------------------------

ZONES = ("zone-a", "zone-b", "zone-c")


def cluster_ip(i: int) -> str:
    return str(ipaddress.IPv4Address("10.96.0.0") + 1 + i)


def pod_ip(j: int) -> str:
    return str(ipaddress.IPv4Address("10.128.0.0") + 1 + j)


def namespace_of(i: int, per_namespace: int) -> str:
    return f"ns-{i // per_namespace:03d}"


def scale_objects(
    services: int, per_service: int, per_namespace: int = 100, headless_every: int = 10
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Namespaces, then a Service and one EndpointSlice of ``per_service`` ready endpoints for
    each i: every ``headless_every``-th Service is headless and its endpoints have hostnames
    (StatefulSet style); every endpoint has a Pod targetRef, a node and a zone."""
    for n in range((services + per_namespace - 1) // per_namespace):
        yield "Namespace", make_namespace(f"ns-{n:03d}")
    for i in range(services):
        ns, name = namespace_of(i, per_namespace), f"svc-{i % per_namespace:03d}"
        headless = i % headless_every == 0
        svc = make_service(ns, name, cluster_ip="None" if headless else cluster_ip(i))
        svc["metadata"]["labels"] = {"app": name}
        svc["spec"]["selector"] = {"app": name}
        yield "Service", svc
        eps = [
            endpoint(
                pod_ip(i * per_service + k),
                hostname=f"{name}-{k}" if headless else None,
                pod=f"{name}-{k}" if headless else f"{name}-7c9d8f6b5-{k:05x}",
                node=f"node-{(i + k) % 50}",
                zone=ZONES[k % 3],
            )
            for k in range(per_service)
        ]
        yield "EndpointSlice", make_slice(ns, name, f"{name}-x7k2p", endpoints=eps)


def fetch_all(url: str, kinds: list[str], page: int = 500) -> tuple[float, int, int]:
    """List every kind as the informer does (``limit``/``continue``), reading the bytes only:
    (seconds, pages, bytes). This is the fake's own serving time, without dnsd."""
    paths = {
        "Namespace": "/api/v1/namespaces",
        "Service": "/api/v1/services",
        "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices",
    }
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    pages = size = 0
    start = time.perf_counter()
    try:
        for kind in kinds:
            token = ""
            for _ in range(100_000):
                query = f"limit={page}" + (f"&continue={token}" if token else "")
                conn.request("GET", f"{paths[kind]}?{query}")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise BenchError(f"fake API: HTTP {response.status} for {kind} list")
                pages, size = pages + 1, size + len(body)
                m = re.search(rb'"continue": "([^"]+)"', body[:2000])
                if m is None:
                    break
                token = m.group(1).decode()
    finally:
        conn.close()
    return time.perf_counter() - start, pages, size


def time_list_building(api: FakeAPI) -> list[float]:
    """Wrap the fake's list builder (on this instance only) to log how long each page took to
    build (state snapshot, deepcopy, JSON encoding): the fake's own CPU per list page."""
    spans: list[float] = []
    build = api._list_body

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            spans.append(time.perf_counter() - t0)

    api._list_body = timed  # type: ignore[method-assign]
    return spans


# -- 1. change-to-answer latency ----------------------------------------------------------------

LATENCY_HEAD = ["date", "commit", "machine", "changes", "poll", "p50 ms", "p90 ms", "p99 ms"]
LATENCY_HEAD += ["max ms", "failed"]


def bench_latency(args: argparse.Namespace) -> None:
    pin_self(1)
    samples: list[float] = []
    failed = 0
    with FakeAPI() as api, tempfile.TemporaryDirectory() as tmp:
        api.add("Namespace", make_namespace("bench"))
        api.add("Service", make_service("bench", "probe", cluster_ip="10.100.0.1"))
        with running_dnsd(Path(tmp), api.url) as server:
            res = Resolver(server.port)
            try:
                probe = f"probe.bench.svc.{ZONE}"
                server.wait("first answer", lambda: res.answers(probe, "10.100.0.1"), 30)
                for i in range(args.changes):
                    name, ip = f"lat-{i}", str(ipaddress.IPv4Address("10.101.0.1") + i)
                    qname = f"{name}.bench.svc.{ZONE}"
                    svc = make_service("bench", name, cluster_ip=ip)
                    t0 = time.perf_counter()
                    api.add("Service", svc)
                    end = t0 + args.timeout
                    while True:
                        if res.answers(qname, ip, timeout=0.05):
                            samples.append(time.perf_counter() - t0)
                            break
                        if time.perf_counter() >= end:
                            failed += 1
                            server.check()
                            break
                        time.sleep(args.poll / 1000)
                    time.sleep(0.01)
            finally:
                res.close()
    if not samples:
        raise BenchError("no change was answered")
    ms = [s * 1000 for s in samples]
    print(f"{len(ms)} changes answered, {failed} not within {args.timeout}s")
    print(f"mean {sum(ms) / len(ms):.2f} ms, min {min(ms):.2f} ms")
    cells = [str(dt.date.today()), commit(), machine(), str(args.changes), f"{args.poll:g} ms"]
    cells += [f"{percentile(ms, q):.1f}" for q in (0.5, 0.9, 0.99)]
    cells += [f"{max(ms):.1f}", str(failed)]
    record(LATENCY_HEAD, cells, not args.no_record)


# -- 2. scale: first sync, steady RSS, peak RSS during a full relist -----------------------------

SCALE_HEAD = ["date", "commit", "machine", "services", "endpoints", "fake list s"]
SCALE_HEAD += ["first sync s", "fake busy s", "dnsd CPU s", "empty RSS MiB", "RSS at sync MiB"]
SCALE_HEAD += ["steady RSS MiB"]
SCALE_HEAD += ["relists", "relist s", "relist peak MiB", "VmHWM MiB", "RSS after MiB"]
SCALE_HEAD += ["slowest answer in relist ms"]


def bench_scale(args: argparse.Namespace) -> None:
    pin_self(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # An empty cluster first: what dnsd costs before any object (imports, threads).
        with FakeAPI() as empty:
            empty.add("Namespace", make_namespace("default"))
            with running_dnsd(tmp, empty.url, "empty") as server:
                start_s = server.wait("/ready (empty cluster)", server.is_ready, 60)
                base_cpu, base = cpu_seconds(server.pid), proc_status(server.pid)
        print(
            f"empty cluster: ready in {start_s:.2f}s, CPU {base_cpu:.2f}s, "
            f"RSS {mib(base['VmRSS'])} MiB"
        )
        with FakeAPI() as api:
            t0 = time.perf_counter()
            counts = {"Namespace": 0, "Service": 0, "EndpointSlice": 0}
            for kind, obj in scale_objects(args.services, args.per_service):
                api.add(kind, obj)
                counts[kind] += 1
            endpoints = args.services * args.per_service
            print(
                f"fake API loaded: {counts} ({endpoints} endpoints) "
                f"in {time.perf_counter() - t0:.1f}s"
            )
            fake_s, pages, size = fetch_all(api.url, list(counts))
            print(
                f"fake API alone serves the paged lists (limit 500) in {fake_s:.2f}s: "
                f"{pages} pages, {size / 2**20:.1f} MiB of JSON"
            )
            spans = time_list_building(api)
            with running_dnsd(tmp, api.url, "scale") as server:
                scale_run(args, api, server, spans, fake_s, base["VmRSS"])


def scale_run(
    args: argparse.Namespace,
    api: FakeAPI,
    server: Dnsd,
    spans: list[float],
    fake_s: float,
    empty_rss: int,
) -> None:
    pid = server.pid
    rss_peak = 0

    def sample() -> None:
        nonlocal rss_peak
        with contextlib.suppress(OSError):
            rss_peak = max(rss_peak, proc_status(pid).get("VmRSS", 0))

    sync_s = server.wait("/ready (first sync)", server.is_ready, args.sync_timeout, each=sample)
    sync_cpu = cpu_seconds(pid)
    at_sync = proc_status(pid)
    build_s = sum(spans)
    print(
        f"first sync (/ready 200) {sync_s:.2f}s after start; dnsd CPU {sync_cpu:.2f}s; "
        f"the fake spent {build_s:.2f}s building {len(spans)} list pages meanwhile"
    )
    res = Resolver(server.port)
    try:
        # a Service that answers, and one endpoint name of a headless Service
        first_name = f"svc-001.{namespace_of(1, 100)}.svc.{ZONE}"
        answer_s = server.wait("first answer", lambda: res.answers(first_name, cluster_ip(1)), 30)
        print(f"first correct answer {answer_s:.2f}s after start")
        print(
            f"RSS at sync {mib(at_sync['VmRSS'])} MiB (VmHWM {mib(at_sync['VmHWM'])} MiB, "
            f"sampled peak before sync {mib(rss_peak)} MiB, {at_sync['Threads']} threads)"
        )
        correct = spot_check(res, args, 200)
        print(f"spot check: {correct}/200 names answer as expected")
        time.sleep(args.settle)
        server.check()
        steady = proc_status(pid)
        print(f"steady RSS ({args.settle:g}s after sync) {mib(steady['VmRSS'])} MiB")

        relists = [full_relist(api, server, res, n, args.sync_timeout) for n in range(args.relists)]
        time.sleep(args.settle)
        server.check()
        after = proc_status(pid)
        print(f"RSS {args.settle:g}s after the last relist {mib(after['VmRSS'])} MiB")
    finally:
        res.close()
    endpoints = args.services * args.per_service
    cells = [str(dt.date.today()), commit(), machine(), f"{args.services:,}", f"{endpoints:,}"]
    cells += [f"{fake_s:.2f}", f"{sync_s:.2f}", f"{build_s:.2f}", f"{sync_cpu:.2f}", mib(empty_rss)]
    cells += [mib(at_sync["VmRSS"]), mib(steady["VmRSS"]), str(len(relists))]
    cells += [f"{max(r['seconds'] for r in relists):.2f}", mib(max(r["peak"] for r in relists))]
    cells += [mib(max(r["hwm"] for r in relists)), mib(after["VmRSS"])]
    cells += [f"{max(r['slowest'] for r in relists) * 1000:.0f}"]
    record(SCALE_HEAD, cells, not args.no_record)


def full_relist(
    api: FakeAPI, server: Dnsd, res: Resolver, n: int, timeout: float
) -> dict[str, float]:
    """Force every informer to relist and wait until two changes made meanwhile answer.

    The resourceVersion is bumped with an object dnsd does not watch (a Pod), so every
    informer's resourceVersion is older than the compaction; then every watch is ended: its
    rewatch gets 410 and relists. The changes made right after the close reach dnsd only through
    those relists (the old streams stop at the close marker queued before them). VmRSS is sampled
    every round (~10 ms) from the close until 2 s after both changes answer, VmHWM is reset just
    before, and an unchanged name is asked every round to see how long answers wait.
    """
    pid = server.pid
    lists_before = len(api.lists())
    hwm_reset = reset_hwm(pid)
    peak = 0

    def sample() -> None:
        nonlocal peak
        with contextlib.suppress(OSError):
            peak = max(peak, proc_status(pid).get("VmRSS", 0))

    svc_ip, ep_ip, host = f"10.99.0.{n + 1}", f"10.200.1.{n + 1}", f"relist-probe-{n}"
    api.add("Pod", make_pod("ns-000", f"rv-bump-{n}", f"10.200.0.{n + 1}"))
    api.compact()
    t0 = time.perf_counter()
    api.close_watches()
    api.update("Service", make_service("ns-000", "svc-001", cluster_ip=svc_ip))
    slice_ = api.get("EndpointSlice", "ns-000", "svc-000-x7k2p")
    assert slice_ is not None
    slice_["endpoints"].append(endpoint(ep_ip, hostname=host))
    api.update("EndpointSlice", slice_)
    names = {f"svc-001.ns-000.svc.{ZONE}": svc_ip, f"{host}.svc-000.ns-000.svc.{ZONE}": ep_ip}
    end = time.monotonic() + timeout
    seen: dict[str, float] = {}
    # an unchanged name, asked every round: how long answers wait while dnsd relists
    probe, probe_ip = f"svc-002.ns-000.svc.{ZONE}", cluster_ip(2)
    slowest, missed = 0.0, 0
    while len(seen) < len(names):
        sample()
        t = time.perf_counter()
        missed += not res.answers(probe, probe_ip, 2.0)
        slowest = max(slowest, time.perf_counter() - t)
        for name, ip in names.items():
            if name not in seen and res.answers(name, ip, 0.05):
                seen[name] = time.perf_counter() - t0
        if time.monotonic() >= end:
            server.check()
            raise BenchError(f"relist not visible within {timeout:.0f}s: {seen}")
        time.sleep(0.005)
    tail_end = time.monotonic() + 2.0  # the old and the relist's garbage are freed after the swap
    while time.monotonic() < tail_end:
        sample()
        time.sleep(0.02)
    status = proc_status(pid)
    svc_s, ep_s = seen.values()
    pages = len(api.lists()) - lists_before
    print(
        f"relist {n + 1}: {pages} list pages; the Service change answered after {svc_s:.2f}s, "
        f"the endpoint change after {ep_s:.2f}s; sampled peak RSS {mib(peak)} MiB, VmHWM "
        f"{mib(status['VmHWM'])} MiB ({'reset before' if hwm_reset else 'since start'}), "
        f"RSS 2s later {mib(status['VmRSS'])} MiB; an unchanged name answered in at most "
        f"{slowest * 1000:.0f} ms ({missed} unanswered within 2s)"
    )
    return {
        "seconds": max(svc_s, ep_s),
        "peak": peak,
        "hwm": status["VmHWM"],
        "slowest": slowest,
        "missed": missed,
    }


def spot_check(res: Resolver, args: argparse.Namespace, count: int) -> int:
    """Ask ``count`` random names of the generated cluster; how many answered as expected."""
    rng = random.Random(7)
    good = 0
    for _ in range(count):
        i = rng.randrange(args.services)
        k = rng.randrange(args.per_service)
        ns, name = namespace_of(i, 100), f"svc-{i % 100:03d}"
        if i % 10 == 0:  # headless: an endpoint by its hostname
            qname, ip = f"{name}-{k}.{name}.{ns}.svc.{ZONE}", pod_ip(i * args.per_service + k)
        else:
            qname, ip = f"{name}.{ns}.svc.{ZONE}", cluster_ip(i)
        good += res.answers(qname, ip, 1.0)
    return good


# -- 3. QPS on kubernetes names -----------------------------------------------------------------

QPS_HEAD = ["date", "commit", "machine", "services", "dnsperf", "QPS", "avg latency ms", "lost"]
QPS_HEAD += ["rcodes", "server CPU µs/query", "RSS MiB"]


def bench_qps(args: argparse.Namespace) -> None:
    dnsperf = ensure_dnsperf()
    pin_self(1)
    with FakeAPI() as api, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        api.add("Namespace", make_namespace("default"))
        services = args.qps_services
        for i in range(services):
            api.add("Service", make_service("default", f"svc-{i}", cluster_ip=cluster_ip(i)))
        queries = tmp / "queries"
        lines = []
        for n in range(5 * services):  # every 5th name does not exist: 20% NXDOMAIN
            if n % 5 == 4:
                lines.append(f"nx-{n}.default.svc.{ZONE} A")
            else:
                lines.append(f"svc-{n % services}.default.svc.{ZONE} A")
        queries.write_text("\n".join(lines) + "\n")
        with running_dnsd(tmp, api.url) as server:
            res = Resolver(server.port)
            try:
                name, ip = f"svc-{services - 1}.default.svc.{ZONE}", cluster_ip(services - 1)
                server.wait("first answer", lambda: res.answers(name, ip), 60)
            finally:
                res.close()
            cpu0 = cpu_seconds(server.pid)
            load = [dnsperf, "-s", "127.0.0.1", "-p", str(server.port), "-d", str(queries)]
            load += ["-T", "1", "-l", str(args.seconds), "-c", str(args.clients)]
            load += ["-q", str(args.outstanding)]
            perf = subprocess.run(
                [*taskset(1), *load], capture_output=True, text=True, timeout=args.seconds + 60
            )
            server.check()
            cpu1 = cpu_seconds(server.pid)
            rss = proc_status(server.pid)["VmRSS"]
    out = perf.stdout
    if perf.returncode != 0 or "Queries per second" not in out:
        raise BenchError(f"dnsperf failed ({perf.returncode}):\n{out}\n{perf.stderr}")
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+)", out)
    avg_ms = float(lat.group(1)) * 1000 if lat else float("nan")
    codes = re.search(r"Response codes:\s+(.*)", out)
    rcodes = ", ".join(
        f"{c} {p}%"
        for c, p in re.findall(r"([A-Z]+) \d+ \(([\d.]+)%\)", codes.group(1) if codes else "")
    )
    us_per_q = (cpu1 - cpu0) / max(completed, 1) * 1e6
    print(out)
    cells = [str(dt.date.today()), commit(), machine(), f"{services:,}"]
    cells += [f"{args.seconds}s c{args.clients} q{args.outstanding}", f"{qps:,.0f}"]
    cells += [f"{avg_ms:.3f}", str(lost), rcodes, f"{us_per_q:.1f}", mib(rss)]
    record(QPS_HEAD, cells, not args.no_record)


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="change-to-answer latency")
    scale = sub.add_parser("scale", help="first sync, RSS, peak RSS during a full relist")
    qps = sub.add_parser("qps", help="dnsperf on ClusterIP names")
    every = sub.add_parser("all", help="latency, scale and qps")
    for p in (lat, scale, qps, every):
        p.add_argument("--no-record", action="store_true", help="print only")
    for p in (lat, every):
        p.add_argument("--changes", type=int, default=200)
        p.add_argument("--poll", type=float, default=0.5, help="ms between polls")
        p.add_argument("--timeout", type=float, default=5.0, help="s per change")
    for p in (scale, every):
        p.add_argument("--services", type=int, default=10_000)
        p.add_argument("--per-service", type=int, default=10)
        p.add_argument("--settle", type=float, default=5.0, help="s after sync for steady RSS")
        p.add_argument("--sync-timeout", type=float, default=120.0)
        p.add_argument("--relists", type=int, default=3, help="full relists to force")
    for p in (qps, every):
        p.add_argument("--qps-services", type=int, default=1000)
        p.add_argument("--seconds", type=int, default=10)
        p.add_argument("--clients", type=int, default=10)
        p.add_argument("--outstanding", type=int, default=100)
    args = ap.parse_args()
    if not DNSD.exists():
        sys.exit(f"{DNSD} not found: run `make run` or `pip install -e .` in .venv first")
    try:
        if args.command in ("latency", "all"):
            bench_latency(args)
        if args.command in ("scale", "all"):
            bench_scale(args)
        if args.command in ("qps", "all"):
            bench_qps(args)
    except BenchError as exc:
        sys.exit(f"kubernetes bench: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
