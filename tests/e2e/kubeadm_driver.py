"""Driver of test_kubeadm_corefile.py: runs INSIDE ``ip netns exec NS``, observes, never judges.

    ip netns exec NS python tests/e2e/kubeadm_driver.py WORKDIR

WORKDIR/input.json (written by the test) holds what to run: ``corefile`` (kubeadm's, verbatim),
``reloaded`` (the same with another ``ttl``), ``ttl_before``/``ttl_after``, ``token`` and
``cases`` (a list of {qname, qtype, proto, upstream}).

In the network namespace (its own loopback, so the real ports 53, 8080, 8181 and 9153 are free)
and in the private mount namespace ``ip netns exec`` gives it, this script:

1. mounts a tmpfs on /run and writes the service account a pod gets
   (/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace});
2. serves a small cluster from the fake API (tests/plugins/kubernetes/fakeapi.py) over TLS on
   127.0.0.1, with a certificate from the CA in ca.crt;
3. starts the upstream named by /etc/resolv.conf (``nameserver 127.0.0.2``, the netns's own
   resolv.conf): a second dnsd with *whoami* bound to 127.0.0.2:53;
4. starts dnsd (``python -m dnsd -conf .../Corefile``, the real CLI) on ``corefile``, kept in
   a folder laid out as the kubelet keeps a ConfigMap volume, with KUBERNETES_SERVICE_HOST/PORT
   set as in a pod;
5. records /ready, /health, the answers to ``cases`` (``upstream``: also ask 127.0.0.2
   directly), /metrics, the ConfigMap update to ``reloaded`` made while queries run, and a
   SIGTERM through the lame duck.

It prints one JSON object (the last line of stdout) and kills only the processes it started.
A phase that raises ends the run: its traceback is in ``error``, what came before is kept.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.pod import (  # noqa: E402
    HEALTH,
    METRICS,
    READY,
    SERVICE_ACCOUNT,
    ConfigMapVolume,
    Processes,
    addresses,
    answer_ttls,
    dnsd_env,
    http_get,
    make_pki,
    mount_run,
    phase,
    poll,
    query,
    write_service_account,
)
from tests.plugins.kubernetes.fakeapi import (  # noqa: E402
    FakeAPI,
    endpoint,
    make_namespace,
    make_pod,
    make_service,
    make_slice,
)

UPSTREAM_COREFILE = ".:53 {\n    bind 127.0.0.2\n    whoami\n}\n"
UPSTREAM = "127.0.0.2"

# The queries made while the ConfigMap changes: (qname, qtype, proto, the A records expected).
RELOAD_MIX = (
    ("kubernetes.default.svc.cluster.local", "A", "udp", ["10.96.0.1"]),
    ("web.demo.svc.cluster.local", "A", "tcp", ["10.96.0.20"]),
    ("db.demo.svc.cluster.local", "A", "udp", ["10.244.1.10", "10.244.1.11", "10.244.1.12"]),
    ("example.org", "A", "udp", []),
)


def populate(api: FakeAPI) -> None:
    """The cluster the test's table describes."""
    for ns in ("default", "kube-system", "demo"):
        api.add("Namespace", make_namespace(ns))
    https = [("https", 443, "TCP")]
    api.add("Service", make_service("default", "kubernetes", cluster_ip="10.96.0.1", ports=https))
    apiserver = make_slice("default", "kubernetes", endpoints=["172.18.0.2"], ports=https)
    api.add("EndpointSlice", apiserver)
    dns_ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    kube_dns = make_service("kube-system", "kube-dns", cluster_ip="10.96.0.10", ports=dns_ports)
    api.add("Service", kube_dns)
    api.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
    api.add("EndpointSlice", make_slice("demo", "web", endpoints=[endpoint("10.244.0.5")]))
    pg = [("pg", 5432, "TCP")]
    api.add("Service", make_service("demo", "db", cluster_ip="None", ports=pg))
    db = [endpoint(f"10.244.1.{10 + i}", hostname=f"db-{i}", pod=f"db-{i}") for i in range(3)]
    db.append(endpoint("10.244.1.13", hostname="db-3", pod="db-3", ready=False))
    api.add("EndpointSlice", make_slice("demo", "db", endpoints=db, ports=pg))
    api.add("Pod", make_pod("demo", "web-0", "10.244.0.5"))
    for i in range(4):
        api.add("Pod", make_pod("demo", f"db-{i}", f"10.244.1.{10 + i}"))


# -- the run -------------------------------------------------------------------------------------


class Driver:
    def __init__(self, workdir: Path, spec: dict[str, Any]) -> None:
        self.workdir, self.spec = workdir, spec
        self.result: dict[str, Any] = {"error": None}
        self.procs = Processes(workdir)
        self.volume = ConfigMapVolume(workdir / "coredns")
        self.api: FakeAPI | None = None

    def start(self) -> None:
        with phase(self.result, "startup") as out:
            out.update(mount_run())
            pki = self.workdir / "pki"
            pki.mkdir()
            make_pki(pki)
            write_service_account(pki / "ca.crt", self.spec["token"])
            out["service_account"] = sorted(os.listdir(SERVICE_ACCOUNT))
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
            self.api = FakeAPI(ssl_context=ctx)
            self.api.start()
            populate(self.api)
            out["api_url"] = self.api.url
            env = dnsd_env()
            upstream_conf = self.workdir / "upstream.Corefile"
            upstream_conf.write_text(UPSTREAM_COREFILE)
            self.procs.start("upstream", upstream_conf, env)
            up = poll(lambda: "rcode" in query("example.org", "A", "udp", UPSTREAM), 15)
            out["upstream_up"] = bool(up)
            self.volume.write(self.spec["corefile"])
            env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
            env["KUBERNETES_SERVICE_PORT"] = str(self.api.port)
            started = time.monotonic()
            dnsd = self.procs.start("dnsd", self.volume.corefile, env)
            poll(lambda: http_get(READY)[0] == 200 or dnsd.poll() is not None, 20)
            out["ready"] = http_get(READY)
            out["ready_after"] = round(time.monotonic() - started, 3)
            out["health"] = http_get(HEALTH)
            out["dnsd_exit_code"] = dnsd.poll()

    def queries(self) -> None:
        with phase(self.result, "queries") as out:
            out["results"] = results = []
            for case in self.spec["cases"]:
                got = query(case["qname"], case["qtype"], case["proto"])
                if case.get("upstream"):
                    got["direct"] = query(case["qname"], case["qtype"], case["proto"], UPSTREAM)
                results.append(got)
            # loadbalance (round_robin) shuffles the headless service's records
            orders = {
                tuple(
                    line.split()[-1]
                    for line in query("db.demo.svc.cluster.local", "A", "udp").get("answer", ())
                )  # fmt: skip
                for _ in range(20)
            }
            out["db_orders"] = sorted(orders)

    def metrics(self) -> None:
        with phase(self.result, "metrics") as out:
            out["status"], out["text"] = http_get(METRICS)

    def reload(self) -> None:
        """Queries in a loop; after 100 of them the ConfigMap changes to ``reloaded``: the first
        answer with ``ttl_after`` says when the new config serves; then 200 more."""
        with phase(self.result, "reload") as out:
            failures: list[str] = []
            seen: dict[str, set[int]] = {}
            sent, failed, after, swapped, switched, regressed = 0, 0, 0, 0.0, None, False
            while after < 200 and (not swapped or time.monotonic() - swapped < 6):
                if sent == 100:
                    self.volume.write(self.spec["reloaded"])
                    swapped = time.monotonic()
                qname, qtype, proto, want = RELOAD_MIX[sent % len(RELOAD_MIX)]
                got = query(qname, qtype, proto)
                sent += 1
                if got.get("rcode") != "NOERROR" or (want and addresses(got) != want):
                    failed += 1
                    if len(failures) < 20:
                        failures.append(f"{qname} {qtype} {proto}: {got}")
                ttls = answer_ttls(got) if want else set()
                seen.setdefault(f"{qname} {proto}", set()).update(ttls)
                if self.spec["ttl_after"] in ttls and switched is None:
                    switched = round(time.monotonic() - swapped, 3)
                regressed |= switched is not None and self.spec["ttl_before"] in ttls
                after += switched is not None
            out.update(sent=sent, failed=failed, failures=failures, after=after)
            out["switched_after"] = switched
            out["regressed"] = regressed
            out["ttls"] = {name: sorted(ttls) for name, ttls in seen.items()}

    def shutdown(self) -> None:
        """SIGTERM: /ready says 503 at once, DNS and /health keep answering for the lame duck."""
        with phase(self.result, "shutdown") as out:
            dnsd = self.procs.procs["dnsd"]
            started = time.monotonic()
            dnsd.send_signal(signal.SIGTERM)
            poll(lambda: http_get(READY)[0] == 503, 3)
            out["ready"] = http_get(READY)
            out["query"] = query("kubernetes.default.svc.cluster.local", "A", "udp")
            out["health"] = http_get(HEALTH)
            try:
                out["exit_code"] = dnsd.wait(15)
            except subprocess.TimeoutExpired:
                out["exit_code"] = None
            out["exit_after"] = round(time.monotonic() - started, 3)
            upstream = self.procs.procs["upstream"]
            started = time.monotonic()
            upstream.terminate()
            try:
                out["upstream_exit_code"] = upstream.wait(10)
            except subprocess.TimeoutExpired:
                out["upstream_exit_code"] = None
            out["upstream_exit_after"] = round(time.monotonic() - started, 3)

    def close(self) -> None:
        self.procs.stop_all()
        if self.api is not None:
            auth = {v for r in self.api.requests for k, v in r.headers.items()
                    if k.lower() == "authorization"}  # fmt: skip
            self.result["api_authorization"] = sorted(auth)
            self.result["api_paths"] = sorted({r.path for r in self.api.requests})
            self.api.close()


def main(argv: list[str]) -> int:
    workdir = Path(argv[1])
    driver = Driver(workdir, json.loads((workdir / "input.json").read_text()))
    try:
        driver.start()
        driver.queries()
        driver.metrics()
        driver.reload()
        driver.shutdown()
    except Exception:
        driver.result["error"] = traceback.format_exc()
    finally:
        driver.close()
    print(json.dumps(driver.result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
