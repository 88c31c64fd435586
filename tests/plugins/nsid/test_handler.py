"""Handler of *nsid*: one row per query and reply; the NSID the client reads, if any.

Replies go through the server's own encoding (:meth:`Dispatcher.encode`), so each row shows
what the client gets: its OPT, with the NSID option and any other option that survives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.edns
import dns.message
import pytest
from dnslib import EDNS0, RR, A, DNSLabel, DNSRecord, EDNSOption

from dnsd.encode import encode_reply
from dnsd.plugins.nsid.handler import Nsid
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.scrub import scrub_wire
from dnsd.wire import parse_query
from tests.handlers import lines

COOKIE = dns.edns.GenericOption(10, b"\x01" * 8)
NSID_Q = dns.edns.GenericOption(3, b"")
EDE = 15


@dataclass(frozen=True)
class Case:
    id: str
    #: The query's EDNS options; None: no OPT record at all.
    options: list[dns.edns.Option] | None = field(default_factory=lambda: [NSID_Q])
    form: str = "msg"  # how the next plugin answers: "msg", "wire" (relayed bytes)
    #: Options in the next plugin's reply OPT: (code, data); None: no OPT in the reply.
    reply_opt: list[tuple[int, bytes]] | None = None
    ext_rcode: int = 0
    #: What the client's OPT carries: (code, data) in order; None: no OPT.
    want: list[tuple[int, bytes]] | None = field(default_factory=lambda: [(3, b"dnsd-1")])
    want_rcode: int = 0


CASES = [
    Case("asked"),
    Case("asked-wire", form="wire"),
    Case("not-asked", options=[], want=[]),
    Case("no-edns", options=None, want=None),
    Case("other-option-only", options=[COOKIE], want=[]),
    Case("asked-with-cookie", options=[COOKIE, NSID_Q]),
    Case("non-empty-request", options=[dns.edns.GenericOption(3, b"x")]),
    Case(
        "plugin-option-kept",
        reply_opt=[(EDE, b"\x00\x03")],
        want=[(EDE, b"\x00\x03"), (3, b"dnsd-1")],
    ),
    Case("plugin-nsid-replaced", reply_opt=[(3, b"other")]),
    Case("upstream-options-dropped", form="wire", reply_opt=[(10, b"\x02" * 16), (3, b"up")]),
    Case("badvers-kept", reply_opt=[], ext_rcode=1, want_rcode=16),
    Case("badvers-kept-wire", form="wire", reply_opt=[], ext_rcode=1, want_rcode=16),
]


def request(options: list[dns.edns.Option] | None) -> Request:
    if options is None:
        q = dns.message.make_query("example.org", "A", use_edns=False)
    else:
        q = dns.message.make_query("example.org", "A", use_edns=0, options=options)
    return parse_query(q.to_wire(), Request).init("192.0.2.1", 5353, "udp", "::", "dns://:53")


def canned(req: Request, case: Case) -> DNSRecord:
    msg = req.reply(aa=True)
    msg.add_answer(RR(DNSLabel("example.org."), 1, 1, 60, A("192.0.2.1")))
    if case.reply_opt is not None:
        opts = [EDNSOption(code, data) for code, data in case.reply_opt]
        msg.add_ar(EDNS0(udp_len=4096, ext_rcode=case.ext_rcode, opts=opts))
    return msg


def client_sees(req: Request, reply: Reply) -> dns.message.Message:
    """The reply's bytes as the server would send them (Dispatcher.encode's two paths)."""
    wire = None
    if reply.wire is not None:
        wire = scrub_wire(reply.wire, req, req.max_size)
    if wire is None:
        wire = encode_reply(reply.msg, req, req.max_size)
    return dns.message.from_wire(wire)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    req = request(case.options)
    sent = canned(req, case)

    async def next(r: Request) -> Reply | None:
        if case.form == "wire":
            return Reply(wire=bytes(sent.pack()), plugin="stub")
        return Reply(DNSRecord.parse(sent.pack()), plugin="stub")

    reply = await Nsid("dnsd-1").serve(req, next)
    assert reply is not None and reply.plugin == "stub"
    got = client_sees(req, reply)
    assert got.rcode() == case.want_rcode
    assert lines(got.answer) == ["example.org. 60 IN A 192.0.2.1"]
    if case.want is None:
        assert got.edns == -1
        return
    assert got.edns == 0
    assert [(o.otype, o.to_wire()) for o in got.options] == case.want


@pytest.mark.parametrize("form", ["msg", "wire"])
async def test_memo_kept(form: str) -> None:
    """The reply keeps the answering plugin's memo check: the NSID is in the bytes kept."""

    def check() -> bool:
        return True

    async def next(r: Request) -> Reply | None:
        msg = r.reply()
        reply = Reply(wire=bytes(msg.pack())) if form == "wire" else Reply(msg)
        reply.memo = check
        return reply

    reply = await Nsid("x").serve(request([NSID_Q]), next)
    assert reply is not None and reply.memo is check


@pytest.mark.parametrize(
    "reply", [None, Reply.dropped("stub"), Reply(wire=b"\x00\x01\x81")], ids=str
)
async def test_nothing_to_add_to(reply: Reply | None) -> None:
    async def next(r: Request) -> Reply | None:
        return reply

    got = await Nsid("x").serve(request([NSID_Q]), next)
    assert got is reply
    if reply is not None and not reply.drop:
        assert reply.wire == b"\x00\x01\x81"  # unreadable bytes go out as they were
