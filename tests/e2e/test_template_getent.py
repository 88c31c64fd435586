"""*template* AAAA suppression seen by glibc: ``getent`` in a pod-like network namespace.

Two namespaces joined by a veth pair: **server** (10.252.0.1, fd00:252::1) runs ``python -m
dnsd`` on :data:`COREFILE`: zone ``cluster.local`` from *file*, with ``template ANY AAAA {
rcode NOERROR }`` in front, and zone ``example.test`` from *file* alone, as the control; both
zones give ``web`` an IPv4 and an IPv6 address. **client** (10.252.0.2, fd00:252::2, so glibc's
AI_ADDRCONFIG asks AAAA) has a pod's resolv.conf (search list, ndots:5).

``getent ahosts`` must print only the IPv4 address for the cluster name, while the control
name (no template) gets both, which shows that glibc does ask AAAA and would use an answer;
dnsd's log shows the AAAA queries it got for the cluster name, all answered NOERROR, and
``dig`` sees no address in them. Skipped, saying why, when not root or without ``ip netns``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.netns import connect, gone, kill_group, network_namespace
from tests.e2e.pod import dnsd_env

pytestmark = pytest.mark.e2e

SERVER_IP, CLIENT_IP = "10.252.0.1", "10.252.0.2"
SERVER_ADDRS = [f"{SERVER_IP}/30", "fd00:252::1/64"]
CLIENT_ADDRS = [f"{CLIENT_IP}/30", "fd00:252::2/64"]
RESOLV_CONF = (
    f"nameserver {SERVER_IP}\n"
    "search demo.svc.cluster.local svc.cluster.local cluster.local\n"
    "options ndots:5\n"
)
CLUSTER_NAME, CONTROL_NAME = "web.demo.svc.cluster.local", "web.example.test"
CLUSTER_V4, CLUSTER_V6 = "10.96.10.20", "fd00:10:96::a14"
CONTROL_V4, CONTROL_V6 = "10.96.10.21", "fd00:10:96::a15"
TIMEOUT = 4.0  # below glibc's 5 s: a lost or ignored reply shows

COREFILE = """\
cluster.local:53 {{
    log
    template ANY AAAA {{
        rcode NOERROR
    }}
    file {dir}/cluster.local.zone
}}
example.test:53 {{
    log
    file {dir}/example.test.zone
}}
"""
ZONE = """\
$ORIGIN {origin}.
@       30 IN SOA ns.{origin}. hostmaster.{origin}. 1 7200 1800 86400 30
@       30 IN NS  ns.{origin}.
ns      30 IN A   {server}
{name}  30 IN A   {v4}
{name}  30 IN AAAA {v6}
"""


@dataclass
class Pod:
    client: str
    log: Path

    def run(self, *argv: str) -> tuple[int, str, float]:
        """``argv`` in the client namespace: (exit code, stdout and stderr, seconds)."""
        began = time.monotonic()
        done = subprocess.run(
            ["ip", "netns", "exec", self.client, *argv],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr, time.monotonic() - began

    def dig(self, name: str, qtype: str) -> str:
        return self.run("dig", "+time=1", "+tries=1", f"@{SERVER_IP}", name, qtype)[1]


def _zone(origin: str, name: str, v4: str, v6: str) -> str:
    return ZONE.format(origin=origin, name=name, v4=v4, v6=v6, server=SERVER_IP)


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pod]:
    if shutil.which("dig") is None:
        pytest.skip("dig not found: `make system-deps` installs Debian's bind9-dnsutils")
    work = tmp_path_factory.mktemp("template-getent")
    (work / "cluster.local.zone").write_text(
        _zone("cluster.local", "web.demo.svc", CLUSTER_V4, CLUSTER_V6)
    )
    (work / "example.test.zone").write_text(_zone("example.test", "web", CONTROL_V4, CONTROL_V6))
    corefile = work / "Corefile"
    corefile.write_text(COREFILE.format(dir=work))
    log = work / "dnsd.log"
    with (
        network_namespace("dnsd-tmpl-srv", "nameserver 127.0.0.1\n") as server,
        network_namespace("dnsd-tmpl-pod", RESOLV_CONF) as client,
    ):
        connect(server, SERVER_ADDRS, client, CLIENT_ADDRS)
        argv = [sys.executable, "-m", "dnsd", "-conf", str(corefile)]
        with open(log, "wb") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                ["ip", "netns", "exec", server, *argv],
                cwd=work, env=dnsd_env(), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            the_pod = Pod(client, log)
            deadline = time.monotonic() + 30
            while CONTROL_V4 not in the_pod.dig(CONTROL_NAME, "A"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dnsd did not serve (exit {proc.poll()}):\n{log.read_text()}")
                time.sleep(0.1)
            yield the_pod
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                kill_group(proc)
    assert gone(server) and gone(client), "a network namespace was left behind"


def _ahosts(pod: Pod, name: str) -> set[str]:
    rc, out, took = pod.run("getent", "ahosts", name)
    assert took < TIMEOUT, f"{took:.1f}s: a reply was lost or ignored\n{out}"
    assert rc == 0, (rc, out, pod.log.read_text())
    lines = [line.split() for line in out.splitlines()]
    assert lines[0][2] == name, out  # the canonical name, as asked
    return {line[0] for line in lines}


def test_control_name_gets_both_families(pod: Pod) -> None:
    assert _ahosts(pod, CONTROL_NAME) == {CONTROL_V4, CONTROL_V6}


def test_getent_ahosts_sees_only_ipv4(pod: Pod) -> None:
    assert _ahosts(pod, CLUSTER_NAME) == {CLUSTER_V4}


def test_getent_hosts_falls_back_to_ipv4(pod: Pod) -> None:
    # gethostbyname2(AF_INET6) finds no address, then AF_INET answers
    rc, out, took = pod.run("getent", "hosts", CLUSTER_NAME)
    assert took < TIMEOUT and rc == 0, (rc, out)
    assert [line.split() for line in out.splitlines()] == [[CLUSTER_V4, CLUSTER_NAME]]


def test_every_aaaa_query_got_nodata(pod: Pod) -> None:
    _ahosts(pod, CLUSTER_NAME)
    out = pod.dig(CLUSTER_NAME, "AAAA")
    assert "status: NOERROR" in out and "ANSWER: 0," in out, out
    # glibc asked AAAA (the search list's expansions and the name itself), from the client,
    # and every AAAA in the cluster zone was answered NOERROR with no address
    pattern = re.compile(
        rf'\[INFO\] {re.escape(CLIENT_IP)}:\d+ - \d+ "AAAA IN (\S+) udp \d+ \w+ \d+" (\w+) '
    )
    asked = [m.groups() for m in map(pattern.search, pod.log.read_text().splitlines()) if m]
    cluster = [(name, rcode) for name, rcode in asked if name.endswith(".cluster.local.")]
    assert (f"{CLUSTER_NAME}.", "NOERROR") in cluster, pod.log.read_text()
    assert {rcode for _, rcode in cluster} == {"NOERROR"}, cluster
