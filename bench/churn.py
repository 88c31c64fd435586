"""Endpoint churn: kubernetes names at full load while EndpointSlices change, elsewhere or here.

A large cluster changes endpoints somewhere every second. dnsd's answer memos for a name under
``<ns>.svc`` end only with a change in that namespace (or to a Namespace); this measures what
that buys. dnsd (this checkout, pinned to core 0) watches a fake API server (the tests' FakeAPI,
in this process) with 10 namespaces of 100 Services, each with a one-endpoint slice; dnsperf
(core 1) asks for the Services of namespaces ns-0..ns-8 (a fifth of the names missing) in three
runs:

- ``quiet``: no change;
- ``churn elsewhere``: a slice of ns-9, which nobody asks for, changes every ``--interval`` s;
- ``churn here``: a slice of ns-0, whose names are asked, changes as often.

The churn thread and the fake API run on dnsperf's core. ``churn here`` shows the cost of a
change to the names asked (every memo of ns-0 ends); with one generation for the whole store,
``churn elsewhere`` would cost the same for every namespace.

    python bench/churn.py [--seconds 6] [--interval 0.02] [--tree DIR] [--no-record]

``--tree`` runs the dnsd of another checkout (a worktree of an older commit) against the same
load; its rows carry that checkout's commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fixed_answer import cpu_model, cpu_seconds, ensure_dnsperf, free_port  # noqa: E402

from tests.plugins.kubernetes.fakeapi import (  # noqa: E402
    FakeAPI,
    make_namespace,
    make_service,
    make_slice,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "README.md"
HEADER = "## churn.py: kubernetes names while endpoints change"
NAMESPACES, SERVICES = 10, 100
COREFILE = (
    ".:{port} {{\n    bind 127.0.0.1\n    kubernetes cluster.local {{\n"
    "        endpoint {url}\n    }}\n}}\n"
)


def commit(tree: Path) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def fill(api: FakeAPI) -> None:
    for n in range(NAMESPACES):
        ns = f"ns-{n}"
        api.add("Namespace", make_namespace(ns))
        for s in range(SERVICES):
            api.add("Service", make_service(ns, f"svc-{s}", cluster_ip=f"10.96.{n}.{s + 1}"))
            api.add("EndpointSlice", make_slice(ns, f"svc-{s}", endpoints=[f"10.244.{n}.{s + 1}"]))


def query_file(path: Path) -> None:
    lines = []
    for n in range(NAMESPACES - 1):
        for s in range(SERVICES):
            lines.append(f"svc-{s}.ns-{n}.svc.cluster.local A")
            if s % 4 == 3:
                lines.append(f"nx-{s}.ns-{n}.svc.cluster.local A")
    path.write_text("\n".join(lines) + "\n")


class Churn:
    """Changes the endpoint of one slice of ``ns`` every ``interval`` s while running."""

    def __init__(self, api: FakeAPI, ns: str, interval: float) -> None:
        self.api, self.ns, self.interval = api, ns, interval
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.changes += 1
            ip = f"10.245.{self.changes // 250 % 250}.{self.changes % 250 + 1}"
            self.api.apply("EndpointSlice", make_slice(self.ns, "svc-0", endpoints=[ip]))


def dnsperf_run(dnsperf: str, port: int, queries: Path, seconds: int, pid: int) -> dict[str, float]:
    cmd = ["taskset", "-c", "1", dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries)]
    cmd += ["-l", str(seconds), "-c", "10", "-q", "100", "-T", "1"]
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu1 = cpu_seconds(pid)

    def num(pattern: str) -> float:
        found = re.search(pattern, out)
        if found is None:
            sys.exit(f"dnsperf output without {pattern!r}:\n{out[-1500:]}")
        return float(found.group(1))

    completed = num(r"Queries completed:\s+(\d+)")
    return {
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "lost": num(r"Queries lost:\s+(\d+)"),
        "us": (cpu1 - cpu0) / max(completed, 1) * 1e6,
    }


def answered(port: int, name: str) -> bool:
    out = subprocess.run(
        ["dig", "+short", "+time=1", "+tries=1", "@127.0.0.1", "-p", str(port), name],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return bool(out.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose dnsd runs")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    tree = args.tree.resolve()
    dnsperf = ensure_dnsperf()
    rows = []
    with FakeAPI() as api, tempfile.TemporaryDirectory() as tmp:
        fill(api)
        port = free_port()
        conf, queries = Path(tmp) / "Corefile", Path(tmp) / "queries"
        conf.write_text(COREFILE.format(port=port, url=api.url))
        query_file(queries)
        cmd = ["taskset", "-c", "0", sys.executable, "-m", "dnsd", "-conf", str(conf), "-quiet"]
        env = dict(os.environ, PYTHONPATH=str(tree))
        server = subprocess.Popen(  # -m puts the working folder first on sys.path
            cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            end = time.monotonic() + 60
            while not answered(port, f"svc-{SERVICES - 1}.ns-{NAMESPACES - 1}.svc.cluster.local"):
                if time.monotonic() > end or server.poll() is not None:
                    sys.exit("dnsd did not sync")
                time.sleep(0.2)
            dnsperf_run(dnsperf, port, queries, 2, server.pid)  # warm: every question once
            for label, ns in (("quiet", None), ("churn elsewhere", "ns-9"), ("churn here", "ns-0")):
                if ns is None:
                    got, changes = dnsperf_run(dnsperf, port, queries, args.seconds, server.pid), 0
                else:
                    with Churn(api, ns, args.interval) as churn:
                        got = dnsperf_run(dnsperf, port, queries, args.seconds, server.pid)
                    changes = churn.changes
                rate = changes / args.seconds
                qps, us = got["qps"], got["us"]
                print(f"{label}: {qps:,.0f} QPS, {us:.1f} µs/query, {rate:.0f} changes/s")
                rows.append(
                    f"| {dt.date.today()} | {commit(tree)} | {os.cpu_count()} x {cpu_model()} | "
                    f"{label} | {ns or '-'} | {rate:.0f} | {args.seconds}s c10 q100 | {qps:,.0f} | "
                    f"{us:.1f} | {got['lost']:.0f} |"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    if not args.no_record:
        text = RESULTS.read_text()
        start = text.index(HEADER)
        table_end = text.index("\n\n", text.index("|---", start))
        RESULTS.write_text(text[:table_end] + "\n" + "\n".join(rows) + text[table_end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
