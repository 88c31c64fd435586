"""Tools of the overload and abuse tests (tests/reliability/): a dnsd process, dnsperf, RSS.

:class:`DnsdProcess` runs ``python -m dnsd -conf FILE`` on an ephemeral 127.0.0.1 port (its
own process, so its RSS is its own: ``/proc/PID/status``); :func:`dnsperf` runs dnsperf,
bounded in time, and parses its summary; :class:`RssPeak` samples a process's RSS in a thread;
:class:`Sampler` asks real questions with dnspython while a load runs and checks every answer.
Every process started here is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from dnsd.testing import free_port

MIB = 1 << 20
#: The checkout under test: a dnsd process imports dnsd from here, not from where the venv points.
ROOT = Path(__file__).resolve().parent.parent


def dnsd_env() -> dict[str, str]:
    """The environment of a dnsd subprocess: this checkout first on the import path."""
    path = os.environ.get("PYTHONPATH", "")
    return os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class DnsdProcess:
    """A running ``python -m dnsd``; ``port`` is where it serves (UDP and TCP)."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return rss(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None


def ask(
    port: int, name: str, qtype: str = "A", timeout: float = 1.0, **kw: object
) -> dns.message.Message | None:
    """One UDP question to 127.0.0.1:``port``; None when no answer came in ``timeout``."""
    q = dns.message.make_query(name, qtype, **kw)  # type: ignore[arg-type]
    try:
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    except (dns.exception.Timeout, OSError):
        return None


@contextmanager
def dnsd_process(
    tmp: Path,
    corefile: str,
    *,
    deadline: float = 20.0,
    probe: str = "www.example.org",
    wrap: Callable[[list[str]], list[str]] = lambda argv: argv,
) -> Iterator[DnsdProcess]:
    """Start dnsd with ``corefile`` (``{port}`` replaced by a free port); stop it by its PID.

    Serving means ``probe`` got any answer. The process's output goes to ``tmp/dnsd.log``.
    ``wrap`` turns the command into the one run (e.g. inside ``unshare``).
    """
    for _ in range(5):
        port = free_port()
        conf = tmp / "Corefile"
        conf.write_text(corefile.replace("{port}", str(port)), encoding="utf-8")
        log = tmp / "dnsd.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                wrap([sys.executable, "-m", "dnsd", "-conf", str(conf)]),
                cwd=tmp,
                env=dnsd_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            end = time.monotonic() + deadline
            while proc.poll() is None and time.monotonic() < end:
                if ask(port, probe, timeout=0.2) is not None:
                    break
            else:
                text = log.read_text(errors="replace")
                if "in use" in text:
                    continue  # the free port was taken meanwhile: another one
                raise RuntimeError(f"dnsd did not start: {text[-2000:]}")
            yield DnsdProcess(proc, port, log)
            return
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    raise RuntimeError("no free port for dnsd")


@dataclass
class Perf:
    """dnsperf's summary."""

    sent: int
    completed: int
    lost: int
    qps: float
    rcodes: dict[str, int]
    seconds: float


def dnsperf(
    port: int,
    data: Path,
    *,
    seconds: float,
    qps: float | None = None,
    outstanding: int = 100,
    timeout: float = 1.0,
    once: bool = False,
    clients: int = 1,
    mode: str = "udp",
) -> Perf:
    """Run dnsperf against 127.0.0.1:``port`` for ``seconds`` at most (``qps`` paces it)."""
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(data), "-m", mode]
    cmd += ["-l", str(seconds), "-t", str(timeout), "-q", str(outstanding), "-c", str(clients)]
    cmd += ["-b", "4096"]
    if qps is not None:
        cmd += ["-Q", str(int(qps))]
    if once:
        cmd += ["-n", "1"]
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout + 30)
    took = time.monotonic() - start
    if out.returncode != 0:
        raise RuntimeError(f"dnsperf failed: {out.stderr[-1000:]}")
    return parse_dnsperf(out.stdout, took)


def parse_dnsperf(text: str, seconds: float = 0.0) -> Perf:
    def num(pattern: str) -> float:
        m = re.search(pattern, text)
        if m is None:
            raise RuntimeError(f"no {pattern!r} in dnsperf output: {text[-1500:]}")
        return float(m.group(1))

    rcodes: dict[str, int] = {}
    m = re.search(r"Response codes:\s*(.*)", text)
    if m is not None:
        for name, count in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
            rcodes[name] = int(count)
    return Perf(
        sent=int(num(r"Queries sent:\s+(\d+)")),
        completed=int(num(r"Queries completed:\s+(\d+)")),
        lost=int(num(r"Queries lost:\s+(\d+)")),
        qps=num(r"Queries per second:\s+([\d.]+)"),
        rcodes=rcodes,
        seconds=seconds,
    )


class RssPeak:
    """Samples ``pid``'s RSS every ``interval`` seconds in a thread; ``peak`` is the largest."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.peak = max(self.peak, rss(self.pid))
            except (OSError, RuntimeError):
                return

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, rss(self.pid))


#: Checks one answer; returns a description of what is wrong, or "" when it is right.
Check = Callable[[dns.message.Message], str]


@dataclass
class Sampler:
    """Asks ``question()`` every ``every`` seconds in a thread while a load runs."""

    port: int
    question: Callable[[int], tuple[str, str, Check]]
    every: float = 0.02
    timeout: float = 1.0
    sent: int = 0
    answered: int = 0
    lost: int = 0
    wrongs: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            name, qtype, check = self.question(self.sent)
            self.sent += 1
            start = time.monotonic()
            reply = ask(self.port, name, qtype, timeout=self.timeout)
            if reply is None:
                self.lost += 1
            else:
                self.answered += 1
                self.latencies.append(time.monotonic() - start)
                wrong = check(reply)
                if wrong:
                    self.wrongs.append(f"{name} {qtype}: {wrong}")
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)


def recovery(port: int, check: Callable[[], bool], deadline: float = 10.0) -> float:
    """Seconds until ``check()`` (a correct answer) holds, polling without a pause."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > deadline:
            raise AssertionError(f"no correct answer within {deadline} s")
    return time.monotonic() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
