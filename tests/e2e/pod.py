"""What a CoreDNS pod has, for the e2e drivers that run INSIDE ``ip netns exec NS``.

Shared by kubeadm_driver.py and kind_driver.py: a private /run (tmpfs) holding the service
account a pod gets, a cluster CA and an API server certificate, the Corefile kept as the kubelet
keeps a ConfigMap volume, the processes the driver starts (killed by PID only), and the probes
and DNS queries a driver makes. Nothing here judges: the drivers record, the tests assert.

Everything runs in the driver's private mount namespace (``ip netns exec`` makes one), so the
tmpfs on /run and the files under it never reach the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

ROOT = Path(__file__).resolve().parents[2]
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DNSD = "127.0.0.1"
QUERY_TIMEOUT = 1.0

# kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go, DNSDomain cluster.local),
# byte for byte.
KUBEADM_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""

# kubeadm's probes (8080 /health, 8181 /ready) and `prometheus :9153`, on the netns's loopback.
READY, HEALTH, METRICS = (
    "http://127.0.0.1:8181/ready",
    "http://127.0.0.1:8080/health",
    "http://127.0.0.1:9153/metrics",
)


# -- files: /run, the service account, certificates, the ConfigMap volume ------------------------


def mount_run() -> dict[str, Any]:
    """A tmpfs on /run, private to this mount namespace (ip netns exec made it a slave)."""
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True, timeout=10)
    mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
    run = [line for line in mountinfo if line.split()[4] == "/run"]
    return {
        "var_run": os.path.realpath("/var/run"),
        "run_mount": run[-1] if run else "",
        "run_entries": sorted(os.listdir("/run")),
    }


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def make_ca(d: Path, name: str = "ca") -> Path:
    """A self-signed CA: ``name``.crt and ``name``.key in ``d``; returns the certificate."""
    _openssl(d, "req", "-x509", *_EC, "-days", "2", "-subj", f"/CN=e2e-{name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt")  # fmt: skip
    return d / f"{name}.crt"


def make_pki(d: Path) -> None:
    """ca.crt/ca.key and server.crt/server.key (for IP 127.0.0.1) signed by that CA."""
    make_ca(d, "ca")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl(d, "req", *_EC, "-subj", "/CN=kube-apiserver",
             "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    _openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
             "-out", "server.crt")  # fmt: skip


def write_service_account(ca: Path, token: str) -> None:
    """The files a pod's service account mount holds (written again: replaced)."""
    SERVICE_ACCOUNT.mkdir(parents=True, exist_ok=True)
    (SERVICE_ACCOUNT / "token").write_text(token)
    (SERVICE_ACCOUNT / "namespace").write_text("kube-system")
    shutil.copy(ca, SERVICE_ACCOUNT / "ca.crt")


class ConfigMapVolume:
    """/etc/coredns as the kubelet keeps it: Corefile -> ..data/Corefile, ..data -> ..<stamp>,
    updated by swapping the ..data symlink (AtomicWriter)."""

    def __init__(self, root: Path) -> None:
        self.root, self.n = root, 0
        root.mkdir()

    @property
    def corefile(self) -> Path:
        return self.root / "Corefile"

    def write(self, text: str) -> None:
        self.n += 1
        stamp = self.root / f"..2026_11_25_00_00_{self.n:02d}.000000001"
        stamp.mkdir()
        (stamp / "Corefile").write_text(text)
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        os.symlink(stamp.name, self.root / "..data_tmp")
        os.rename(self.root / "..data_tmp", data)
        if not self.corefile.is_symlink():
            os.symlink("..data/Corefile", self.corefile)
        if old is not None:
            shutil.rmtree(self.root / old)


# -- processes, HTTP and DNS ---------------------------------------------------------------------


def dnsd_env() -> dict[str, str]:
    """This environment for a dnsd child: no proxies, this checkout first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Processes:
    """The processes this driver started; :meth:`stop_all` kills them by PID, nothing else."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, corefile: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """``python -m dnsd -conf COREFILE`` (the real CLI), its output in WORKDIR/NAME.log."""
        with open(self.workdir / f"{name}.log", "wb") as log:  # the child keeps its own fd
            proc = subprocess.Popen(
                [sys.executable, "-m", "dnsd", "-conf", str(corefile)],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.procs[name] = proc
        return proc

    def stop(self, name: str, timeout: float = 10) -> int | None:
        """SIGTERM ``name``; its exit code, or None if it had to be killed."""
        proc = self.procs[name]
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            return None

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


def http_get(url: str) -> tuple[int, str]:
    """(status, body); (0, error) when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, repr(exc)


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """``check()`` until truthy (returned) or ``timeout`` seconds passed (its last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def query(qname: str, qtype: str, proto: str, server: str = DNSD, port: int = 53) -> dict[str, Any]:
    """One query; the reply as zone-file text per section, or the error (a truncated UDP reply
    is an error: ``Truncated``)."""
    q = dns.message.make_query(qname, qtype)
    try:
        if proto == "tcp":
            r = dns.query.tcp(q, server, port=port, timeout=QUERY_TIMEOUT)
        else:
            r = dns.query.udp(q, server, port=port, timeout=QUERY_TIMEOUT, raise_on_truncation=True)
    except (dns.exception.DNSException, OSError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}

    def lines(section: list[Any]) -> list[str]:
        return [line for rrset in section for line in rrset.to_text().splitlines()]

    return {
        "rcode": dns.rcode.to_text(r.rcode()),
        "flags": dns.flags.to_text(r.flags),
        "answer": lines(r.answer),
        "authority": lines(r.authority),
        "additional": lines(r.additional),
    }


@contextmanager
def phase(result: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    """Record a phase's observations under ``name`` and how long it took."""
    started = time.monotonic()
    out: dict[str, Any] = {}
    result[name] = out
    try:
        yield out
    finally:
        out["seconds"] = round(time.monotonic() - started, 3)


def addresses(got: dict[str, Any]) -> list[str]:
    """The A records' addresses of a :func:`query` result, sorted."""
    return sorted(line.split()[-1] for line in got.get("answer", ()) if line.split()[3] == "A")


def answer_ttls(got: dict[str, Any]) -> set[int]:
    return {int(line.split()[1]) for line in got.get("answer", ())}
