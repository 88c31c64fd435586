"""reload benchmark: dnsperf at full load while kubeadm's Corefile is changed 50 times.

    python bench/reload.py [--reloads 50 --seconds 40]

dnsd runs kubeadm's default Corefile (``objects`` instead of the API, ports on 127.0.0.1,
``reload`` as kubeadm writes it: 30s ± 15s) pinned to core 0; dnsperf (``-T 1``), the
upstream dnsd on 127.53.N.1:53 (needs root) and this process on core 1. While dnsperf
sends the kubeadm mix (cluster names, cached external names, 20% search-path NXDOMAIN),
the Corefile is replaced ``--reloads`` times by a rename, as an editor does, each time
with a real change (the kubernetes ``ttl`` flips between 30 and 31), and the next change
waits until ``/metrics`` shows the new ``coredns_reload_version_info``. Recorded in
bench/README.md (section "reload.py"): queries sent, lost, SERVFAIL and REFUSED (the
target is 0 of each), the time from the rename to the new config serving, failed reloads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cache_forward import (
    DNSD,
    KUBEADM,
    A,
    BenchError,
    check_mix,
    cluster_objects,
    dnsd_proc,
    free_ports,
    free_upstream_address,
    http_get,
    metric_sum,
    mix_lines,
    running,
    upstream_proc,
    wait_answer,
    warm,
)
from fixed_answer import ensure_dnsperf, taskset
from kubernetes import commit, machine, percentile, pin_self, record

HEAD = ["date", "commit", "machine", "reloads", "dnsperf", "QPS", "sent", "lost", "rcodes"]
HEAD += ["SERVFAIL", "REFUSED", "apply p50 ms", "apply p99 ms", "apply max ms", "failed reloads"]

VERSION = re.compile(r'coredns_reload_version_info\{hash="sha512",value="([0-9a-f]+)"\} 1')


def version(metrics_port: int) -> str | None:
    status, text = http_get(metrics_port, "/metrics")
    found = VERSION.search(text) if status == 200 else None
    return found.group(1) if found else None


def failed_reloads(metrics_port: int) -> float:
    return metric_sum(http_get(metrics_port, "/metrics")[1], "coredns_reload_failed_total")


def replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.rename(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reloads", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=40, help="dnsperf's run (covers the reloads)")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--outstanding", type=int, default=100)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--externals", type=int, default=100)
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args()
    if not DNSD.exists():
        sys.exit(f"{DNSD} not found: run `make run` first")
    if os.geteuid() != 0:
        raise BenchError("the upstream binds 127.53.N.1:53, which needs root")
    exe = ensure_dnsperf()
    pin_self(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        up_host = free_upstream_address()
        upstream, external = upstream_proc(tmp, up_host, 53, args.externals)
        objects, cluster = cluster_objects(args.services)
        (tmp / "cluster.yaml").write_text(yaml.safe_dump(objects, sort_keys=False))
        (tmp / "resolv.conf").write_text(f"nameserver {up_host}\noptions ndots:5\n")
        port, health, ready, metrics_port = free_ports(4)
        base = KUBEADM.format(
            port=port,
            health=health,
            ready=ready,
            metrics=metrics_port,
            objects=tmp / "cluster.yaml",
            resolv=tmp / "resolv.conf",
        )
        texts = [base, base.replace("ttl 30", "ttl 31")]
        server = dnsd_proc(tmp, "dnsd-kubeadm", base, core=0)
        conf = tmp / "dnsd-kubeadm.Corefile"
        mix = mix_lines(cluster, external, args.lines)
        queries = tmp / "queries"
        queries.write_text("".join(f"{name} {'A' if t == A else 'AAAA'}\n" for _, name, t in mix))
        with running(upstream, server):
            wait_answer(upstream, up_host, 53, external[0])
            wait_answer(server, "127.0.0.1", port, cluster[0][0], timeout=60)
            check_mix(port, mix)
            warm("127.0.0.1", port, [(name, t) for name in external for t in (A, 28)])
            current = version(metrics_port)
            if current is None:
                raise BenchError("no coredns_reload_version_info: is reload in the Corefile?")
            failed0 = metric_sum(
                http_get(metrics_port, "/metrics")[1], "coredns_reload_failed_total"
            )
            cmd = [*taskset(1), exe, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries)]
            cmd += ["-T", "1", "-l", str(args.seconds), "-c", str(args.clients)]
            cmd += ["-q", str(args.outstanding)]
            perf = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            applied: list[float] = []
            try:
                time.sleep(1.0)  # dnsperf at full speed before the first change
                for n in range(args.reloads):
                    started = time.monotonic()
                    replace(conf, texts[(n + 1) % 2])
                    while (seen := version(metrics_port)) == current:
                        if time.monotonic() - started > 10:
                            raise BenchError(f"reload {n + 1} not applied within 10 s")
                        time.sleep(0.005)
                    applied.append((time.monotonic() - started) * 1000)
                    current = seen
                    server.check()
                if perf.poll() is not None:
                    raise BenchError("dnsperf ended before the last reload: raise --seconds")
                out, err = perf.communicate(timeout=args.seconds + 60)
            finally:
                if perf.poll() is None:
                    perf.kill()
                    perf.wait()
            failed = metric_sum(
                http_get(metrics_port, "/metrics")[1], "coredns_reload_failed_total"
            )
    if perf.returncode != 0 or "Queries per second" not in out:
        raise BenchError(f"dnsperf failed ({perf.returncode}):\n{out[-2000:]}\n{err}")

    def num(pattern: str) -> int:
        m = re.search(pattern, out)
        return int(float(m.group(1))) if m else -1

    found = re.search(r"Response codes:\s+(.*)", out)
    codes = dict(re.findall(r"([A-Z]+) (\d+) \(", found.group(1) if found else ""))
    rcodes = ", ".join(f"{c} {v}" for c, v in codes.items())
    print(out)
    cells = [str(dt.date.today()), commit(), machine(), str(args.reloads)]
    cells += [f"{args.seconds}s c{args.clients} q{args.outstanding}"]
    qps, sent = num(r"Queries per second:\s+([\d.]+)"), num(r"Queries sent:\s+(\d+)")
    cells += [f"{qps:,}", f"{sent:,}"]
    cells += [str(num(r"Queries lost:\s+(\d+)")), rcodes]
    cells += [codes.get("SERVFAIL", "0"), codes.get("REFUSED", "0")]
    cells += [f"{statistics.median(applied):.0f}", f"{percentile(applied, 0.99):.0f}"]
    cells += [f"{max(applied):.0f}", f"{failed - failed0:.0f}"]
    record(HEAD, cells, not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
