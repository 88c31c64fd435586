"""The dnsd command: flags, -check, banner, signals, as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from dnsd.cli import UsageError, parse_args
from dnsd.testing import free_port

DNSD = [sys.executable, "-m", "dnsd"]


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (["-conf", "x"], {"conf": "x"}),
        (["--conf", "x"], {"conf": "x"}),
        (["-conf=x"], {"conf": "x"}),
        (["-dns.port", "1053"], {"port": "1053"}),
        (["-p", "1053", "-quiet"], {"port": "1053", "quiet": True}),
        (["-quiet=false"], {"quiet": False}),
        (["-check", "-conf", "stdin"], {"check": True, "conf": "stdin"}),
        (["-pidfile", "/tmp/p"], {"pidfile": "/tmp/p"}),
        (["-asyncio"], {"asyncio": True}),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_parse_args(argv: list[str], want: dict[str, object]) -> None:
    opts = parse_args(argv)
    for key, value in want.items():
        assert getattr(opts, key) == value


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["-nope"], "flag provided but not defined: -nope"),
        (["-conf"], "flag needs an argument: -conf"),
        (["extra"], "extra command line arguments: ['extra']"),
        (["-quiet", "x"], "extra command line arguments: ['x']"),
        (["-dns.port", "http"], 'invalid value "http" for flag -dns.port'),
        (["-quiet=maybe"], 'invalid boolean value "maybe" for -quiet'),
    ],
)
def test_parse_args_errors(argv: list[str], error: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_args(argv)
    assert str(exc.value) == error


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DNSD, *args], input=stdin, capture_output=True, text=True, timeout=30, cwd=cwd
    )


def test_version_and_plugins() -> None:
    out = run("-version")
    assert out.returncode == 0
    assert out.stdout.startswith("dnsd-0.1.0 (CoreDNS-1.14.7 compatible)\nlinux/")
    plugins = run("-plugins")
    assert plugins.returncode == 0
    assert "Server types:\n  dns\n" in plugins.stdout
    assert "  dns.whoami\n" in plugins.stdout


def test_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "Corefile"
    path.write_text(".:53 {\n    whoami\n    log\n}\n")
    out = run("-conf", str(path), "-check")
    assert (out.returncode, out.stdout, out.stderr) == (0, f"{path}: OK\n", "")


BAD = [
    ("unknown-directive", ".:53 {\n    whomai\n}\n",
     "bad.Corefile:2: unknown directive 'whomai', did you mean 'whoami'?"),
    ("coredns-only", ".:53 {\n    etcd\n}\n",
     "bad.Corefile:2: directive 'etcd' is a CoreDNS plugin that dnsd does not have"),
    ("unclosed", ".:53 {\n    whoami\n",
     "bad.Corefile:1: unexpected end of file: '{' opened here is never closed"),
    ("stray-brace", ".:53 {\n    whoami\n}\n}\n", "bad.Corefile:4: unexpected '}'"),
    ("one-line-block", ".:53 { whoami }\n",
     "bad.Corefile:1: whoami: unexpected '}': a closing brace must be on its own line"),
    ("arg", ".:53 {\n    whoami extra\n}\n",
     "bad.Corefile:2: whoami: wrong argument count or unexpected line ending after 'extra'"),
    ("duplicate-zone", ".:53 {\n    whoami\n}\n.:53 {\n    whoami\n}\n",
     "bad.Corefile:4: cannot serve dns://.:53 - it is already defined (line 1)"),
    ("tls-key", "tls://.:853 {\n    whoami\n}\n",
     "bad.Corefile:1: tls:// servers are not supported yet; use dns:// (plain DNS)"),
    ("bad-key", "exa mple..org {\n    whoami\n}\n", None),
    ("unterminated-quote", '.:53 {\n    log "x\n}\n', None),
    ("brace-next-line", ".:53 {\n    log\n    {\n    }\n}\n", None),
    ("snippet-redefined", "(s) {\n    log\n}\n(s) {\n    log\n}\n", None),
    ("snippet-self-import", "(s) {\n    import s\n}\n.:53 {\n    import s\n}\n", None),
    ("import-missing", ".:53 {\n    whoami\n    import nothere.conf\n}\n", None),
    ("import-cycle", "import a.conf\n", None),
    ("error-in-import", "import b.conf\n", None),
]  # fmt: skip

# Where each case's error must point: (file, line).
WHERE = {
    "bad-key": ("bad.Corefile", 1),
    "unterminated-quote": ("bad.Corefile", 2),
    "brace-next-line": ("bad.Corefile", 3),
    "snippet-redefined": ("bad.Corefile", 4),
    "snippet-self-import": ("bad.Corefile", 2),
    "import-missing": ("bad.Corefile", 3),
    "import-cycle": ("a.conf", 1),
    "error-in-import": ("b.conf", 2),
}
IMPORTED = {
    "a.conf": "import bad.Corefile\n",
    "b.conf": ".:53 {\n    whomai\n}\n",
}


@pytest.mark.parametrize(("case", "text", "error"), BAD, ids=[b[0] for b in BAD])
def test_check_reports_positioned_errors(
    tmp_path: Path, case: str, text: str, error: str | None
) -> None:
    (tmp_path / "bad.Corefile").write_text(text)
    for name, content in IMPORTED.items():
        (tmp_path / name).write_text(content)
    out = run("-conf", "bad.Corefile", "-check", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout == ""
    if error is None:
        file, line = WHERE[case]
        assert out.stderr.startswith(f"{file}:{line}: "), out.stderr
        assert out.stderr.count("\n") == 1, out.stderr
    else:
        assert out.stderr == error + "\n"
    assert "Traceback" not in out.stderr


def test_check_missing_file(tmp_path: Path) -> None:
    out = run("-conf", str(tmp_path / "nope"), "-check")
    assert out.returncode == 1
    assert "no such file or directory" in out.stderr


def test_check_from_stdin() -> None:
    out = run("-conf", "stdin", "-check", stdin=".:53 {\n    whoami\n}\n")
    assert (out.returncode, out.stdout) == (0, "stdin: OK\n")


@contextmanager
def serving(args: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*DNSD, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def wait_answer(
    port: int, name: str = "example.org", deadline: float = 15.0
) -> dns.message.Message:
    end = time.monotonic() + deadline
    q = dns.message.make_query(name, "A")
    while True:
        try:
            return dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
        except (dns.exception.Timeout, ConnectionRefusedError, OSError):
            if time.monotonic() > end:
                raise


def test_serve_banner_reload_and_sigterm(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "Corefile"
    conf.write_text(f".:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n")
    pidfile = tmp_path / "dnsd.pid"
    with serving(["-conf", str(conf), "-pidfile", str(pidfile)], tmp_path) as proc:
        assert wait_answer(port).rcode() == dns.rcode.NOERROR
        assert pidfile.read_text() == f"{proc.pid}\n"
        # A reload through SIGUSR1 with a new zone: the old socket keeps answering.
        conf.write_text(f"example.org:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n")
        proc.send_signal(signal.SIGUSR1)
        end = time.monotonic() + 10
        while wait_answer(port, "example.net").rcode() != dns.rcode.REFUSED:
            assert time.monotonic() < end, "reload did not apply"
            time.sleep(0.05)
        # A broken config keeps the old one serving.
        conf.write_text("example.org {\n    whomai\n}\n")
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        assert wait_answer(port).rcode() == dns.rcode.NOERROR
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == f".:{port} on 127.0.0.1"
    assert lines[1].startswith("dnsd-0.1.0")
    assert "[INFO] SIGUSR1: Reloading" in out
    assert "[INFO] Reloading complete" in out
    assert "[ERROR] Restart failed: " in out and "unknown directive 'whomai'" in out
    assert "[INFO] SIGTERM: Shutting down servers then terminating" in out
    assert "Traceback" not in out + err
    assert not pidfile.exists()


def test_default_corefile_is_whoami_and_log(tmp_path: Path) -> None:
    port = free_port()
    with serving(["-dns.port", str(port), "-quiet"], tmp_path) as proc:
        reply = wait_answer(port)
        assert reply.rcode() == dns.rcode.NOERROR
        assert any(rr.rdtype == 33 for rr in reply.additional)  # whoami's SRV
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert '"A IN example.org. udp ' in out  # the log plugin's line
    assert not out.startswith(".:")  # -quiet: no banner


def test_python_m_and_console_script_agree() -> None:
    script = Path(sys.executable).parent / "dnsd"
    if not script.exists():
        pytest.fail("the dnsd console script is not installed: run the README's test command")
    a = subprocess.run([str(script), "-version"], capture_output=True, text=True, timeout=30)
    b = run("-version")
    assert a.stdout == b.stdout and a.returncode == 0
    assert os.access(script, os.X_OK)


def test_sigterm_waits_for_lameduck_while_answering(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "Corefile"
    conf.write_text(
        f".:{port} {{\n    bind 127.0.0.1\n    health 127.0.0.1:0 {{\n        lameduck 1s\n"
        "    }\n    whoami\n}\n"
    )
    with serving(["-conf", str(conf), "-quiet"], tmp_path) as proc:
        wait_answer(port)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None
        assert wait_answer(port, deadline=0.5).rcode() == dns.rcode.NOERROR  # still serving
        out, err = proc.communicate(timeout=15)
        took = time.monotonic() - sent
    assert proc.returncode == 0, err
    assert took >= 1.0
    assert "[INFO] plugin/health: Going into lameduck mode for 1s" in out


def test_sigterm_during_start_up_is_a_clean_shutdown(tmp_path: Path) -> None:
    """A SIGTERM while start-up still waits for the Kubernetes API (the listeners already
    serve) is handled like any other: the lame duck, then exit 0, not death by the signal."""
    port, dead = free_port(), free_port()
    conf = tmp_path / "Corefile"
    conf.write_text(
        f".:{port} {{\n    bind 127.0.0.1\n    health 127.0.0.1:0 {{\n        lameduck 1s\n"
        f"    }}\n    kubernetes cluster.local {{\n        endpoint http://127.0.0.1:{dead}\n"
        "        startup_timeout 3s\n    }\n    whoami\n}\n"
    )
    with serving(["-conf", str(conf)], tmp_path) as proc:
        wait_answer(port)  # whoami answers while kubernetes waits for its first sync
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        took = time.monotonic() - sent
    assert proc.returncode == 0, (proc.returncode, err[-2000:])
    assert "[INFO] SIGTERM: Shutting down servers then terminating" in out + err
    assert took >= 1.0  # the lame duck was kept


def test_second_sigint_exits_at_once(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "Corefile"
    conf.write_text(
        f".:{port} {{\n    bind 127.0.0.1\n    health 127.0.0.1:0 {{\n        lameduck 20s\n"
        "    }\n    whoami\n}\n"
    )
    with serving(["-conf", str(conf), "-quiet"], tmp_path) as proc:
        wait_answer(port)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None  # in lameduck
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert time.monotonic() - sent < 5
    assert proc.returncode == 2
    assert "[INFO] SIGINT: Force quit" in out


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "Corefile"
    conf.write_text(f".:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n")
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))  # no SO_REUSEPORT: dnsd cannot share it
        out = run("-conf", str(conf), "-quiet")
    assert out.returncode == 1
    assert out.stderr == f"listen udp 127.0.0.1:{port}: Address already in use\n"
