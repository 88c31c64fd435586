"""ANY as RFC 8482 allows, and forwarding only for the zones the Corefile forwards.

ANY: with *any* every ANY question gets the one HINFO record of RFC 8482; without it the zone's
plugin answers as CoreDNS does (*file* returns the name's records), and the reply still fits the
client's size (no amplification past it). Forwarding: a fake upstream counts what reaches it
while names outside the forwarded zones are asked: a server block for another zone, ``forward
FROM`` narrower than the block, and ``except``.
"""

from __future__ import annotations

from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import serve_corefile
from tests.plugins.forward.fakes import FakeUpstream, answer
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability

ZONE = (
    "$ORIGIN zone.test.\n$TTL 60\n@ IN SOA ns hostmaster 1 7200 3600 1209600 60\n"
    "@ IN NS ns\nns IN A 192.0.2.53\n"
    + "".join(f"big IN A 10.3.0.{i + 1}\n" for i in range(60))
    + 'big IN TXT "a long text record to make ANY bigger than the question by far"\n'
)


@pytest.mark.parametrize("with_any", [True, False], ids=["any", "no-any"])
async def test_any_questions(tmp_path: Path, with_any: bool) -> None:
    zone = tmp_path / "zone.db"
    zone.write_text(ZONE)
    front = "    any\n" if with_any else ""
    problems: list[str] = []
    sizes: list[int] = []
    async with serve_corefile(f"zone.test {{\n{front}    file {zone}\n}}\n") as srv:
        for tcp in (False, True):
            for name in ("big.zone.test", "ns.zone.test", "missing.zone.test"):
                reply = await srv.query(name, "ANY", tcp=tcp)
                sizes.append(len(reply.to_wire()))
                types = {rrset.rdtype for rrset in reply.answer}
                if with_any:
                    hinfo = [(rd.cpu, rd.os) for rrset in reply.answer for rd in rrset]
                    if types != {dns.rdatatype.HINFO} or hinfo != [
                        (b"ANY obsoleted", b"See RFC 8482")
                    ]:
                        problems.append(f"{name} tcp={tcp}: {reply.answer}")
                elif reply.rcode() == dns.rcode.SERVFAIL:
                    problems.append(f"{name} tcp={tcp}: SERVFAIL")
                elif not tcp and len(reply.to_wire()) > 512:
                    problems.append(f"{name}: {len(reply.to_wire())} B over UDP without EDNS")
    mode = "with any: HINFO 8482" if with_any else "without any: file answers the name's RRsets"
    record(
        Figures(
            scenario=f"ANY questions {'with' if with_any else 'without'} the any plugin",
            group="abuse",
            sent=6,
            answered=6,
            wrong=len(problems),
            lost=0,
            notes=f"{mode}; reply sizes {min(sizes)}-{max(sizes)} B (UDP within 512 B, TC if cut)",
        )
    )
    assert problems == []


async def test_only_forwarded_zones_reach_the_upstream() -> None:
    async with FakeUpstream(answer()) as fake:
        text = (
            f"fwd.test {{\n    forward . {fake.addr}\n}}\n"
            f"narrow.test {{\n    forward sub.narrow.test {fake.addr}\n    whoami\n}}\n"
            f"except.test {{\n    forward . {fake.addr} {{\n        except in.except.test\n"
            f"    }}\n    whoami\n}}\n"
        )
        async with serve_corefile(text) as srv:
            outside = [
                ("www.other.test", dns.rcode.REFUSED),  # no server block: REFUSED
                ("example.com", dns.rcode.REFUSED),
                ("www.narrow.test", dns.rcode.NOERROR),  # whoami, not forward
                ("x.in.except.test", dns.rcode.NOERROR),  # excepted: whoami
            ]
            inside = ["www.fwd.test", "a.sub.narrow.test", "out.except.test"]
            wrong = 0
            for name, rcode in outside:
                reply = await srv.query(name, "A")
                wrong += reply.rcode() != rcode
            leaked = fake.count()
            for name in inside:
                reply = await srv.query(name, "A")
                wrong += reply.rcode() != dns.rcode.NOERROR or not reply.answer
            forwarded = sorted(s.qname for s in fake.seen if s.qtype != "NS")
    record(
        Figures(
            scenario="Names outside the forwarded zones are not sent upstream",
            group="abuse",
            sent=len(outside) + len(inside),
            answered=len(outside) + len(inside),
            wrong=wrong,
            lost=0,
            notes=f"upstream saw {leaked} of {len(outside)} outside names, "
            f"{len(forwarded)} of {len(inside)} forwarded ones",
        )
    )
    assert leaked == 0
    assert forwarded == sorted(f"{n}." for n in inside)
    assert wrong == 0
