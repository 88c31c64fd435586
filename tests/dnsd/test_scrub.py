"""scrub_wire: an encoded reply made right for its client without dnslib."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from dnsd.scrub import scrub_wire
from dnsd.wire import Query, parse_query


def query(edns: int = -1, payload: int = 1232, do: bool = False) -> Query:
    q = dns.message.make_query("Example.org", "A", use_edns=edns, payload=payload)
    if do:
        q.want_dnssec(True)
    return parse_query(q.to_wire())


def upstream_reply(records: int = 2, edns: int = -1, rcode: int = 0, extra: bool = True) -> bytes:
    q = dns.message.make_query("example.org", "A", use_edns=edns, payload=4096)
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    ips = [f"192.0.2.{i}" for i in range(1, records + 1)]
    if ips:
        r.answer.append(dns.rrset.from_text("example.org.", 60, "IN", "A", *ips))
    if extra:
        r.additional.append(dns.rrset.from_text("ns.example.org.", 60, "IN", "A", "192.0.2.53"))
    r.id = 999
    return r.to_wire()


CASES = [
    # (id, client edns, upstream edns, upstream rcode, want OPT)
    ("plain-plain", -1, -1, 0, False),
    ("edns-plain", 0, -1, 0, True),
    ("plain-edns", -1, 0, 0, False),  # the upstream's OPT never reaches a client without EDNS
    ("edns-edns", 0, 0, 0, True),
    ("badcookie-kept", 0, 0, 23, True),  # extended rcode bits of the upstream's OPT survive
]


@pytest.mark.parametrize(("client", "up", "rcode", "opt"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_scrub(client: int, up: int, rcode: int, opt: bool) -> None:
    q = query(edns=client, do=True if client >= 0 else False)
    raw = upstream_reply(edns=up, rcode=rcode)
    out = scrub_wire(raw, q, 65535)
    assert out is not None
    msg = dns.message.from_wire(out)
    assert msg.id == dns.message.from_wire(q.wire).id
    assert (msg.edns >= 0) is opt
    assert len(msg.answer[0]) == 2
    assert [str(r.name) for r in msg.additional] == ["ns.example.org."]
    if opt:
        assert msg.payload == 1232
        assert bool(msg.ednsflags & dns.flags.DO)
        assert msg.rcode() == (rcode if up >= 0 else rcode & 0xF)


def test_too_large_goes_to_the_full_path() -> None:
    raw = upstream_reply(records=60)
    assert scrub_wire(raw, query(), 512) is None
    assert scrub_wire(raw, query(), 4096) is not None


@pytest.mark.parametrize("cut", [5, 13, 20, 30, 45])
def test_truncated_input_is_refused(cut: int) -> None:
    raw = upstream_reply()
    assert scrub_wire(raw[:cut], query(), 65535) is None


@pytest.mark.parametrize("edns", [-1, 0])
def test_reply_without_additional_records(edns: int) -> None:
    q = query(edns=edns)
    out = scrub_wire(upstream_reply(extra=False), q, 65535)
    assert out is not None
    msg = dns.message.from_wire(out)
    assert msg.id == dns.message.from_wire(q.wire).id
    assert (msg.edns >= 0) is (edns >= 0)
    assert not msg.additional and len(msg.answer[0]) == 2
    assert scrub_wire(upstream_reply(records=60, extra=False), q, 512) is None
