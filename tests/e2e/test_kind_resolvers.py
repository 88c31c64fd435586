"""dnsd as a kind cluster's DNS, seen by real resolvers (dnsd issue 8, points 4-6).

Two network namespaces joined by a veth pair, as a node and a pod:

- **server** (10.250.0.1, fd00:250::1), run by kind_driver.py, which observes: dnsd on kubeadm's
  Corefile, verbatim, on port 53 (``.:53`` binds the veth's address too); the fake API over TLS,
  reached through the in-cluster config (service-account token and CA,
  KUBERNETES_SERVICE_HOST/PORT); the upstream ``forward . /etc/resolv.conf`` names (resolv.conf
  ``nameserver 127.0.0.2``): a second dnsd serving a small root zone with *file*, so an external
  name has a known address and unknown names get NXDOMAIN, as from a node's resolver;
- **client** (10.250.0.2, fd00:250::2), whose resolv.conf is a pod's in namespace ``app``
  (:data:`POD_RESOLV_CONF`): there glibc (``getent hosts``, ``getent ahosts``) and a static musl
  binary (gai.c, built here with ``musl-gcc -static``: Debian's musl 1.2.3, which never retries
  over TCP) resolve :data:`NAMES` as applications do. The IPv6 addresses make glibc's
  AI_ADDRCONFIG ask AAAA, as in a dual-stack pod.

``many`` has 60 ready endpoints: its A answer (1004 bytes) does not fit the 512 bytes a client
without EDNS takes, so dnsd must send TC with the question and the records that fit (as CoreDNS
does): glibc then asks over TCP and gets all 60, musl keeps those that fit. A lookup slower than
the resolvers' 5 s timeout means a reply was lost or ignored.

The last test sends SIGTERM (the lame duck). Skipped, saying why, only when not root, when
network namespaces cannot be made, or (musl) when musl-gcc is missing after ``make
system-deps``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.netns import (
    Conversation,
    build_musl_gai,
    connect,
    gone,
    logs,
    network_namespace,
)
from tests.e2e.pod import KUBEADM_COREFILE
from tests.plugins.kubernetes.fakeapi import (
    endpoint,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
)

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
DRIVER = HERE / "kind_driver.py"
SERVICE_IP, CLIENT_IP = "10.250.0.1", "10.250.0.2"
SERVER_ADDRS = [f"{SERVICE_IP}/30", "fd00:250::1/64"]
CLIENT_ADDRS = [f"{CLIENT_IP}/30", "fd00:250::2/64"]
POD_RESOLV_CONF = (
    f"nameserver {SERVICE_IP}\n"
    "search app.svc.cluster.local svc.cluster.local cluster.local\n"
    "options ndots:5\n"
)
TOKEN = "kind-e2e-service-account-token"
LOOKUP_TIMEOUT = 4.0  # below the resolvers' 5 s timeout: any retransmission shows
STARTUP_TIMEOUT = 45

# The upstream: a root zone served by *file*, so names outside it are NXDOMAIN.
UPSTREAM_COREFILE = ".:53 {\n    bind 127.0.0.2\n    file {workdir}/upstream.zone\n}\n"
UPSTREAM_ZONE = """\
$ORIGIN .
$TTL 300
.                     IN SOA ns.upstream.test. hostmaster.upstream.test. 1 7200 1800 86400 30
.                     IN NS  ns.upstream.test.
ns.upstream.test.     IN A   127.0.0.2
external.example.org. IN A   203.0.113.10
"""
# In-cluster config with a CA that did not sign the API's certificate.
BAD_CA_COREFILE = """\
.:1053 {
    health 127.0.0.1:8081
    ready 127.0.0.1:8182
    kubernetes cluster.local {
        startup_timeout 1s
    }
}
"""

# -- the cluster ----------------------------------------------------------------------------------

WEB = ("10.96.10.10",), ("fd00:10:96::a",)  # dual-stack ClusterIP
V4ONLY = ("10.96.10.20",)  # IPv4-only ClusterIP: AAAA is NODATA
DB = tuple(f"10.244.1.{10 + i}" for i in range(3))  # headless, ready (10.244.1.13 is not)
MANY = tuple(f"10.244.2.{i}" for i in range(1, 61))  # headless, 60 ready endpoints
BIG_NAME = "many.app.svc.cluster.local"
# What fits in 512 bytes: header, the question (name, type, class), then A records of 16 bytes
# (a pointer to the question's name, type, class, TTL, length, address); no OPT: neither libc
# sends EDNS.
FIT = (512 - 12 - (len(BIG_NAME) + 2 + 4)) // 16


def cluster_objects() -> list[tuple[str, dict[str, Any]]]:
    objs: list[tuple[str, dict[str, Any]]] = []
    for ns in ("default", "kube-system", "app"):
        objs.append(("Namespace", make_namespace(ns)))
    https = [("https", 443, "TCP")]
    apiserver = make_slice("default", "kubernetes", endpoints=["172.18.0.2"], ports=https)
    objs += [
        ("Service", make_service("default", "kubernetes", cluster_ip="10.96.0.1", ports=https)),
        ("EndpointSlice", apiserver),
    ]
    dns_ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    kube_dns = make_service("kube-system", "kube-dns", cluster_ip="10.96.0.10", ports=dns_ports)
    objs.append(("Service", kube_dns))
    objs += [
        ("Service", make_service("app", "web", cluster_ips=[*WEB[0], *WEB[1]])),
        ("EndpointSlice", make_slice("app", "web", endpoints=[endpoint("10.244.0.5")])),
        ("Pod", make_pod("app", "web-0", "10.244.0.5")),
        ("Service", make_service("app", "v4only", cluster_ip=V4ONLY[0])),
        ("EndpointSlice", make_slice("app", "v4only", endpoints=[endpoint("10.244.0.6")])),
        ("Pod", make_pod("app", "v4only-0", "10.244.0.6")),
        ("Service", make_service("app", "db", cluster_ip="None")),
        ("Service", make_service("app", "many", cluster_ip="None")),
        ("EndpointSlice", make_slice("app", "many", endpoints=list(MANY))),
    ]
    db = [endpoint(ip, hostname=f"db-{i}", pod=f"db-{i}") for i, ip in enumerate(DB)]
    db.append(endpoint("10.244.1.13", hostname="db-3", pod="db-3", ready=False))
    objs.append(("EndpointSlice", make_slice("app", "db", endpoints=db)))
    objs += [("Pod", make_pod("app", f"db-{i}", f"10.244.1.{10 + i}")) for i in range(4)]
    return objs


@dataclass(frozen=True)
class Name:
    """A name as an application asks it in namespace ``app``, and what it must resolve to:
    ``fqdn`` (the canonical name; empty: the name does not exist) and its addresses."""

    ask: str
    fqdn: str = ""
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()

    @property
    def addresses(self) -> set[str]:
        return {*self.v4, *self.v6}


WEB_FQDN = "web.app.svc.cluster.local"
NAMES = [
    Name("web", WEB_FQDN, *WEB),  # short service name, through the search list
    Name("web.app", WEB_FQDN, *WEB),  # svc.ns
    Name(WEB_FQDN, WEB_FQDN, *WEB),  # 4 dots < ndots:5: the search list first, then as is
    Name("v4only", "v4only.app.svc.cluster.local", V4ONLY),
    Name("db", "db.app.svc.cluster.local", DB),  # headless: its ready endpoints
    Name("db-1.db", "db-1.db.app.svc.cluster.local", (DB[1],)),  # an endpoint's hostname
    Name("kubernetes.default", "kubernetes.default.svc.cluster.local", ("10.96.0.1",)),
    Name("external.example.org", "external.example.org", ("203.0.113.10",)),  # forwarded
    Name("many", BIG_NAME, MANY),
    Name("nosuch"),
]
IDS = [n.ask for n in NAMES]


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Kind:
    client: str  # the client netns
    workdir: Path
    driver: Conversation
    started: dict[str, Any]  # what the driver saw up to serving
    stopped: dict[str, Any] | None = None

    def in_client(self, *argv: str) -> tuple[int, str, str, float]:
        """Run ``argv`` in the client netns: (exit code, stdout, stderr, seconds)."""
        began = time.monotonic()
        done = subprocess.run(
            ["ip", "netns", "exec", self.client, *argv],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr, time.monotonic() - began

    def shutdown(self) -> dict[str, Any]:
        if self.stopped is None:
            self.driver.send("shutdown")
            self.stopped = self.driver.receive(timeout=30)
        return self.stopped


@pytest.fixture(scope="module")
def kind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kind]:
    workdir = tmp_path_factory.mktemp("kind")
    spec = {
        "corefile": KUBEADM_COREFILE,
        "bad_ca_corefile": BAD_CA_COREFILE,
        "upstream_corefile": UPSTREAM_COREFILE,
        "upstream_zone": UPSTREAM_ZONE,
        "token": TOKEN,
        "objects": cluster_objects(),
        "service_ip": SERVICE_IP,
        "big_name": BIG_NAME,
    }
    (workdir / "input.json").write_text(json.dumps(spec))
    with (
        network_namespace("dnsd-kind-node", "nameserver 127.0.0.2\n") as server,
        network_namespace("dnsd-kind-pod", POD_RESOLV_CONF) as client,
    ):
        connect(server, SERVER_ADDRS, client, CLIENT_ADDRS)
        driver = Conversation(server, DRIVER, workdir)
        try:
            started = driver.receive(timeout=STARTUP_TIMEOUT)
            assert started["error"] is None, f"{started['error']}\n{driver.diagnostics()}"
            yield Kind(client, workdir, driver, started)
        finally:
            driver.close()
    assert gone(server) and gone(client), "a network namespace was left behind"


def _explain(kind: Kind, what: str) -> str:
    return f"{what}\n{logs(kind.workdir)}"


# -- point 5: in-cluster configuration ----------------------------------------------------------


def test_in_cluster_config_uses_the_service_account(kind: Kind) -> None:
    start = kind.started["startup"]
    assert start["service_account"] == ["ca.crt", "namespace", "token"]
    assert kind.started["setup"]["api_url"].startswith("https://127.0.0.1:")
    # the token, as a bearer, over TLS verified with the service account's ca.crt
    assert [a.lower() for a in start["api_authorization"]] == [f"bearer {TOKEN}"]
    assert set(start["api_paths"]) == {
        "/api/v1/namespaces",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
    }


def _bad_ca_log(kind: Kind) -> list[str]:
    text = (kind.workdir / "bad-ca.log").read_text(errors="replace")
    return [line for line in text.splitlines() if "plugin/kubernetes" in line]


def test_wrong_ca_fails_to_sync_with_a_clear_log_line(kind: Kind) -> None:
    """After its start-up wait (1 s here) dnsd serves unsynced: /health 200, /ready 503,
    SERVFAIL (never a false NXDOMAIN) for cluster names, and says why in its log."""
    bad = kind.started["bad_ca"]
    assert bad["api_requests"] == 0, bad  # no request got through the TLS handshake
    assert bad["exit_code_before_stop"] is None, _explain(kind, "dnsd exited on a wrong CA")
    assert bad["health"] == [200, "OK"], bad
    assert bad["ready"] == [503, "kubernetes"], bad
    assert bad["query"].get("rcode") == "SERVFAIL", bad
    assert bad["exit_code"] == 0, bad
    lines = _bad_ca_log(kind)
    assert any("certificate verify failed" in line and "/api/v1/" in line for line in lines), (
        _explain(kind, "no log line says the API's certificate failed verification")
    )
    assert "starting server with unsynced Kubernetes API" in "\n".join(lines), lines
    assert "Traceback" not in (kind.workdir / "bad-ca.log").read_text(), _explain(kind, "")


def test_wrong_ca_is_logged_as_an_error(kind: Kind) -> None:
    lines = [line for line in _bad_ca_log(kind) if "certificate verify failed" in line]
    assert lines and all(line.startswith("[ERROR] plugin/kubernetes: ") for line in lines), lines


# -- point 6: health and readiness while the API syncs ------------------------------------------


def test_ready_turns_200_when_the_held_lists_are_answered(kind: Kind) -> None:
    start = kind.started["startup"]
    assert start["upstream_up"], _explain(kind, "the upstream never answered")
    # the three lists were held all along the probes, and none had been answered
    assert start["held"] == [
        "/api/v1/namespaces",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
    ], start
    assert start["lists_before_release"] == 0, start
    assert start["ready"] == [200, "OK"], _explain(kind, json.dumps(start))
    assert start["ready_after_release"] < 3.0, start
    assert start["health"] == [200, "OK"]
    assert start["dnsd_exit_code"] is None


def test_health_200_and_ready_503_while_the_first_lists_are_held(kind: Kind) -> None:
    start = kind.started["startup"]
    samples = start["held_samples"]
    assert samples[-1]["at"] < 5.0, start  # all within kubernetes's start-up wait
    for sample in samples:
        assert sample["health"] == [200, "OK"], samples
        assert sample["ready"] == [503, "kubernetes"], samples


# -- point 4: what dnsd sends for the big answer ------------------------------------------------


def test_big_answer_is_truncated_with_the_records_that_fit(kind: Kind) -> None:
    big = kind.started["big_answer"]
    udp = big["udp"]
    assert "error" not in udp, udp
    assert "TC" in udp["flags"].split() and udp["size"] <= 512, udp
    assert udp["edns"] == -1, udp  # no OPT: the query had none
    assert udp["question"] == [f"{BIG_NAME}. IN A"], udp
    assert len(udp["addresses"]) == FIT and set(udp["addresses"]) <= set(MANY), udp
    assert sorted(big["tcp"]) == sorted(MANY)


# -- point 4: glibc -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_glibc_getent_hosts(kind: Kind, name: Name) -> None:
    rc, out, err, took = kind.in_client("getent", "hosts", name.ask)
    assert took < LOOKUP_TIMEOUT, f"{took:.1f}s: a reply was lost or ignored\n{out}{err}"
    if not name.fqdn:
        assert (rc, out) == (2, ""), (rc, out, err)
        return
    assert rc == 0, (rc, out, err)
    # gethostbyname2(AF_INET6) first, then AF_INET: one line per address, with the FQDN
    want = name.v6 or name.v4
    lines = [line.split() for line in out.splitlines()]
    assert sorted(lines) == sorted([addr, name.fqdn] for addr in want), out


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_glibc_getent_ahosts(kind: Kind, name: Name) -> None:
    rc, out, err, took = kind.in_client("getent", "ahosts", name.ask)
    assert took < LOOKUP_TIMEOUT, f"{took:.1f}s: a reply was lost or ignored\n{out}{err}"
    if not name.fqdn:
        assert (rc, out) == (2, ""), (rc, out, err)
        return
    assert rc == 0, (rc, out, err)
    lines = [line.split() for line in out.splitlines()]
    # getaddrinfo(AF_UNSPEC, AI_CANONNAME): the canonical name on the first line; every address
    # once per socket type
    assert lines[0][2] == name.fqdn, out
    seen = sorted((line[0], line[1]) for line in lines)
    kinds = ("DGRAM", "RAW", "STREAM")
    assert seen == sorted((addr, k) for addr in name.addresses for k in kinds), out


# -- point 4: musl --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gai_musl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_musl_gai(tmp_path_factory.mktemp("musl"))


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_musl_getaddrinfo(kind: Kind, gai_musl: Path, name: Name) -> None:
    """AF_UNSPEC: musl asks A and AAAA at once and fails the whole lookup if either is an
    error, so an IPv4-only name (``v4only``, ``db``, ``many``...) needs AAAA NODATA."""
    rc, out, err, took = kind.in_client(str(gai_musl), name.ask)
    assert took < LOOKUP_TIMEOUT, f"{took:.1f}s: a reply was lost or ignored\n{out}{err}"
    if not name.fqdn:
        assert (rc, out) == (2, ""), (rc, out, err)  # EAI_NONAME
        return
    assert rc == 0, (rc, out, err)
    first, *addrs = out.splitlines()
    assert first == f"canon {name.fqdn}", out
    assert len(addrs) == len(set(addrs)), out
    if name.ask == "many":  # no TCP fallback in musl 1.2.3: the records of the TC answer
        assert len(addrs) == FIT and set(addrs) <= name.addresses, out
    else:
        assert set(addrs) == name.addresses, out


# -- point 6: SIGTERM through the lame duck (last: it stops dnsd) --------------------------------


def test_sigterm_answers_through_the_5s_lameduck_then_exits_0(kind: Kind) -> None:
    stopped = kind.shutdown()
    assert stopped["error"] is None, _explain(kind, stopped["error"])
    down = stopped["shutdown"]
    probes = down["probes"]
    want = ["kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"]
    during = [p for p in probes if p["at"] < 4.8]  # the lame duck: DNS and /health serve
    assert len(during) >= 10, down
    for p in during:
        assert p["answer"] == want and p["health"] == 200, down
        assert p["ready"] == 503 or p["at"] < 0.5, down  # /ready says go away at once
    answered = [p["at"] for p in probes if p["answer"] == want]
    assert max(answered) >= 4.5, down
    assert down["exit_code"] == 0, _explain(kind, json.dumps(down))
    assert down["exit_after"] is not None and 4.9 <= down["exit_after"] <= 7.5, down
    assert down["upstream_exit_code"] == 0, down
    for log in ("dnsd.log", "upstream.log"):
        text = (kind.workdir / log).read_text(errors="replace")
        for bad in ("Traceback", "[ERROR]", "[FATAL]"):
            assert bad not in text, f"{log}:\n{text}"
