"""dnsd.encode: EDNS scrubbing and truncation of replies, checked with dnspython."""

from __future__ import annotations

import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest
from dnslib import (
    AAAA,
    CNAME,
    EDNS0,
    MX,
    QTYPE,
    RR,
    TXT,
    A,
    DNSHeader,
    DNSLabel,
    DNSLabelError,
    DNSQuestion,
    DNSRecord,
    EDNSOption,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsd.encode import set_rcode
from dnsd.wire import Query, encode_reply, parse_query

COOKIE = dns.edns.CookieOption(b"\x01\x02\x03\x04\x05\x06\x07\x08", b"")
A_SIZE = 16  # a compressed A record: pointer (2) + fixed fields (10) + address (4)


def query(
    name: str = "Many.Example.org.",
    qtype: str = "A",
    *,
    edns: int = -1,
    do: bool = False,
    payload: int = 1232,
    options: list[dns.edns.Option] | None = None,
) -> Query:
    msg = dns.message.make_query(
        name, qtype, use_edns=edns, want_dnssec=do, payload=payload, options=options
    )
    return parse_query(msg.to_wire())


def reply(q: Query, answers: int = 0, *, extra: int = 0) -> DNSRecord:
    """A dnslib reply to ``q`` with ``answers`` A records and ``extra`` additional A records."""
    header = DNSHeader(id=q.id, qr=1, aa=1, rd=int(q.rd))
    msg = DNSRecord(header, q=DNSQuestion(DNSLabel(list(q.labels)), q.qtype, q.qclass))
    for i in range(answers):
        msg.add_answer(
            RR(DNSLabel(list(q.labels)), QTYPE.A, rdata=A(f"10.0.{i // 256}.{i % 256}"), ttl=5)
        )
    for i in range(extra):
        msg.add_ar(RR(f"ns{i}.example.org.", QTYPE.A, rdata=A(f"192.0.2.{i % 256}"), ttl=5))
    return msg


def check(out: bytes, q: Query, max_size: int) -> dns.message.Message:
    """Invariants of every encoded reply; returns it parsed by dnspython."""
    assert type(out) is bytes
    assert len(out) <= min(max(max_size, 512), 65535)
    parsed = dns.message.from_wire(out)
    assert parsed.id == q.id
    assert out[12 : 12 + len(q.question)] == q.question  # question kept, original case
    assert (parsed.edns >= 0) == q.edns
    if q.edns:
        assert parsed.edns == 0
        assert parsed.payload == max(512, q.udp_size)
        assert bool(parsed.ednsflags & dns.flags.DO) == q.do
        assert parsed.ednsflags & 0x7FFF == 0
        # the OPT is the last record: the message ends with it
        opt_len = 11 + sum(4 + len(o.to_wire()) for o in parsed.options)
        assert out[-opt_len : -opt_len + 3] == b"\x00\x00\x29"
    return parsed


def count(parsed: dns.message.Message, section: str) -> int:
    return sum(len(rrset) for rrset in getattr(parsed, section))


# EDNS


def test_no_edns_no_opt() -> None:
    q = query()
    parsed = check(encode_reply(reply(q, 1), q, 512), q, 512)
    assert count(parsed, "answer") == 1
    assert not parsed.flags & dns.flags.TC


def test_plugin_opt_removed_when_query_had_none() -> None:
    q = query()
    msg = reply(q, 1)
    msg.add_ar(EDNS0(udp_len=4096, flags="do", opts=[EDNSOption(3, b"nsid")]))
    out = encode_reply(msg, q, 512)
    parsed = check(out, q, 512)
    assert parsed.edns == -1 and out[10:12] == b"\x00\x00"


@pytest.mark.parametrize(
    ("payload", "do", "want_payload"),
    [(1232, False, 1232), (4096, True, 4096), (100, True, 512), (512, False, 512)],
)
def test_edns_opt_added(payload: int, do: bool, want_payload: int) -> None:
    q = query(edns=0, do=do, payload=payload, options=[COOKIE])
    parsed = check(encode_reply(reply(q, 1), q, 65535), q, 65535)
    assert parsed.payload == want_payload
    assert bool(parsed.ednsflags & dns.flags.DO) == do
    assert not parsed.options  # the query's cookie is not echoed


def test_plugin_opt_options_kept_and_flags_scrubbed() -> None:
    q = query(edns=0)
    msg = reply(q, 1)
    msg.add_ar(EDNS0(udp_len=4096, version=1, flags="do", opts=[EDNSOption(3, b"dnsd-1")]))
    parsed = check(encode_reply(msg, q, 1232), q, 1232)
    assert [(o.otype, o.to_wire()) for o in parsed.options] == [(3, b"dnsd-1")]
    assert (parsed.edns, parsed.payload, parsed.ednsflags) == (0, 1232, 0)
    assert len(parsed.additional) == 0


def test_one_opt_even_if_plugin_added_two() -> None:
    q = query(edns=0, do=True)
    msg = reply(q, 1)
    msg.add_ar(EDNS0(udp_len=512))
    msg.add_ar(EDNS0(udp_len=512))
    out = encode_reply(msg, q, 1232)
    check(out, q, 1232)
    assert struct.unpack("!H", out[10:12])[0] == 1


@pytest.mark.parametrize(("edns", "want"), [(0, 23), (-1, 23 & 0x0F)])
def test_extended_rcode(edns: int, want: int) -> None:
    q = query(edns=edns)
    msg = reply(q)
    set_rcode(msg, 23)  # BADCOOKIE
    parsed = check(encode_reply(msg, q, 512), q, 512)
    assert parsed.rcode() == want


def test_set_rcode_updates_existing_opt() -> None:
    q = query(edns=0)
    msg = reply(q)
    msg.add_ar(EDNS0(udp_len=1232, opts=[EDNSOption(10, b"12345678" * 2)]))
    set_rcode(msg, dns.rcode.BADVERS)
    parsed = check(encode_reply(msg, q, 512), q, 512)
    assert parsed.rcode() == dns.rcode.BADVERS
    assert len(parsed.options) == 1


# truncation


@pytest.mark.parametrize(
    ("records", "max_size", "edns", "payload"),
    [
        pytest.param(60, 512, -1, 0, id="60-at-512-plain"),
        pytest.param(60, 512, 0, 512, id="60-at-512-edns"),
        pytest.param(100, 1232, 0, 1232, id="100-at-1232-edns"),
        pytest.param(60, 100, -1, 0, id="below-512-counts-as-512"),
    ],
)
def test_truncation_keeps_whole_records(
    records: int, max_size: int, edns: int, payload: int
) -> None:
    q = query(edns=edns, payload=payload or 1232)
    out = encode_reply(reply(q, records), q, max_size)
    parsed = check(out, q, max_size)
    kept = count(parsed, "answer")
    assert parsed.flags & dns.flags.TC
    assert 0 < kept < records
    assert len(out) + A_SIZE > max(max_size, 512)  # one more would not have fitted
    assert struct.unpack("!HHHH", out[4:12]) == (1, kept, 0, 1 if edns == 0 else 0)


def test_60_records_fit_1232() -> None:
    """60 A records compress to about 1 KB: a 1232-byte client gets them all."""
    q = query(edns=0, payload=1232)
    out = encode_reply(reply(q, 60), q, 1232)
    parsed = check(out, q, 1232)
    assert count(parsed, "answer") == 60 and not parsed.flags & dns.flags.TC
    assert len(out) < 1100


def test_tcp_size_no_truncation() -> None:
    q = query(edns=0)
    out = encode_reply(reply(q, 60), q, 65535)
    parsed = check(out, q, 65535)
    assert count(parsed, "answer") == 60
    assert not parsed.flags & dns.flags.TC


def test_fits_exactly_is_not_truncated() -> None:
    q = query()
    full = encode_reply(reply(q, 40), q, 65535)
    assert len(full) > 512
    exact = encode_reply(reply(q, 40), q, len(full))
    assert exact == full


def test_additional_overflow_sets_tc() -> None:
    q = query(edns=0, payload=512)
    out = encode_reply(reply(q, 5, extra=40), q, 512)
    parsed = check(out, q, 512)
    assert parsed.flags & dns.flags.TC
    assert count(parsed, "answer") == 5
    assert 0 < count(parsed, "additional") < 40


def test_cut_in_authority_drops_later_sections() -> None:
    """Like miekg's Truncate: after the first record that does not fit, nothing more."""
    q = query()
    msg = reply(q, 1)
    msg.add_auth(RR("example.org.", QTYPE.TXT, rdata=TXT([b"x" * 250, b"y" * 250]), ttl=5))
    msg.add_ar(RR("a.example.org.", QTYPE.A, rdata=A("192.0.2.1"), ttl=5))
    parsed = check(encode_reply(msg, q, 512), q, 512)
    assert parsed.flags & dns.flags.TC
    assert (count(parsed, "answer"), count(parsed, "authority"), count(parsed, "additional")) == (
        1,
        0,
        0,
    )


def test_tc_already_set_is_kept() -> None:
    q = query()
    msg = reply(q, 1)
    msg.header.tc = 1
    assert check(encode_reply(msg, q, 512), q, 512).flags & dns.flags.TC


def test_question_only_when_nothing_fits() -> None:
    q = query(edns=0, payload=512)
    msg = reply(q)
    msg.add_answer(RR("example.org.", QTYPE.TXT, rdata=TXT([b"z" * 255] * 3), ttl=5))
    parsed = check(encode_reply(msg, q, 512), q, 512)
    assert parsed.flags & dns.flags.TC and count(parsed, "answer") == 0


def test_huge_plugin_opt_is_stripped_to_fit() -> None:
    q = query(edns=0, payload=512)
    msg = reply(q, 1)
    msg.add_ar(EDNS0(opts=[EDNSOption(65001, b"o" * 600)]))
    out = encode_reply(msg, q, 512)
    parsed = check(out, q, 512)
    assert not parsed.options


def test_large_tcp_reply_compresses_past_16k() -> None:
    """Compression targets past offset 0x3FFF cannot be pointed to; names stay right."""
    q = query("big.example.org.", "CNAME")
    msg = reply(q)
    names = [f"host-{i}.sub{i % 7}.example.org." for i in range(1500)]
    for n in names:
        msg.add_answer(RR(n, QTYPE.CNAME, rdata=CNAME(f"t.{n}"), ttl=5))
    out = encode_reply(msg, q, 65535)
    assert len(out) > 0x4000
    parsed = check(out, q, 65535)
    got = [(str(rrset.name), str(rrset[0].target)) for rrset in parsed.answer]
    assert got == [(n, f"t.{n}") for n in names]


def test_binary_labels_round_trip() -> None:
    wire = dns.message.make_query(dns.name.Name([b"\xff\x00", b"x y", b""]), "A").to_wire()
    q = parse_query(wire)
    parsed = check(encode_reply(reply(q, 2), q, 512), q, 512)
    assert parsed.answer[0].name.labels[:2] == (b"\xff\x00", b"x y")


# properties

# Legal owners only: with "example.org." (13 octets) and an MX target's "mx65535."
# prefix (8), the generated labels may take at most 255 - 21 = 234 octets.
NAMES = st.lists(st.sampled_from(["a", "b", "Cc", "dd-e", "x" * 40, "y" * 63]), max_size=4).filter(
    lambda labels: sum(len(label) + 1 for label in labels) <= 234
)


def _record(kind: int, labels: list[str], n: int) -> RR:
    owner = ".".join([*labels, "example.org."])
    if kind == 0:
        return RR(owner, QTYPE.A, rdata=A(f"10.1.{n % 256}.{n // 256 % 256}"), ttl=n)
    if kind == 1:
        return RR(owner, QTYPE.AAAA, rdata=AAAA(f"2001:db8::{n:x}"), ttl=n)
    if kind == 2:
        return RR(owner, QTYPE.TXT, rdata=TXT([b"t" * (n % 256)]), ttl=n)
    if kind == 3:
        return RR(owner, QTYPE.MX, rdata=MX(f"mx{n}.{owner}", n), ttl=n)
    return RR(owner, QTYPE.CNAME, rdata=CNAME(f"c.{owner}"), ttl=n)


RECORDS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 4), NAMES, st.integers(0, 65535)), max_size=80
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    records=RECORDS,
    edns=st.booleans(),
    payload=st.integers(0, 65535),
    max_size=st.integers(0, 70000),
    do=st.booleans(),
)
def test_encode_reply_always_parses_and_fits(
    records: list[tuple[int, int, list[str], int]],
    edns: bool,
    payload: int,
    max_size: int,
    do: bool,
) -> None:
    q = query("Q.example.org.", "A", edns=0 if edns else -1, payload=payload, do=do)
    msg = reply(q)
    sections = (msg.rr, msg.auth, msg.ar)
    for section, kind, labels, n in records:
        sections[section].append(_record(kind, labels, n))
    msg.set_header_qa()
    out = encode_reply(msg, q, max_size)
    parsed = check(out, q, max_size)
    got = DNSRecord.parse(out)
    kept = [*got.rr, *got.auth, *[rr for rr in got.ar if rr.rtype != QTYPE.OPT]]
    original = [*msg.rr, *msg.auth, *msg.ar]
    assert [str(rr) for rr in kept] == [str(rr) for rr in original[: len(kept)]]
    assert bool(parsed.flags & dns.flags.TC) == (len(kept) < len(original))


def test_encode_reply_refuses_an_owner_over_255_octets() -> None:
    """A plugin's illegal name is refused (the server turns it into SERVFAIL and a log line)."""
    q = query("Q.example.org.", "A")
    msg = reply(q)
    msg.rr.append(_record(0, ["y" * 63] * 4, 1))
    msg.set_header_qa()
    with pytest.raises(DNSLabelError):
        encode_reply(msg, q, 512)
