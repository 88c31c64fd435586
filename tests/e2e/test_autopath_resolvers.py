"""autopath seen by real resolvers in a pod's network namespace (dnsd issue 9, point 6).

The kind test's setup (test_kind_resolvers.py), with *autopath*: two network namespaces joined by
a veth pair, as a node and a pod.

- **server** (10.250.0.1), run by autopath_driver.py: dnsd on kubeadm's Corefile plus ``log``,
  ``autopath @kubernetes`` and ``pods verified`` (:data:`COREFILE`), in-cluster config against
  the fake API over TLS; the upstream that ``forward . /etc/resolv.conf`` names (``nameserver
  127.0.0.2``) is a second dnsd serving a small root zone with *file*, so an external name has a
  known address and unknown names get NXDOMAIN. The server's resolv.conf has no search line, so
  a pod's search path is its three cluster domains.
- **client** (10.250.0.2), whose resolv.conf is a pod's in namespace ``team-a``
  (:data:`POD_RESOLV_CONF`), and which the fake API knows as Pod ``team-a/client``: glibc
  (``getent hosts``: gethostbyname2 for AAAA, then for A) and a static musl binary (gai.c:
  getaddrinfo AF_UNSPEC, A and AAAA at once) resolve names as applications do.

For every lookup the test reads what dnsd received from the client in its query log (``log``
writes a query's line before its reply is sent, so the lines are all there when the resolver
has exited) and asserts the exact sequence: type, name and the rcode dnsd answered.

What it shows: the A lookup of a name that a pod of ``team-a`` finds on the second or a later
search step is answered on the first step (one query, a CNAME to the name found plus its
address), for glibc and musl. glibc's AAAA lookup of an IPv4-only name still walks the whole
list: *autopath* answers the first step NODATA (the name exists without AAAA), and glibc's
res_search goes on after NODATA (musl stops there), as it would with CoreDNS. Then the pod is
given another address in the fake API: the same client is no longer a known pod and gets the
ordinary answers, one query per search domain.

Skipped, saying why, only when not root, when network namespaces cannot be made, or (musl) when
musl-gcc is missing after ``make system-deps``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.netns import (
    HERE,
    ROOT,
    Conversation,
    build_musl_gai,
    connect,
    gone,
    logs,
    network_namespace,
)
from tests.e2e.pod import KUBEADM_COREFILE
from tests.plugins.kubernetes.fakeapi import make_namespace, make_pod, make_service

pytestmark = pytest.mark.slow

DRIVER = HERE / "autopath_driver.py"
SERVICE_IP, CLIENT_IP, MOVED_IP = "10.250.0.1", "10.250.0.2", "10.244.7.7"
POD = {"namespace": "team-a", "name": "client", "ip": CLIENT_IP}
POD_RESOLV_CONF = (
    f"nameserver {SERVICE_IP}\n"
    "search team-a.svc.cluster.local svc.cluster.local cluster.local\n"
    "options ndots:5\n"
)
TOKEN = "autopath-e2e-service-account-token"
LOOKUP_TIMEOUT = 4.0  # below the resolvers' 5 s timeout: any retransmission shows
STARTUP_TIMEOUT = 45


def autopath_corefile() -> str:
    """kubeadm's Corefile with ``log``, ``autopath @kubernetes`` and ``pods verified``."""
    text = KUBEADM_COREFILE
    for old, new in [
        ("    errors\n", "    errors\n    log\n"),
        ("    ready\n", "    ready\n    autopath @kubernetes\n"),
        ("pods insecure", "pods verified"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


COREFILE = autopath_corefile()
UPSTREAM_COREFILE = ".:53 {\n    bind 127.0.0.2\n    file {workdir}/upstream.zone\n}\n"
UPSTREAM_ZONE = """\
$ORIGIN .
$TTL 300
.                     IN SOA ns.upstream.test. hostmaster.upstream.test. 1 7200 1800 86400 30
.                     IN NS  ns.upstream.test.
ns.upstream.test.     IN A   127.0.0.2
external.example.org. IN A   203.0.113.10
"""
WEB_A, WEB_B = "10.96.10.10", "10.96.20.10"  # Service web in team-a and in team-b


def cluster_objects() -> list[tuple[str, dict[str, Any]]]:
    objs: list[tuple[str, dict[str, Any]]] = [
        ("Namespace", make_namespace(ns)) for ns in ("default", "kube-system", "team-a", "team-b")
    ]
    https = [("https", 443, "TCP")]
    objs += [
        ("Service", make_service("default", "kubernetes", cluster_ip="10.96.0.1", ports=https)),
        ("Service", make_service("team-a", "web", cluster_ip=WEB_A)),
        ("Service", make_service("team-b", "web", cluster_ip=WEB_B)),
        ("Pod", make_pod(POD["namespace"], POD["name"], POD["ip"])),
    ]
    return objs


# -- what the resolvers must see and send ---------------------------------------------------------

#: The search steps of the pod's resolv.conf, as written in the tables: ``.`` is the name as is.
STEPS = {"C": "team-a.svc.cluster.local.", "S": "svc.cluster.local.", "L": "cluster.local."}
STEPS["."] = ""


@dataclass(frozen=True)
class Case:
    """A lookup of ``ask`` from the client pod: the canonical name (empty: none), the alias
    glibc lists (the CNAME's owner, the name asked on the first step), the addresses, and the
    queries dnsd receives, each ``TYPE STEP RCODE`` (:data:`STEPS`): from ``getent hosts`` in
    order, from musl A before AAAA within a step (it sends both at once)."""

    ask: str
    fqdn: str
    addrs: tuple[str, ...]
    glibc: tuple[str, ...]
    musl: tuple[str, ...]
    alias: str = ""

    def queries(self, steps: tuple[str, ...]) -> list[str]:
        out = []
        for step in steps:
            qtype, where, rcode = step.split()
            out.append(f"{qtype} {self.ask}.{STEPS[where]} {rcode}")
        return out


def walked(ask: str) -> str:
    return f"{ask}.{STEPS['C']}".removesuffix(".")


NOSUCH_WALK = tuple(f"{t} {s} NXDOMAIN" for t in ("AAAA", "A") for s in "CSL.")
NOSUCH_MUSL = tuple(f"{t} {s} NXDOMAIN" for s in "CSL." for t in ("A", "AAAA"))
# A pod of team-a: the A lookups end on the first step.
AUTOPATH = [
    Case(
        "web.team-b", "web.team-b.svc.cluster.local", (WEB_B,),
        glibc=("AAAA C NOERROR", "AAAA S NOERROR", "AAAA L NXDOMAIN", "AAAA . NXDOMAIN",
               "A C NOERROR"),
        musl=("A C NOERROR", "AAAA C NOERROR"),
        alias=walked("web.team-b"),
    ),
    Case(
        "web", "web.team-a.svc.cluster.local", (WEB_A,),
        glibc=("AAAA C NOERROR", "AAAA S NXDOMAIN", "AAAA L NXDOMAIN", "AAAA . NXDOMAIN",
               "A C NOERROR"),
        musl=("A C NOERROR", "AAAA C NOERROR"),
    ),
    Case(
        "external.example.org", "external.example.org", ("203.0.113.10",),
        glibc=("AAAA C NOERROR", "AAAA S NXDOMAIN", "AAAA L NXDOMAIN", "AAAA . NOERROR",
               "A C NOERROR"),
        musl=("A C NOERROR", "AAAA C NOERROR"),
        alias=walked("external.example.org"),
    ),
    Case("nosuch", "", (), glibc=NOSUCH_WALK, musl=NOSUCH_MUSL),
]  # fmt: skip
# The same client once the pod has another address: one query per search domain.
ORDINARY = [
    Case(
        "web.team-b", "web.team-b.svc.cluster.local", (WEB_B,),
        glibc=("AAAA C NXDOMAIN", "AAAA S NOERROR", "AAAA L NXDOMAIN", "AAAA . NXDOMAIN",
               "A C NXDOMAIN", "A S NOERROR"),
        musl=("A C NXDOMAIN", "AAAA C NXDOMAIN", "A S NOERROR", "AAAA S NOERROR"),
    ),
    AUTOPATH[1],  # a name of the pod's own namespace: as with autopath
    Case(
        "external.example.org", "external.example.org", ("203.0.113.10",),
        glibc=(*(f"AAAA {s} NXDOMAIN" for s in "CSL"), "AAAA . NOERROR",
               *(f"A {s} NXDOMAIN" for s in "CSL"), "A . NOERROR"),
        musl=(*(f"{t} {s} NXDOMAIN" for s in "CSL" for t in ("A", "AAAA")),
              "A . NOERROR", "AAAA . NOERROR"),
    ),
    Case("nosuch", "", (), glibc=NOSUCH_WALK, musl=NOSUCH_MUSL),
]  # fmt: skip


# -- the run --------------------------------------------------------------------------------------

# CoreDNS's log format: [INFO] 10.250.0.2:41234 - 5 "A IN web. udp 24 false 512" NXDOMAIN ...
LOG_LINE = re.compile(
    r'^\[INFO\] (?P<client>\S+):\d+ - \d+ "(?P<type>\S+) IN (?P<name>\S+) [^"]*" (?P<rcode>\S+) '
)


@dataclass
class Lookup:
    rc: int
    out: str
    err: str
    took: float
    queries: list[str]  # what dnsd received from the client meanwhile: ``TYPE NAME RCODE``

    def explain(self) -> str:
        return f"rc={self.rc} {self.took:.2f}s\n{self.out}{self.err}\n" + "\n".join(self.queries)


@dataclass
class Cluster:
    client: str  # the client netns
    workdir: Path
    driver: Conversation
    started: dict[str, Any]
    moved: dict[str, Any] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "dnsd.log"

    def lookup(self, *argv: str) -> Lookup:
        """Run ``argv`` in the client netns; the queries dnsd logged from the client meanwhile."""
        offset = self.log.stat().st_size
        began = time.monotonic()
        done = subprocess.run(
            ["ip", "netns", "exec", self.client, *argv],
            capture_output=True, text=True, timeout=30, cwd=ROOT,
        )  # fmt: skip
        took = time.monotonic() - began
        with open(self.log, "rb") as f:
            f.seek(offset)
            new = f.read().decode(errors="replace")
        queries = []
        for line in new.splitlines():
            m = LOG_LINE.match(line)
            if m and m["client"] == CLIENT_IP:
                queries.append(f"{m['type']} {m['name']} {m['rcode']}")
        return Lookup(done.returncode, done.stdout, done.stderr, took, queries)

    def move_pod(self) -> dict[str, Any]:
        if self.moved is None:
            self.driver.send("move-pod")
            self.moved = self.driver.receive(timeout=30)
        return self.moved


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("autopath")
    spec = {
        "corefile": COREFILE,
        "upstream_corefile": UPSTREAM_COREFILE,
        "upstream_zone": UPSTREAM_ZONE,
        "token": TOKEN,
        "objects": cluster_objects(),
        "pod": POD,
        "moved_ip": MOVED_IP,
    }
    (workdir / "input.json").write_text(json.dumps(spec))
    with (
        network_namespace("dnsd-ap-node", "nameserver 127.0.0.2\n") as server,
        network_namespace("dnsd-ap-pod", POD_RESOLV_CONF) as client,
    ):
        connect(server, [f"{SERVICE_IP}/30"], client, [f"{CLIENT_IP}/30"])
        driver = Conversation(server, DRIVER, workdir)
        try:
            started = driver.receive(timeout=STARTUP_TIMEOUT)
            assert started["error"] is None, f"{started['error']}\n{driver.diagnostics()}"
            yield Cluster(client, workdir, driver, started)
        finally:
            driver.close()
    assert gone(server) and gone(client), "a network namespace was left behind"


@pytest.fixture
def pod(cluster: Cluster) -> Cluster:
    """The client is Pod team-a/client (the tests of the move come after these)."""
    start = cluster.started["startup"]
    assert start["upstream_up"] and start["ready"] == [200, "OK"], logs(cluster.workdir)
    assert start["pod_rcode"] == "NOERROR", start
    if cluster.moved is not None:
        pytest.fail("the pod was moved already: run the module in file order")
    return cluster


@pytest.fixture
def moved(cluster: Cluster) -> Cluster:
    """The client pod has another address: the client is no known pod."""
    got = cluster.move_pod()
    assert got["error"] is None, f"{got['error']}\n{cluster.driver.diagnostics()}"
    move = got["move_pod"]
    assert move["seen"], move
    assert (move["old_rcode"], move["new_rcode"]) == ("NXDOMAIN", "NOERROR"), move
    return cluster


@pytest.fixture(scope="module")
def gai_musl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_musl_gai(tmp_path_factory.mktemp("musl"))


def check_glibc(c: Cluster, case: Case) -> None:
    got = c.lookup("getent", "hosts", case.ask)
    assert got.took < LOOKUP_TIMEOUT, f"a reply was lost or ignored\n{got.explain()}"
    assert got.queries == case.queries(case.glibc), got.explain()
    if not case.fqdn:
        assert (got.rc, got.out) == (2, ""), got.explain()
        return
    assert got.rc == 0, got.explain()
    # ADDRESS CANONICAL-NAME [ALIAS]: the alias is the owner of the CNAME autopath added
    want = [[addr, case.fqdn, *([case.alias] if case.alias else [])] for addr in case.addrs]
    assert sorted(line.split() for line in got.out.splitlines()) == sorted(want), got.explain()


def check_musl(c: Cluster, exe: Path, case: Case) -> None:
    got = c.lookup(str(exe), case.ask)
    assert got.took < LOOKUP_TIMEOUT, f"a reply was lost or ignored\n{got.explain()}"
    first_seen = {q.split()[1]: i for i, q in reversed(list(enumerate(got.queries)))}
    by_step = sorted(got.queries, key=lambda q: (first_seen[q.split()[1]], q.split()[0]))
    assert by_step == case.queries(case.musl), got.explain()
    if not case.fqdn:
        assert (got.rc, got.out) == (2, ""), got.explain()  # EAI_NONAME
        return
    assert got.rc == 0, got.explain()
    first, *addrs = got.out.splitlines()
    assert first == f"canon {case.fqdn}", got.explain()
    assert sorted(addrs) == sorted(case.addrs), got.explain()


def ask_wire(c: Cluster, qname: str) -> tuple[dict[str, Any], Lookup]:
    """One A query from the client (dnspython, tests/e2e/pod.py's query): the reply's sections."""
    script = (
        "import json, sys; from tests.e2e.pod import query; print(json.dumps(query(*sys.argv[1:])))"
    )
    got = c.lookup(sys.executable, "-c", script, qname, "A", "udp", SERVICE_IP)
    assert got.rc == 0, got.explain()
    return json.loads(got.out), got


# -- a pod of team-a: autopath --------------------------------------------------------------------


def test_walked_answer_on_the_wire(pod: Cluster) -> None:
    """``web.team-b`` typed in team-a: one query, a CNAME to the name found and its address."""
    name = walked("web.team-b")
    reply, got = ask_wire(pod, name)
    assert got.queries == [f"A {name}. NOERROR"], got.explain()
    assert reply["rcode"] == "NOERROR", reply
    assert reply["answer"] == [
        f"{name}. 30 IN CNAME web.team-b.svc.cluster.local.",
        f"web.team-b.svc.cluster.local. 30 IN A {WEB_B}",
    ], reply


@pytest.mark.parametrize("case", AUTOPATH, ids=[c.ask for c in AUTOPATH])
def test_glibc_autopath(pod: Cluster, case: Case) -> None:
    check_glibc(pod, case)


@pytest.mark.parametrize("case", AUTOPATH, ids=[c.ask for c in AUTOPATH])
def test_musl_autopath(pod: Cluster, gai_musl: Path, case: Case) -> None:
    check_musl(pod, gai_musl, case)


# -- the pod moved: the same client is no known pod (last: it changes the cluster) ----------------


def test_unknown_address_gets_the_plain_answer_on_the_wire(moved: Cluster) -> None:
    """The same query from the same client now: the plain NXDOMAIN of that name (neither the
    cache nor an answer memo hands back the walked reply)."""
    name = walked("web.team-b")
    reply, got = ask_wire(moved, name)
    assert got.queries == [f"A {name}. NXDOMAIN"], got.explain()
    assert (reply["rcode"], reply["answer"]) == ("NXDOMAIN", []), reply


@pytest.mark.parametrize("case", ORDINARY, ids=[c.ask for c in ORDINARY])
def test_glibc_unknown_address(moved: Cluster, case: Case) -> None:
    check_glibc(moved, case)


@pytest.mark.parametrize("case", ORDINARY, ids=[c.ask for c in ORDINARY])
def test_musl_unknown_address(moved: Cluster, gai_musl: Path, case: Case) -> None:
    check_musl(moved, gai_musl, case)


def test_dnsd_logged_no_error(cluster: Cluster) -> None:
    for log in ("dnsd.log", "upstream.log"):
        text = (cluster.workdir / log).read_text(errors="replace")
        for bad in ("Traceback", "[ERROR]", "[FATAL]"):
            assert bad not in text, f"{log}:\n{text}"
