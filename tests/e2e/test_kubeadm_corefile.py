"""kubeadm's default Corefile runs unchanged (dnsd issue 4, "done when"), port 53 included.

The whole run happens in a network namespace of its own (``ip netns``, root only), inside one
driver process (kubeadm_driver.py: it observes, this test judges): the kubernetes plugin finds
the API through the in-cluster service account a pod gets (/var/run/secrets/..., a tmpfs on /run
in the driver's private mount namespace, KUBERNETES_SERVICE_HOST/PORT) and reaches the fake API
over TLS; ``forward . /etc/resolv.conf`` reads the netns's resolv.conf, ``nameserver 127.0.0.2``,
where a second dnsd answers with *whoami*. The Corefile lives in a folder laid out as a ConfigMap
volume and is updated as the kubelet does it (a ``..data`` symlink swap) while queries run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.netns import gone, network_namespace, run_driver
from tests.e2e.netns import logs as read_logs
from tests.e2e.pod import KUBEADM_COREFILE

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("kubeadm_driver.py")
DRIVER_TIMEOUT = 60

# The ConfigMap update: a lower TTL, because `cache 30` caps the TTL of every reply it passes
# at 30 (CoreDNS does too, also in zones whose caching is disabled): `ttl 31` would not show.
TTL_BEFORE, TTL_AFTER = 30, 10
RELOADED = KUBEADM_COREFILE.replace(f"       ttl {TTL_BEFORE}\n", f"       ttl {TTL_AFTER}\n")
TOKEN = "kubeadm-e2e-service-account-token"
# The SOA serial is the time of the last API change: compared as this word.
SOA = (
    "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. "
    "SERIAL 7200 1800 86400 30"
)


@dataclass(frozen=True)
class Case:
    """A query to dnsd on 127.0.0.1:53 and the reply expected, sections as zone-file text.

    ``upstream``: a name no plugin but *forward* answers; the reply must be the one 127.0.0.2
    gives directly (checked instead of ``answer``)."""

    qname: str
    qtype: str
    proto: str = "udp"
    rcode: str = "NOERROR"
    answer: tuple[str, ...] = ()
    authority: tuple[str, ...] = ()
    additional: tuple[str, ...] = ()
    upstream: bool = False

    @property
    def id(self) -> str:
        return f"{self.qname} {self.qtype} {self.proto}"


def both(qname: str, qtype: str, **kw: Any) -> list[Case]:
    return [Case(qname, qtype, proto, **kw) for proto in ("udp", "tcp")]


CASES = [
    *both(
        "kubernetes.default.svc.cluster.local",
        "A",
        answer=("kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1",),
    ),
    *both(
        "web.demo.svc.cluster.local",
        "A",
        answer=("web.demo.svc.cluster.local. 30 IN A 10.96.0.20",),
    ),
    *both(  # headless: its ready endpoints (10.244.1.13 is not ready)
        "db.demo.svc.cluster.local",
        "A",
        answer=tuple(f"db.demo.svc.cluster.local. 30 IN A 10.244.1.{n}" for n in (10, 11, 12)),
    ),
    *both(
        "db-1.db.demo.svc.cluster.local",
        "A",
        answer=("db-1.db.demo.svc.cluster.local. 30 IN A 10.244.1.11",),
    ),
    *both(
        "_http._tcp.web.demo.svc.cluster.local",
        "SRV",
        answer=(
            "_http._tcp.web.demo.svc.cluster.local. 30 IN SRV 0 100 80 web.demo.svc.cluster.local.",
        ),
        additional=("web.demo.svc.cluster.local. 30 IN A 10.96.0.20",),
    ),
    *both(  # pods insecure
        "10-244-0-5.demo.pod.cluster.local",
        "A",
        answer=("10-244-0-5.demo.pod.cluster.local. 30 IN A 10.244.0.5",),
    ),
    *both(
        "20.0.96.10.in-addr.arpa",
        "PTR",
        answer=("20.0.96.10.in-addr.arpa. 30 IN PTR web.demo.svc.cluster.local.",),
    ),
    *both(
        "10.0.96.10.in-addr.arpa",
        "PTR",
        answer=("10.0.96.10.in-addr.arpa. 30 IN PTR kube-dns.kube-system.svc.cluster.local.",),
    ),
    *both(
        "12.1.244.10.in-addr.arpa",
        "PTR",
        answer=("12.1.244.10.in-addr.arpa. 30 IN PTR db-2.db.demo.svc.cluster.local.",),
    ),
    *both("nosuch.demo.svc.cluster.local", "A", rcode="NXDOMAIN", authority=(SOA,)),
    *both("web.nosuch.svc.cluster.local", "A", rcode="NXDOMAIN", authority=(SOA,)),
    *both("web.demo.svc.cluster.local", "AAAA", authority=(SOA,)),  # NODATA
    # Not the cluster's: forwarded to /etc/resolv.conf's nameserver. An unknown reverse name
    # falls through from kubernetes (`fallthrough in-addr.arpa ip6.arpa`). Each name is asked
    # once, so no answer comes from the cache.
    Case("example.org", "A", upstream=True),
    Case("www.example.org", "A", "tcp", upstream=True),
    Case("1.1.168.192.in-addr.arpa", "PTR", upstream=True),
    Case("2.1.168.192.in-addr.arpa", "PTR", "tcp", upstream=True),
]


# -- the namespace and the driver ----------------------------------------------------------------


def drive(ns: str, workdir: Path) -> dict[str, Any]:
    """Run the driver in ``ns``; its JSON."""
    spec = {
        "corefile": KUBEADM_COREFILE,
        "reloaded": RELOADED,
        "ttl_before": TTL_BEFORE,
        "ttl_after": TTL_AFTER,
        "token": TOKEN,
        "cases": [asdict(c) for c in CASES],
    }
    (workdir / "input.json").write_text(json.dumps(spec))
    return run_driver(ns, DRIVER, workdir, DRIVER_TIMEOUT)


def _host_run() -> list[str]:
    return sorted(os.listdir("/run"))


# -- judging what the driver saw -----------------------------------------------------------------


def _soa_serial(lines: list[str]) -> list[str]:
    return [re.sub(r"(hostmaster\.cluster\.local\. )\d+", r"\1SERIAL", line) for line in lines]


def _whoami(qname: str, proto: str, ttl: int) -> set[str]:
    """What whoami on 127.0.0.2 answers to a query from 127.0.0.1 (its port as PORT)."""
    return {f"{qname}. {ttl} IN A 127.0.0.1", f"_{proto}.{qname}. {ttl} IN SRV 0 0 PORT ."}


def _additional(got: dict[str, Any]) -> set[str]:
    return {re.sub(r"(IN SRV 0 0 )\d+", r"\1PORT", line) for line in got["additional"]}


def check_case(case: Case, got: dict[str, Any]) -> None:
    assert "error" not in got, got
    if case.upstream:
        direct = got["direct"]
        assert (direct["rcode"], direct["answer"], direct["authority"]) == ("NOERROR", [], [])
        assert _additional(direct) == _whoami(case.qname, case.proto, 0)
        # forward passes it on (same transport as the client); cache caps its TTL 0 at the
        # minimum TTL, 5 (CoreDNS's cache does the same to the reply it stores)
        assert got["flags"] == direct["flags"]
        assert (got["rcode"], got["answer"], got["authority"]) == ("NOERROR", [], [])
        assert _additional(got) == _whoami(case.qname, case.proto, 5)
        return
    assert got["flags"] == "QR AA RD"  # authoritative; recursion not available, as CoreDNS
    assert got["rcode"] == case.rcode
    assert sorted(got["answer"]) == sorted(case.answer)
    assert _soa_serial(got["authority"]) == list(case.authority)
    assert sorted(got["additional"]) == sorted(case.additional)


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    total, found = 0.0, False
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and labels.items() <= s.labels.items():
                total, found = total + s.value, True
    assert found, f"no {name}{labels} in /metrics"
    return total


def test_kubeadm_corefile_in_a_network_namespace(tmp_path: Path) -> None:
    assert RELOADED != KUBEADM_COREFILE
    host_run = _host_run()
    with network_namespace("dnsd-kubeadm", "nameserver 127.0.0.2\n") as ns:
        result = drive(ns, tmp_path)
    assert gone(ns)
    # the tmpfs and the service account stayed in the driver's mount namespace
    assert _host_run() == host_run
    assert not os.path.exists("/run/secrets/kubernetes.io")
    logs = read_logs(tmp_path)
    assert result["error"] is None, f"{result['error']}\n{logs}"

    start = result["startup"]
    assert start["var_run"] == "/run", start  # the service account path goes through /var/run
    assert " - tmpfs " in start["run_mount"] and start["run_entries"] == [], start
    assert start["service_account"] == ["ca.crt", "namespace", "token"]
    assert start["upstream_up"], logs
    assert start["ready"] == [200, "OK"] and start["dnsd_exit_code"] is None, logs
    assert start["health"] == [200, "OK"]
    # in-cluster config: the service account's token, over TLS verified with its ca.crt
    assert start["api_url"].startswith("https://127.0.0.1:")
    assert [a.lower() for a in result["api_authorization"]] == [f"bearer {TOKEN}"]
    assert set(result["api_paths"]) == {
        "/api/v1/namespaces",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
    }  # no pods: `pods insecure` does not watch them

    results = result["queries"]["results"]
    assert len(results) == len(CASES)
    for case, got in zip(CASES, results, strict=True):
        try:
            check_case(case, got)
        except AssertionError as exc:
            raise AssertionError(f"{case.id}: {got}") from exc
    orders = result["queries"]["db_orders"]  # loadbalance: the same records, shuffled
    assert len(orders) > 1 and {tuple(sorted(o)) for o in orders} == {
        ("10.244.1.10", "10.244.1.11", "10.244.1.12")
    }, orders

    check_metrics(result["metrics"], api_port=start["api_url"].rsplit(":", 1)[1])
    check_reload(result["reload"])
    check_shutdown(result["shutdown"])
    assert "[INFO] Reloading complete" in logs
    for bad in ("Traceback", "[ERROR]", "[FATAL]", "[WARNING]"):
        assert bad not in logs, logs


def check_metrics(metrics: dict[str, Any], api_port: str) -> None:
    assert metrics["status"] == 200
    text = metrics["text"]
    for proto in ("udp", "tcp"):
        requests = sample(
            text, "coredns_dns_requests_total", server="dns://:53", zone=".", proto=proto
        )
        assert requests >= len([c for c in CASES if c.proto == proto])
    forwarded = sample(
        text,
        "coredns_proxy_request_duration_seconds_count",
        proxy_name="forward",
        to="127.0.0.2:53",
        rcode="NOERROR",
    )
    assert forwarded >= len([c for c in CASES if c.upstream])
    api = sample(
        text, "coredns_kubernetes_rest_client_requests_total", host=f"127.0.0.1:{api_port}"
    )
    assert api >= 3
    assert sample(text, "coredns_reload_version_info", hash="sha512") == 1


def check_reload(reload: dict[str, Any]) -> None:
    """The ConfigMap swap applied within 3 s, while no query failed or went back."""
    assert reload["failed"] == 0, reload["failures"]
    assert reload["switched_after"] is not None, reload
    assert reload["switched_after"] < 3.0, reload
    assert reload["after"] >= 200 and reload["sent"] >= 300, reload
    assert not reload["regressed"], reload


def check_shutdown(shutdown: dict[str, Any]) -> None:
    """SIGTERM: /ready 503 at once; DNS and /health serve through the 5 s lame duck; exit 0."""
    assert shutdown["ready"] == [503, "Shutting down"], shutdown
    assert shutdown["query"].get("answer") == [
        f"kubernetes.default.svc.cluster.local. {TTL_AFTER} IN A 10.96.0.1"
    ], shutdown
    assert shutdown["health"] == [200, "OK"], shutdown
    assert shutdown["exit_code"] == 0, shutdown
    assert 4.9 <= shutdown["exit_after"] <= 7.5, shutdown
    assert shutdown["upstream_exit_code"] == 0, shutdown
