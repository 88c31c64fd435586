"""bench/suite.py's pure parts, without starting a server: the query files, every server's
rendering of the same names, dnsperf output parsing (summary, ``-v`` lines, the latency
histogram), the table, the ratios and the targets.

The bench scripts import each other by bare names from bench/ (``kubernetes``, ``fixed_answer``,
...), and bench/kubernetes.py would shadow the ``kubernetes`` client package that other tests
import: the modules are loaded with bench/ on sys.path and sys.modules is put back afterwards.
"""

from __future__ import annotations

import importlib
import ipaddress
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dnslib import DNSRecord

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
BARE = ("kubernetes", "fixed_answer", "cache_forward", "suite_data", "suite_measure")
BARE += ("suite_report", "suite_servers", "suite_scale", "suite")


def load_bench() -> dict[str, ModuleType]:
    saved = {name: sys.modules.pop(name) for name in BARE if name in sys.modules}
    sys.path.insert(0, str(BENCH))
    try:
        return {name: importlib.import_module(name) for name in BARE[3:]}
    finally:
        sys.path.remove(str(BENCH))
        for name in BARE:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


MODS = load_bench()
data_mod, measure, report, servers, scale_mod, suite = (
    MODS["suite_data"],
    MODS["suite_measure"],
    MODS["suite_report"],
    MODS["suite_servers"],
    MODS["suite_scale"],
    MODS["suite"],
)

Record = tuple[str, str, str]  # (name, type, address)


# -- query files --------------------------------------------------------------------------------


def test_k8s_query_file_is_performance_md_s() -> None:
    data = data_mod.k8s_data(1000)
    text = data_mod.query_file(data.workloads[0].questions)
    lines = text.splitlines()
    assert len(lines) == 5000
    assert lines[:5] == [
        "svc-0.default.svc.cluster.local A",
        "svc-1.default.svc.cluster.local A",
        "svc-2.default.svc.cluster.local A",
        "svc-3.default.svc.cluster.local A",
        "nx-4.default.svc.cluster.local A",
    ]
    assert sum(line.startswith("nx-") for line in lines) == 1000
    assert text == data_mod.query_file(data_mod.k8s_data(1000).workloads[0].questions)
    assert data.workloads[1].questions == data.workloads[0].questions
    assert data.workloads[1].transport == "tcp"


def rcode_shares(data: Any, questions: Any) -> dict[int, float]:
    codes: dict[int, int] = {}
    for name, qtype in questions:
        rcode = data.expect(name, qtype)[0]
        codes[rcode] = codes.get(rcode, 0) + 1
    return {code: n / len(questions) for code, n in codes.items()}


def test_kubeadm_mix_is_deterministic_with_a_fifth_of_each_kind() -> None:
    data = data_mod.kubeadm_data(services=40, externals=20, lines=500)
    again = data_mod.kubeadm_data(services=40, externals=20, lines=500)
    questions = data.workloads[0].questions
    assert questions == again.workloads[0].questions
    assert rcode_shares(data, questions) == {0: 0.8, 3: 0.2}
    nodata = [q for q in questions if data.expect(*q) == (0, ())]
    assert nodata and all(q[1] == "AAAA" and q[0].endswith(".cluster.local") for q in nodata)
    external = [q for q in questions if q[0].endswith(".example.com")]
    assert len(external) == 200
    assert set(data.external_questions()) == set(external)


def test_scale_objects_and_questions() -> None:
    objects = scale_mod.scale_objects(100)
    assert scale_mod.scale_counts(objects) == (100, 90 * 1 + 10 * 3)
    questions = scale_mod.scale_questions(objects)
    names = [n for n, _ in questions if not n.startswith("nx-")]
    clusterip = {
        f"{i['metadata']['name']}.{i['metadata']['namespace']}.svc.cluster.local"
        for i in objects["items"]
        if i["kind"] == "Service" and i["spec"]["clusterIP"] != "None"
    }
    assert set(names) == clusterip and len(clusterip) == 90 and len(names) == 92
    assert sum(n.startswith("nx-") for n, _ in questions) * 5 == len(questions)


# -- every server's rendering holds the same names ----------------------------------------------


def model(data: Any, zones: Any) -> set[Record]:
    return {
        (name, rtype, ip)
        for zone in zones
        for name, (v4, v6) in zone.hosts.items()
        for rtype, ips in (("A", v4), ("AAAA", v6))
        for ip in ips
    }


def from_knot(text: str) -> set[Record]:
    return set(re.findall(r"^(\S+)\. (A|AAAA) (\S+)$", text, re.M))


def from_unbound(text: str) -> set[Record]:
    return set(re.findall(r'local-data: "(\S+)\. \d+ IN (A|AAAA) (\S+)"', text))


def from_dnsmasq(text: str) -> set[Record]:
    out = set()
    for line in re.findall(r"^host-record=(.*)$", text, re.M):
        name, *ips = line.split(",")
        out |= {(name, "AAAA" if ":" in ip else "A", ip) for ip in ips}
    return out


def from_objects(objects: dict[str, Any]) -> set[Record]:
    out = set()
    for item in objects["items"]:
        if item["kind"] == "Service" and item["spec"]["clusterIP"] != "None":
            meta = item["metadata"]
            name = f"{meta['name']}.{meta['namespace']}.svc.cluster.local"
            ips = item["spec"]["clusterIPs"]
            out |= {(name, "AAAA" if ":" in ip else "A", ip) for ip in ips}
    return out


DATASETS = {
    "k8s": lambda: data_mod.k8s_data(50),
    "cache": lambda: data_mod.cache_data(12),
    "kubeadm": lambda: data_mod.kubeadm_data(services=30, externals=12, lines=200),
}


@pytest.mark.parametrize("which", DATASETS)
def test_renderings_hold_equal_name_sets(which: str, tmp_path: Path) -> None:
    data = DATASETS[which]()
    everything, local = model(data, data.zones), model(data, data.local)
    assert everything
    knot = set().union(*(from_knot(data_mod.knot_zone(z)) for z in data.zones))
    assert knot == everything  # knot serves the external names too, from a zone
    forward = ("127.53.1.1", 53) if data.external else None
    unbound = data_mod.unbound_conf(tmp_path, 5300, data.local, forward)
    dnsmasq = data_mod.dnsmasq_conf(5300, data.local, forward, tmp_path / "log")
    assert from_unbound(unbound) == local
    assert from_dnsmasq(dnsmasq) == local
    if data.objects is not None:
        assert from_objects(data.objects) == local
    if data.external is not None:  # unbound and dnsmasq forward the rest
        assert "forward-addr: 127.53.1.1@53" in unbound and "server=127.53.1.1#53" in dnsmasq
        assert everything - local == model(data, [data.external])
    else:
        assert "forward" not in unbound and "server=" not in dnsmasq


@pytest.mark.parametrize("which", DATASETS)
def test_echo_replies_answer_as_the_data_set_says(which: str) -> None:
    data = DATASETS[which]()
    table = data_mod.echo_table(data)
    questions = dict.fromkeys(q for w in data.workloads for q in w.questions)
    assert len(table) == len(questions)
    for name, qtype in questions:
        wire = bytes.fromhex(table[data_mod.question_wire(name, qtype).hex()])
        reply = DNSRecord.parse(b"\x12\x34" + wire)
        rcode, addrs = data.expect(name, qtype)
        assert reply.header.id == 0x1234 and reply.header.rcode == rcode
        assert str(reply.q.qname) == name + "." and reply.q.qtype == data_mod.QTYPES[qtype]
        got = sorted(str(ipaddress.ip_address(str(rr.rdata))) for rr in reply.rr)
        assert got == sorted(addrs)
        assert bool(reply.auth) == (not addrs)  # SOA for NXDOMAIN and NODATA


def test_dnsd_corefiles(tmp_path: Path) -> None:
    objects = tmp_path / "objects.json"
    k8s = data_mod.dnsd_corefile(data_mod.k8s_data(5), 5301, objects, "")
    assert f"objects {objects}" in k8s and "kubernetes cluster.local {" in k8s
    cache = data_mod.dnsd_corefile(data_mod.cache_data(5), 5301, objects, "127.53.1.1:53")
    assert "cache 300" in cache and "forward . 127.53.1.1:53" in cache
    kubeadm = data_mod.kubeadm_data(services=10, externals=5, lines=20)
    text = data_mod.dnsd_corefile(kubeadm, 5301, objects, "127.53.1.1:53", (5302, 5303, 5304))
    assert f"forward . {tmp_path / 'resolv.conf'}" in text
    assert "prometheus 127.0.0.1:5304" in text and "reload" in text


def test_startup_corefile_changes_only_ports_and_the_objects_path() -> None:
    original = (ROOT / "Corefile.example").read_text()
    ports = {"dns": 5310, "health": 5311, "ready": 5312, "metrics": 5313}
    text = scale_mod.startup_corefile(original, ROOT / "examples", ports)
    assert ".:5310 {\n    bind 127.0.0.1\n" in text
    assert "health 127.0.0.1:5311 {" in text and "ready 127.0.0.1:5312\n" in text
    assert "prometheus 127.0.0.1:5313\n" in text
    assert f"objects {ROOT / 'examples'}/cluster.yaml\n" in text
    kept = [ln for ln in original.splitlines() if not ln.startswith("#")]
    changed = [ln for ln in kept if ln not in text.splitlines()]
    assert changed == [
        ".:1053 {",
        "    health {",
        "    ready",
        "    prometheus localhost:9153",
        "        objects examples/cluster.yaml",
    ]
    with pytest.raises(ValueError, match="'ready' not found once"):
        scale_mod.startup_corefile(original.replace("    ready\n", ""), ROOT, ports)


# -- dnsperf output -----------------------------------------------------------------------------

SUMMARY = """DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 15353 -d q -l 2 -c 10 -q 100
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         443170
  Queries completed:    443070 (99.98%)
  Queries lost:         100 (0.02%)

  Response codes:       NOERROR 354456 (80.00%), NXDOMAIN 88614 (20.00%)
  Average packet size:  request 47, response 82
  Run time (s):         2.000095
  Queries per second:   221574.475212

  Average Latency (s):  0.000280 (min 0.000016, max 0.009518)
  Latency StdDev (s):   0.000861
"""

VERBOSE = """> NOERROR svc-0.default.svc.cluster.local A 0.000410
> NXDOMAIN nx-4.default.svc.cluster.local A 0.000120
> T svc-9.default.svc.cluster.local A
> NOERROR svc-1.default.svc.cluster.local AAAA 0.002000
"""

# shaped as dnsperf >= 2.12 prints it with -O latency-histogram (src/dnsperf.c print_histogram):
# the answers' histogram, then over TCP the connections' one
HISTOGRAM = """  Latency StdDev (s):   0.000861
  Latency bucket (s):   answer count
  0.000016 - 0.000017:  10
  0.000100 - 0.000103:  80
  0.000500 - 0.000515:  9
  0.004000 - 0.004127:  1

Connection Statistics:

  Connection attempts:  10 (10 successful, 100.00%)
  Latency bucket (s):   connection count
  0.090000 - 0.093000:  10
"""


def test_parse_summary() -> None:
    got = measure.parse_summary(SUMMARY)
    assert (got.qps, got.sent, got.completed, got.lost) == (221574.475212, 443170, 443070, 100)
    assert got.avg_ms == pytest.approx(0.28)
    assert got.rcodes == {"NOERROR": 354456, "NXDOMAIN": 88614}
    with pytest.raises(measure.BenchError, match="Queries per second"):
        measure.parse_summary(SUMMARY.replace("Queries per second", "QPS"))


def test_parse_verbose_lines() -> None:
    assert measure.parse_verbose(SUMMARY + VERBOSE) == pytest.approx([0.41, 0.12, 2.0])
    p50, p99, count = measure.latency_percentiles(SUMMARY + VERBOSE)
    assert (p50, p99, count) == (pytest.approx(0.41), pytest.approx(2.0), 3)


def test_parse_histogram_takes_the_answers_only() -> None:
    buckets = measure.parse_histogram(SUMMARY + HISTOGRAM)
    assert [n for _, _, n in buckets] == [10, 80, 9, 1]
    assert buckets[0] == (pytest.approx(0.016), pytest.approx(0.017), 10)
    assert measure.histogram_percentile(buckets, 0.5) == pytest.approx(0.103)
    assert measure.histogram_percentile(buckets, 0.99) == pytest.approx(0.515)
    assert measure.histogram_percentile(buckets, 1.0) == pytest.approx(4.127)
    # the histogram wins over -v lines when both are there
    assert measure.latency_percentiles(VERBOSE + HISTOGRAM) == (
        pytest.approx(0.103),
        pytest.approx(0.515),
        100,
    )
    assert measure.parse_histogram(SUMMARY) == []
    assert measure.latency_percentiles(SUMMARY) is None


# -- selection, rows, the table, targets --------------------------------------------------------


@pytest.mark.parametrize(
    ("only", "workload", "server", "want"),
    [
        ([], "k8s", "knot", True),
        (["k8s"], "k8s", "knot", True),
        (["k8s"], "cache", "knot", False),
        (["dnsd"], "tcp", "dnsd", True),
        (["dnsd"], "tcp", "echo", False),
        (["k8s/knot"], "k8s", "knot", True),
        (["k8s/knot"], "k8s", "dnsd", False),
        (["*/echo", "scale"], "cache", "echo", True),
        (["*/echo", "scale"], "scale", "dnsd", True),
        (["*/echo", "scale"], "startup", "dnsd", False),
    ],
)
def test_only_filter(only: list[str], workload: str, server: str, want: bool) -> None:
    assert suite.selected(only, workload, server) is want


def row(server: str, workload: str = "k8s", mode: str = "pinned", **kw: Any) -> Any:
    base: dict[str, Any] = {"load": "6s c10 q100", "qps": 1000.0, "cpu_us": 10.0}
    base |= {"avg_ms": 0.5, "lost": 0, "rss_mib": 10.0, "other": 0.5}
    base |= {"share": 0.5 if mode == "capped" else 1.0}
    return report.Row(server=server, workload=workload, mode=mode, **(base | kw))


def test_ratios_are_to_knot_and_echo_of_the_same_workload_and_mode() -> None:
    rows = [
        row("knot", qps=200_000),
        row("echo", qps=100_000),
        row("dnsd", qps=50_000),
        row("knot", mode="capped", qps=100_000),
        row("dnsd", mode="capped", qps=10_000),
        row("dnsd", workload="cache", qps=80_000),
    ]
    report.add_ratios(rows)
    assert [(r.vs_knot, r.vs_echo) for r in rows] == [
        (1.0, 2.0),
        (0.5, 1.0),
        (0.25, 0.5),
        (1.0, None),
        (0.1, None),
        (None, None),
    ]
    assert rows[4].per_core == 20_000 and rows[2].per_core is None


def test_median_row_over_rounds() -> None:
    rounds = [row("dnsd", qps=q, lost=1, p99_ms=p, rate=r) for q, p, r in
              ((100, 0.3, 50), (300, 0.1, 150), (200, 0.2, 100))]  # fmt: skip
    got = report.median_row(rounds)
    assert (got.qps, got.p99_ms, got.rate, got.lost, got.rounds) == (200, 0.2, 100, 3, 3)


def test_table_rendering() -> None:
    r = row("dnsd", qps=14164.4, cpu_us=70.44, p99_ms=0.2281, rate=7082, lost=3)
    r.vs_knot, r.vs_echo = 0.1079, None
    assert report.cells(r) == [
        "dnsd", "k8s", "pinned", "6s c10 q100", "14,164", "-", "70.4", "0.500",
        "0.228 @7,082/s", "3", "10.0", "0.11", "-", "0.5",
    ]  # fmt: skip
    text = report.markdown(["a", "long head"], [["x", "1"], ["wider cell", "2"]])
    assert text.splitlines() == [
        "| a          | long head |",
        "|------------|-----------|",
        "| x          | 1         |",
        "| wider cell | 2         |",
    ]
    assert len(report.TABLE_HEAD) == len(report.cells(r))
    assert report.SUITE_HEAD[3:-1] == report.TABLE_HEAD and report.SUITE_HEAD[-1] == "notes"
    assert report.notes_cell(r) == "-"
    r.notes += ["disturbed (8% other load) in all 3 tries", "3 lost at 7,082/s"]
    assert report.notes_cell(r) == "disturbed (8% other load) in all 3 tries; 3 lost at 7,082/s"


def scale_result(
    services: int, endpoints: int, qps: float, rss_mib: float, synced_mib: float = 0.0
) -> Any:
    """``rss_mib`` after the run (what growth is measured on), ``synced_mib`` before it."""
    return report.ScaleResult(
        services=services,
        endpoints=endpoints,
        objects_mib=1.0,
        first_answer_s=0.5,
        load="6s c10 q100",
        qps=qps,
        cpu_us=70.0,
        avg_ms=7.0,
        lost=0,
        rss_synced_kib=int((synced_mib or rss_mib) * 1024),
        rss_after_kib=int(rss_mib * 1024),
        other=0.0,
    )


def test_targets() -> None:
    rows = [
        row("dnsd", cpu_us=70.0, qps=14_000, p99_ms=0.3, rate=7000),
        row("dnsd", mode="capped", qps=7_000),
        row("knot", mode="capped", qps=190_000),
        row("dnsd", workload="cache", cpu_us=4.0, p99_ms=1.5, rate=120_000),
        row("knot", workload="cache", cpu_us=2.5),  # no capped run: 1e6 / CPU per query
        row("dnsd", workload="kubeadm", mode="capped", qps=21_000),
    ]
    scale = [scale_result(100, 120, 14_000, 46.0), scale_result(50_000, 60_000, 12_000, 146.0, 170)]
    goals = {t.what: t for t in report.targets(rows, scale, [0.4, 0.6, 1.6])}
    assert goals["kubernetes names: server CPU per query"].met is False
    k8s = goals["kubernetes names: QPS per core vs knot's"]
    assert k8s.met is False and k8s.seen.startswith("0.04 (14,000 vs 380,000")
    assert goals["cache hits: server CPU per query"].met is True
    cache = goals["cache hits: QPS per core vs knot's"]
    assert cache.met is True and cache.seen.startswith("0.62 (250,000 vs 400,000")
    assert goals["kubeadm mix: QPS per core"].met is True  # 2 x 21,000
    assert goals["k8s: p99 latency at half the maximum QPS"].met is True
    assert goals["cache: p99 latency at half the maximum QPS"].met is False
    assert goals["tcp: p99 latency at half the maximum QPS"].met is None
    qps = goals["QPS at 50,000 Services vs 100"]
    assert qps.met is False and "-14.3%" in qps.seen
    rss = goals["RSS growth per Service or endpoint"]  # 100 MiB for 109,780 more objects
    assert rss.met is True and rss.seen.startswith("955 B")
    start = goals["first answer for Corefile.example"]
    assert start.met is False and start.seen == "median 0.60 s, max 1.60 s (3 runs)"
    assert report.target_cells(start)[-1] == "no"
    assert report.target_cells(goals["tcp: p99 latency at half the maximum QPS"])[-1] == "-"


def test_scale_cells_against_the_smallest() -> None:
    cells = report.scale_cells(
        [scale_result(100, 120, 14_000, 46.0), scale_result(1000, 1200, 13_300, 48.0)]
    )
    assert cells[0][6] == "1.00" and cells[0][12] == "-"
    assert cells[1][6] == "0.95" and cells[1][12] == f"{2 * 1024 * 1024 / 1980:,.0f}"


def test_rcode_note_flags_a_split_unlike_the_query_file() -> None:
    data = data_mod.k8s_data(10)
    workload = data.workloads[0]

    def run(rcodes: dict[str, int]) -> Any:
        summary = measure.Summary(1.0, sum(rcodes.values()), sum(rcodes.values()), 0, 1.0, rcodes)
        return measure.Run(summary, 1, 1.0, 1.0, 1, 0.0)

    assert suite.rcode_note(run({"NOERROR": 800, "NXDOMAIN": 200}), workload, data) is None
    note = suite.rcode_note(run({"NOERROR": 700, "NXDOMAIN": 200, "SERVFAIL": 100}), workload, data)
    assert note == "rcodes NOERROR 70.0% (file 80.0%), SERVFAIL 10.0% (file 0.0%)"


def test_check_sample_has_each_kind_of_answer() -> None:
    data = data_mod.kubeadm_data(services=30, externals=12, lines=200)
    picked = servers.sample(data, 10)
    kinds = {(data.expect(*q)[0], bool(data.expect(*q)[1])) for q in picked}
    assert kinds == {(0, True), (0, False), (3, False)}
    assert picked == servers.sample(data, 10)
