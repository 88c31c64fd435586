"""The benchmark suite of issue 6: dnsd against knot, unbound, dnsmasq and a uvloop UDP/TCP echo
(the "Python ceiling"), on the same query files, in one table; dnsd at 100 to 50,000 Services;
start-up to the first answer for Corefile.example; issue 6's targets against the figures.

    python bench/suite.py [--quick] [--only WORKLOAD/SERVER ...] [--no-record]
    bash bench/run.sh suite [ARGS]

Needs root: apt-get installs what is missing (dnsperf, knot, unbound, dnsmasq-base), the
"capped" mode writes a cgroup, and kubeadm's ``forward . resolv.conf`` needs its upstream on
port 53 (127.53.N.1). Every server runs pinned to core 0 (``taskset -c 0``), dnsperf (``-T 1 -c
10 -q 100``), the upstream and this process on core 1. Each server takes its turn on each
workload: a 1 s warm-up, then ``--seconds`` at full load *pinned*, the same *capped* (the server
held to ``--share`` of its core by the CFS quota of a cgroup: QPS per core = QPS / share), and
``--seconds`` paced at half the pinned QPS for the p99 latency (dnsperf's histogram where it
has one, else its per-query ``-v`` lines). Server CPU per query comes from /proc/PID/stat (and
its children's, for dnsmasq's TCP), RSS from /proc/PID/status. A run during which other
processes used more than ``--max-other`` % of a core is run again (twice at most) once the
machine is quiet. Workloads (``--only`` names; servers: knot, unbound, dnsmasq, echo, dnsd):

    k8s      1,000 ClusterIP names A, 20% NXDOMAIN (dnsd: kubernetes { objects FILE })
    cache    100 external names A: cache hits (dnsd: cache + forward to an upstream dnsd)
    kubeadm  kubeadm's Corefile and cache_forward.py's mix (cluster, cached external, NXDOMAIN)
    tcp      k8s over TCP (dnsperf -m tcp)
    scale    dnsd on k8s names with 100, 10,000 and 50,000 Services (+ endpoints): QPS, RSS
    startup  Corefile.example (ports changed) to its first answer, --startup-runs times

Results go to bench/README.md, section "suite.py" (``--no-record``: print only).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cache_forward import BenchError, free_upstream_address, running
from kubernetes import commit, machine, pin_self, record
from suite_data import (
    DataSet,
    Workload,
    cache_data,
    k8s_data,
    kubeadm_data,
    query_file,
)
from suite_measure import CpuCap, Load, Run, dnsperf, dnsperf_has_histogram, ensure_tools
from suite_report import (
    SCALE_HEAD,
    SERVERS,
    STARTUP_HEAD,
    SUITE_HEAD,
    TABLE_HEAD,
    TARGETS_HEAD,
    Row,
    ScaleResult,
    add_ratios,
    cells,
    markdown,
    median_row,
    notes_cell,
    scale_cells,
    sort_rows,
    target_cells,
    targets,
)
from suite_scale import STARTUP_CHANGES, STARTUP_NAME, run_scale, run_startup
from suite_servers import (
    ROOT,
    Server,
    build,
    check,
    is_root,
    sample,
    upstream_server,
    wait_serving,
    warm,
)


def selected(only: list[str], workload: str, server: str) -> bool:
    """``--only`` patterns (fnmatch): ``WORKLOAD/SERVER``, or one name matching either."""
    if not only:
        return True
    for pattern in only:
        if "/" in pattern:
            if fnmatch.fnmatchcase(f"{workload}/{server}", pattern):
                return True
        elif fnmatch.fnmatchcase(workload, pattern) or fnmatch.fnmatchcase(server, pattern):
            return True
    return False


def rcode_note(run: Run, workload: Workload, data: DataSet) -> str | None:
    """A note when the run's rcodes are not the query file's (beyond 1 point), or lost > 0."""
    want: dict[str, int] = {}
    for name, qtype in workload.questions:
        code = "NOERROR" if data.expect(name, qtype)[0] == 0 else "NXDOMAIN"
        want[code] = want.get(code, 0) + 1
    got, total, lines = run.summary.rcodes, max(run.summary.completed, 1), len(workload.questions)
    off = [
        f"{code} {got.get(code, 0) / total:.1%} (file {want.get(code, 0) / lines:.1%})"
        for code in sorted(set(want) | set(got))
        if abs(got.get(code, 0) / total - want.get(code, 0) / lines) > 0.01
    ]
    return "rcodes " + ", ".join(off) if off else None


def to_row(server: str, workload: Workload, mode: str, load: Load, run: Run, share: float) -> Row:
    return Row(
        server=server,
        workload=workload.name,
        mode=mode,
        load=load.label(run.seconds) + (" tcp" if workload.transport == "tcp" else ""),
        qps=run.summary.qps,
        cpu_us=run.cpu_us,
        avg_ms=run.summary.avg_ms,
        lost=run.summary.lost,
        rss_mib=run.rss_kib / 1024,
        other=run.other,
        share=share,
        notes=list(run.notes),
    )


def turn(
    server: Server,
    workload: Workload,
    data: DataSet,
    queries: Path,
    load: Load,
    cap: CpuCap | None,
    args: argparse.Namespace,
) -> list[Row]:
    """One server's turn on one workload: warm-up, pinned, capped, paced at half max."""
    tcp = workload.transport == "tcp"
    caching = data.external is not None and server.name in ("dnsd", "unbound", "dnsmasq")
    prepare: Callable[[], None] = (lambda: warm(server, data)) if caching else (lambda: None)
    print(f"  {server.name} on {workload.name}")
    prepare()
    dnsperf(load, server, server.port, queries, tcp=tcp, seconds=1, retry=False)
    prepare()
    pinned = dnsperf(load, server, server.port, queries, tcp=tcp)
    rows = [to_row(server.name, workload, "pinned", load, pinned, 1.0)]
    runs = [pinned]
    show(rows[-1], pinned)
    if cap is not None:
        prepare()
        capped = dnsperf(load, server, server.port, queries, tcp=tcp, cap=cap)
        rows.append(to_row(server.name, workload, "capped", load, capped, cap.share))
        runs.append(capped)
        if capped.throttled == 0:
            rows[-1].notes.append("the cap never throttled it")
        show(rows[-1], capped)
    prepare()
    rate = max(100, int(pinned.summary.qps / 2))
    paced = dnsperf(load, server, server.port, queries, tcp=tcp, rate=rate, seconds=args.paced)
    rows[0].p99_ms, rows[0].rate = paced.p99_ms, rate
    rows[0].notes += [f"paced run {note}" for note in paced.notes]
    if paced.summary.lost:
        rows[0].notes.append(f"{paced.summary.lost} lost at {rate:,}/s")
    if paced.summary.qps < 0.95 * rate:
        rows[0].notes.append(f"paced at {rate:,}/s, it answered {paced.summary.qps:,.0f}/s")
    print(
        f"    paced {rate:,}/s: achieved {paced.summary.qps:,.0f}, p50 "
        f"{paced.p50_ms or 0:.3f} ms, p99 {paced.p99_ms or 0:.3f} ms, lost {paced.summary.lost}"
    )
    for row, run in zip(rows, runs, strict=True):
        note = rcode_note(run, workload, data)
        if note:
            row.notes.append(note)
    return rows


def show(row: Row, run: Run) -> None:
    extra = f", throttled in {run.throttled} periods" if row.mode == "capped" else ""
    print(
        f"    {row.mode}: {row.qps:,.0f} QPS, {row.cpu_us:.1f} µs CPU/query (server at "
        f"{run.cpu_pct:.0f}% of a core{extra}), avg {row.avg_ms:.3f} ms, lost {row.lost}, "
        f"rcodes {run.summary.rcodes}, other load {row.other:.1f}%"
    )


def run_dataset(
    data: DataSet,
    tmp: Path,
    args: argparse.Namespace,
    tools: dict[str, str],
    load: Load,
    cap: CpuCap | None,
    upstream: tuple[str, int] | None,
    failures: list[str],
) -> list[Row]:
    """Start every selected server of the data set, check its answers, then take turns."""
    workloads = [w for w in data.workloads if any(selected(args.only, w.name, s) for s in SERVERS)]
    names = [s for s in SERVERS if any(selected(args.only, w.name, s) for w in workloads)]
    if not workloads or not names:
        return []
    print(f"\n== {data.name}: {', '.join(w.title for w in workloads)}; servers {', '.join(names)}")
    servers: list[Server] = []
    for name in names:
        servers.append(build(name, tmp, data, tools, upstream))
    good: list[Server] = []
    rounds: dict[tuple[str, str, str], list[Row]] = {}
    with running(*servers):
        for server in servers:
            try:
                waited = wait_serving(server, data)
                check(server, data, sample(data))
                if any(w.transport == "tcp" for w in workloads):
                    check(server, data, sample(data, 5), tcp=True)
                print(f"  {server.name}: serving after {waited:.2f}s, sample answers right")
                good.append(server)
            except BenchError as exc:
                failures.append(f"{data.name}/{server.name}: {exc}")
                print(f"  {server.name} left out: {exc}")
        for n in range(args.rounds):
            for workload in workloads:
                queries = tmp / f"{workload.name}.queries"
                queries.write_text(query_file(workload.questions))
                for server in good:
                    if not selected(args.only, workload.name, server.name):
                        continue
                    if args.rounds > 1:
                        print(f"  round {n + 1} of {args.rounds}")
                    try:
                        rows = turn(server, workload, data, queries, load, cap, args)
                    except BenchError as exc:
                        failures.append(f"{workload.name}/{server.name}: {exc}")
                        print(f"    failed: {exc}")
                        continue
                    for row in rows:
                        rounds.setdefault((row.server, row.workload, row.mode), []).append(row)
    return [median_row(rs) for rs in rounds.values()]


# -- recording ----------------------------------------------------------------------------------


def report(
    rows: list[Row],
    scale: list[ScaleResult],
    startup: list[float],
    args: argparse.Namespace,
    header: str,
) -> None:
    add_ratios(rows)
    rows = sort_rows(rows)
    print(f"\n{header}\n")
    print(markdown(TABLE_HEAD, [cells(r) for r in rows]))
    for row in rows:
        for note in row.notes:
            print(f"  note: {row.server}/{row.workload}/{row.mode}: {note}")
    if scale:
        print()
        print(markdown(SCALE_HEAD[3:], scale_cells(scale)))
    if startup:
        print(f"\nfirst answer for Corefile.example: {', '.join(f'{t:.3f}' for t in startup)} s")
    goals = targets(rows, scale, startup)
    print()
    print(markdown(TARGETS_HEAD[3:], [target_cells(t) for t in goals]))
    base = [str(dt.date.today()), commit(), machine()]
    enabled = not args.no_record
    with contextlib.redirect_stdout(io.StringIO()):  # record() prints each row: shown above
        for row in rows:
            record(SUITE_HEAD, [*base, *cells(row), notes_cell(row)], enabled)
        for cells_ in scale_cells(scale) if scale else []:
            record(SCALE_HEAD, [*base, *cells_], enabled)
        if startup:
            stats = [min(startup), statistics.median(startup), max(startup)]
            changes = "Corefile.example, changed: " + "; ".join(c for _, _, c in STARTUP_CHANGES)
            record(
                STARTUP_HEAD,
                [*base, changes, str(len(startup)), *(f"{s:.3f}" for s in stats), STARTUP_NAME],
                enabled,
            )
        for goal in goals:
            record(TARGETS_HEAD, [*base, *target_cells(goal)], enabled)
    if enabled:
        print("\nrecorded in bench/README.md, section suite.py")


def versions(tools: dict[str, str]) -> str:
    """Each tool's name and the version it prints."""

    def version(name: str, flag: str) -> str:
        try:
            out = subprocess.run([tools[name], flag], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return f"{name} ?"
        found = re.search(r"[Vv]ersion:? ([0-9][\w.~+-]*)", out.stdout + out.stderr)
        return f"{name} {found.group(1) if found else '?'}"

    found = [version("knotd", "-V"), version("unbound", "-V"), version("dnsmasq", "-v")]
    found.append(version("dnsperf", "-h"))
    return ", ".join([*found, f"Python {sys.version.split()[0]}"])


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs, small scale: a smoke test")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORKLOAD/SERVER",
        help="fnmatch pattern(s): k8s, dnsd, 'k8s/knot', '*/echo', scale, startup",
    )
    ap.add_argument("--seconds", type=int, default=6, help="dnsperf -l of each full-load run")
    ap.add_argument("--paced", type=int, default=None, help="s of the half-max run (--seconds)")
    ap.add_argument("--rounds", type=int, default=1, help="turns of every server (medians)")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--outstanding", type=int, default=100)
    ap.add_argument("--max-other", type=float, default=5.0, help="%% of a core others may use")
    ap.add_argument("--share", type=float, default=0.5, help="of its core a capped server gets")
    ap.add_argument("--no-cap", action="store_true", help="skip the capped mode")
    ap.add_argument("--services", type=int, default=1000, help="k8s workload's Services")
    ap.add_argument("--externals", type=int, default=100, help="external names (cache, kubeadm)")
    ap.add_argument("--scale", type=int, nargs="+", default=[100, 10_000, 50_000])
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--no-install", action="store_true", help="fail instead of apt-get install")
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds = 2
        args.scale = [100, 1000, 5000] if args.scale == [100, 10_000, 50_000] else args.scale
        args.startup_runs = min(args.startup_runs, 2)
    args.paced = args.paced or args.seconds
    return args


def main() -> int:
    args = parse_args()
    if not is_root():
        sys.exit(
            "bench/suite.py needs root: apt-get installs missing tools, the capped mode writes a "
            "cgroup, and kubeadm's resolv.conf upstream listens on 127.53.N.1:53"
        )
    started = time.monotonic()
    try:
        tools = ensure_tools(not args.no_install)
    except BenchError as exc:
        sys.exit(f"suite: {exc}")
    pin_self(1)
    os.environ["PYTHONPATH"] = str(ROOT)  # dnsd of this checkout in every child
    load = Load(
        exe=tools["dnsperf"],
        seconds=args.seconds,
        clients=args.clients,
        outstanding=args.outstanding,
        max_other=args.max_other,
        histogram=dnsperf_has_histogram(tools["dnsperf"]),
    )
    cap = None if args.no_cap else CpuCap(args.share)
    if cap is not None and cap.kind is None:
        print("no cgroup CPU cap can be set here: the capped mode is left out")
        cap = None
    header = f"{dt.date.today()} {commit()} {machine()}; {versions(tools)}"
    header += f"; capped: {cap.kind if cap else 'not run'}"
    header += f"; p99 from {'dnsperf -O latency-histogram' if load.histogram else 'dnsperf -v'}"
    print(header)
    datasets = [
        k8s_data(args.services),
        cache_data(args.externals),
        kubeadm_data(externals=args.externals),
    ]
    rows: list[Row] = []
    scale: list[ScaleResult] = []
    startup: list[float] = []
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dnsd-suite-") as tmpdir:
            tmp = Path(tmpdir)
            need_up = any(
                selected(args.only, w.name, s)
                for d in datasets[1:]
                for w in d.workloads
                for s in SERVERS
            )
            host = free_upstream_address() if need_up else "127.0.0.1"
            up = upstream_server(tmp, args.externals, host, 53)
            with running(*([up] if need_up else [])):
                if need_up:
                    wait_serving(up, datasets[1])
                for data in datasets:
                    rows += run_dataset(data, tmp, args, tools, load, cap, (host, 53), failures)
            if selected(args.only, "scale", "dnsd"):
                scale = run_scale(tmp, args, load, failures)
            if selected(args.only, "startup", "dnsd"):
                startup = run_startup(tmp, args)
    except BenchError as exc:
        failures.append(str(exc))
        print(f"suite: {exc}")
    finally:
        if cap is not None:
            cap.close()
    header += f"; the suite took {time.monotonic() - started:.0f} s"
    report(rows, scale, startup, args, header)
    for failure in failures:
        print(f"FAILED: {failure.splitlines()[0]}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
