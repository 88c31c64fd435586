"""First benchmark: dnsperf against dnsd serving a fixed answer (whoami).

Installs dnsperf when missing, starts dnsd pinned to core 0 and dnsperf pinned
to core 1 (when the machine has two), runs for a fixed time, prints QPS,
latency, lost queries and the server's CPU time per query, and appends the
result to bench/README.md with the date, commit and machine.

    python bench/fixed_answer.py [--seconds 10] [--loop uvloop|asyncio] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "README.md"
COREFILE = ".:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n"


def ensure_dnsperf() -> str:
    path = shutil.which("dnsperf")
    if path:
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "dnsperf"], check=True, env=env)
    return shutil.which("dnsperf") or sys.exit("dnsperf could not be installed")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, deadline: float = 20.0) -> None:
    query = (
        bytes.fromhex("abcd01000001000000000000")
        + b"\x06whoami\x07example\x03org\x00\x00\x01\x00\x01"
    )
    end = time.monotonic() + deadline
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < end:
            s.sendto(query, ("127.0.0.1", port))
            try:
                s.recv(512)
                return
            except OSError:
                continue
    sys.exit("dnsd did not answer")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def taskset(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core)]
    return []


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--outstanding", type=int, default=100)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    dnsperf = ensure_dnsperf()
    dnsd = Path(sys.executable).parent / "dnsd"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "Corefile"
        conf.write_text(COREFILE.format(port=port))
        queries = Path(tmp) / "queries"
        queries.write_text("whoami.example.org A\n" * 1000)
        cmd = [*taskset(0), str(dnsd), "-conf", str(conf), "-quiet"]
        if args.loop == "asyncio":
            cmd.append("-asyncio")
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port)
            cpu0 = cpu_seconds(server.pid)
            load = [dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-T", "1"]
            load += ["-l", str(args.seconds), "-c", str(args.clients), "-q", str(args.outstanding)]
            perf = subprocess.run(
                [*taskset(1), *load], capture_output=True, text=True, timeout=args.seconds + 60
            )
            cpu1 = cpu_seconds(server.pid)
            rss = rss_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=15)
    out = perf.stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)", out)
    avg_ms = float(lat.group(1)) * 1000 if lat else float("nan")
    us_per_q = (cpu1 - cpu0) / max(completed, 1) * 1e6
    cells = [
        str(dt.date.today()), commit(), f"{os.cpu_count()} x {cpu_model()}", args.loop,
        f"{args.seconds}s c{args.clients} q{args.outstanding}", f"{qps:,.0f}", f"{avg_ms:.3f}",
        str(lost), f"{us_per_q:.1f}", f"{rss / 1024:.1f}",
    ]  # fmt: skip
    row = "| " + " | ".join(cells) + " |"
    head = ["date", "commit", "machine", "loop", "dnsperf", "QPS", "avg latency ms", "lost"]
    head += ["server CPU µs/query", "RSS MiB"]
    print("| " + " | ".join(head) + " |")
    print(row)
    if not args.no_record:
        with RESULTS.open("a") as f:
            f.write(row + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
