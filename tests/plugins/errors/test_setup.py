"""Setup of *errors*: stdout, stacktrace, consolidate; every error message whole."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.errors import setup
from dnsd.plugins.errors.handler import Errors
from dnsd.plugins.errors.setup import MAX_REGEXP_LEN, Consolidate, ErrorsOptions
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "errors")


def block(*lines: str) -> str:
    return ". {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def errors(*lines: str) -> str:
    return block("errors {", *(f"    {line}" for line in lines), "}")


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: ErrorsOptions | None = None
    error: str | None = None


LONG = "a" * (MAX_REGEXP_LEN + 1)

CASES = [
    SetupCase("plain", block("errors"), want=ErrorsOptions()),
    SetupCase("stdout", block("errors stdout"), want=ErrorsOptions()),
    SetupCase("empty-block", errors(), want=ErrorsOptions()),
    SetupCase("stacktrace", errors("stacktrace"), want=ErrorsOptions(stacktrace=True)),
    SetupCase(
        "consolidate",
        errors("consolidate 1m ^exact$"),
        want=ErrorsOptions(consolidate=(Consolidate(60.0, "^exact$"),)),
    ),
    SetupCase(
        "consolidate-quoted",
        errors('consolidate 5m ".* i/o timeout$" warning'),
        want=ErrorsOptions(consolidate=(Consolidate(300.0, ".* i/o timeout$", "warning"),)),
    ),
    SetupCase(
        "consolidate-levels",
        errors(
            "consolidate 1s a error",
            "consolidate 1s b info",
            "consolidate 1s c debug",
            "consolidate 1s d warning",
        ),
        want=ErrorsOptions(
            consolidate=(
                Consolidate(1.0, "a", "error"),
                Consolidate(1.0, "b", "info"),
                Consolidate(1.0, "c", "debug"),
                Consolidate(1.0, "d", "warning"),
            )
        ),
    ),
    SetupCase(
        "show-first",
        errors("consolidate 30s error show_first"),
        want=ErrorsOptions(consolidate=(Consolidate(30.0, "error", show_first=True),)),
    ),
    SetupCase(
        "level-then-show-first",
        errors("consolidate 1h30m ^Failed warning show_first"),
        want=ErrorsOptions(consolidate=(Consolidate(5400.0, "^Failed", "warning", True),)),
    ),
    SetupCase(
        "everything-in-order",
        errors("stacktrace", "consolidate 1m error1", "consolidate 5s error2"),
        want=ErrorsOptions(
            stacktrace=True,
            consolidate=(Consolidate(60.0, "error1"), Consolidate(5.0, "error2")),
        ),
    ),
    SetupCase(
        "longest-regexp",
        errors(f"consolidate 1m {'a' * MAX_REGEXP_LEN}"),
        want=ErrorsOptions(consolidate=(Consolidate(60.0, "a" * MAX_REGEXP_LEN),)),
    ),
    SetupCase(
        "twice",
        block("errors", "errors"),
        error="Corefile:3: errors: can only be used once per server block",
    ),
    SetupCase(
        "log-file",
        block("errors errors.txt"),
        error="Corefile:2: errors: invalid log file: errors.txt",
    ),
    SetupCase(
        "two-args",
        block("errors stdout extra"),
        error="Corefile:2: errors: wrong argument count or unexpected line ending after 'extra'",
    ),
    SetupCase(
        "unknown-property",
        errors("log visible"),
        error="Corefile:3: errors: unknown property 'log'",
    ),
    SetupCase(
        "old-stacktrace-name",
        errors("panicRecoveryStacktrace"),
        error="Corefile:3: errors: unknown property 'panicRecoveryStacktrace'",
    ),
    SetupCase(
        "stacktrace-argument",
        errors("stacktrace yes"),
        error="Corefile:3: errors: wrong argument count or unexpected line ending after 'yes'",
    ),
    SetupCase(
        "consolidate-no-args",
        errors("consolidate"),
        error="Corefile:3: errors: wrong argument count or unexpected line ending after "
        "'consolidate'",
    ),
    SetupCase(
        "consolidate-one-arg",
        errors("consolidate 1m"),
        error="Corefile:3: errors: wrong argument count or unexpected line ending after '1m'",
    ),
    SetupCase(
        "consolidate-five-args",
        errors("consolidate 1m .* warning show_first more"),
        error="Corefile:3: errors: wrong argument count or unexpected line ending after 'more'",
    ),
    SetupCase(
        "bad-duration",
        errors("consolidate abc .*"),
        error="Corefile:3: errors: invalid duration 'abc'",
    ),
    SetupCase(
        "duration-without-unit",
        errors("consolidate 1 .*"),
        error="Corefile:3: errors: invalid duration '1': missing unit",
    ),
    SetupCase(
        "zero-duration",
        errors("consolidate 0s .*"),
        error="Corefile:3: errors: invalid duration '0s': must be positive",
    ),
    SetupCase(
        "negative-duration",
        errors("consolidate -5s .*"),
        error="Corefile:3: errors: invalid duration '-5s': must be positive",
    ),
    SetupCase(
        "bad-regexp",
        errors("consolidate 1m ())"),
        error="Corefile:3: errors: error parsing regexp: unbalanced parenthesis at position 2: "
        "`())`",
    ),
    SetupCase(
        "regexp-too-long",
        errors(f"consolidate 1m {LONG}"),
        error=f"Corefile:3: errors: regex pattern too long: {len(LONG)} > {MAX_REGEXP_LEN}",
    ),
    SetupCase(
        "unknown-option",
        errors("consolidate 1m error invalid_option"),
        error="Corefile:3: errors: unknown option in consolidate: invalid_option",
    ),
    SetupCase(
        "two-levels",
        errors("consolidate 1m error warning error"),
        error="Corefile:3: errors: multiple log levels specified in consolidate",
    ),
    SetupCase(
        "level-after-show-first",
        errors("consolidate 1m error show_first info"),
        error="Corefile:3: errors: log level must come before show_first in consolidate",
    ),
    SetupCase(
        "level-is-case-sensitive",
        errors("consolidate 1m error WARNING"),
        error="Corefile:3: errors: unknown option in consolidate: WARNING",
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
        assert c.instance.shutdown == []
        return
    setup(c)
    assert case.want is not None
    (handler,) = c.block.handlers
    assert isinstance(handler, Errors)
    assert handler.options == case.want
    assert c.block.settings.get("stacktrace", False) is case.want.stacktrace
    assert c.instance.shutdown == [handler.stop]


def test_defaults() -> None:
    assert ErrorsOptions() == ErrorsOptions(stacktrace=False, consolidate=())
    assert Consolidate(1.0, "x") == Consolidate(1.0, "x", level="error", show_first=False)
