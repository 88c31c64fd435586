"""Property tests of the front door: parse_query, encode_reply, scrub_wire, the receive path."""

from __future__ import annotations

from dnslib import EDNS0, RR, A, DNSLabel, DNSQuestion, DNSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from dnsd.scrub import scrub_wire
from dnsd.wire import encode_reply, parse_query
from tests.corpus import CORPUS
from tests.fuzz import targets

LABEL = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=63
)
NAME = (
    st.lists(LABEL, min_size=0, max_size=6)
    .map(lambda labels: ".".join(labels) + ".")
    .filter(lambda name: len(name) <= 254)
)


@given(
    name=NAME,
    qtype=st.integers(1, 65535).filter(lambda t: t != 41),
    qclass=st.sampled_from([1, 3, 254, 255]),
    qid=st.integers(0, 65535),
    rd=st.booleans(),
    edns=st.none() | st.tuples(st.integers(0, 65535), st.booleans()),
)
def test_parse_query_reads_what_dnslib_packs(
    name: str, qtype: int, qclass: int, qid: int, rd: bool, edns: tuple[int, bool] | None
) -> None:
    msg = DNSRecord(q=DNSQuestion(name, qtype, qclass))
    msg.header.id = qid
    msg.header.rd = int(rd)
    if edns is not None:
        msg.add_ar(EDNS0(udp_len=edns[0], flags="do" if edns[1] else ""))
    query = parse_query(msg.pack())
    assert query.qname.lower() == (name if name != "." else ".").lower()
    assert (query.qtype, query.qclass, query.id, query.rd) == (qtype, qclass, qid, rd)
    assert query.edns == (edns is not None)
    if edns is not None:
        assert (query.udp_size, query.do) == edns


@given(
    size=st.integers(0, 65535),
    answers=st.integers(0, 300),
    owner=st.integers(1, 60),
    tcp=st.booleans(),
)
@settings(max_examples=60)
def test_reply_never_exceeds_the_clients_size(
    size: int, answers: int, owner: int, tcp: bool
) -> None:
    q = DNSRecord.question("example.org.")
    q.add_ar(EDNS0(udp_len=size))
    query = parse_query(q.pack())
    max_size = 65535 if tcp else max(512, size)
    reply = q.reply()
    for i in range(answers):
        reply.add_answer(
            RR(DNSLabel("x" * owner + ".example.org."), 1, 1, 5, A(f"10.0.{i // 256}.{i % 256}"))
        )
    wire = encode_reply(reply, query, max_size)
    assert len(wire) <= max_size
    assert wire[:2] == q.pack()[:2]
    scrubbed = scrub_wire(reply.pack(), query, max_size)
    assert scrubbed is None or len(scrubbed) <= max_size


SEEDS = [data for _, data in CORPUS]


@given(st.binary(max_size=700))
def test_any_bytes(data: bytes) -> None:
    targets.wire(data)


@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 255)), max_size=6),
)
def test_corpus_with_bytes_changed(seed: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(seed)
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    targets.wire(bytes(data))


@given(seed=st.sampled_from(SEEDS), tail=st.binary(max_size=64))
@settings(max_examples=80)
def test_receive_path_answers_at_most_once_within_size(seed: bytes, tail: bytes) -> None:
    targets.receive(seed + tail)
    targets.receive(seed[: len(tail)])
