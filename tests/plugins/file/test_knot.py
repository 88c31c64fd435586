"""*file* against Knot DNS: knotd serves the same zone file, and both answer every question of the
handler table over UDP and TCP. Compared: rcode, AA, and the answer, authority and additional
sections as sets of records (order ignored, names compared without case).

Where the two are meant to differ (dnsd follows CoreDNS there), :data:`DIFFERENCES` says how,
and the test checks that the difference is exactly that:

- positive answers: dnsd, as CoreDNS, puts the zone's NS records in the authority section; knot
  sends a minimal response without them;
- a CNAME whose in-zone target does not exist or lacks the type: dnsd, as CoreDNS, answers
  NOERROR with the CNAME and the NS records; knot sets the rcode and the SOA the end of the chain
  calls for (NXDOMAIN or NODATA, RFC 6604);
- ANY: knot answers with one RRset (RFC 8482, even over TCP); dnsd with every record of the name
  (the *any* plugin in front gives RFC 8482 answers).

knotd runs in the foreground as the current user, with its run folder, databases and the zone
file in the test's tmp_path, on a loopback port of its own; it is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import pytest

from dnsd.testing import TestServer, free_port, serve_corefile
from tests.plugins.file.test_handler import CASES, Case
from tests.plugins.file.zones import EXAMPLE_ORG

pytestmark = pytest.mark.skipif(shutil.which("knotd") is None, reason="knotd is not installed")

KNOT_CONF = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{dir}/db"
template:
  - id: default
    storage: "{dir}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: example.org
    file: "example.org.zone"
log:
  - target: stderr
    any: warning
"""

#: Case id -> how dnsd differs from knot there (see the module docstring).
DIFFERENCES = {
    "CNAME-target-nodata": "knot: NODATA authority (the SOA)",
    "CNAME-dangling": "knot: NXDOMAIN with the SOA",
    "ANY-every-record": "knot: one RRset (RFC 8482)",
}
QUESTIONS = [
    c for c in CASES if c.variant == "default" and not c.passed and c.qtype not in ("AXFR", "IXFR")
]
APEX_NS = {"example.org. 3600 in ns ns1.example.org.", "example.org. 3600 in ns ns2.example.net."}


async def answering(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Wait until the server on ``port`` answers the zone's SOA (knotd loads it after binding)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    query = dns.message.make_query("example.org.", "SOA")
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"knotd exited with {proc.returncode}")
        try:
            reply = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=0.2)
            if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                return
        except (TimeoutError, dns.exception.Timeout, OSError):
            pass
        if loop.time() > deadline:
            raise TimeoutError("knotd did not answer in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def knot(tmp_path: Path) -> AsyncIterator[int]:
    (tmp_path / "example.org.zone").write_text(EXAMPLE_ORG)
    port = free_port()
    conf = tmp_path / "knot.conf"
    conf.write_text(KNOT_CONF.format(dir=tmp_path, port=port))
    log = (tmp_path / "knotd.log").open("wb")
    proc = subprocess.Popen(["knotd", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        await answering(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
async def dnsd(tmp_path: Path) -> AsyncIterator[TestServer]:
    zone = tmp_path / "dnsd.example.org.zone"
    zone.write_text(EXAMPLE_ORG)
    async with serve_corefile(f"example.org {{\n    file {zone}\n}}\n") as srv:
        yield srv


def records(section: list[Any]) -> set[str]:
    return {line for rrset in section for line in rrset.to_text().lower().splitlines()}


def view(reply: dns.message.Message) -> dict[str, Any]:
    return {
        "rcode": dns.rcode.to_text(reply.rcode()),
        "aa": bool(reply.flags & dns.flags.AA),
        "answer": records(reply.answer),
        "authority": records(reply.authority),
        "additional": records(reply.additional),
    }


async def ask(port: int, case: Case, tcp: bool) -> dict[str, Any]:
    query = dns.message.make_query(case.qname, case.qtype, want_dnssec=False)
    query.flags &= ~dns.flags.RD
    if tcp:
        reply = await dns.asyncquery.tcp(query, "127.0.0.1", port=port, timeout=2)
    else:
        reply = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=2)
    return view(reply)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_same_answers_as_knot(knot: int, dnsd: TestServer, tcp: bool) -> None:
    compared = 0
    for case in QUESTIONS:
        ours, theirs = await ask(dnsd.port, case, tcp), await ask(knot, case, tcp)
        where = f"{case.id} ({case.qname} {case.qtype})"
        apex_ns = case.qname == "example.org." and case.qtype == "NS"
        if ours["answer"] and ours["rcode"] == "NOERROR" and ours["aa"] and not apex_ns:
            # Positive answers: CoreDNS's NS records in the authority section, knot's none.
            assert ours["authority"] == APEX_NS, where
            ours["authority"] = set()
        if case.id in DIFFERENCES:
            check_difference(case.id, ours, theirs)
            continue
        assert ours == theirs, where
        compared += 1
    assert compared == len(QUESTIONS) - len(DIFFERENCES)


def check_difference(case_id: str, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """The documented difference, and nothing else."""
    soa = {r for r in theirs["authority"] if " soa " in r}
    if case_id == "ANY-every-record":
        assert len(theirs["answer"]) == 1 and theirs["answer"] < ours["answer"]
        assert {**ours, "answer": None} == {**theirs, "answer": None}
        return
    assert ours["answer"] == theirs["answer"] and ours["aa"] == theirs["aa"]
    assert ours["authority"] == set() and theirs["authority"] == soa and len(soa) == 1
    want = "NXDOMAIN" if case_id == "CNAME-dangling" else "NOERROR"
    assert (ours["rcode"], theirs["rcode"]) == ("NOERROR", want)
