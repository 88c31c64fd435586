"""Network namespaces for the e2e tests (host side): made, joined, driven and always removed.

A namespace gets a unique name, its loopback up and /etc/netns/NAME/resolv.conf (which
``ip netns exec`` binds over /etc/resolv.conf, where glibc and musl read it). Two namespaces can
be joined by a veth pair named eth0 at both ends, as a pod's interface. A driver script runs in a
namespace in a session of its own, so a timeout or an interrupted test kills its process group:
the driver and the dnsd it started, nothing else.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "e2e"
ETC_NETNS = Path("/etc/netns")


def ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def require_netns() -> None:
    """Skip (saying why) when network namespaces cannot be made here."""
    if os.geteuid() != 0:
        pytest.skip("needs root for ip netns")
    if shutil.which("ip") is None:
        pytest.skip("ip (iproute2) is not installed")


@contextmanager
def network_namespace(prefix: str, resolv_conf: str) -> Iterator[str]:
    """A fresh netns ``PREFIX-<random>`` with lo up and ``resolv_conf`` as its
    /etc/netns/NAME/resolv.conf; both removed on exit, whatever happened."""
    require_netns()
    name = f"{prefix}-{secrets.token_hex(4)}"
    added = ip("netns", "add", name)
    if added.returncode != 0:
        pytest.skip(f"ip netns add failed: {added.stderr.strip()}")
    etc = ETC_NETNS / name
    try:
        up = ip("-n", name, "link", "set", "lo", "up")
        assert up.returncode == 0, up.stderr
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text(resolv_conf)
        yield name
    finally:
        shutil.rmtree(etc, ignore_errors=True)
        ip("netns", "delete", name)


def gone(name: str) -> bool:
    """True when nothing is left of namespace ``name`` (neither the netns nor /etc/netns)."""
    return not (ETC_NETNS / name).exists() and name not in ip("netns", "list").stdout.split()


def connect(a: str, a_addrs: list[str], b: str, b_addrs: list[str]) -> None:
    """A veth pair ``eth0`` (in ``a``) -- ``eth0`` (in ``b``), both up, with these addresses
    (``ADDR/PREFIX``; IPv6 ones without duplicate address detection, so usable at once).
    Deleting either namespace deletes the pair."""
    steps = [
        ("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b),
        *(("-n", a, "addr", "add", addr, "dev", "eth0", *_nodad(addr)) for addr in a_addrs),
        *(("-n", b, "addr", "add", addr, "dev", "eth0", *_nodad(addr)) for addr in b_addrs),
        ("-n", a, "link", "set", "eth0", "up"),
        ("-n", b, "link", "set", "eth0", "up"),
    ]
    for step in steps:
        done = ip(*step)
        assert done.returncode == 0, f"ip {' '.join(step)}: {done.stderr}"


def _nodad(addr: str) -> tuple[str, ...]:
    return ("nodad",) if ":" in addr else ()


def build_musl_gai(outdir: Path) -> Path:
    """gai.c built static with musl-gcc into ``outdir``; skips (saying why) without musl-gcc."""
    cc = shutil.which("musl-gcc")
    if cc is None:
        pytest.skip("musl-gcc not found: `make system-deps` installs Debian's musl-tools")
    exe = outdir / "gai"
    built = subprocess.run(
        [cc, "-static", "-O2", "-Wall", "-Werror", "-o", str(exe), str(HERE / "gai.c")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return exe


def logs(workdir: Path) -> str:
    """Every ``*.log`` the driver's processes wrote, for a failure message."""
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')}" for p in sorted(workdir.glob("*.log"))
    )


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL ``proc``'s process group (its own session: it and its children only)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_driver(ns: str, driver: Path, workdir: Path, timeout: float) -> dict[str, Any]:
    """Run ``driver WORKDIR`` in ``ns`` to its end; the JSON object on its last stdout line."""
    argv = ["ip", "netns", "exec", ns, sys.executable, str(driver), str(workdir)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(f"driver timed out after {timeout}s\n{err.decode()}\n{logs(workdir)}")
    finally:
        kill_group(proc)  # interrupted: leave nothing running in the namespace
    lines = out.decode().strip().splitlines()
    assert proc.returncode == 0 and lines, f"driver exit {proc.returncode}\n{err.decode()}"
    (workdir / "result.json").write_text(lines[-1])  # kept with the logs, for a failure
    return json.loads(lines[-1])  # type: ignore[no-any-return]


class Conversation:
    """A driver that talks: it prints one JSON object per line when a phase ends and reads
    commands, one per line, from stdin. Closing it ends the driver (stdin closed, then its
    process group killed if it has not exited within ``grace`` seconds)."""

    def __init__(self, ns: str, driver: Path, workdir: Path) -> None:
        self.workdir = workdir
        argv = ["ip", "netns", "exec", ns, sys.executable, str(driver), str(workdir)]
        self.stderr = open(workdir / "driver.stderr", "wb")  # closed by close()
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.received = 0
        assert self.proc.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(b"")  # end of file

    def receive(self, timeout: float) -> dict[str, Any]:
        """The driver's next JSON line; fails the test (with the logs) if none comes in time."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"driver said nothing for {timeout}s\n{self.diagnostics()}")
        if not line:
            pytest.fail(f"driver exited ({self.proc.poll()})\n{self.diagnostics()}")
        self.received += 1  # kept with the logs, for a failure
        (self.workdir / f"driver-{self.received}.json").write_bytes(line)
        return json.loads(line)  # type: ignore[no-any-return]

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def diagnostics(self) -> str:
        err = (self.workdir / "driver.stderr").read_text(errors="replace")
        return f"--- driver stderr\n{err}\n{logs(self.workdir)}"

    def close(self, grace: float = 10) -> int | None:
        """End the driver; its exit code (None if it had to be killed)."""
        try:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            return None
        finally:
            kill_group(self.proc)
            self.reader.join(5)  # it ends at the pipe's end of file
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.stderr.close()
