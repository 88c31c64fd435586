"""Driver of test_autopath_resolvers.py: a kind node's dnsd with *autopath*, run INSIDE the
server netns.

    ip netns exec SERVER python tests/e2e/autopath_driver.py WORKDIR

It observes and never judges. WORKDIR/input.json (written by the test) holds ``corefile``,
``upstream_corefile`` and ``upstream_zone`` (with ``{workdir}`` to fill in), ``token``,
``objects`` (the cluster: [kind, object] pairs), ``pod`` (the client pod: ``namespace``,
``name``, ``ip``) and ``moved_ip`` (where the ``move-pod`` command puts it).

In its own network namespace and private mount namespace, the driver:

1. mounts a tmpfs on /run, makes a cluster CA and an API server certificate, serves the cluster
   from the fake API over TLS on 127.0.0.1 and writes the service account a pod gets;
2. starts the upstream named by the netns's resolv.conf (a dnsd serving ``upstream_zone`` with
   *file* on 127.0.0.2:53) and dnsd on ``corefile`` (in-cluster config, from a ConfigMap-like
   folder); waits for /ready and for the client pod to be known (``pods verified`` answers
   its ``A-B-C-D.<ns>.pod.cluster.local`` from the same store *autopath* asks);
3. prints what it saw as one JSON line, then reads commands from stdin, one per line:
   ``move-pod`` gives the client pod ``moved_ip`` in the fake API and waits until dnsd's watch
   has it (the old address's pod name NXDOMAIN, the new one answered), then prints a JSON line;
   end of input ends it.

dnsd's query log (``log``) is WORKDIR/dnsd.log: the test reads it. The driver kills only the
processes it started (by PID). A phase that raises is recorded in ``error`` with its traceback.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.pod import (  # noqa: E402
    READY,
    ConfigMapVolume,
    Processes,
    dnsd_env,
    http_get,
    make_pki,
    mount_run,
    phase,
    poll,
    query,
    write_service_account,
)
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_pod  # noqa: E402

UPSTREAM = "127.0.0.2"


def pod_name(ip: str, namespace: str) -> str:
    """The name ``pods verified`` answers for a pod at ``ip`` in ``namespace``."""
    return f"{ip.replace('.', '-')}.{namespace}.pod.cluster.local"


def rcode(qname: str) -> str | None:
    return query(qname, "A", "udp").get("rcode")


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
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
            self.api = api = FakeAPI(ssl_context=ctx)
            api.start()
            for kind, obj in self.spec["objects"]:
                api.add(kind, obj)
            zone = self.workdir / "upstream.zone"
            zone.write_text(self.spec["upstream_zone"])
            upstream_conf = self.workdir / "upstream.Corefile"
            upstream = self.spec["upstream_corefile"].replace("{workdir}", str(self.workdir))
            upstream_conf.write_text(upstream)
            self.procs.start("upstream", upstream_conf, dnsd_env())
            up = poll(lambda: "rcode" in query("external.example.org", "A", "udp", UPSTREAM), 15)
            out["upstream_up"] = bool(up)
            env = dnsd_env()
            env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
            env["KUBERNETES_SERVICE_PORT"] = str(api.port)
            self.volume.write(self.spec["corefile"])
            started = time.monotonic()
            dnsd = self.procs.start("dnsd", self.volume.corefile, env)
            poll(lambda: http_get(READY)[0] == 200 or dnsd.poll() is not None, 20)
            out["ready"] = http_get(READY)
            out["ready_after"] = round(time.monotonic() - started, 3)
            pod = self.spec["pod"]
            known = pod_name(pod["ip"], pod["namespace"])
            out["pod_rcode"] = poll(lambda: rcode(known) == "NOERROR", 10) and rcode(known)
            out["dnsd_exit_code"] = dnsd.poll()

    def move_pod(self) -> None:
        """The client pod gets another address; dnsd's watch must say so before we answer."""
        assert self.api is not None
        with phase(self.result, "move_pod") as out:
            pod, moved = self.spec["pod"], self.spec["moved_ip"]
            self.api.update("Pod", make_pod(pod["namespace"], pod["name"], moved))
            old, new = pod_name(pod["ip"], pod["namespace"]), pod_name(moved, pod["namespace"])
            seen = poll(lambda: rcode(old) == "NXDOMAIN" and rcode(new) == "NOERROR", 10)
            out["seen"] = bool(seen)
            out["old_rcode"], out["new_rcode"] = rcode(old), rcode(new)
            out["dnsd_exit_code"] = self.procs.procs["dnsd"].poll()

    def close(self) -> None:
        self.procs.stop_all()
        if self.api is not None:
            self.api.close()


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def main(argv: list[str]) -> int:
    workdir = Path(argv[1])
    driver = Driver(workdir, json.loads((workdir / "input.json").read_text()))
    try:
        try:
            driver.start()
        except Exception:
            driver.result["error"] = traceback.format_exc()
        emit(driver.result)
        if driver.result["error"] is not None:
            return 0
        for line in sys.stdin:
            driver.result = {"error": None}
            try:
                if line.strip() != "move-pod":
                    raise ValueError(f"unknown command {line.strip()!r}")
                driver.move_pod()
            except Exception:
                driver.result["error"] = traceback.format_exc()
            emit(driver.result)
    finally:
        driver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
