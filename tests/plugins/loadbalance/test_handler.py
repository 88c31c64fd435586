"""The loadbalance handler on canned replies, as dnslib messages and as bytes."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import pytest
from dnslib import EDNS0, DNSRecord

from dnsd.plugins.loadbalance.handler import Loadbalance
from dnsd.plugins.loadbalance.setup import subnets
from dnsd.plugins.loadbalance.weights import WeightFile
from dnsd.reply import Reply
from dnsd.request import Request
from tests.plugins.loadbalance.backend import make_next, reply_msg, request, sections

N = 200
FORMS = ["msg", "wire"]


@dataclass(frozen=True)
class ShuffleCase:
    """``want_*``: exact 'TYPE rdata' texts, or '@group' for a slot shuffled within its group."""

    qtype: str
    answer: list[str]
    want_answer: list[str]
    extra: list[str] = field(default_factory=list)
    want_extra: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)


A3 = ["www.example.org. 60 IN A 10.0.0.1", "www.example.org. 60 IN A 10.0.0.2"]
A3 += ["www.example.org. 60 IN A 10.0.0.3"]
A3_TEXT = ["A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"]
LB = [line.replace("www.", "lb.") for line in A3]
MX3 = [f"example.org. 60 IN MX {p} mx{p}.example.org." for p in (10, 20, 30)]
MX3_TEXT = [f"MX {p} mx{p}.example.org." for p in (10, 20, 30)]
GLUE = ["mx10.example.org. 60 IN A 192.0.2.10", "mx20.example.org. 60 IN A 192.0.2.20"]
GLUE += ["mx20.example.org. 60 IN AAAA 2001:db8::20"]
GLUE_TEXT = ["A 192.0.2.10", "A 192.0.2.20", "AAAA 2001:db8::20"]

SHUFFLE = {
    "three-A": ShuffleCase("A", A3, ["@a"] * 3, groups={"a": A3_TEXT}),
    "cname-stays-first": ShuffleCase(
        "A",
        ["www.example.org. 60 IN CNAME lb.example.org.", *LB],
        ["CNAME lb.example.org.", "@a", "@a", "@a"],
        groups={"a": A3_TEXT},
    ),
    "cname-moved-first": ShuffleCase(
        "A",
        [LB[0], "www.example.org. 60 IN CNAME lb.example.org.", LB[1]],
        ["CNAME lb.example.org.", "@a", "@a"],
        groups={"a": A3_TEXT[:2]},
    ),
    "A-and-AAAA-together": ShuffleCase(
        "A",
        [A3[0], "www.example.org. 60 IN AAAA 2001:db8::1", A3[1]],
        ["@a"] * 3,
        groups={"a": ["A 10.0.0.1", "AAAA 2001:db8::1", "A 10.0.0.2"]},
    ),
    "mx-and-glue": ShuffleCase(
        "MX", MX3, ["@mx"] * 3, GLUE, ["@g"] * 3, groups={"mx": MX3_TEXT, "g": GLUE_TEXT}
    ),
    "any-other-records-keep-order-before-addresses": ShuffleCase(
        "ANY",
        [
            'www.example.org. 60 IN TXT "one"',
            A3[0],
            MX3[0].replace("example.org.", "www.example.org.", 1),
            'www.example.org. 60 IN TXT "two"',
            A3[1],
            MX3[1].replace("example.org.", "www.example.org.", 1),
        ],
        ['TXT "one"', 'TXT "two"', "@a", "@a", "@mx", "@mx"],
        groups={"a": A3_TEXT[:2], "mx": MX3_TEXT[:2]},
    ),
    "txt-untouched": ShuffleCase(
        "TXT",
        [f'www.example.org. 60 IN TXT "{i}"' for i in range(3)],
        [f'TXT "{i}"' for i in range(3)],
    ),
    "ns-answer-kept-glue-shuffled": ShuffleCase(
        "NS",
        ["example.org. 60 IN NS mx10.example.org.", "example.org. 60 IN NS mx20.example.org."],
        ["NS mx10.example.org.", "NS mx20.example.org."],
        GLUE,
        ["@g"] * 3,
        groups={"g": GLUE_TEXT},
    ),
}


def check(
    got: list[str], want: list[str], groups: dict[str, list[str]], firsts: dict[str, set[str]]
) -> None:
    assert len(got) == len(want), got
    slots: dict[str, list[str]] = defaultdict(list)
    for text, pattern in zip(got, want, strict=True):
        if pattern.startswith("@"):
            slots[pattern[1:]].append(text)
        else:
            assert text == pattern, got
    for name, items in slots.items():
        assert sorted(items) == sorted(groups[name]), got
        firsts[name].add(items[0])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", SHUFFLE.values(), ids=SHUFFLE.keys())
async def test_round_robin(case: ShuffleCase, form: str) -> None:
    lb = Loadbalance(rng=random.Random(1))
    req = request("www.example.org", case.qtype)
    nxt = make_next(reply_msg(req, case.answer, case.extra), form)
    firsts: dict[str, set[str]] = defaultdict(set)
    for _ in range(N):
        reply = await lb.serve(req, nxt)
        assert reply is not None
        if reply.wire is not None:  # bytes out: they must be a valid message
            dns.message.from_wire(reply.wire)
        answer, extra = sections(reply)
        check(answer, case.want_answer, case.groups, firsts)
        check(extra, case.want_extra, case.groups, firsts)
    for name, items in case.groups.items():
        assert firsts[name] == set(items), f"group {name}: only {firsts[name]} came first"


UNTOUCHED = {
    "nxdomain": ("A", A3, 3),
    "servfail": ("A", A3, 2),
    "axfr": ("AXFR", A3, 0),
    "single-A": ("A", A3[:1], 0),
    "txt": ("TXT", [f'www.example.org. 60 IN TXT "{i}"' for i in range(3)], 0),
    "aaaa-question-no-records": ("AAAA", [], 0),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("qtype", "answer", "rcode"), UNTOUCHED.values(), ids=UNTOUCHED.keys())
async def test_untouched(qtype: str, answer: list[str], rcode: int, form: str) -> None:
    """The very Reply comes back: no parse, no copy (the bytes are the same object)."""
    lb = Loadbalance(rng=random.Random(2))
    req = request("www.example.org", qtype)
    msg = reply_msg(req, answer, ["www.example.org. 60 IN A 192.0.2.1"], rcode=rcode)
    inner = make_next(msg, form)
    given: list[Reply] = []

    async def nxt(r: Request) -> Reply | None:
        reply = await inner(r)
        assert reply is not None
        given.append(reply)
        return reply

    for _ in range(20):
        given.clear()

        wire = (await inner(req)).wire if form == "wire" else None  # type: ignore[union-attr]
        out = await lb.serve(req, nxt)
        assert out is given[0]
        if form == "wire":
            assert out.wire is not None and out.wire == wire
        assert sections(out)[0] == [f"{t.split()[3]} {' '.join(t.split()[4:])}" for t in answer]


async def test_nothing_to_pass_on() -> None:
    async def nothing(req: Request) -> Reply | None:
        return None

    async def dropped(req: Request) -> Reply | None:
        return Reply.dropped()

    lb = Loadbalance()
    req = request("www.example.org", "A")
    assert await lb.serve(req, nothing) is None
    out = await lb.serve(req, dropped)
    assert out is not None and out.drop


async def test_wire_stays_wire_when_names_point_before_the_answer() -> None:
    """Owners compressed to the question: records are sliced, never parsed."""
    lb = Loadbalance(rng=random.Random(3))
    req = request("www.example.org", "A")
    nxt = make_next(reply_msg(req, ["www.example.org. 60 IN CNAME lb.example.org.", *LB]), "wire")
    for _ in range(50):
        out = await lb.serve(req, nxt)
        assert out is not None and out.wire is not None
        assert out.plugin == "stub"


async def test_wire_falls_back_when_pointers_target_moved_records() -> None:
    """Glue owners point into the MX records: moving those needs the parsed message."""
    lb = Loadbalance(rng=random.Random(4))
    req = request("example.org", "MX")
    nxt = make_next(reply_msg(req, MX3, GLUE), "wire")
    forms: Counter[str] = Counter()
    for _ in range(50):
        out = await lb.serve(req, nxt)
        assert out is not None
        forms["wire" if out.wire is not None else "msg"] += 1
        answer, extra = sections(out)
        assert sorted(answer) == sorted(MX3_TEXT) and sorted(extra) == sorted(GLUE_TEXT)
    assert forms["msg"] > 0


async def test_opt_keeps_its_place() -> None:
    lb = Loadbalance(rng=random.Random(5))
    req = request("www.example.org", "NS")
    msg = reply_msg(req, [], GLUE)
    msg.add_ar(EDNS0(udp_len=1232))
    for form in FORMS:
        nxt = make_next(msg, form)
        for _ in range(20):
            out = await lb.serve(req, nxt)
            assert out is not None
            parsed = DNSRecord.parse(out.wire) if out.wire is not None else out.msg
            assert parsed.ar[-1].rtype == 41


# -- prefer ------------------------------------------------------------------------------------
MIXED = ["www.example.org. 60 IN A 1.1.1.1", "www.example.org. 60 IN A 10.0.0.1"]
MIXED += ["www.example.org. 60 IN A 192.168.0.1", "www.example.org. 60 IN A 10.0.0.2"]
MIXED += ["www.example.org. 60 IN AAAA 2001:db8::1", "www.example.org. 60 IN AAAA ::ffff:a01:101"]


PREFER = {
    # name: (prefer CIDRs, the sets that must come first, in order)
    "one-subnet": (("10.0.0.0/8",), [{"A 10.0.0.1", "A 10.0.0.2", "AAAA ::ffff:a01:101"}]),
    "subnet-order": (
        ("192.168.0.0/16", "10.0.0.0/24"),
        [{"A 192.168.0.1"}, {"A 10.0.0.1", "A 10.0.0.2"}],
    ),
    "ipv6": (("2001:db8::/32",), [{"AAAA 2001:db8::1"}]),
    "no-match": (("172.16.0.0/12",), []),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("cidrs", "firsts"), PREFER.values(), ids=PREFER.keys())
async def test_prefer_after_round_robin(
    cidrs: tuple[str, ...], firsts: list[set[str]], form: str
) -> None:
    lb = Loadbalance(subnets=subnets(cidrs), rng=random.Random(6))
    req = request("www.example.org", "A")
    nxt = make_next(reply_msg(req, MIXED), form)
    leaders: set[str] = set()
    for _ in range(100):
        out = await lb.serve(req, nxt)
        assert out is not None
        answer, _ = sections(out)
        assert len(answer) == len(MIXED)
        pos = 0
        for wanted in firsts:
            assert set(answer[pos : pos + len(wanted)]) == wanted, answer
            pos += len(wanted)
        leaders.add(answer[0])
    # The preferred ones are still shuffled among themselves.
    assert leaders == (firsts[0] if firsts else {f"{t.split()[3]} {t.split()[4]}" for t in MIXED})


# -- weighted ----------------------------------------------------------------------------------
def weight_file(tmp_path: Path, text: str) -> WeightFile:
    path = tmp_path / "weights"
    path.write_text(text)
    return WeightFile(str(path), 0)


@pytest.mark.parametrize("form", FORMS)
async def test_weighted_frequencies(tmp_path: Path, form: str) -> None:
    weights = weight_file(tmp_path, "www.example.org\n10.0.0.1 3\n10.0.0.2 1\n10.0.0.3 2\n")
    lb = Loadbalance(weights, rng=random.Random(7))
    req = request("www.example.org", "A")
    nxt = make_next(reply_msg(req, A3), form)
    tops: Counter[str] = Counter()
    n = 600
    for _ in range(n):
        out = await lb.serve(req, nxt)
        assert out is not None
        answer, _ = sections(out)
        assert sorted(answer) == A3_TEXT
        tops[answer[0]] += 1
    for text, weight in zip(A3_TEXT, (3, 1, 2), strict=True):
        expected = n * weight / 6
        assert 0.6 * expected < tops[text] < 1.4 * expected, tops


WEIGHTED: dict[str, tuple[str, str, list[str], list[str], list[list[str]], list[str]]] = {
    # name: (weight file, qtype, answer, extra, the orders allowed, the order that must show up)
    "only-the-top-moves": (
        "www.example.org\n10.0.0.3 255\n",
        "A",
        A3,
        [],
        [
            A3_TEXT,
            ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
            ["A 10.0.0.3", "A 10.0.0.2", "A 10.0.0.1"],
        ],
        ["A 10.0.0.3", "A 10.0.0.2", "A 10.0.0.1"],
    ),
    "owner-case-insensitive": (
        "WWW.Example.ORG.\n10.0.0.2 255\n",
        "A",
        [line.replace("www.example.org", "Www.EXAMPLE.org") for line in A3],
        [],
        [
            A3_TEXT,
            ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
            ["A 10.0.0.3", "A 10.0.0.2", "A 10.0.0.1"],
        ],
        ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
    ),
    "ipv4-mapped-weight": (
        "www.example.org\n::ffff:10.0.0.2 255\n",
        "A",
        A3,
        [],
        [
            A3_TEXT,
            ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
            ["A 10.0.0.3", "A 10.0.0.2", "A 10.0.0.1"],
        ],
        ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
    ),
    "mx-question-untouched": (
        "example.org\n10.0.0.3 255\n",
        "MX",
        MX3,
        [],
        [MX3_TEXT],
        MX3_TEXT,
    ),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("text", "qtype", "answer", "extra", "allowed", "common"),
    WEIGHTED.values(),
    ids=WEIGHTED.keys(),
)
async def test_weighted_orders(
    tmp_path: Path,
    form: str,
    text: str,
    qtype: str,
    answer: list[str],
    extra: list[str],
    allowed: list[list[str]],
    common: list[str],
) -> None:
    lb = Loadbalance(weight_file(tmp_path, text), rng=random.Random(8))
    req = request("www.example.org", qtype)
    nxt = make_next(reply_msg(req, answer, extra), form)
    seen: Counter[tuple[str, ...]] = Counter()
    for _ in range(100):
        out = await lb.serve(req, nxt)
        assert out is not None
        got, _ = sections(out)
        assert got in allowed
        seen[tuple(got)] += 1
    assert seen.most_common(1)[0][0] == tuple(common)


async def test_weighted_srv_glue(tmp_path: Path) -> None:
    weights = weight_file(tmp_path, "mx20.example.org\n192.0.2.20 255\n")
    lb = Loadbalance(weights, rng=random.Random(9))
    req = request("_x._tcp.example.org", "SRV")
    srv = ["_x._tcp.example.org. 60 IN SRV 0 0 80 mx10.example.org."]
    srv += ["_x._tcp.example.org. 60 IN SRV 0 0 80 mx20.example.org."]
    nxt = make_next(reply_msg(req, srv, GLUE), "wire")
    tops: Counter[str] = Counter()
    for _ in range(100):
        out = await lb.serve(req, nxt)
        assert out is not None
        answer, extra = sections(out)
        assert answer == ["SRV 0 0 80 mx10.example.org.", "SRV 0 0 80 mx20.example.org."]
        tops[extra[0]] += 1
    assert tops["A 192.0.2.20"] > 90
