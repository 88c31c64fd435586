"""Driver of test_kind_resolvers.py: the server side of a kind node, run INSIDE the server netns.

    ip netns exec SERVER python tests/e2e/kind_driver.py WORKDIR

It observes and never judges. WORKDIR/input.json (written by the test) holds ``corefile``
(kubeadm's, verbatim), ``bad_ca_corefile``, ``upstream_corefile`` and ``upstream_zone`` (with
``{workdir}`` to fill in), ``token``, ``objects`` (the cluster: [kind, object] pairs),
``service_ip`` (dnsd's address on the veth, where the clients reach it) and ``big_name`` (the
name whose A answer does not fit 512 bytes).

In its own network namespace and private mount namespace, the driver:

1. mounts a tmpfs on /run, makes a cluster CA, an API server certificate and a second, unrelated
   CA, and serves the cluster from the fake API over TLS on 127.0.0.1;
2. **wrong CA**: writes the service account with the unrelated CA, runs dnsd on
   ``bad_ca_corefile`` (in-cluster config, KUBERNETES_SERVICE_HOST/PORT set; health on :8081,
   ready on :8182, DNS on :1053) until it has given up waiting for the API and serves, records
   /health, /ready, a query and whether the API saw a request, and stops it;
3. writes the service account with the right CA, starts the upstream named by the netns's
   resolv.conf (a dnsd serving ``upstream_zone`` with *file* on 127.0.0.2:53), and dnsd on
   ``corefile`` from a ConfigMap-like folder, while the fake API **holds** every list request;
   records /health and /ready for 1.5 s from when its HTTP port answers, releases the lists,
   records how /ready turns 200 and what the API saw (paths, Authorization headers);
4. records dnsd's UDP reply (no EDNS, so 512 bytes) and TCP reply to ``big_name`` A, asked at
   ``service_ip`` as the clients ask;
5. prints all that as one JSON line, then reads commands from stdin: ``shutdown`` sends SIGTERM
   to dnsd and records DNS, /ready and /health through the lame duck until it exits, then stops
   the upstream, prints a second JSON line and ends; end of input ends it at once.

It kills only the processes it started (by PID). A phase that raises is recorded in ``error``
with its traceback; what came before is kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from tests.e2e.pod import (  # noqa: E402
    HEALTH,
    READY,
    SERVICE_ACCOUNT,
    ConfigMapVolume,
    Processes,
    dnsd_env,
    http_get,
    make_ca,
    make_pki,
    mount_run,
    phase,
    poll,
    query,
    write_service_account,
)
from tests.plugins.kubernetes.fakeapi import FakeAPI  # noqa: E402

UPSTREAM = "127.0.0.2"
BAD_CA_READY = "http://127.0.0.1:8182/ready"
BAD_CA_HEALTH = "http://127.0.0.1:8081/health"
BAD_CA_PORT = 1053
API_NAME = "kubernetes.default.svc.cluster.local"


class GatedAPI(FakeAPI):
    """The fake API, with a gate in front of every list (not watch) request: while it is
    closed, lists wait (they are counted in :attr:`held`) and get their answer when it opens,
    as from an API server that is slow to answer the first lists."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._gate = asyncio.Event()
        self._gate.set()  # no waiter yet: safe from this thread
        self.held: list[str] = []

    def close_gate(self) -> None:
        self._call(self._set_gate(False))

    def open_gate(self) -> None:
        self._call(self._set_gate(True))

    async def _set_gate(self, open_: bool) -> None:
        if open_:
            self._gate.set()
        else:
            self._gate.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        watch = request.query.get("watch", "") in ("1", "t", "T", "true", "TRUE", "True")
        if not watch and not self._gate.is_set():
            self.held.append(request.path)
            await self._gate.wait()
        return await super()._handle(request)


def raw_udp(qname: str, qtype: str, server: str, timeout: float = 1.0) -> dict[str, Any]:
    """One UDP query without EDNS; the reply as sent: size, flags, question, A addresses and
    EDNS version (-1: no OPT)."""
    q = dns.message.make_query(qname, qtype)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(q.to_wire(), (server, 53))
        wire = sock.recv(65535)
    except OSError as exc:
        return {"error": repr(exc)}
    finally:
        sock.close()
    r = dns.message.from_wire(wire)
    return {
        "size": len(wire),
        "flags": dns.flags.to_text(r.flags),
        "question": [q.to_text() for q in r.question],
        "addresses": [rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == 1],
        "edns": r.edns,
    }


def tcp_addresses(qname: str, server: str) -> list[str]:
    r = dns.query.tcp(dns.message.make_query(qname, "A"), server, port=53, timeout=1.0)
    return [rr.address for rrset in r.answer for rr in rrset if rrset.rdtype == 1]


def read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


class Driver:
    def __init__(self, workdir: Path, spec: dict[str, Any]) -> None:
        self.workdir, self.spec = workdir, spec
        self.result: dict[str, Any] = {"error": None}
        self.procs = Processes(workdir)
        self.volume = ConfigMapVolume(workdir / "coredns")
        self.api: GatedAPI | None = None
        self.env: dict[str, str] = {}

    def setup(self) -> None:
        with phase(self.result, "setup") as out:
            out.update(mount_run())
            pki = self.workdir / "pki"
            pki.mkdir()
            make_pki(pki)
            make_ca(pki, "wrong-ca")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
            self.api = api = GatedAPI(ssl_context=ctx)
            api.start()
            for kind, obj in self.spec["objects"]:
                api.add(kind, obj)
            out["api_url"] = api.url
            self.env = dnsd_env()
            self.env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
            self.env["KUBERNETES_SERVICE_PORT"] = str(api.port)

    def bad_ca(self) -> None:
        """In-cluster config whose ca.crt did not sign the API's certificate: no sync. Watched
        until its start-up wait for the API (``startup_timeout 1s``) is over."""
        assert self.api is not None
        with phase(self.result, "bad_ca") as out:
            write_service_account(self.workdir / "pki" / "wrong-ca.crt", self.spec["token"])
            conf = self.workdir / "bad-ca.Corefile"
            conf.write_text(self.spec["bad_ca_corefile"])
            proc = self.procs.start("bad-ca", conf, self.env)
            log = self.workdir / "bad-ca.log"
            poll(lambda: "unsynced" in read(log) or proc.poll() is not None, 10)
            poll(lambda: "certificate" in read(log) or proc.poll() is not None, 5)
            poll(lambda: http_get(BAD_CA_HEALTH)[0] == 200 or proc.poll() is not None, 5)
            out["ready"] = http_get(BAD_CA_READY)
            out["health"] = http_get(BAD_CA_HEALTH)
            out["query"] = query(API_NAME, "A", "udp", port=BAD_CA_PORT)
            out["api_requests"] = len(self.api.requests) + len(self.api.held)
            out["exit_code_before_stop"] = proc.poll()
            out["exit_code"] = self.procs.stop("bad-ca")

    def start(self) -> None:
        """The right CA; the lists held while /health and /ready are probed, then released."""
        assert self.api is not None
        api = self.api
        with phase(self.result, "startup") as out:
            write_service_account(self.workdir / "pki" / "ca.crt", self.spec["token"])
            out["service_account"] = sorted(os.listdir(SERVICE_ACCOUNT))
            zone = self.workdir / "upstream.zone"
            zone.write_text(self.spec["upstream_zone"])
            upstream_conf = self.workdir / "upstream.Corefile"
            upstream = self.spec["upstream_corefile"].replace("{workdir}", str(self.workdir))
            upstream_conf.write_text(upstream)
            self.procs.start("upstream", upstream_conf, dnsd_env())
            up = poll(lambda: "rcode" in query("external.example.org", "A", "udp", UPSTREAM), 15)
            out["upstream_up"] = bool(up)
            api.close_gate()
            self.volume.write(self.spec["corefile"])
            started = time.monotonic()
            dnsd = self.procs.start("dnsd", self.volume.corefile, self.env)
            # the probes from the moment dnsd's HTTP port answers, for 1.5 s of the start-up
            # wait for the API (kubernetes's startup_timeout is 5 s)
            poll(lambda: http_get(HEALTH)[0] != 0 or dnsd.poll() is not None, 15)
            out["http_up_after"] = round(time.monotonic() - started, 3)
            samples = []
            for _ in range(10):
                at = round(time.monotonic() - started, 3)
                samples.append({"at": at, "ready": http_get(READY), "health": http_get(HEALTH)})
                time.sleep(0.15)
            out["held_samples"] = samples
            out["held"] = sorted(set(api.held))
            out["lists_before_release"] = len(api.lists())
            released = time.monotonic()
            api.open_gate()
            poll(lambda: http_get(READY)[0] == 200 or dnsd.poll() is not None, 10)
            out["ready_after_release"] = round(time.monotonic() - released, 3)
            out["ready"] = http_get(READY)
            out["health"] = http_get(HEALTH)
            out["dnsd_exit_code"] = dnsd.poll()
            auth = {v for r in api.requests for k, v in r.headers.items()
                    if k.lower() == "authorization"}  # fmt: skip
            out["api_authorization"] = sorted(auth)
            out["api_paths"] = sorted({r.path for r in api.requests})

    def big_answer(self) -> None:
        with phase(self.result, "big_answer") as out:
            name, server = self.spec["big_name"], self.spec["service_ip"]
            out["udp"] = raw_udp(name, "A", server)
            out["tcp"] = tcp_addresses(name, server)

    def shutdown(self) -> None:
        """SIGTERM: DNS at the service address, /ready and /health until dnsd exits."""
        with phase(self.result, "shutdown") as out:
            dnsd = self.procs.procs["dnsd"]
            exited: list[float] = []  # when it exited, seen by a thread that only waits
            started = time.monotonic()
            dnsd.send_signal(signal.SIGTERM)

            def wait() -> None:
                dnsd.wait()
                exited.append(time.monotonic())

            waiter = threading.Thread(target=wait, daemon=True)
            waiter.start()
            probes: list[dict[str, Any]] = []
            while not exited and time.monotonic() - started < 15:
                got = query(API_NAME, "A", "udp", server=self.spec["service_ip"])
                probes.append(
                    {
                        "at": round(time.monotonic() - started, 3),
                        "answer": got.get("answer"),
                        "error": got.get("error"),
                        "ready": http_get(READY)[0],
                        "health": http_get(HEALTH)[0],
                    }
                )
                time.sleep(0.2)
            waiter.join(5)
            out["exit_code"] = dnsd.poll()
            out["exit_after"] = round(exited[0] - started, 3) if exited else None
            out["probes"] = probes
            out["upstream_exit_code"] = self.procs.stop("upstream")

    def close(self) -> None:
        self.procs.stop_all()
        if self.api is not None:
            self.api.open_gate()
            self.api.close()


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def main(argv: list[str]) -> int:
    workdir = Path(argv[1])
    driver = Driver(workdir, json.loads((workdir / "input.json").read_text()))
    try:
        try:
            driver.setup()
            driver.bad_ca()
            driver.start()
            driver.big_answer()
        except Exception:
            driver.result["error"] = traceback.format_exc()
        emit(driver.result)
        if driver.result["error"] is not None:
            return 0
        command = sys.stdin.readline().strip()
        if command == "shutdown":
            driver.result = {"error": None}
            try:
                driver.shutdown()
            except Exception:
                driver.result["error"] = traceback.format_exc()
            emit(driver.result)
    finally:
        driver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
