"""*multisocket* through the real command: ``python -m dnsd -conf FILE`` with 2 processes.

Both processes answer (the kernel spreads queries from different source ports), the
supervisor's ``/metrics`` sums both exactly, ``/ready`` covers both, SIGUSR1 reaches
the worker, a killed worker is restarted (and its counts kept), SIGTERM ends all of
them, and a worker does not outlive a supervisor killed outright.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
from prometheus_client.parser import text_string_to_metric_families

import dnsd
from dnsd.testing import free_port

ROOT = Path(dnsd.__file__).resolve().parents[1]
DNSD = [sys.executable, "-m", "dnsd"]
STARTED = re.compile(r"plugin/multisocket: worker 1 started, pid (\d+)")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    log: Path
    conf: Path
    dns: int
    metrics: int
    ready: int

    def out(self) -> str:
        return self.log.read_text()

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in STARTED.findall(self.out())]

    def corefile(self, address: str, count: int = 2) -> str:
        return (
            f".:{self.dns} {{\n    bind 127.0.0.1\n    multisocket {count}\n"
            f"    prometheus 127.0.0.1:{self.metrics}\n    ready 127.0.0.1:{self.ready}\n"
            f"    hosts {{\n        {address} www.example.org\n    }}\n}}\n"
        )


def until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def http(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError):
        return 0, ""


def requests_total(text: str) -> float:
    for family in text_string_to_metric_families(text):
        if family.name == "coredns_dns_requests":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def worker_metrics(pid: int) -> str:
    """A worker's own registry, over its private socket (found in its environment)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    value = next(e for e in environ if e.startswith(b"DNSD_WORKER=")).decode()
    _, folder, _ = value.removeprefix("DNSD_WORKER=").rsplit(":", 2)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(os.path.join(folder, "worker-1.sock"))
        sock.sendall(b"GET /metrics HTTP/1.0\r\nHost: worker\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode().partition("\r\n\r\n")[2]


def ask(port: int, name: str = "www.example.org") -> dns.message.Message:
    """One query from a fresh socket (a new source port each time)."""
    return dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=2)


def address(reply: dns.message.Message) -> str:
    return str(reply.answer[0][0]) if reply.answer else ""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@contextmanager
def serving(tmp_path: Path) -> Iterator[Server]:
    log = tmp_path / "out.log"
    conf = tmp_path / "Corefile"
    srv = Server(None, log, conf, free_port(), free_port(), free_port())  # type: ignore[arg-type]
    conf.write_text(srv.corefile("192.0.2.1"))
    with open(log, "wb") as out:
        srv.proc = subprocess.Popen(
            [*DNSD, "-conf", str(conf)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's dnsd, not another
        )
    try:
        until(lambda: http(srv.ready, "/ready")[0] == 200, what="/ready 200")
        assert len(srv.worker_pids()) == 1
        yield srv
    finally:
        pids = srv.worker_pids()
        if srv.proc.poll() is None:
            srv.proc.kill()
        srv.proc.wait(timeout=10)
        until(lambda: not any(alive(p) for p in pids), 10, "workers to end with the supervisor")


def test_two_processes_one_view(tmp_path: Path) -> None:
    with serving(tmp_path) as srv:
        (worker,) = srv.worker_pids()
        k = 300
        for _ in range(k):
            assert address(ask(srv.dns)) == "192.0.2.1"
        status, text = http(srv.metrics, "/metrics")
        assert status == 200
        assert requests_total(text) == k  # both processes, summed exactly
        # coredns_build_info is one series, not one per process.
        assert text.count("coredns_build_info{") == 1
        in_worker = requests_total(worker_metrics(worker))
        assert 0 < in_worker < k, "both processes must have answered"

        # SIGUSR1: the supervisor applies the new Corefile and the worker follows.
        srv.conf.write_text(srv.corefile("192.0.2.2"))
        srv.proc.send_signal(signal.SIGUSR1)
        until(lambda: "[INFO] Reloading complete" in srv.out(), what="supervisor reload")
        until(lambda: srv.out().count("[INFO] Reloading complete") >= 2, what="worker reload")
        answers = {address(ask(srv.dns)) for _ in range(100)}
        assert answers == {"192.0.2.2"}
        # A config that fails in the supervisor never reaches the worker.
        srv.conf.write_text(srv.corefile("192.0.2.3") + "x {\n    whomai\n}\n")
        srv.proc.send_signal(signal.SIGUSR1)
        until(lambda: "[ERROR] Restart failed" in srv.out(), what="failed reload")
        assert {address(ask(srv.dns)) for _ in range(50)} == {"192.0.2.2"}
        assert srv.out().count("[INFO] Reloading complete") == 2

        # A worker killed outright is restarted and logged; its counts stay in /metrics.
        before = requests_total(http(srv.metrics, "/metrics")[1])
        os.kill(worker, signal.SIGKILL)
        until(lambda: len(srv.worker_pids()) == 2, what="worker restart")
        assert re.search(
            r"\[ERROR\] plugin/multisocket: worker 1 exited \(signal SIGKILL\), restarting",
            srv.out(),
        )
        until(lambda: http(srv.ready, "/ready")[0] == 200, what="/ready after restart")
        assert requests_total(http(srv.metrics, "/metrics")[1]) == before
        assert not alive(worker)

        # SIGTERM: every process ends, the supervisor with status 0.
        pids = srv.worker_pids()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=30) == 0
        until(lambda: not any(alive(p) for p in pids), 10, "workers to exit")
    assert "Traceback" not in srv.out()


def test_worker_ends_with_a_killed_supervisor(tmp_path: Path) -> None:
    with serving(tmp_path) as srv:
        (worker,) = srv.worker_pids()
        srv.proc.kill()
        srv.proc.wait(timeout=10)
        until(lambda: not alive(worker), 10, "the orphan to exit")


def test_ready_reports_a_worker_that_is_not_ready(tmp_path: Path) -> None:
    with serving(tmp_path) as srv:
        (worker,) = srv.worker_pids()
        os.kill(worker, signal.SIGSTOP)  # alive, but its private socket does not answer
        try:
            assert http(srv.ready, "/ready") == (503, "multisocket")
            # /metrics still answers, with the worker's last samples (and says so in the log).
            assert http(srv.metrics, "/metrics")[0] == 200
        finally:
            os.kill(worker, signal.SIGCONT)
        until(lambda: http(srv.ready, "/ready")[0] == 200, what="/ready again")


def test_reload_changes_the_number_of_processes(tmp_path: Path) -> None:
    with serving(tmp_path) as srv:
        (first,) = srv.worker_pids()
        srv.conf.write_text(srv.corefile("192.0.2.1", count=1))
        srv.proc.send_signal(signal.SIGUSR1)
        until(lambda: not alive(first), what="the worker no longer wanted to stop")
        assert "exited" not in srv.out()  # a stop, not a crash: nothing restarted
        assert http(srv.ready, "/ready") == (200, "OK")
        srv.conf.write_text(srv.corefile("192.0.2.1", count=3))
        srv.proc.send_signal(signal.SIGUSR1)
        until(lambda: len(re.findall(r"worker \d started", srv.out())) == 3, what="2 workers")
        until(lambda: http(srv.ready, "/ready")[0] == 200, what="/ready with 3 processes")
        k = 60
        for _ in range(k):
            assert address(ask(srv.dns)) == "192.0.2.1"
        assert requests_total(http(srv.metrics, "/metrics")[1]) == k
