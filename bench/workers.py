"""multisocket: 1 and 2 dnsd processes sharing the port, and the memory per worker.

Workloads: ``whoami`` (every query through the chain: whoami looks at the client, so no memo)
and ``k8s`` (the kubernetes plugin with 1,000 Services from an ``objects`` file, every Service's
name asked in turn with a fifth of the names missing: memo hits once warm, as in the suite).

Runs ``python -m dnsd`` from this checkout with ``multisocket N`` for each N, dnsperf
against it for a fixed time, and prints (and appends to bench/README.md) QPS, average
latency, lost queries, the CPU of all dnsd processes per query, and the RSS of the
supervisor and of each worker (idle, after start-up, and after the run).

Pinning: with N=1 dnsd is pinned to core 0 and dnsperf to core 1. With N=2 the two dnsd
processes get cores 0 and 1 and dnsperf shares core 1 (a 2-core machine has no third
core): the figure shows what a second process buys when the load generator competes
for a core, so it understates the gain on a machine with a spare core.

    python bench/workers.py [--workload whoami|k8s] [--seconds 10] [--counts 1,2] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixed_answer import (  # noqa: E402
    commit,
    cpu_model,
    cpu_seconds,
    ensure_dnsperf,
    free_port,
    rss_kib,
    taskset,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "README.md"
COREFILES = {
    "whoami": ".:{port} {{\n    bind 127.0.0.1\n    multisocket {n}\n    whoami\n}}\n",
    "k8s": ".:{port} {{\n    bind 127.0.0.1\n    multisocket {n}\n"
    "    kubernetes cluster.local {{\n        objects {objects}\n    }}\n}}\n",
}
HEADERS = {
    "whoami": "## workers.py: multisocket, whoami with 1 and 2 processes",
    "k8s": "## workers.py --workload k8s: multisocket, kubernetes names with 1 and 2 processes",
}
K8S_SERVICES = 1000


def workload_files(workload: str, folder: Path) -> tuple[dict[str, str], Path]:
    """(Corefile fields, query file) of ``workload`` written into ``folder``."""
    queries = folder / "queries"
    if workload == "whoami":
        queries.write_text("whoami.example.org A\n" * 1000)
        return {}, queries
    from suite_data import query_file
    from suite_scale import scale_objects, scale_questions

    objects = scale_objects(K8S_SERVICES)
    path = folder / "objects.json"
    path.write_text(json.dumps(objects))
    queries.write_text(query_file(scale_questions(objects)))
    return {"objects": str(path)}, queries


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def wait_workers(pid: int, n: int, deadline: float = 20.0) -> list[int]:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        kids = children(pid)
        if len(kids) == n - 1 and all(_serving(k) for k in kids):
            return kids
        time.sleep(0.1)
    sys.exit(f"{n - 1} workers did not start")


def _serving(pid: int) -> bool:
    """A worker binds its private socket once it serves DNS."""
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    value = next((e for e in env if e.startswith(b"DNSD_WORKER=")), b"").decode()
    if not value:
        return False
    index, folder, _ = value.removeprefix("DNSD_WORKER=").rsplit(":", 2)
    return Path(folder, f"worker-{index}.sock").exists()


def run(workload: str, n: int, seconds: int, dnsperf: str) -> list[str]:
    port = free_port()
    cores = "0" if n == 1 else "0,1"
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "Corefile"
        fields, queries = workload_files(workload, Path(tmp))
        conf.write_text(COREFILES[workload].format(port=port, n=n, **fields))
        pin = ["taskset", "-c", cores] if taskset(0) else []
        cmd = [*pin, sys.executable, "-m", "dnsd", "-conf", str(conf), "-quiet"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        server = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        try:
            wait_ready(port)
            workers = wait_workers(server.pid, n)
            time.sleep(1.0)  # let start-up garbage settle before reading the idle RSS
            idle = [rss_kib(p) for p in [server.pid, *workers]]
            pids = [server.pid, *workers]
            load = [dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-T", "1"]
            warm = [*load, "-n", "2", "-l", "60", "-c", "20", "-q", "200"]  # each name, each worker
            subprocess.run([*taskset(1), *warm], capture_output=True, timeout=120)
            cpu0 = sum(cpu_seconds(p) for p in pids)
            load += ["-l", str(seconds), "-c", "20", "-q", "200"]
            perf = subprocess.run(
                [*taskset(1), *load], capture_output=True, text=True, timeout=seconds + 60
            )
            cpu1 = sum(cpu_seconds(p) for p in pids)
            busy = [rss_kib(p) for p in pids]
        finally:
            server.terminate()
            server.wait(timeout=30)
    out = perf.stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+)", out)
    avg_ms = float(lat.group(1)) * 1000 if lat else float("nan")
    us = (cpu1 - cpu0) / max(completed, 1) * 1e6
    mib = lambda kib: f"{kib / 1024:.1f}"  # noqa: E731
    worker_idle = "/".join(mib(k) for k in idle[1:]) or "-"
    worker_busy = "/".join(mib(k) for k in busy[1:]) or "-"
    return [
        str(dt.date.today()), commit(), f"{os.cpu_count()} x {cpu_model()}", str(n),
        f"dnsd {cores}, dnsperf 1", f"{seconds}s c20 q200", f"{qps:,.0f}", f"{avg_ms:.3f}",
        str(lost), f"{us:.1f}", f"{mib(idle[0])} / {mib(busy[0])}",
        f"{worker_idle} / {worker_busy}",
    ]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=sorted(COREFILES), default="whoami")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--counts", default="1,2")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    dnsperf = ensure_dnsperf()
    head = ["date", "commit", "machine", "N", "pinning", "dnsperf", "QPS", "avg latency ms"]
    head += ["lost", "CPU µs/query (all processes)", "supervisor RSS MiB idle / after"]
    head += ["worker RSS MiB idle / after"]
    rows = ["| " + " | ".join(run(args.workload, int(n), args.seconds, dnsperf)) + " |"
            for n in args.counts.split(",")]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("\n".join(rows))
    if not args.no_record:
        # Rows go under this script's table (fixed_answer.py appends at the end of the file).
        text = RESULTS.read_text()
        start = text.index(HEADERS[args.workload])
        table_end = text.index("\n\n", text.index("|---", start))
        RESULTS.write_text(text[:table_end] + "\n" + "\n".join(rows) + text[table_end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
