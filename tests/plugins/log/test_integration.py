"""*log* through the real server: the exact lines for UDP and TCP queries.

Queries are sent as raw bytes so the expected line can be built from what was
really exchanged: the client's port, the query and reply sizes. Only the
duration varies; it is checked for Go's float format and then cut off.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import dns.exception
import dns.message
import pytest

from dnsd.log import Formatter
from dnsd.testing import serve_corefile
from tests.integration.stubs import stub_plugin
from tests.plugins.log.rawdns import exchange

DURATION = re.compile(r" (\d+(?:\.\d+)?)s(?= |$)")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The captured query-log lines as printed, with the duration cut off."""
    out = []
    for record in caplog.records:
        if record.name != "dnsd":
            continue
        out.append(DURATION.sub("", Formatter().format(record), count=1))
    return out


@dataclass(frozen=True)
class Case:
    id: str
    directives: str
    qname: str = "Example.ORG"
    qtype: str = "A"
    edns: bool = True
    want: str | None = None  # {port} {id} {size} {rsize} {bufsize} {proto} are filled in


CASES = [
    Case(
        "common",
        "log",
        want='[INFO] 127.0.0.1:{port} - {id} "A IN example.org. {proto} {size} false {bufsize}" '
        "NOERROR qr,aa,rd {rsize}",
    ),
    Case(
        "common-no-edns",
        "log",
        edns=False,
        want='[INFO] 127.0.0.1:{port} - {id} "A IN example.org. {proto} {size} false {bufsize}" '
        "NOERROR qr,aa,rd {rsize}",
    ),
    Case(
        "combined",
        "log . {combined}",
        qtype="AAAA",
        want='[INFO] 127.0.0.1:{port} - {id} "AAAA IN example.org. {proto} {size} false '
        '{bufsize}" NOERROR qr,aa,rd {rsize} "0"',
    ),
    Case(
        "custom",
        'log . "{proto} Request: {name} {type} {>id} {local} {/log/type} {/log/class} {/x}"',
        want="[INFO] {proto} Request: example.org. A {id} 127.0.0.1 NOERROR success -",
    ),
    Case("other-zone", "log example.net", want=None),
    Case(
        "zone",
        "log example.net example.org",
        qname="www.example.org",
        want='[INFO] 127.0.0.1:{port} - {id} "A IN www.example.org. {proto} {size} false '
        '{bufsize}" NOERROR qr,aa,rd {rsize}',
    ),
    Case("class-denial", "log {\n        class denial\n    }", want=None),
    Case(
        "class-success",
        'log . "{rcode} {name}" {\n        class success\n    }',
        want="[INFO] NOERROR example.org.",
    ),
]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_query_line(case: Case, tcp: bool, caplog: pytest.LogCaptureFixture) -> None:
    text = f".:53 {{\n    {case.directives}\n    whoami\n}}\n"
    query = dns.message.make_query(
        case.qname, case.qtype, use_edns=0 if case.edns else False, payload=1232
    )
    wire = query.to_wire()
    with caplog.at_level(logging.INFO, logger="dnsd"):
        async with serve_corefile(text) as srv:
            caplog.clear()
            reply, port = await exchange(srv.host, srv.port, wire, tcp=tcp)
    assert dns.message.from_wire(reply).rcode() == 0
    if case.want is None:
        assert lines(caplog) == []
        return
    bufsize = 65535 if tcp else (1232 if case.edns else 512)
    want = case.want.format(
        port=port,
        id=query.id,
        size=len(wire),
        rsize=len(reply),
        bufsize=bufsize,
        proto="tcp" if tcp else "udp",
    )
    assert lines(caplog) == [want]


async def test_duration_is_go_seconds(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="dnsd"):
        async with serve_corefile(".:53 {\n    log\n    whoami\n}\n") as srv:
            caplog.clear()
            await srv.query("example.org", "A")
    (record,) = [r for r in caplog.records if r.name == "dnsd"]
    match = DURATION.search(record.getMessage())
    assert match is not None
    assert "e" not in match.group(1)
    assert 0 < float(match.group(1)) < 2


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_line_shows_the_reply_sent(tcp: bool, caplog: pytest.LogCaptureFixture) -> None:
    """A reply truncated for a UDP client is logged with its real size and TC."""
    query = dns.message.make_query("example.org", "A", use_edns=False)
    with stub_plugin(), caplog.at_level(logging.INFO, logger="dnsd"):
        async with serve_corefile(
            '.:53 {\n    log . "{>rflags} {rsize}"\n    stub many 100\n}\n'
        ) as srv:
            caplog.clear()
            reply, _ = await exchange(srv.host, srv.port, query.to_wire(), tcp=tcp)
    flags = "qr,aa,rd" if tcp else "qr,aa,tc,rd"
    assert len(reply) <= (65535 if tcp else 512)
    assert lines(caplog) == [f"[INFO] {flags} {len(reply)}"]


@pytest.mark.parametrize(
    ("mode", "want"),
    [
        ("fail", "[INFO] SERVFAIL? - - 0 error"),
        ("none", "[INFO] SERVFAIL? - - 0 error"),
        ("drop", "[INFO] SERVFAIL? - - 0 error"),
        ("wire", "[INFO] SERVFAIL? NOERROR qr,aa,rd 45 success"),
    ],
)
async def test_replies_the_chain_did_not_write(
    mode: str, want: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CoreDNS's ``- - 0`` when no plugin below *log* wrote the reply."""
    text = (
        '.:53 {\n    log . "SERVFAIL? {rcode} {>rflags} {rsize} {/log/class}"\n    stub MODE\n}\n'
    )
    with stub_plugin(), caplog.at_level(logging.INFO, logger="dnsd"):
        async with serve_corefile(text.replace("MODE", mode)) as srv:
            caplog.clear()
            try:
                await srv.query("example.org", "A", timeout=0.3)
            except dns.exception.Timeout:
                assert mode == "drop"
    assert lines(caplog) == [want]
