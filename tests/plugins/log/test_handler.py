"""*log* without a server: formats, placeholders, reply types, rules and classes.

The handler is called with a stub ``next``; the server's part (encoding the
reply and calling the ``on_reply`` observers) is played by ``req.replied``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.message
import pytest
from dnslib import RR, DNSRecord

from dnsd.errors import ChainError, PluginError
from dnsd.log import Formatter
from dnsd.plugins.log.handler import Log, in_zone
from dnsd.plugins.log.replacer import (
    COMBINED_FORMAT,
    COMMON_FORMAT,
    PLACEHOLDERS,
    compile_format,
    go_seconds,
    render,
)
from dnsd.plugins.log.response import Facts, classify
from dnsd.plugins.log.setup import LogOptions, LogRule
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query, set_rcode

DURATION = re.compile(r" \d+(\.\d+)?s$")


def request(
    qname: str = "Example.ORG.",
    qtype: str = "A",
    *,
    proto: str = "udp",
    client: str = "192.0.2.7",
    port: int = 50759,
    local: str = "127.0.0.1",
    edns: int | bool = 0,
    payload: int = 4096,
    do: bool = False,
    qid: int = 29008,
) -> Request:
    query = dns.message.make_query(
        qname, qtype, use_edns=edns, payload=payload, want_dnssec=do, id=qid
    )
    req = parse_query(query.to_wire(), Request)
    return req.init(client, port, proto, local, "dns://:53")


def reply_wire(req: Request, rcode: int = 0, *, aa: bool = False, **sections: list[str]) -> bytes:
    """A reply to ``req`` packed by dnslib; sections as zone-file lines (answer=, auth=, ar=)."""
    msg = req.reply(rcode=rcode & 0x0F, aa=aa)
    for line in sections.get("answer", []):
        msg.add_answer(*RR.fromZone(line))
    for line in sections.get("auth", []):
        msg.add_auth(*RR.fromZone(line))
    for line in sections.get("ar", []):
        msg.add_ar(*RR.fromZone(line))
    if rcode > 15:
        set_rcode(msg, rcode)
    return bytes(msg.pack())


SOA = "example.org. 300 IN SOA ns.example.org. admin.example.org. 1 7200 3600 1209600 300"


def line(record: logging.LogRecord) -> str:
    return Formatter().format(record)


# -- placeholders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceholderCase:
    id: str
    format: str
    want: str
    req: Callable[[], Request] = request
    wire: Callable[[Request], bytes | None] = lambda req: reply_wire(req, aa=True)
    meta: dict[str, object] = field(default_factory=dict)


PLACEHOLDER_CASES = [
    PlaceholderCase("type", "{type}", "A"),
    PlaceholderCase("type-unknown", "{type}", "TYPE65280", req=lambda: request(qtype="TYPE65280")),
    PlaceholderCase("name-lowercased", "{name}", "example.org."),
    PlaceholderCase("class", "{class}", "IN"),
    PlaceholderCase("proto-udp", "{proto}", "udp"),
    PlaceholderCase("proto-tcp", "{proto}", "tcp", req=lambda: request(proto="tcp")),
    PlaceholderCase("remote-v4", "{remote}", "192.0.2.7"),
    PlaceholderCase(
        "remote-v6", "{remote}", "[2001:db8::1]", req=lambda: request(client="2001:db8::1")
    ),
    PlaceholderCase("local-v4", "{local}", "127.0.0.1"),
    PlaceholderCase("local-v6", "{local}", "[::]", req=lambda: request(local="::")),
    PlaceholderCase("port", "{port}", "50759"),
    PlaceholderCase("size", "{size}", "40"),  # 12 + 13 + 4 + OPT 11
    PlaceholderCase("size-no-edns", "{size}", "29", req=lambda: request(edns=False)),
    PlaceholderCase("id", "{>id}", "29008"),
    PlaceholderCase("opcode", "{>opcode}", "0"),
    PlaceholderCase("do-false", "{>do}", "false"),
    PlaceholderCase("do-true", "{>do}", "true", req=lambda: request(do=True)),
    PlaceholderCase("bufsize-edns", "{>bufsize}", "4096"),
    PlaceholderCase("bufsize-small", "{>bufsize}", "512", req=lambda: request(payload=100)),
    PlaceholderCase("bufsize-no-edns", "{>bufsize}", "512", req=lambda: request(edns=False)),
    PlaceholderCase("bufsize-tcp", "{>bufsize}", "65535", req=lambda: request(proto="tcp")),
    PlaceholderCase("rcode", "{rcode}", "NOERROR"),
    PlaceholderCase("rcode-nxdomain", "{rcode}", "NXDOMAIN", wire=lambda r: reply_wire(r, 3)),
    PlaceholderCase("rcode-extended", "{rcode}", "BADCOOKIE", wire=lambda r: reply_wire(r, 23)),
    PlaceholderCase("rcode-unnamed", "{rcode}", "12", wire=lambda r: reply_wire(r, 12)),
    PlaceholderCase("rcode-not-written", "{rcode}", "-", wire=lambda r: None),
    PlaceholderCase("rsize", "{rsize}", "29", req=lambda: request(edns=False)),
    PlaceholderCase("rsize-not-written", "{rsize}", "0", wire=lambda r: None),
    PlaceholderCase("rflags", "{>rflags}", "qr,aa,rd"),
    PlaceholderCase("rflags-not-written", "{>rflags}", "-", wire=lambda r: None),
    PlaceholderCase(
        "meta-value", "{/forward/upstream}", "10.0.0.1:53", meta={"forward/upstream": "10.0.0.1:53"}
    ),
    PlaceholderCase("meta-function", "{/a/b}", "lazy", meta={"a/b": lambda: "lazy"}),
    PlaceholderCase("meta-empty-string", "<{/a/b}>", "<>", meta={"a/b": ""}),
    PlaceholderCase("meta-missing", "{/a/b}", "-"),
    PlaceholderCase("meta-empty-label", "{/}", "-"),
    PlaceholderCase("log-type", "{/log/type}", "NOERROR"),
    PlaceholderCase("log-class", "{/log/class}", "success"),
    PlaceholderCase(
        "log-type-nodata",
        "{/log/type} {/log/class}",
        "NODATA denial",
        wire=lambda r: reply_wire(r, auth=[SOA]),
    ),
    PlaceholderCase(
        "log-type-not-written", "{/log/type} {/log/class}", "OTHERERROR error", wire=lambda r: None
    ),
    PlaceholderCase("unknown-kept", "{foo} {type}", "{foo} A"),
    PlaceholderCase("header-is-case-sensitive", "{>ID} {>id}", "{>ID} 29008"),
    PlaceholderCase("lone-close", "A } {type}", "A } A"),
    PlaceholderCase("nested", "{ {type} }", "{ A }"),
    PlaceholderCase("unclosed", "{type} {name", "A {name"),
    PlaceholderCase("empty-braces", "{}{type}", "{}A"),
    PlaceholderCase("no-placeholder", "plain text", "plain text"),
    PlaceholderCase("percent-kept", "100% {type}", "100% A"),
    PlaceholderCase(
        "common",
        COMMON_FORMAT.replace(" {duration}", ""),
        '192.0.2.7:50759 - 29008 "A IN example.org. udp 40 false 4096" NOERROR qr,aa,rd 29',
    ),
    PlaceholderCase(
        "combined",
        COMBINED_FORMAT.replace(" {duration}", ""),
        '192.0.2.7:50759 - 29008 "A IN example.org. udp 40 false 4096" NOERROR qr,aa,rd 29 "0"',
    ),
]


@pytest.mark.parametrize("case", PLACEHOLDER_CASES, ids=lambda c: c.id)
def test_placeholder(case: PlaceholderCase) -> None:
    req = case.req()
    req.meta.update(case.meta)
    wire = case.wire(req)
    facts = Facts(wire) if wire is not None else None
    assert render(compile_format(case.format), req, facts) == case.want


def test_every_coredns_placeholder_is_known() -> None:
    assert set(PLACEHOLDERS) == {
        "{type}", "{name}", "{class}", "{proto}", "{size}", "{remote}", "{port}", "{local}",
        "{>id}", "{>opcode}", "{>do}", "{>bufsize}", "{rcode}", "{rsize}", "{duration}",
        "{>rflags}",
    }  # fmt: skip


def test_duration_is_seconds_since_arrival() -> None:
    req = request()
    req.start -= 0.25
    text = render(compile_format("{duration}"), req, None)
    assert re.fullmatch(r"0\.2\d*s", text), text


def test_format_is_compiled_once_into_joined_literals() -> None:
    parts = compile_format('x {type} "y" {foo} {name}')
    assert [p for p in parts if isinstance(p, str)] == ["x ", ' "y" {foo} ']
    assert len(parts) == 4


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (0.037990251, "0.037990251"),
        (0.00001, "0.00001"),
        (0.0000001234, "0.000000123"),
        (1.0, "1"),
        (0.0, "0"),
        (2.5, "2.5"),
        (123.000000001, "123.000000001"),
        (0.1 + 0.2, "0.3"),  # whole nanoseconds, as a Go duration
    ],
)
def test_go_seconds(seconds: float, want: str) -> None:
    assert go_seconds(seconds) == want


# -- reply types and classes -----------------------------------------------------------------


@dataclass(frozen=True)
class TypeCase:
    id: str
    want_type: str
    want_class: str
    wire: Callable[[Request], bytes]
    req: Callable[[], Request] = request


A_RR = "example.org. 300 IN A 192.0.2.1"
NS_RR = "example.org. 300 IN NS ns.example.org."

TYPE_CASES = [
    TypeCase("answer", "NOERROR", "success", lambda r: reply_wire(r, answer=[A_RR])),
    TypeCase(
        "answer-with-soa", "NOERROR", "success", lambda r: reply_wire(r, answer=[A_RR], auth=[SOA])
    ),
    TypeCase("empty-noerror", "NOERROR", "success", lambda r: reply_wire(r)),
    TypeCase("nodata", "NODATA", "denial", lambda r: reply_wire(r, auth=[SOA])),
    TypeCase("nxdomain", "NXDOMAIN", "denial", lambda r: reply_wire(r, 3, auth=[SOA])),
    TypeCase("nxdomain-without-soa", "OTHERERROR", "error", lambda r: reply_wire(r, 3)),
    TypeCase("delegation", "DELEGATION", "success", lambda r: reply_wire(r, auth=[NS_RR])),
    TypeCase("servfail", "SERVERERROR", "error", lambda r: reply_wire(r, 2)),
    TypeCase("notimp", "SERVERERROR", "error", lambda r: reply_wire(r, 4)),
    TypeCase("refused", "OTHERERROR", "error", lambda r: reply_wire(r, 5)),
    TypeCase("formerr", "OTHERERROR", "error", lambda r: reply_wire(r, 1)),
    TypeCase(
        "badcookie-with-answer", "OTHERERROR", "error", lambda r: reply_wire(r, 23, answer=[A_RR])
    ),
    TypeCase("badvers-low-bits-zero", "OTHERERROR", "error", lambda r: reply_wire(r, 16)),
    TypeCase(
        "axfr",
        "META",
        "error",
        lambda r: reply_wire(r, answer=[SOA]),
        req=lambda: request(qtype="AXFR"),
    ),
    TypeCase("ixfr", "META", "error", lambda r: reply_wire(r), req=lambda: request(qtype="IXFR")),
    TypeCase("notify", "META", "error", lambda r: _opcode(reply_wire(r), 4)),
    TypeCase("update", "UPDATE", "error", lambda r: _opcode(reply_wire(r), 5)),
    TypeCase(
        "truncated-message", "OTHERERROR", "error", lambda r: reply_wire(r, answer=[A_RR])[:-8]
    ),
]


def _opcode(wire: bytes, opcode: int) -> bytes:
    return wire[:2] + bytes([(wire[2] & 0x87) | (opcode << 3)]) + wire[3:]


@pytest.mark.parametrize("case", TYPE_CASES, ids=lambda c: c.id)
def test_reply_type_and_class(case: TypeCase) -> None:
    facts = Facts(case.wire(case.req()))
    assert facts.type == case.want_type
    assert classify(facts.type) == case.want_class


def test_compressed_names_are_followed() -> None:
    req = request()
    msg = DNSRecord.parse(reply_wire(req, answer=[A_RR, A_RR.replace(".1", ".2")], auth=[SOA]))
    wire = bytes(msg.pack())
    assert b"\xc0" in wire[12:]
    assert Facts(wire).type == "NOERROR"


# -- zones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "zone", "want"),
    [
        ("example.org.", ".", True),
        ("example.org.", "example.org.", True),
        ("www.example.org.", "example.org.", True),
        ("wwwexample.org.", "example.org.", False),
        ("example.org.", "www.example.org.", False),
        ("org.", "example.org.", False),
        ("a\\.example.org.", "example.org.", False),  # one label "a.example"
        ("a\\\\.example.org.", "example.org.", True),  # label "a\" then example
        ("x.a\\.example.org.", "a\\.example.org.", True),
    ],
)
def test_in_zone(name: str, zone: str, want: bool) -> None:
    assert in_zone(name, zone) is want


# -- the handler -----------------------------------------------------------------------------

FMT = "{name} {rcode} {>rflags} {rsize} {/log/class}"


@dataclass(frozen=True)
class HandlerCase:
    id: str
    rules: tuple[LogRule, ...]
    qname: str
    outcome: str  # reply-kind: "answer", "nxdomain", "nodata", "servfail", "none", "drop", "fail"
    want: list[str]


def rule(zone: str = ".", fmt: str = FMT, *classes: str) -> LogRule:
    return LogRule(zone=zone, format=fmt, classes=frozenset(classes or {"all"}))


HANDLER_CASES = [
    HandlerCase(
        "answer",
        (rule(),),
        "example.org.",
        "answer",
        ["[INFO] example.org. NOERROR qr,aa,rd 45 success"],
    ),
    HandlerCase(
        "nxdomain",
        (rule(),),
        "example.org.",
        "nxdomain",
        ["[INFO] example.org. NXDOMAIN qr,aa,rd 74 denial"],
    ),
    HandlerCase(
        "server-wrote-servfail",
        (rule(),),
        "example.org.",
        "none",
        ["[INFO] example.org. - - 0 error"],
    ),
    HandlerCase(
        "plugin-error", (rule(),), "example.org.", "fail", ["[INFO] example.org. - - 0 error"]
    ),
    HandlerCase("dropped", (rule(),), "example.org.", "drop", ["[INFO] example.org. - - 0 error"]),
    HandlerCase(
        "servfail-written",
        (rule(),),
        "example.org.",
        "servfail",
        ["[INFO] example.org. SERVFAIL qr,rd 29 error"],
    ),
    HandlerCase("outside-zone", (rule("example.net."),), "example.org.", "answer", []),
    HandlerCase(
        "inside-zone",
        (rule("org."),),
        "www.example.org.",
        "answer",
        ["[INFO] www.example.org. NOERROR qr,aa,rd 49 success"],
    ),
    HandlerCase(
        "first-rule-wins",
        (rule("example.org.", "first {name}"), rule(".", "second {name}")),
        "example.org.",
        "answer",
        ["[INFO] first example.org."],
    ),
    HandlerCase(
        "later-rule-for-other-names",
        (rule("example.net.", "first {name}"), rule(".", "second {name}")),
        "example.org.",
        "answer",
        ["[INFO] second example.org."],
    ),
    HandlerCase(
        "first-matching-rule-decides-even-if-its-class-rejects",
        (rule("example.org.", "first", "denial"), rule(".", "second")),
        "example.org.",
        "answer",
        [],
    ),
    HandlerCase(
        "class-denial-logs-nxdomain",
        (rule(".", FMT, "denial"),),
        "example.org.",
        "nxdomain",
        ["[INFO] example.org. NXDOMAIN qr,aa,rd 74 denial"],
    ),
    HandlerCase(
        "class-denial-logs-nodata",
        (rule(".", FMT, "denial"),),
        "example.org.",
        "nodata",
        ["[INFO] example.org. NOERROR qr,aa,rd 74 denial"],
    ),
    HandlerCase(
        "class-denial-skips-answer", (rule(".", FMT, "denial"),), "example.org.", "answer", []
    ),
    HandlerCase(
        "class-error-logs-failure",
        (rule(".", FMT, "error"),),
        "example.org.",
        "fail",
        ["[INFO] example.org. - - 0 error"],
    ),
    HandlerCase(
        "class-error-skips-denial", (rule(".", FMT, "error"),), "example.org.", "nxdomain", []
    ),
    HandlerCase(
        "class-success",
        (rule(".", FMT, "success"),),
        "example.org.",
        "answer",
        ["[INFO] example.org. NOERROR qr,aa,rd 45 success"],
    ),
    HandlerCase(
        "class-all-with-others",
        (rule(".", FMT, "error", "all"),),
        "example.org.",
        "answer",
        ["[INFO] example.org. NOERROR qr,aa,rd 45 success"],
    ),
]


def _next_for(outcome: str) -> Callable[[Request], object]:
    async def next(req: Request) -> Reply | None:
        if outcome == "answer":
            return Reply(wire=reply_wire(req, aa=True, answer=[f"{req.qname} 300 IN A 192.0.2.1"]))
        if outcome == "nxdomain":
            return Reply(wire=reply_wire(req, 3, aa=True, auth=[SOA]))
        if outcome == "nodata":
            return Reply(wire=reply_wire(req, aa=True, auth=[SOA]))
        if outcome == "servfail":
            return Reply(wire=reply_wire(req, 2))
        if outcome == "drop":
            return Reply.dropped()
        if outcome == "fail":
            raise ChainError("forward", PluginError("no healthy upstream"))
        return None

    return next


@pytest.mark.parametrize("case", HANDLER_CASES, ids=lambda c: c.id)
async def test_handler(case: HandlerCase, caplog: pytest.LogCaptureFixture) -> None:
    handler = Log(LogOptions(rules=case.rules))
    req = request(case.qname, edns=False)
    caplog.set_level(logging.INFO, logger="dnsd")
    try:
        reply = await handler.serve(req, _next_for(case.outcome))  # type: ignore[arg-type]
    except ChainError:
        reply = None
    # The server's part: encode and tell the observers (dnslib packs as the server would here).
    req.replied(reply.wire if reply is not None and not reply.drop else None, "stub")
    assert [line(r) for r in caplog.records] == case.want


async def test_panic_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    handler = Log(LogOptions())

    async def panic(req: Request) -> Reply | None:
        raise ChainError("stub", RuntimeError("boom"))

    caplog.set_level(logging.INFO, logger="dnsd")
    with pytest.raises(ChainError):
        await handler.serve(request(), panic)
    assert caplog.records == []


async def test_default_line(caplog: pytest.LogCaptureFixture) -> None:
    req = request()

    async def answer(req: Request) -> Reply | None:
        return Reply(wire=reply_wire(req, aa=True, answer=[A_RR]))

    caplog.set_level(logging.INFO, logger="dnsd")
    reply = await Log(LogOptions()).serve(req, answer)
    assert reply is not None and reply.wire is not None
    req.replied(reply.wire, "stub")
    (record,) = caplog.records
    assert record.name == "dnsd"
    assert DURATION.sub("", line(record)) == (
        '[INFO] 192.0.2.7:50759 - 29008 "A IN example.org. udp 40 false 4096" '
        "NOERROR qr,aa,rd 56"  # the owner's case differs from the question's: no compression
    )
