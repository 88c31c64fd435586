"""Setup of *log*: names, formats, classes, several lines; every error message whole."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.log import setup
from dnsd.plugins.log.handler import Log
from dnsd.plugins.log.replacer import COMBINED_FORMAT, COMMON_FORMAT
from dnsd.plugins.log.setup import LogOptions, LogRule
from dnsd.testing import setup_controller

ALL = frozenset({"all"})


def controller(text: str) -> Controller:
    return setup_controller(text, "log")


def block(*lines: str) -> str:
    return ". {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: LogOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("plain", block("log"), want=LogOptions(rules=(LogRule(),))),
    SetupCase("root", block("log ."), want=LogOptions(rules=(LogRule(zone="."),))),
    SetupCase(
        "name-normalised",
        block("log Example.ORG"),
        want=LogOptions(rules=(LogRule(zone="example.org."),)),
    ),
    SetupCase(
        "names",
        block("log example.org example.net"),
        want=LogOptions(rules=(LogRule(zone="example.org."), LogRule(zone="example.net."))),
    ),
    SetupCase(
        "cidr",
        block("log 10.0.0.0/24"),
        want=LogOptions(rules=(LogRule(zone="0.0.10.in-addr.arpa."),)),
    ),
    SetupCase(
        "common",
        block("log . {common}"),
        want=LogOptions(rules=(LogRule(format=COMMON_FORMAT),)),
    ),
    SetupCase(
        "combined",
        block("log . {combined}"),
        want=LogOptions(rules=(LogRule(format=COMBINED_FORMAT),)),
    ),
    SetupCase(
        "custom-format-for-names",
        block('log example.org example.net "{proto} Request: {name} {type} {>id}"'),
        want=LogOptions(
            rules=(
                LogRule(zone="example.org.", format="{proto} Request: {name} {type} {>id}"),
                LogRule(zone="example.net.", format="{proto} Request: {name} {type} {>id}"),
            )
        ),
    ),
    SetupCase(
        "lone-format",  # CoreDNS would take it as the zone "{combined}." and log nothing
        block("log {combined}"),
        want=LogOptions(rules=(LogRule(format=COMBINED_FORMAT),)),
    ),
    SetupCase(
        "name-without-brace-is-not-a-format",
        block("log example.org common"),
        want=LogOptions(rules=(LogRule(zone="example.org."), LogRule(zone="common."))),
    ),
    SetupCase(
        "class",
        block("log example.org {", "    class denial", "}"),
        want=LogOptions(rules=(LogRule(zone="example.org.", classes=frozenset({"denial"})),)),
    ),
    SetupCase(
        "classes-on-one-line",
        block("log . {combined} {", "    class denial error", "}"),
        want=LogOptions(
            rules=(LogRule(format=COMBINED_FORMAT, classes=frozenset({"denial", "error"})),)
        ),
    ),
    SetupCase(
        "class-lines-add-up",
        block("log . {", "    class denial", "    class success", "}"),
        want=LogOptions(rules=(LogRule(classes=frozenset({"denial", "success"})),)),
    ),
    SetupCase(
        "class-all-kept",
        block("log {", "    class error all", "}"),
        want=LogOptions(rules=(LogRule(classes=frozenset({"error", "all"})),)),
    ),
    SetupCase(
        "classes-apply-to-every-name",
        block("log a.example b.example {", "    class error", "}"),
        want=LogOptions(
            rules=(
                LogRule(zone="a.example.", classes=frozenset({"error"})),
                LogRule(zone="b.example.", classes=frozenset({"error"})),
            )
        ),
    ),
    SetupCase(
        "several-lines-in-order",
        block("log example.org {", "    class denial", "}", "log . {combined}"),
        want=LogOptions(
            rules=(
                LogRule(zone="example.org.", classes=frozenset({"denial"})),
                LogRule(format=COMBINED_FORMAT),
            )
        ),
    ),
    SetupCase(
        "class-without-argument",
        block("log {", "    class", "}"),
        error="Corefile:3: log: wrong argument count or unexpected line ending after 'class'",
    ),
    SetupCase(
        "class-unknown",
        block("log {", "    class success bogus", "}"),
        error="Corefile:3: log: invalid class 'bogus': want one of success, denial, error, all",
    ),
    SetupCase(
        "class-is-case-sensitive",
        block("log {", "    class Denial", "}"),
        error="Corefile:3: log: invalid class 'Denial': want one of success, denial, error, all",
    ),
    SetupCase(
        "unknown-property",
        block("log {", "    minDuration 1s", "}"),
        error="Corefile:3: log: unknown property 'minDuration'",
    ),
    SetupCase(
        "bad-cidr",
        block("log 10.0.0.0/33"),
        error="Corefile:2: log: invalid CIDR '10.0.0.0/33'",
    ),
    SetupCase(
        "error-in-second-line",
        block("log", "log {", "    kind all", "}"),
        error="Corefile:4: log: unknown property 'kind'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            setup(c)
        assert str(info.value) == case.error
        assert c.block.handlers == []
        return
    setup(c)
    assert len(c.block.handlers) == 1
    handler = c.block.handlers[0]
    assert isinstance(handler, Log)
    assert handler.options == case.want


def test_defaults() -> None:
    assert LogOptions() == LogOptions(rules=(LogRule(zone=".", format=COMMON_FORMAT),))
    assert LogRule().classes == ALL
    assert COMMON_FORMAT == (
        '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" '
        "{rcode} {>rflags} {rsize} {duration}"
    )
    assert COMBINED_FORMAT == COMMON_FORMAT + ' "{>opcode}"'
