"""The suite's dnsd-only parts: the kubernetes plugin at 100 to 50,000 Services (the objects, the
query file, QPS and RSS at each size) and the start-up of Corefile.example to its first answer."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cache_forward import BenchError, endpoint_slice, free_ports, namespace, rss_kib
from suite_data import (
    CLUSTER,
    K8S_COREFILE,
    Question,
    cluster_ip,
    pod_ip,
    query_file,
    service,
)
from suite_measure import Load, dnsperf
from suite_report import ScaleResult
from suite_servers import ROOT, Server, dnsd_command, dnsd_server, first_answer

# -- the objects --------------------------------------------------------------------------------


def scale_objects(services: int, per_ns: int = 100, headless_every: int = 10) -> dict[str, Any]:
    """``services`` Services, ``per_ns`` per namespace, each with an EndpointSlice: one ready
    endpoint, or three with hostnames for every ``headless_every``-th (headless) Service."""
    items = [namespace(f"ns-{n:03d}") for n in range((services + per_ns - 1) // per_ns)]
    pod = 0
    for i in range(services):
        ns, name = f"ns-{i // per_ns:03d}", f"svc-{i % per_ns:03d}"
        headless = i % headless_every == 0
        items.append(service(ns, name, ["None" if headless else cluster_ip(i)]))
        endpoints = []
        for k in range(3 if headless else 1):
            ep: dict[str, Any] = {"addresses": [pod_ip(pod)], "conditions": {"ready": True}}
            ep["targetRef"] = {"kind": "Pod", "name": f"{name}-{k}", "namespace": ns}
            if headless:
                ep["hostname"] = f"{name}-{k}"
            endpoints.append(ep)
            pod += 1
        items.append(endpoint_slice(ns, name, endpoints))
    return {"apiVersion": "v1", "kind": "List", "items": items}


def scale_counts(objects: Mapping[str, Any]) -> tuple[int, int]:
    """(Services, endpoint addresses) in an objects List."""
    services = sum(1 for item in objects["items"] if item["kind"] == "Service")
    endpoints = sum(
        len(ep["addresses"])
        for item in objects["items"]
        if item["kind"] == "EndpointSlice"
        for ep in item["endpoints"]
    )
    return services, endpoints


def scale_questions(objects: Mapping[str, Any]) -> list[Question]:
    """Every ClusterIP Service's name, A, with every fifth line a name that does not exist."""
    names = [
        f"{item['metadata']['name']}.{item['metadata']['namespace']}.svc.{CLUSTER}"
        for item in objects["items"]
        if item["kind"] == "Service" and item["spec"]["clusterIP"] != "None"
    ]
    out = []
    for n in range(5 * -(-len(names) // 4)):  # whole groups of five: exactly 20% NXDOMAIN
        name = f"nx-{n}.ns-000.svc.{CLUSTER}" if n % 5 == 4 else names[(n - n // 5) % len(names)]
        out.append((name, "A"))
    return out


# -- start-up of Corefile.example ------------------------------------------------------------

STARTUP_CHANGES = (
    (
        ".:1053 {\n",
        ".:{dns} {{\n    bind 127.0.0.1\n",
        "port 1053 -> a free port, `bind 127.0.0.1`",
    ),
    ("    health {\n", "    health 127.0.0.1:{health} {{\n", "health :8080 -> 127.0.0.1:PORT"),
    ("    ready\n", "    ready 127.0.0.1:{ready}\n", "ready :8181 -> 127.0.0.1:PORT"),
    (
        "    prometheus localhost:9153\n",
        "    prometheus 127.0.0.1:{metrics}\n",
        "prometheus localhost:9153 -> 127.0.0.1:PORT",
    ),
    (
        "objects examples/cluster.yaml\n",
        "objects {examples}/cluster.yaml\n",
        "objects examples/cluster.yaml -> its absolute path",
    ),
)


def startup_corefile(text: str, examples: Path, ports: Mapping[str, int]) -> str:
    """Corefile.example with only STARTUP_CHANGES made (ports on 127.0.0.1, the objects path
    absolute because the copy lives elsewhere); ValueError when one no longer applies."""
    out = text.replace("{", "{{").replace("}", "}}")
    for old, new, _ in STARTUP_CHANGES:
        escaped = old.replace("{", "{{").replace("}", "}}")
        if out.count(escaped) != 1:
            raise ValueError(f"Corefile.example: {old.strip()!r} not found once")
        out = out.replace(escaped, new)
    return out.format(examples=examples, **ports)


# -- runs -----------------------------------------------------------------------------------------


def run_scale(
    tmp: Path, args: argparse.Namespace, load: Load, failures: list[str]
) -> list[ScaleResult]:
    """dnsd (kubernetes { objects FILE }) at each size: first answer, RSS, QPS pinned."""
    print(f"\n== scale: dnsd with {', '.join(f'{n:,}' for n in args.scale)} Services")
    results = []
    for services in args.scale:
        try:
            results.append(scale_one(tmp, services, load))
        except BenchError as exc:
            failures.append(f"scale/{services}: {exc}")
            print(f"  {services:,} Services failed: {exc}")
    return results


def scale_one(tmp: Path, services: int, load: Load) -> ScaleResult:
    folder = tmp / f"scale-{services}"
    folder.mkdir()
    objects = scale_objects(services)
    n_svc, n_eps = scale_counts(objects)
    path = folder / "objects.json"
    path.write_text(json.dumps(objects))
    questions = scale_questions(objects)
    queries = folder / "queries"
    queries.write_text(query_file(questions))
    (port,) = free_ports(1)
    server = dnsd_server(folder, "dnsd", K8S_COREFILE.format(port=port, objects=path), port)
    last = next(q for q in reversed(questions) if not q[0].startswith("nx-"))
    try:
        loaded = first_answer(server, last[0], timeout=300)
        time.sleep(1.0)  # what start-up left to free, freed
        synced = rss_kib(server.pid)
        print(f"  {services:,} Services, {n_eps:,} endpoints: first answer {loaded:.2f}s")
        # Warm-up: two passes through the file (past the first 8,192 memos a question is
        # remembered on its second answer: dnsd/fastpath.py), so the timed run measures the
        # steady state at this size; the cold cost is printed.
        cold = dnsperf(load, server, port, queries, seconds=300, retry=False, passes=2)
        print(
            f"    first two passes (every question new, then remembered): "
            f"{cold.summary.qps:,.0f} QPS, {cold.cpu_us:.1f} µs CPU/query"
        )
        run = dnsperf(load, server, port, queries)
        print(
            f"    {run.summary.qps:,.0f} QPS, {run.cpu_us:.1f} µs CPU/query, RSS synced "
            f"{synced / 1024:.1f} MiB, after the run {run.rss_kib / 1024:.1f} MiB, rcodes "
            f"{run.summary.rcodes}, other load {run.other:.1f}%"
        )
    finally:
        server.stop()
    return ScaleResult(
        services=n_svc,
        endpoints=n_eps,
        objects_mib=path.stat().st_size / 2**20,
        first_answer_s=loaded,
        load=load.label(),
        qps=run.summary.qps,
        cpu_us=run.cpu_us,
        avg_ms=run.summary.avg_ms,
        lost=run.summary.lost,
        rss_synced_kib=synced,
        rss_after_kib=run.rss_kib,
        other=run.other,
    )


STARTUP_NAME = "web.demo.svc.cluster.local"


def run_startup(tmp: Path, args: argparse.Namespace) -> list[float]:
    """Corefile.example (STARTUP_CHANGES only) from ``Popen`` to the first answer."""
    print(
        f"\n== startup: Corefile.example to the first answer for {STARTUP_NAME}, "
        f"{args.startup_runs} runs"
    )
    text = (ROOT / "Corefile.example").read_text()
    times = []
    for n in range(args.startup_runs):
        dns, health, ready, metrics = free_ports(4)
        ports = {"dns": dns, "health": health, "ready": ready, "metrics": metrics}
        conf = tmp / f"startup-{n}.Corefile"
        conf.write_text(startup_corefile(text, ROOT / "examples", ports))
        server = Server(tmp, f"startup-{n}", dnsd_command(conf, quiet=False), dns, cwd=ROOT)
        try:
            times.append(first_answer(server, STARTUP_NAME))
        finally:
            server.stop()
        print(f"  run {n + 1}: {times[-1]:.3f}s")
    return times
