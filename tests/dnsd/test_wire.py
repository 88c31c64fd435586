"""dnsd.wire: the validating query parser and the replies to rejected queries.

dnspython builds the good queries and is the oracle for every reply we send.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsd.wire import (
    BADVERS,
    DROP,
    FORMERR,
    NOTIMP,
    BadQuery,
    Query,
    class_name,
    error_reply,
    name_text,
    parse_query,
    rcode_name,
    reply_flags,
    type_name,
)
from tests.corpus import CORPUS, EXPECTED, QID

FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def make_query(
    qname: str | dns.name.Name,
    qtype: str = "A",
    *,
    edns: int = -1,
    do: bool = False,
    payload: int = 1232,
    options: list[dns.edns.Option] | None = None,
    rd: bool = True,
    cd: bool = False,
    qid: int = 1234,
) -> bytes:
    """A query made by dnspython."""
    msg = dns.message.make_query(
        qname, qtype, use_edns=edns, want_dnssec=do, payload=payload, options=options
    )
    msg.id = qid
    msg.flags = (dns.flags.RD if rd else 0) | (dns.flags.CD if cd else 0)
    return msg.to_wire()


@dataclass
class Good:
    """A valid query and every field parse_query must report."""

    id: str
    wire: bytes
    qname: str
    labels: tuple[bytes, ...]
    qtype: int = 1
    qclass: int = 1
    edns: bool = False
    do: bool = False
    udp_size: int = 0
    options: tuple[tuple[int, bytes], ...] = ()
    rd: bool = True
    cd: bool = False
    flags: int = 0x0100
    extra: dict[str, object] = field(default_factory=dict)


ECS = dns.edns.ECSOption("192.0.2.0", 24)
COOKIE = dns.edns.CookieOption(b"\x01\x02\x03\x04\x05\x06\x07\x08", b"")
BINARY = dns.name.Name([b"\x00\xff\x7f", b"Bin", b""])

GOOD = [
    Good("a", make_query("example.org.", "A"), "example.org.", (b"example", b"org")),
    Good(
        "aaaa-0x20",
        make_query("ExAmPlE.oRg.", "AAAA"),
        "ExAmPlE.oRg.",
        (b"ExAmPlE", b"oRg"),
        qtype=28,
    ),
    Good("any", make_query("example.org.", "ANY"), "example.org.", (b"example", b"org"), qtype=255),
    Good("root-ns", make_query(".", "NS"), ".", (), qtype=2),
    Good(
        "edns-do",
        make_query("svc.cluster.local.", "SRV", edns=0, do=True, payload=4096),
        "svc.cluster.local.",
        (b"svc", b"cluster", b"local"),
        qtype=33,
        edns=True,
        do=True,
        udp_size=4096,
    ),
    Good(
        "edns-small-size",
        make_query("a.b.", "A", edns=0, payload=100),
        "a.b.",
        (b"a", b"b"),
        edns=True,
        udp_size=100,
    ),
    Good(
        "edns-cookie-ecs",
        make_query("example.org.", "A", edns=0, options=[COOKIE, ECS]),
        "example.org.",
        (b"example", b"org"),
        edns=True,
        udp_size=1232,
        options=((10, b"\x01\x02\x03\x04\x05\x06\x07\x08"), (8, b"\x00\x01\x18\x00\xc0\x00\x02")),
    ),
    Good(
        "no-rd-cd",
        make_query("example.org.", "TXT", rd=False, cd=True),
        "example.org.",
        (b"example", b"org"),
        qtype=16,
        rd=False,
        cd=True,
        flags=0x0010,
    ),
    Good(
        "escaped-chars",
        make_query(dns.name.Name([b"a.b", b"q\"(x);@'\\", b"sp ace", b"org", b""]), "A"),
        "a\\.b.q\\\"\\(x\\)\\;\\@\\'\\\\.sp\\ ace.org.",
        (b"a.b", b"q\"(x);@'\\", b"sp ace", b"org"),
    ),
    Good(
        "binary-label", make_query(BINARY, "A"), "\\000\\255\\127.Bin.", (b"\x00\xff\x7f", b"Bin")
    ),
    Good(
        "chaos-class",
        dns.message.make_query("version.bind.", "TXT", "CH").to_wire(),
        "version.bind.",
        (b"version", b"bind"),
        qtype=16,
        qclass=3,
    ),
    Good(
        "unknown-type",
        make_query("example.org.", "TYPE65280"),
        "example.org.",
        (b"example", b"org"),
        qtype=65280,
    ),
]


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_parse_good_query(case: Good) -> None:
    q = parse_query(case.wire)
    assert type(q) is Query
    assert q.wire is case.wire
    assert q.id == struct.unpack("!H", case.wire[:2])[0]
    assert q.flags == case.flags
    assert q.opcode == 0
    assert q.qname == case.qname
    assert q.name_lower == case.qname.lower()
    assert q.labels == case.labels
    assert (q.qtype, q.qclass) == (case.qtype, case.qclass)
    qname_wire = b"".join(bytes((len(x),)) + x for x in case.labels) + b"\x00"
    assert q.question == qname_wire + struct.pack("!HH", case.qtype, case.qclass)
    assert (q.edns, q.do, q.udp_size, q.options) == (
        case.edns,
        case.do,
        case.udp_size,
        case.options,
    )
    assert q.edns_version == 0
    assert (q.rd, q.cd) == (case.rd, case.cd)
    if case.edns:
        assert case.wire[q.opt_size_offset : q.opt_size_offset + 2] == struct.pack("!H", q.udp_size)
        assert case.wire[q.opt_size_offset - 3 : q.opt_size_offset] == b"\x00\x00\x29"
    else:
        assert q.opt_size_offset == -1


def test_parse_twice_uses_the_same_answer() -> None:
    """The second parse of a name comes from the name cache; it must be identical."""
    wire = make_query("Twice.Example.", "A")
    first, second = parse_query(wire), parse_query(wire)
    assert (first.qname, first.labels, first.question) == (
        second.qname,
        second.labels,
        second.question,
    )


def test_compressed_question_is_reencoded() -> None:
    """A question name may point back into the header; ``question`` is then uncompressed."""
    head = struct.pack("!HHHHHH", 0, 0x0100, 1, 0, 0, 0)
    q = parse_query(head + b"\xc0\x00" + struct.pack("!HH", 1, 1))  # ID byte 0 = root
    assert (q.qname, q.labels) == (".", ())
    assert q.question == b"\x00\x00\x01\x00\x01"
    # "www" then a pointer to offset 4, where QDCOUNT's first byte (0) ends the name
    q = parse_query(head + b"\x03www\xc0\x04" + struct.pack("!HH", 1, 1))
    assert (q.qname, q.labels) == ("www.", (b"www",))
    assert q.question == b"\x03www\x00\x00\x01\x00\x01"


def test_subclass_gets_filled() -> None:
    class Sub(Query):
        __slots__ = ("extra",)

    q = parse_query(make_query("example.org.", "A"), Sub)
    assert type(q) is Sub
    assert q.qname == "example.org."


def test_trailing_bytes_are_accepted() -> None:
    q = parse_query(make_query("example.org.", "A", edns=0) + b"junk")
    assert q.edns and q.qname == "example.org."


def test_answer_and_additional_records_are_framed() -> None:
    """A query with an answer record (like NOTIFY's SOA) and a non-OPT additional parses."""
    head = struct.pack("!HHHHHH", 7, 0x0100, 1, 1, 0, 2)
    question = b"\x07example\x03org\x00\x00\x01\x00\x01"
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x7f\x00\x00\x01"
    opt = b"\x00" + struct.pack("!HHIH", 41, 1400, 0x8000, 0)
    extra = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 0, 3) + b"\x02hi"
    wire = head + question + answer + extra + opt
    q = parse_query(wire)
    assert (q.edns, q.do, q.udp_size) == (True, True, 1400)
    assert wire[q.opt_size_offset : q.opt_size_offset + 2] == struct.pack("!H", 1400)


def _outcome(data: bytes) -> Query | BadQuery:
    try:
        return parse_query(data)
    except BadQuery as exc:
        return exc


def _check_reply(data: bytes, exc: BadQuery) -> dns.message.Message | None:
    """The reply to a rejected query parses with dnspython and answers that query."""
    if exc.rcode == DROP:
        assert exc.reply is None
        return None
    assert exc.reply is not None
    if (data[2] >> 3) & 0x0F == 5:
        # UPDATE: dnspython reads any UPDATE message as an update, whose zone section must be a
        # SOA; the oracle cannot read our NOTIMP reply, so check its header by hand.
        head = exc.reply
        assert head[:2] == data[:2] and head[2] & 0x80 and (head[2] >> 3) & 0x0F == 5
        assert head[3] & 0x0F == exc.rcode & 0x0F
        return None
    reply = dns.message.from_wire(exc.reply)
    assert reply.id == struct.unpack("!H", data[:2])[0]
    assert reply.flags & dns.flags.QR
    assert reply.rcode() == exc.rcode
    assert reply.opcode() == (data[2] >> 3) & 0x0F
    assert bool(reply.flags & dns.flags.RD) == bool(data[2] & 0x01)
    assert len(reply.question) <= 1
    assert not (reply.answer or reply.authority or reply.additional)
    if reply.edns >= 0:
        assert (reply.edns, reply.payload, reply.ednsflags & 0xFFFF) == (0, 1232, 0)
    return reply


@pytest.mark.parametrize(("case_id", "data"), CORPUS, ids=[c for c, _ in CORPUS])
def test_corpus(case_id: str, data: bytes) -> None:
    outcome = _outcome(data)
    want = EXPECTED[case_id]
    if want is not None:
        assert isinstance(outcome, BadQuery), f"accepted: {outcome!r}"
        assert (outcome.rcode, outcome.reason) == want
    if isinstance(outcome, BadQuery):
        _check_reply(data, outcome)
        assert outcome.reason in REASONS


REASONS = {
    "short-header",
    "response",
    "opcode",
    "qdcount",
    "section-counts",
    "truncated",
    "label-type",
    "label-too-long",
    "name-too-long",
    "bad-pointer",
    "pointer-loop",
    "bad-opt",
    "multiple-opt",
    "badvers",
    "too-large",
}

CORPUS_BY_ID = dict(CORPUS)


@pytest.mark.parametrize(
    ("case_id", "question", "edns"),
    [
        ("opcode-status", True, False),
        ("opcode-notify", True, False),
        ("opcode-15-no-question", False, False),
        ("qdcount-0", False, False),
        ("qdcount-2", True, False),
        ("qdcount-65535", True, False),
        ("ancount-2", True, False),
        ("header-only-qd1", False, False),
        ("pointer-self", False, False),
        ("label-0x40", False, False),
        ("too-large-65536", False, False),
        ("two-opts", True, True),
        ("opt-owner-not-root", True, False),
        ("opt-option-overruns", True, False),
        ("opt-then-bad-record", True, True),
        ("edns-version-1", True, True),
    ],
)
def test_reject_reply(case_id: str, question: bool, edns: bool) -> None:
    data = CORPUS_BY_ID[case_id]
    exc = _outcome(data)
    assert isinstance(exc, BadQuery)
    reply = _check_reply(data, exc)
    assert reply is not None
    if question:
        assert [(str(rrs.name), rrs.rdtype) for rrs in reply.question][0][0] == "example.org."
    else:
        assert not reply.question
    assert (reply.edns >= 0) == edns


def test_notimp_with_valid_opt_echoes_opt() -> None:
    data = bytearray(make_query("example.org.", "SOA", edns=0))
    data[2] |= 4 << 3  # NOTIFY
    exc = _outcome(bytes(data))
    assert isinstance(exc, BadQuery) and (exc.rcode, exc.reason) == (NOTIMP, "opcode")
    reply = _check_reply(bytes(data), exc)
    assert reply is not None and reply.opcode() == dns.opcode.NOTIFY and reply.edns == 0


def test_badvers_reply() -> None:
    data = make_query("example.org.", "A", edns=1, do=True, qid=99)
    exc = _outcome(data)
    assert isinstance(exc, BadQuery) and (exc.rcode, exc.reason) == (BADVERS, "badvers")
    assert exc.reply is not None
    assert exc.reply[3] & 0x0F == 0  # header rcode 0, the 16 is in the OPT
    reply = dns.message.from_wire(exc.reply)
    assert reply.rcode() == dns.rcode.BADVERS
    assert (reply.id, reply.edns, reply.payload, reply.ednsflags & 0xFFFF) == (99, 0, 1232, 0)
    assert str(reply.question[0].name) == "example.org."


def test_formerr_keeps_cd() -> None:
    data = struct.pack("!HHHHHH", QID, 0x0110, 2, 0, 0, 0)
    exc = _outcome(data)
    assert isinstance(exc, BadQuery) and exc.rcode == FORMERR and exc.reply is not None
    assert dns.message.from_wire(exc.reply).flags & dns.flags.CD


# error_reply


def _err(case_id: str, wire: bytes, rcode: int, edns: bool, payload: int, do: bool) -> object:
    return pytest.param(wire, rcode, edns, payload, do, id=case_id)


@pytest.mark.parametrize(
    ("wire", "rcode", "want_edns", "want_payload", "want_do"),
    [
        _err("refused-plain", make_query("a.example.", "A"), 5, False, 0, False),
        _err(
            "servfail-edns",
            make_query("a.example.", "A", edns=0, payload=4096),
            2,
            True,
            4096,
            False,
        ),
        _err("notimp-do", make_query("a.example.", "A", edns=0, do=True), 4, True, 1232, True),
        _err(
            "size-100-as-512",
            make_query("a.example.", "A", edns=0, payload=100),
            5,
            True,
            512,
            False,
        ),
        _err("badcookie-ext-rcode", make_query("a.example.", "A", edns=0), 23, True, 1232, False),
        _err("badvers-no-edns-low-bits", make_query("a.example.", "A"), 16, False, 0, False),
    ],
)
def test_error_reply(
    wire: bytes, rcode: int, want_edns: bool, want_payload: int, want_do: bool
) -> None:
    q = parse_query(wire)
    out = error_reply(q, rcode)
    reply = dns.message.from_wire(out)
    assert reply.id == q.id
    assert reply.flags & dns.flags.QR and reply.flags & dns.flags.RD
    assert str(reply.question[0].name) == "a.example."
    assert (reply.edns == 0) == want_edns
    if want_edns:
        assert reply.rcode() == rcode
        assert reply.payload == want_payload
        assert bool(reply.ednsflags & dns.flags.DO) == want_do
        assert not reply.options
    else:
        assert reply.rcode() == rcode & 0x0F


def test_error_reply_copies_cd_and_case() -> None:
    q = parse_query(make_query("MiXeD.Example.", "AAAA", rd=False, cd=True))
    out = error_reply(q, 5)
    assert out[12:] == q.question
    assert reply_flags(out) == "qr,cd"


# names


@pytest.mark.parametrize(
    ("value", "want"),
    [(1, "A"), (28, "AAAA"), (33, "SRV"), (255, "ANY"), (23, "NSAP-PTR"), (65, "HTTPS")]
    + [(257, "CAA"), (32769, "DLV"), (0, "None"), (65280, "TYPE65280"), (11, "TYPE11")],
)
def test_type_name(value: int, want: str) -> None:
    assert type_name(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [(1, "IN"), (3, "CH"), (4, "HS"), (254, "NONE"), (255, "ANY"), (42, "CLASS42")],
)
def test_class_name(value: int, want: str) -> None:
    assert class_name(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [(0, "NOERROR"), (1, "FORMERR"), (2, "SERVFAIL"), (3, "NXDOMAIN"), (4, "NOTIMP")]
    + [(5, "REFUSED"), (6, "YXDOMAIN"), (16, "BADVERS"), (23, "BADCOOKIE"), (12, "RCODE12")],
)
def test_rcode_name(value: int, want: str) -> None:
    assert rcode_name(value) == want


@pytest.mark.parametrize(
    ("flags", "want"),
    [
        (0x0000, ""),
        (0x8180, "qr,rd,ra"),
        (0x8580, "qr,aa,rd,ra"),
        (0x87F0, "qr,aa,tc,rd,ra,z,ad,cd"),
    ],
)
def test_reply_flags(flags: int, want: str) -> None:
    assert reply_flags(struct.pack("!HH", 1, flags)) == want
    assert reply_flags(b"\x00") == ""


# properties


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_badquery(data: bytes) -> None:
    outcome = _outcome(data)
    if isinstance(outcome, BadQuery) and len(data) >= 12:
        _check_reply(data, outcome)


SEEDS = [
    make_query(
        "kubernetes.default.svc.cluster.local.", "A", edns=0, do=True, options=[COOKIE, ECS]
    ),
    make_query("ExAmple.org.", "AAAA"),
    CORPUS_BY_ID["opt-then-bad-record"],
    CORPUS_BY_ID["pointer-chain-17"],
]


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete", "cut"]),
            st.integers(0, 1 << 16),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_queries_raise_only_badquery(
    seed: bytes, edits: list[tuple[str, int, int]]
) -> None:
    data = bytearray(seed)
    for op, where, value in edits:
        i = where % (len(data) + 1)
        if op == "set" and i < len(data):
            data[i] = value
        elif op == "insert":
            data.insert(i, value)
        elif op == "delete" and i < len(data):
            del data[i]
        elif op == "cut":
            del data[i:]
    outcome = _outcome(bytes(data))
    if isinstance(outcome, Query):
        assert outcome.question[-4:] == struct.pack("!HH", outcome.qtype, outcome.qclass)
        assert len(outcome.question) - 4 <= 255
    elif len(data) >= 12:
        _check_reply(bytes(data), outcome)


def test_bytearray_and_memoryview_input() -> None:
    wire = make_query("example.org.", "A", edns=0)
    for data in (bytearray(wire), memoryview(wire)):
        q = parse_query(data)  # type: ignore[arg-type]
        assert type(q.wire) is bytes and q.qname == "example.org."


@pytest.mark.parametrize(
    ("labels", "want"),
    [
        ((), "."),
        ((b"Example", b"ORG"), "Example.ORG."),
        ((b"a.b", b"c"), "a\\.b.c."),
        ((b"_srv-x", b"~!#$%&*+,/:<=>?[]^`{|}"), "_srv-x.~!#$%&*+,/:<=>?[]^`{|}."),
        ((b"\x20\x21\x7e\x7f",), "\\ !~\\127."),
        ((b"\xc3\xa9t\xc3\xa9",), "\\195\\169t\\195\\169."),
    ],
)
def test_name_text(labels: tuple[bytes, ...], want: str) -> None:
    assert name_text(labels) == want
