"""*errors* without a server: what is logged, what is answered, how errors are consolidated."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import dns.message
import pytest

from dnsd.errors import ChainError, PluginError
from dnsd.log import Formatter
from dnsd.plugins.errors.handler import Errors
from dnsd.plugins.errors.setup import Consolidate, ErrorsOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query

TIMEOUT = "read udp 10.0.0.1:53->8.8.8.8:53: i/o timeout"


def request(qname: str = "Example.ORG.", qtype: str = "AAAA") -> Request:
    wire = dns.message.make_query(qname, qtype).to_wire()
    return parse_query(wire, Request).init("127.0.0.1", 5353, "udp", "127.0.0.1", "dns://:53")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [Formatter().format(r) for r in caplog.records if r.name == "plugin/errors"]


def failing(
    message: str = TIMEOUT, plugin: str = "forward"
) -> Callable[[Request], Awaitable[Reply | None]]:
    async def next(req: Request) -> Reply | None:
        raise ChainError(plugin, PluginError(message))

    return next


async def answer(req: Request) -> Reply | None:
    return Reply(req.reply(aa=True))


async def nothing(req: Request) -> Reply | None:
    return None


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    async def serve(
        self, req: Request, next: Callable[[Request], Awaitable[Reply | None]]
    ) -> Reply | None:
        return await next(req)


@pytest.fixture(autouse=True)
def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="plugin/errors")


# -- one query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    next: Callable[[Request], Awaitable[Reply | None]]
    want_rcode: int | None  # None: the handler returns None (the server answers SERVFAIL)
    want: list[str]
    chain: tuple[str, ...] = ("errors", "log", "forward")


CASES = [
    Case(
        "plugin-error",
        failing(),
        2,
        [f"[ERROR] plugin/errors: 2 example.org. AAAA: plugin/forward: {TIMEOUT}"],
    ),
    Case(
        "other-plugin",
        failing("no healthy upstream", "kubernetes"),
        2,
        ["[ERROR] plugin/errors: 2 example.org. AAAA: plugin/kubernetes: no healthy upstream"],
    ),
    Case("answer", answer, 0, []),
    Case(
        "no-next-plugin",
        nothing,
        None,
        ["[ERROR] plugin/errors: 2 example.org. AAAA: plugin/forward: no next plugin found"],
    ),
    Case(
        "no-next-plugin-errors-alone",
        nothing,
        None,
        ["[ERROR] plugin/errors: 2 example.org. AAAA: plugin/errors: no next plugin found"],
        chain=("errors",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_query(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    chain = [Named(name) for name in case.chain]
    handler = Errors(ErrorsOptions(), chain)
    req = request()
    reply = await handler.serve(req, case.next)
    if case.want_rcode is None:
        assert reply is None
    else:
        assert reply is not None
        assert reply.rcode == case.want_rcode
        assert reply.msg.header.id == req.id
        assert str(reply.msg.q.qname) == "Example.ORG."
    if case.want_rcode == 2:
        assert reply is not None and reply.plugin == ""  # as if the server wrote it
    assert lines(caplog) == case.want


async def test_panic_passes_through(caplog: pytest.LogCaptureFixture) -> None:
    async def panic(req: Request) -> Reply | None:
        raise ChainError("stub", RuntimeError("boom"))

    with pytest.raises(ChainError) as info:
        await Errors(ErrorsOptions()).serve(request(), panic)
    assert info.value.panic
    assert lines(caplog) == []


# -- consolidation ---------------------------------------------------------------------------


def consolidate(*specs: Consolidate) -> Errors:
    return Errors(ErrorsOptions(consolidate=specs))


async def fail(handler: Errors, times: int, message: str = TIMEOUT) -> None:
    for _ in range(times):
        reply = await handler.serve(request(), failing(message))
        assert reply is not None and reply.rcode == 2


@dataclass(frozen=True)
class ConsolidateCase:
    id: str
    specs: tuple[Consolidate, ...]
    errors: int
    want_now: list[str]  # logged while the period runs
    want_flushed: list[str]  # logged when it ends


LINE = f"2 example.org. AAAA: plugin/forward: {TIMEOUT}"

CONSOLIDATE_CASES = [
    ConsolidateCase(
        "counted",
        (Consolidate(30.0, "i/o timeout$"),),
        3,
        [],
        ["[ERROR] plugin/errors: 3 errors like 'i/o timeout$' occurred in last 30s"],
    ),
    ConsolidateCase(
        "level",
        (Consolidate(300.0, "i/o timeout$", "warning"),),
        2,
        [],
        ["[WARNING] plugin/errors: 2 errors like 'i/o timeout$' occurred in last 5m0s"],
    ),
    ConsolidateCase(
        "one-error-is-still-summed-up",
        (Consolidate(90.0, "timeout", "info"),),
        1,
        [],
        ["[INFO] plugin/errors: 1 errors like 'timeout' occurred in last 1m30s"],
    ),
    ConsolidateCase(
        "show-first",
        (Consolidate(30.0, "i/o timeout$", "warning", show_first=True),),
        3,
        [f"[WARNING] plugin/errors: {LINE}"],
        ["[WARNING] plugin/errors: 3 errors like 'i/o timeout$' occurred in last 30s"],
    ),
    ConsolidateCase(
        "show-first-single",
        (Consolidate(30.0, "i/o timeout$", "debug", show_first=True),),
        1,
        [f"[DEBUG] plugin/errors: {LINE}"],
        [],
    ),
    ConsolidateCase(
        "anchored-on-the-message",  # CoreDNS's "^read udp" patterns see the bare message too
        (Consolidate(30.0, "^read udp .* i/o timeout$"),),
        2,
        [],
        ["[ERROR] plugin/errors: 2 errors like '^read udp .* i/o timeout$' occurred in last 30s"],
    ),
    ConsolidateCase(
        "anchored-on-the-plugin",
        (Consolidate(30.0, "^plugin/forward: "),),
        2,
        [],
        ["[ERROR] plugin/errors: 2 errors like '^plugin/forward: ' occurred in last 30s"],
    ),
    ConsolidateCase(
        "first-pattern-wins",
        (Consolidate(30.0, "timeout", "warning"), Consolidate(60.0, "udp", "info")),
        2,
        [],
        ["[WARNING] plugin/errors: 2 errors like 'timeout' occurred in last 30s"],
    ),
    ConsolidateCase(
        "no-match",
        (Consolidate(30.0, "refused"),),
        2,
        [f"[ERROR] plugin/errors: {LINE}", f"[ERROR] plugin/errors: {LINE}"],
        [],
    ),
]


@pytest.mark.parametrize("case", CONSOLIDATE_CASES, ids=lambda c: c.id)
async def test_consolidate(case: ConsolidateCase, caplog: pytest.LogCaptureFixture) -> None:
    handler = consolidate(*case.specs)
    await fail(handler, case.errors)
    assert lines(caplog) == case.want_now
    for pattern in handler.patterns:  # what the period's timer does
        if pattern.timer is not None:
            pattern.timer.cancel()
            pattern.flush()
    assert lines(caplog) == case.want_now + case.want_flushed


async def test_a_new_period_starts_after_a_flush(caplog: pytest.LogCaptureFixture) -> None:
    handler = consolidate(Consolidate(30.0, "timeout"))
    await fail(handler, 2)
    (pattern,) = handler.patterns
    assert pattern.timer is not None
    first = pattern.timer
    first.cancel()
    pattern.flush()
    assert pattern.timer is None and pattern.count == 0
    await fail(handler, 1)
    assert pattern.timer is not None and pattern.timer is not first
    assert pattern.count == 1


async def test_the_timer_runs_for_the_period() -> None:
    handler = consolidate(Consolidate(30.0, "timeout"))
    await fail(handler, 1)
    (pattern,) = handler.patterns
    assert pattern.timer is not None
    loop_time = pattern.timer.when() - 30.0
    assert abs(loop_time - asyncio.get_running_loop().time()) < 1.0
    await handler.stop()


async def test_stop_flushes_and_then_logs_each_error(caplog: pytest.LogCaptureFixture) -> None:
    handler = consolidate(Consolidate(3600.0, "timeout", "warning"))
    await fail(handler, 2)
    await handler.stop()
    assert lines(caplog) == [
        "[WARNING] plugin/errors: 2 errors like 'timeout' occurred in last 1h0m0s"
    ]
    await fail(handler, 1)
    assert lines(caplog)[1:] == [f"[WARNING] plugin/errors: {LINE}"]
    assert handler.patterns[0].timer is None


async def test_stop_without_errors_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    handler = consolidate(Consolidate(30.0, "timeout"))
    await handler.stop()
    assert lines(caplog) == []
