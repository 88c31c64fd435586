"""*errors* through the real server, with a tiny ``failer`` plugin registered for each test.

``failer fail MESSAGE`` raises PluginError(MESSAGE); ``failer none`` answers
nothing; ``failer panic`` raises RuntimeError. It sits last in the chain.
"""

from __future__ import annotations

import logging
import re
import types
from collections.abc import Iterator

import dns.rcode
import pytest

from dnsd.controller import Controller
from dnsd.errors import PluginError
from dnsd.log import Formatter
from dnsd.plugin import REGISTRY, Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.testing import serve_corefile, wait_for

TIMEOUT = "read udp 10.0.0.1:53->8.8.8.8:53: i/o timeout"
DURATION = re.compile(r" \d+(?:\.\d+)?s$")


class Failer:
    name = "failer"

    def __init__(self, mode: str, message: str) -> None:
        self.mode = mode
        self.message = message

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if self.mode == "fail":
            raise PluginError(self.message)
        if self.mode == "panic":
            raise RuntimeError("boom")
        return None


def _setup(c: Controller) -> None:
    while c.next():
        args = c.remaining_args()
        c.add_handler(Failer(args[0], " ".join(args[1:])))


@pytest.fixture(autouse=True)
def failer() -> Iterator[None]:
    module = types.ModuleType("failer")
    module.NAME = "failer"  # type: ignore[attr-defined]
    module.setup = _setup  # type: ignore[attr-defined]
    REGISTRY.add(module)
    try:
        yield
    finally:
        REGISTRY.remove("failer")


@pytest.fixture(autouse=True)
def keep_root_level() -> Iterator[None]:
    """The runtime sets the root logger's level; put it back after each test."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.fixture(autouse=True)
def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dnsd")
    caplog.set_level(logging.DEBUG, logger="plugin/errors")  # last: it sets the handler's level


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Printed lines of *errors* and the query log (duration cut off)."""
    out = []
    for record in caplog.records:
        if record.name in ("plugin/errors", "dnsd"):
            out.append(DURATION.sub("", Formatter().format(record).split("\n")[0]))
    return out


def errors_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [line for line in lines(caplog) if "plugin/errors" in line]


def corefile(*lines: str) -> str:
    return ".:53 {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_plugin_error_is_logged_and_answered(
    tcp: bool, caplog: pytest.LogCaptureFixture
) -> None:
    text = corefile(
        "errors", 'log . "{name} {type} {rcode} {>rflags} {rsize}"', f"failer fail {TIMEOUT}"
    )
    async with serve_corefile(text) as srv:
        caplog.clear()
        reply = await srv.query("Example.ORG", "AAAA", tcp=tcp, use_edns=0)
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert str(reply.question[0].name) == "Example.ORG."
    assert reply.edns == 0  # the server scrubbed it like any reply
    assert lines(caplog) == [
        "[INFO] example.org. AAAA - - 0",  # log (inside errors) saw no reply written
        f"[ERROR] plugin/errors: 2 example.org. AAAA: plugin/failer: {TIMEOUT}",
    ]


@pytest.mark.parametrize(
    ("chain", "last"),
    [(("errors", "failer none"), "failer"), (("errors", "log . {name}"), "log")],
    ids=["failer-answers-nothing", "log-is-last"],
)
async def test_no_next_plugin_found(
    chain: tuple[str, ...], last: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve_corefile(corefile(*chain)) as srv:
        caplog.clear()
        reply = await srv.query("example.org", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert lines(caplog)[-1] == (
        f"[ERROR] plugin/errors: 2 example.org. A: plugin/{last}: no next plugin found"
    )


@pytest.mark.parametrize("stacktrace", [False, True], ids=["plain", "stacktrace"])
async def test_panic_is_left_to_the_server(
    stacktrace: bool, caplog: pytest.LogCaptureFixture
) -> None:
    errors = "errors {\n        stacktrace\n    }" if stacktrace else "errors"
    async with serve_corefile(corefile(errors, "failer panic")) as srv:
        caplog.clear()
        reply = await srv.query("example.org", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert [r for r in caplog.records if r.name == "plugin/errors"] == []
    panics = [r for r in caplog.records if "Recovered from panic" in r.getMessage()]
    assert len(panics) == 1
    assert (panics[0].exc_info is not None) == stacktrace


async def test_without_errors_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with serve_corefile(corefile(f"failer fail {TIMEOUT}")) as srv:
        caplog.clear()
        reply = await srv.query("example.org", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert lines(caplog) == []


def summed(caplog: pytest.LogCaptureFixture, pattern: str) -> int:
    """Errors counted by the summary lines of ``pattern`` so far."""
    rx = re.compile(r"(\d+) errors like '" + re.escape(pattern) + r"' occurred in last 200ms")
    return sum(
        int(m.group(1))
        for r in caplog.records
        if r.name == "plugin/errors" and (m := rx.fullmatch(r.getMessage()))
    )


@pytest.mark.parametrize("show_first", [False, True], ids=["counted", "show-first"])
async def test_consolidated_by_the_period(
    show_first: bool, caplog: pytest.LogCaptureFixture
) -> None:
    option = " show_first" if show_first else ""
    text = corefile(
        "errors {", f'    consolidate 200ms "^read udp .* i/o timeout$" warning{option}', "}",
        f"failer fail {TIMEOUT}",
    )  # fmt: skip
    async with serve_corefile(text) as srv:
        caplog.clear()
        for _ in range(3):
            assert (await srv.query("example.org", "A")).rcode() == dns.rcode.SERVFAIL
        await wait_for(lambda: summed(caplog, "^read udp .* i/o timeout$") == 3)
    records = [r for r in caplog.records if r.name == "plugin/errors"]
    assert {r.levelname for r in records} == {"WARNING"}
    details = [r for r in records if "occurred in last" not in r.getMessage()]
    if show_first:  # the first of each period, at the pattern's level
        assert details
        assert details[0].getMessage() == f"2 example.org. A: plugin/failer: {TIMEOUT}"
    else:
        assert details == []


async def test_pending_counts_are_logged_on_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    text = corefile("errors {", "    consolidate 1h timeout$", "}", f"failer fail {TIMEOUT}")
    async with serve_corefile(text) as srv:
        caplog.clear()
        for _ in range(2):
            await srv.query("example.org", "A")
        assert lines(caplog) == []
    assert lines(caplog) == [
        "[ERROR] plugin/errors: 2 errors like 'timeout$' occurred in last 1h0m0s"
    ]


async def test_reload_flushes_the_old_config(caplog: pytest.LogCaptureFixture) -> None:
    text = corefile("errors {", "    consolidate 1h timeout$ info", "}", f"failer fail {TIMEOUT}")
    async with serve_corefile(text) as srv:
        caplog.clear()
        await srv.query("example.org", "A")
        assert await srv.reload(text.replace(" info", " debug"))
        assert errors_lines(caplog) == [
            "[INFO] plugin/errors: 1 errors like 'timeout$' occurred in last 1h0m0s"
        ]
        await srv.query("example.org", "A")  # counted by the new config
    assert errors_lines(caplog)[1:] == [
        "[DEBUG] plugin/errors: 1 errors like 'timeout$' occurred in last 1h0m0s"
    ]
