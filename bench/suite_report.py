"""The suite's results: rows (one per server, workload and mode), the ratios to knot and to the
echo of the same run, the printed table, the README tables and issue 6's targets."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SERVERS = ("knot", "unbound", "dnsmasq", "echo", "dnsd")
WORKLOADS = ("k8s", "cache", "kubeadm", "tcp")

TABLE_HEAD = ["server", "workload", "mode", "dnsperf", "QPS", "QPS per core"]
TABLE_HEAD += ["server CPU µs/query", "avg latency ms", "p99 ms at half max", "lost", "RSS MiB"]
TABLE_HEAD += ["vs knot", "vs echo", "other load %"]
SUITE_HEAD = ["date", "commit", "machine", *TABLE_HEAD, "notes"]

SCALE_HEAD = ["date", "commit", "machine", "services", "endpoints", "objects MiB"]
SCALE_HEAD += ["first answer s", "dnsperf", "QPS", "QPS vs smallest", "server CPU µs/query"]
SCALE_HEAD += ["avg latency ms", "lost", "RSS 1 s after first answer MiB", "RSS after run MiB"]
SCALE_HEAD += ["B per object vs smallest", "other load %"]

STARTUP_HEAD = ["date", "commit", "machine", "corefile", "runs", "min s", "median s", "max s"]
STARTUP_HEAD += ["first answer"]

TARGETS_HEAD = ["date", "commit", "machine", "target", "wanted", "seen", "met"]


@dataclass
class Row:
    """A server on a workload in one mode; figures are medians over the rounds."""

    server: str
    workload: str
    mode: str  # "pinned" or "capped"
    load: str
    qps: float
    cpu_us: float
    avg_ms: float
    lost: int
    rss_mib: float
    other: float
    share: float = 1.0  # of a core the server was allowed (capped: 0.5)
    p99_ms: float | None = None  # pinned rows: at half the pinned QPS
    rate: int | None = None
    vs_knot: float | None = None
    vs_echo: float | None = None
    rounds: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def per_core(self) -> float | None:
        """QPS per core: capped QPS / share (performance.md's 2 x capped); None when pinned."""
        return self.qps / self.share if self.mode == "capped" else None


def median_row(rows: Sequence[Row]) -> Row:
    """One row from the rounds of the same server, workload and mode."""
    first = rows[0]

    def med(values: Iterable[float | None]) -> float | None:
        got = [v for v in values if v is not None]
        return statistics.median(got) if got else None

    rate = med(r.rate for r in rows)
    return Row(
        server=first.server,
        workload=first.workload,
        mode=first.mode,
        load=first.load,
        qps=statistics.median(r.qps for r in rows),
        cpu_us=statistics.median(r.cpu_us for r in rows),
        avg_ms=statistics.median(r.avg_ms for r in rows),
        lost=sum(r.lost for r in rows),
        rss_mib=max(r.rss_mib for r in rows),
        other=max(r.other for r in rows),
        share=first.share,
        p99_ms=med(r.p99_ms for r in rows),
        rate=None if rate is None else int(rate),
        rounds=len(rows),
        notes=[n for r in rows for n in r.notes],
    )


def add_ratios(rows: list[Row]) -> None:
    """QPS over knot's and over the echo's on the same workload and mode, where they ran."""
    by_key = {(r.server, r.workload, r.mode): r for r in rows}
    for row in rows:
        knot = by_key.get(("knot", row.workload, row.mode))
        echo = by_key.get(("echo", row.workload, row.mode))
        row.vs_knot = row.qps / knot.qps if knot and knot.qps else None
        row.vs_echo = row.qps / echo.qps if echo and echo.qps else None


def sort_rows(rows: Iterable[Row]) -> list[Row]:
    def key(r: Row) -> tuple[int, int, int]:
        return (
            WORKLOADS.index(r.workload),
            ("pinned", "capped").index(r.mode),
            SERVERS.index(r.server),
        )

    return sorted(rows, key=key)


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def cells(row: Row) -> list[str]:
    p99 = fmt(row.p99_ms, ".3f")
    if row.p99_ms is not None and row.rate is not None:
        p99 += f" @{row.rate:,}/s"
    return [
        row.server,
        row.workload,
        row.mode,
        row.load,
        f"{row.qps:,.0f}",
        fmt(row.per_core, ",.0f"),
        f"{row.cpu_us:.1f}",
        f"{row.avg_ms:.3f}",
        p99,
        str(row.lost),
        f"{row.rss_mib:.1f}",
        fmt(row.vs_knot, ".2f"),
        fmt(row.vs_echo, ".2f"),
        f"{row.other:.1f}",
    ]


def markdown(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A pipe table, columns padded so it reads in a terminal as well."""
    body = [list(head), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in body) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# -- scale and start-up -------------------------------------------------------------------------


@dataclass
class ScaleResult:
    services: int
    endpoints: int
    objects_mib: float
    first_answer_s: float
    load: str
    qps: float
    cpu_us: float
    avg_ms: float
    lost: int
    rss_synced_kib: int
    rss_after_kib: int
    other: float

    @property
    def objects(self) -> int:
        return self.services + self.endpoints


def scale_cells(results: Sequence[ScaleResult]) -> list[list[str]]:
    """Table cells (without date/commit/machine), each size against the smallest."""
    base = results[0]
    out = []
    for r in results:
        grown = r.objects - base.objects
        per = (r.rss_after_kib - base.rss_after_kib) * 1024 / grown if grown else None
        out.append(
            [
                f"{r.services:,}",
                f"{r.endpoints:,}",
                f"{r.objects_mib:.1f}",
                f"{r.first_answer_s:.2f}",
                r.load,
                f"{r.qps:,.0f}",
                f"{r.qps / base.qps:.2f}" if base.qps else "-",
                f"{r.cpu_us:.1f}",
                f"{r.avg_ms:.3f}",
                str(r.lost),
                f"{r.rss_synced_kib / 1024:.1f}",
                f"{r.rss_after_kib / 1024:.1f}",
                fmt(per, ",.0f"),
                f"{r.other:.1f}",
            ]
        )
    return out


# -- targets ------------------------------------------------------------------------------------


@dataclass
class Target:
    what: str
    wanted: str
    seen: str
    met: bool | None  # None: not measured in this run


def per_core(row: Row | None, capped: Row | None) -> tuple[float, str] | None:
    """QPS per core: from the capped run where there is one, else 1e6 / CPU µs per query."""
    if capped is not None and capped.per_core is not None:
        return capped.per_core, f"{1 / capped.share:g} x {capped.qps:,.0f} capped"
    if row is not None and row.cpu_us > 0:
        return 1e6 / row.cpu_us, "1e6 / CPU µs per query (no capped run)"
    return None


def targets(
    rows: Sequence[Row],
    scale: Sequence[ScaleResult] = (),
    startup: Sequence[float] = (),
) -> list[Target]:
    """Issue 6's targets against this run's figures."""
    get = {(r.server, r.workload, r.mode): r for r in rows}
    out: list[Target] = []
    names = {"k8s": "kubernetes names", "cache": "cache hits"}
    for wl, title in names.items():
        row = get.get(("dnsd", wl, "pinned"))
        if row is None:
            out.append(Target(f"{title}: server CPU per query", "<= 16 µs", "not run", None))
        else:
            seen = f"{row.cpu_us:.1f} µs ({row.qps:,.0f} QPS pinned)"
            out.append(Target(f"{title}: server CPU per query", "<= 16 µs", seen, row.cpu_us <= 16))
        mine = per_core(row, get.get(("dnsd", wl, "capped")))
        knot = per_core(get.get(("knot", wl, "pinned")), get.get(("knot", wl, "capped")))
        what = f"{title}: QPS per core vs knot's"
        if mine is None or knot is None:
            out.append(Target(what, ">= 0.50", "not run", None))
        else:
            ratio = mine[0] / knot[0]
            seen = f"{ratio:.2f} ({mine[0]:,.0f} vs {knot[0]:,.0f}; {mine[1]})"
            out.append(Target(what, ">= 0.50", seen, ratio >= 0.5))
    mix = per_core(get.get(("dnsd", "kubeadm", "pinned")), get.get(("dnsd", "kubeadm", "capped")))
    what = "kubeadm mix: QPS per core"
    if mix is None:
        out.append(Target(what, ">= 40,000", "not run", None))
    else:
        out.append(Target(what, ">= 40,000", f"{mix[0]:,.0f} ({mix[1]})", mix[0] >= 40_000))
    for wl in WORKLOADS:
        row = get.get(("dnsd", wl, "pinned"))
        what = f"{wl}: p99 latency at half the maximum QPS"
        if row is None or row.p99_ms is None:
            out.append(Target(what, "< 1 ms", "not run", None))
        else:
            seen = f"{row.p99_ms:.3f} ms at {row.rate or 0:,}/s"
            out.append(Target(what, "< 1 ms", seen, row.p99_ms < 1.0))
    out += scale_targets(scale)
    what = "first answer for Corefile.example"
    if not startup:
        out.append(Target(what, "<= 1.5 s", "not run", None))
    else:
        seen = f"median {statistics.median(startup):.2f} s, max {max(startup):.2f} s"
        seen += f" ({len(startup)} runs)"
        out.append(Target(what, "<= 1.5 s", seen, max(startup) <= 1.5))
    return out


def scale_targets(scale: Sequence[ScaleResult]) -> list[Target]:
    if len(scale) < 2:
        return [
            Target("QPS at the most Services vs the fewest", "within 10%", "not run", None),
            Target("RSS growth per Service or endpoint", "<= 1 KB", "not run", None),
        ]
    small, big = scale[0], scale[-1]
    ratio = big.qps / small.qps if small.qps else 0.0
    seen = f"{big.qps:,.0f} vs {small.qps:,.0f} QPS: {ratio - 1:+.1%}"
    what = f"QPS at {big.services:,} Services vs {small.services:,}"
    out = [Target(what, "within 10%", seen, ratio >= 0.9)]
    grown = big.objects - small.objects
    per = (big.rss_after_kib - small.rss_after_kib) * 1024 / grown
    seen = f"{per:,.0f} B ({small.rss_after_kib / 1024:.1f} -> {big.rss_after_kib / 1024:.1f} MiB"
    seen += f" for {grown:,} more Services + endpoints)"
    out.append(Target("RSS growth per Service or endpoint", "<= 1 KB", seen, per <= 1000))
    return out


def notes_cell(row: Row) -> str:
    return "; ".join(row.notes) or "-"


def target_cells(t: Target) -> list[str]:
    return [t.what, t.wanted, t.seen, "-" if t.met is None else ("yes" if t.met else "no")]
