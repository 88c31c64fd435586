"""How the suite measures: its tools (installed when missing), dnsperf runs and their parsing
(summary, per-query ``-v`` lines, the latency histogram of dnsperf builds that have one), a
server's CPU time (its children's too) and the cgroup CPU cap of the "capped" mode."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cache_forward import CLK_TCK, BenchError, OtherLoad, Proc, proc_ticks, rss_kib
from fixed_answer import taskset
from kubernetes import percentile

# executable -> the Debian package that has it. dnsmasq-base is the dnsmasq binary without the
# system service: the `dnsmasq` package starts a resolver on port 53 where the machine allows.
TOOLS = {"dnsperf": "dnsperf", "knotd": "knot", "unbound": "unbound", "dnsmasq": "dnsmasq-base"}
SBIN = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POLICY = Path("/usr/sbin/policy-rc.d")


def which(exe: str) -> str | None:
    return shutil.which(exe) or shutil.which(exe, path=SBIN)


def ensure_tools(install: bool = True) -> dict[str, str]:
    """Every tool's path; the missing ones are installed with apt-get (one ``update`` first),
    which needs root. Package scripts are kept from starting services (a policy-rc.d that
    answers 101 is put in place for the install when the machine has none)."""
    missing = [exe for exe in TOOLS if which(exe) is None]
    if missing:
        packages = [TOOLS[exe] for exe in missing]
        if not install:
            raise BenchError(f"missing {', '.join(missing)} (packages: {' '.join(packages)})")
        if os.geteuid() != 0:
            raise BenchError(
                f"missing {', '.join(missing)}: installing {' '.join(packages)} with apt-get "
                "needs root (run the suite as root, or install them first)"
            )
        print(f"installing {' '.join(packages)} (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        placed = False
        if not POLICY.exists():
            POLICY.write_text(
                "#!/bin/sh\n# placed by bench/suite.py during its install\nexit 101\n"
            )
            POLICY.chmod(0o755)
            placed = True
        try:
            subprocess.run(["apt-get", "update", "-q"], check=True, env=env, timeout=600)
            cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
            subprocess.run(cmd, check=True, env=env, timeout=900)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise BenchError(f"apt-get failed: {exc}") from None
        finally:
            if placed:
                POLICY.unlink(missing_ok=True)
    paths = {exe: which(exe) for exe in TOOLS}
    still = [exe for exe, path in paths.items() if path is None]
    if still:
        raise BenchError(f"{', '.join(still)} still missing after apt-get")
    return {exe: path for exe, path in paths.items() if path is not None}


def dnsperf_has_histogram(exe: str) -> bool:
    """Whether this dnsperf prints a latency histogram (``-O latency-histogram``, dnsperf >=
    2.12; 2.10 has none and the suite falls back on ``-v``'s per-query latencies)."""
    try:
        out = subprocess.run([exe, "-H"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "latency-histogram" in out.stdout + out.stderr


# -- parsing ------------------------------------------------------------------------------------


@dataclass
class Summary:
    """dnsperf's closing statistics."""

    qps: float
    sent: int
    completed: int
    lost: int
    avg_ms: float
    rcodes: dict[str, int]


def parse_summary(out: str) -> Summary:
    def num(pattern: str) -> float:
        m = re.search(pattern, out)
        if m is None:
            raise BenchError(f"dnsperf output without {pattern!r}:\n{out[-1500:]}")
        return float(m.group(1))

    codes = re.search(r"Response codes:\s+(.*)", out)
    rcodes = {
        c: int(n) for c, n in re.findall(r"([A-Z]+) (\d+) \(", codes.group(1) if codes else "")
    }
    return Summary(
        qps=num(r"Queries per second:\s+([\d.]+)"),
        sent=int(num(r"Queries sent:\s+(\d+)")),
        completed=int(num(r"Queries completed:\s+(\d+)")),
        lost=int(num(r"Queries lost:\s+(\d+)")),
        avg_ms=num(r"Average Latency \(s\):\s+([\d.]+)") * 1000,
        rcodes=rcodes,
    )


VERBOSE_LINE = re.compile(r"^> ([A-Z]+) \S+ \S+ (\d+\.\d+)$", re.M)
BUCKET_LINE = re.compile(r"^\s+(\d+\.\d+) - (\d+\.\d+):\s+(\d+)$")


def parse_verbose(out: str) -> list[float]:
    """Latencies (ms) of ``-v``'s per-answer lines: ``> NOERROR name A 0.000123``."""
    return [float(m.group(2)) * 1000 for m in VERBOSE_LINE.finditer(out)]


def parse_histogram(out: str) -> list[tuple[float, float, int]]:
    """(low ms, high ms, answers) of the answer-latency histogram (``-O latency-histogram``):
    the lines after ``Latency bucket (s):   answer count`` up to the first that is no bucket."""
    buckets: list[tuple[float, float, int]] = []
    inside = False
    for line in out.splitlines():
        if "Latency bucket (s):" in line:
            if buckets:  # the connection histogram follows (TCP): answers only
                break
            inside = "answer" in line
            continue
        if not inside:
            continue
        m = BUCKET_LINE.match(line)
        if m is None:
            inside = False
            continue
        buckets.append((float(m.group(1)) * 1000, float(m.group(2)) * 1000, int(m.group(3))))
    return buckets


def histogram_percentile(buckets: list[tuple[float, float, int]], q: float) -> float:
    """The high edge of the bucket that holds the q-quantile (an upper bound, ~3% wide)."""
    total = sum(n for _, _, n in buckets)
    if total == 0:
        raise ValueError("empty histogram")
    seen = 0
    for _, high, n in sorted(buckets):
        seen += n
        if seen >= q * total:
            return high
    return sorted(buckets)[-1][1]


def latency_percentiles(out: str) -> tuple[float, float, int] | None:
    """(p50 ms, p99 ms, answers) from the histogram if the output has one, else from ``-v``."""
    buckets = parse_histogram(out)
    if buckets:
        count = sum(n for _, _, n in buckets)
        return histogram_percentile(buckets, 0.5), histogram_percentile(buckets, 0.99), count
    samples = parse_verbose(out)
    if samples:
        return percentile(samples, 0.5), percentile(samples, 0.99), len(samples)
    return None


# -- CPU, memory, load --------------------------------------------------------------------------


def cpu_seconds_tree(pid: int) -> float:
    """User+system CPU of a process (all its threads), of its reaped children (cutime, cstime:
    dnsmasq forks one per TCP connection) and of its live descendants."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(f) for f in fields[11:15])
    ticks = proc_ticks()
    family = {pid}
    for _ in range(4):
        family |= {p for p, (_, ppid) in ticks.items() if ppid in family}
    own += sum(ticks[p][0] for p in family - {pid} if p in ticks)
    return own / CLK_TCK


def other_load(seconds: float) -> float:
    """% of a core that processes not of this suite used over ``seconds``."""
    load = OtherLoad()
    time.sleep(seconds)
    return load.percent()


def wait_quiet(limit: float, timeout: float = 60.0, quiet: int = 2) -> float:
    """Wait (in 1 s samples, ``timeout`` at most) until others used at most ``limit`` % of a
    core in ``quiet`` samples in a row (their load comes in bursts); the last sample."""
    end = time.monotonic() + timeout
    calm = 0
    seen = 0.0
    for _ in range(int(timeout) + 1):
        seen = other_load(1.0)
        calm = calm + 1 if seen <= limit else 0
        if calm >= quiet or time.monotonic() >= end:
            break
    return seen


# -- the capped mode ----------------------------------------------------------------------------


class CpuCap:
    """Limits a process to ``share`` of one core with the CFS bandwidth controller: a cgroup v2
    child with ``cpu.max`` where the unified hierarchy has the cpu controller, else a cgroup v1
    child of the cpu hierarchy with ``cpu.cfs_quota_us``/``cpu.cfs_period_us`` (the same
    mechanism). ``kind`` says which; None when neither can be written."""

    PERIOD_US = 100_000

    def __init__(self, share: float = 0.5, name: str = f"dnsd-bench-suite-{os.getpid()}") -> None:
        self.share, self.name = share, name
        self.kind: str | None = None
        self.path: Path | None = None
        self.parent: Path | None = None
        with contextlib.suppress(OSError):
            self._setup()

    def _setup(self) -> None:
        quota = int(self.PERIOD_US * self.share)
        v2 = Path("/sys/fs/cgroup")
        controllers = v2 / "cgroup.controllers"
        if controllers.exists() and "cpu" in controllers.read_text().split():
            with contextlib.suppress(OSError):
                (v2 / "cgroup.subtree_control").write_text("+cpu")
            path = v2 / self.name
            path.mkdir(exist_ok=True)
            try:
                (path / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
            except OSError:
                path.rmdir()
                raise
            self.kind, self.path, self.parent = "cgroup v2 cpu.max", path, v2
            return
        v1 = Path("/sys/fs/cgroup/cpu")
        if (v1 / "cpu.cfs_quota_us").exists():
            path = v1 / self.name
            path.mkdir(exist_ok=True)
            try:
                (path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
            except OSError:
                path.rmdir()
                raise
            self.kind, self.path, self.parent = "cgroup v1 cpu.cfs_quota_us", path, v1

    def throttled(self) -> int:
        """Periods in which the cap stopped the group (cpu.stat nr_throttled)."""
        if self.path is None:
            return 0
        stat = (self.path / "cpu.stat").read_text()
        m = re.search(r"nr_throttled (\d+)", stat)
        return int(m.group(1)) if m else 0

    @contextlib.contextmanager
    def applied(self, pid: int) -> Iterator[None]:
        """``pid`` (and what it forks meanwhile) inside the cap, moved back on the way out."""
        if self.path is None or self.parent is None:
            raise BenchError("no CPU cap on this machine")
        (self.path / "cgroup.procs").write_text(str(pid))
        try:
            yield
        finally:
            with contextlib.suppress(OSError):  # it may have exited
                for child in (self.path / "cgroup.procs").read_text().split():
                    (self.parent / "cgroup.procs").write_text(child)

    def close(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()
            self.path = None


# -- dnsperf runs -------------------------------------------------------------------------------


@dataclass
class Run:
    """One dnsperf run against one server, and what the server spent meanwhile."""

    summary: Summary
    seconds: int
    cpu_us: float
    cpu_pct: float
    rss_kib: int
    other: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    rate: int | None = None
    throttled: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Load:
    """dnsperf's settings: ``-T 1 -c clients -q outstanding -t timeout -l seconds``."""

    exe: str
    seconds: int
    clients: int = 10
    outstanding: int = 100
    timeout: int = 2
    max_other: float = 5.0
    histogram: bool = False

    def label(self, seconds: int | None = None) -> str:
        return f"{seconds or self.seconds}s c{self.clients} q{self.outstanding}"


def dnsperf(
    load: Load,
    server: Proc,
    port: int,
    queries: Path,
    *,
    tcp: bool = False,
    rate: int | None = None,
    seconds: int | None = None,
    cap: CpuCap | None = None,
    retry: bool = True,
    passes: int | None = None,
) -> Run:
    """dnsperf (on core 1) against ``server`` for a fixed time; at ``rate`` QPS (``-Q``) with
    per-query latencies when given. A run during which other processes used more than
    ``max_other`` % of a core is run again (twice at most, not when ``retry`` is false: a
    warm-up) once the machine is quiet."""
    run = _dnsperf_once(load, server, port, queries, tcp, rate, seconds, cap, passes)
    for attempt in (1, 2) if retry else ():
        if run.other <= load.max_other:
            break
        print(
            f"    disturbed: other processes used {run.other:.1f}% of a core; "
            f"waiting for quiet, then run {attempt + 1} of 3"
        )
        wait_quiet(load.max_other)
        run = _dnsperf_once(load, server, port, queries, tcp, rate, seconds, cap, passes)
    if retry and run.other > load.max_other:
        run.notes.append(f"disturbed ({run.other:.0f}% other load) in all 3 tries")
    return run


def _dnsperf_once(
    load: Load,
    server: Proc,
    port: int,
    queries: Path,
    tcp: bool,
    rate: int | None,
    seconds: int | None,
    cap: CpuCap | None,
    passes: int | None = None,
) -> Run:
    secs = seconds or load.seconds
    cmd = [*taskset(1), load.exe, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries)]
    cmd += ["-T", "1", "-c", str(load.clients), "-q", str(load.outstanding)]
    cmd += ["-t", str(load.timeout), "-l", str(secs)]
    if passes is not None:  # whichever ends first: the time or the passes through the file
        cmd += ["-n", str(passes)]
    if tcp:
        cmd += ["-m", "tcp"]
    if rate is not None:
        cmd += ["-Q", str(rate)]
        cmd += ["-O", "latency-histogram"] if load.histogram else ["-v"]
    with cap.applied(server.pid) if cap else contextlib.nullcontext():
        throttled0 = cap.throttled() if cap else 0
        other = OtherLoad()
        cpu0 = cpu_seconds_tree(server.pid)
        # stdout to a file: a pipe would have this process (on dnsperf's core) read -v's
        # lines while dnsperf runs
        with tempfile.TemporaryFile("w+") as out:
            perf = subprocess.run(
                cmd, stdout=out, stderr=subprocess.PIPE, text=True, timeout=secs + 60
            )
            out.seek(0)
            stdout = out.read()
        cpu1 = cpu_seconds_tree(server.pid)
        other_pct = other.percent()
        throttled = (cap.throttled() - throttled0) if cap else 0
    server.check()
    if perf.returncode != 0 or "Queries per second" not in stdout:
        tail = stdout[-1500:]
        raise BenchError(f"dnsperf failed ({perf.returncode}):\n{tail}\n{perf.stderr[-1500:]}")
    summary = parse_summary(stdout)
    run = Run(
        summary=summary,
        seconds=secs,
        cpu_us=(cpu1 - cpu0) / max(summary.completed, 1) * 1e6,
        cpu_pct=(cpu1 - cpu0) / secs * 100,
        rss_kib=rss_kib(server.pid),
        other=other_pct,
        rate=rate,
        throttled=throttled,
    )
    if rate is not None:
        found = latency_percentiles(stdout)
        if found is not None:
            run.p50_ms, run.p99_ms, _ = found
    return run
