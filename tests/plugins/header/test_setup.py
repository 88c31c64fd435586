"""Setup of *header*: selector, action and flags per line, CoreDNS's error messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from dnsd.plugins.header import setup
from dnsd.plugins.header.flags import Rule
from dnsd.plugins.header.handler import Header
from dnsd.plugins.header.setup import HeaderOptions, parse
from dnsd.testing import check_parse, setup_controller


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: HeaderOptions | None = None
    error: str | None = None


def block(*lines: str) -> str:
    body = "".join(f"        {line}\n" for line in lines)
    return f". {{\n    header {{\n{body}    }}\n}}\n"


SET_RD, CLEAR_RD = Rule("rd", True), Rule("rd", False)
SET_AA, SET_RA = Rule("aa", True), Rule("ra", True)
ARGS = "wrong argument count or unexpected line ending after"

CASES = [
    SetupCase("query-set-rd", block("query set rd"), HeaderOptions(query=(SET_RD,))),
    SetupCase("response-set-aa", block("response set aa"), HeaderOptions(response=(SET_AA,))),
    SetupCase(
        "both",
        block("response set ra aa", "query clear rd"),
        HeaderOptions(query=(CLEAR_RD,), response=(SET_RA, SET_AA)),
    ),
    SetupCase(
        "order-kept",
        block("response set rd", "response clear rd"),
        HeaderOptions(response=(SET_RD, CLEAR_RD)),
    ),
    SetupCase(
        "case-insensitive",
        block("QuErY SeT RD aa", "ReSpOnSe ClEaR RA"),
        HeaderOptions(query=(SET_RD, SET_AA), response=(Rule("ra", False),)),
    ),
    SetupCase(
        "deprecated-no-selector",
        block("set ra aa", "clear rd"),
        HeaderOptions(response=(SET_RA, SET_AA, CLEAR_RD)),
    ),
    SetupCase(
        "two-directives",
        ". {\n    header {\n        query set rd\n    }\n    header {\n        response set ra\n"
        "    }\n}\n",
        HeaderOptions(query=(SET_RD,), response=(SET_RA,)),
    ),
    SetupCase("no-block", ". {\n    header\n}\n", error=f"Corefile:2: header: {ARGS} 'header'"),
    SetupCase(
        "empty-block", ". {\n    header {\n    }\n}\n", error=f"Corefile:3: header: {ARGS} '}}'"
    ),
    SetupCase(
        "argument",
        ". {\n    header ignored {\n        query set rd\n    }\n}\n",
        error=f"Corefile:2: header: {ARGS} 'ignored'",
    ),
    SetupCase(
        "bad-selector",
        block("foo"),
        error="Corefile:3: header: setting up rule: invalid selector=foo should be query or "
        "response",
    ),
    SetupCase(
        "no-action",
        block("query"),
        error="Corefile:3: header: setting up rule: no flag action provided",
    ),
    SetupCase(
        "no-flags",
        block("response set"),
        error="Corefile:3: header: setting up rule: invalid length for flags, at least one "
        "should be provided",
    ),
    SetupCase(
        "no-flags-bad-action",
        block("query foo"),
        error="Corefile:3: header: setting up rule: invalid length for flags, at least one "
        "should be provided",
    ),
    SetupCase(
        "deprecated-no-flags",
        block("clear"),
        error="Corefile:3: header: setting up rule: invalid length for flags, at least one "
        "should be provided",
    ),
    SetupCase(
        "bad-action",
        block("query foo rd"),
        error="Corefile:3: header: setting up rule: unknown flag action=foo, should be set or "
        "clear",
    ),
    SetupCase(
        "unsupported-flag",
        block("response set aa AD"),
        error="Corefile:3: header: setting up rule: unknown/unsupported flag=ad",
    ),
    SetupCase(
        "error-on-second-line",
        block("response set aa", "query set cd"),
        error="Corefile:4: header: setting up rule: unknown/unsupported flag=cd",
    ),
    SetupCase(
        "second-directive-empty",
        ". {\n    header {\n        query set rd\n    }\n    header {\n    }\n}\n",
        error=f"Corefile:6: header: {ARGS} '}}'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, "header", parse, want=case.want, error=case.error)


def test_missing_selector_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="plugin/header"):
        check_parse(
            block("query set rd", "set ra"),
            "header",
            parse,
            want=HeaderOptions(query=(SET_RD,), response=(SET_RA,)),
        )
    assert [r.getMessage() for r in caplog.records] == [
        "Corefile:4: rule without a selector applies to responses; this syntax is deprecated, "
        "write 'response set ...'"
    ]


def test_setup_adds_the_handler() -> None:
    c = setup_controller(block("query set rd", "response clear ra"), "header")
    setup(c)
    [handler] = c.block.handlers
    assert isinstance(handler, Header)
    assert (handler.query.set, handler.query.clear) == (0x0100, 0)
    assert (handler.response.set, handler.response.clear) == (0, 0x0080)
