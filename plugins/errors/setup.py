"""Setup of *errors*: ``errors [stdout] { stacktrace; consolidate DUR RE [LEVEL] [show_first] }``.

Once per server block. ``stacktrace`` makes the server log the traceback of
every recovered panic in this block (``c.block.settings["stacktrace"]``).
Each ``consolidate`` line adds a pattern: matching errors are counted for DUR
after the first one and then summed up in one line at LEVEL (``warning``,
``error`` (default), ``info`` or ``debug``); ``show_first`` also logs the first
one at once. The level must come before ``show_first``, as in CoreDNS.

Where dnsd differs: DUR must carry a unit and be positive (CoreDNS accepts
``0s`` and negative periods, which consolidate nothing); REGEXP is a Python
regular expression (the RE2 syntax CoreDNS takes is, for what error patterns
use, the same); an unknown property is ``unknown property 'x'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.duration import parse_duration
from dnsd.plugins.errors.handler import LEVELS, Errors

NAME = "errors"

#: CoreDNS's cap on a consolidate regexp, against huge compiled patterns.
MAX_REGEXP_LEN = 10000

SHOW_FIRST = "show_first"


@dataclass(frozen=True)
class Consolidate:
    """Errors matching ``pattern`` are counted for ``period`` seconds, then logged as one line."""

    period: float
    pattern: str
    level: str = "error"
    show_first: bool = False


@dataclass(frozen=True)
class ErrorsOptions:
    """The block's *errors* settings."""

    stacktrace: bool = False
    consolidate: tuple[Consolidate, ...] = ()


def _period(c: Controller, text: str) -> float:
    if text.isdigit() and text.strip("0"):
        c.err(f"invalid duration '{text}': missing unit")
    try:
        period = parse_duration(text)
    except ValueError as exc:
        c.err(str(exc))
    if period <= 0:
        c.err(f"invalid duration '{text}': must be positive")
    return period


def _options(c: Controller, args: list[str]) -> tuple[str | None, bool]:
    """The optional LEVEL and ``show_first`` after DUR and REGEXP."""
    level: str | None = None
    show_first = False
    for arg in args:
        if arg in LEVELS:
            if level is not None:
                c.err("multiple log levels specified in consolidate")
            if show_first:
                c.err("log level must come before show_first in consolidate")
            level = arg
        elif arg == SHOW_FIRST:
            show_first = True
        else:
            c.err(f"unknown option in consolidate: {arg}")
    return level, show_first


def _consolidate(c: Controller) -> Consolidate:
    args = c.remaining_args()
    if not 2 <= len(args) <= 4:
        c.arg_err()
    period = _period(c, args[0])
    pattern = args[1]
    if len(pattern) > MAX_REGEXP_LEN:
        c.err(f"regex pattern too long: {len(pattern)} > {MAX_REGEXP_LEN}")
    try:
        re.compile(pattern)
    except re.error as exc:
        c.err(f"error parsing regexp: {exc}: `{pattern}`")
    level, show_first = _options(c, args[2:])
    return Consolidate(period, pattern, level or "error", show_first)


def parse(c: Controller) -> ErrorsOptions:
    """Read the one ``errors`` directive of the block."""
    options: ErrorsOptions | None = None
    while c.next_once():
        args = c.remaining_args()
        if len(args) > 1:
            c.arg_err()
        if args and args[0] != "stdout":
            c.err(f"invalid log file: {args[0]}")
        stacktrace = False
        patterns: list[Consolidate] = []
        while c.next_block():
            if c.val() == "stacktrace":
                if c.next_arg():
                    c.arg_err()
                stacktrace = True
            elif c.val() == "consolidate":
                patterns.append(_consolidate(c))
            else:
                c.unknown_property()
        options = ErrorsOptions(stacktrace=stacktrace, consolidate=tuple(patterns))
    return options or ErrorsOptions()


def setup(c: Controller) -> None:
    """Register the handler; flush pending summaries when this config stops."""
    options = parse(c)
    if options.stacktrace:
        c.settings["stacktrace"] = True
    handler = Errors(options, c.block.handlers)
    c.add_handler(handler)
    c.on_shutdown(handler.stop)
