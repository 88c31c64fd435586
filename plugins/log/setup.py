"""Setup of *log*: ``log [NAMES...] [FORMAT] { class success|denial|error|all... }``.

Every ``log`` line adds one rule per name (default ``.``); the rules keep the
order they are written in and the first whose zone holds the query name logs
it. FORMAT is the last argument when there are several and it contains ``{``;
``{common}`` and ``{combined}`` are shortcuts. ``class`` lines in the block
add up (a reply is logged when its class is any of them); without one, every
class is logged.

Where dnsd differs: a single argument containing ``{`` (``log {combined}``) is
the format, not a name (CoreDNS makes it the zone ``{combined}.`` and then logs
nothing); NAMES are normalised like server keys (lowercase, CIDRs become reverse
zones); an unknown property is ``unknown property 'x'``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.plugins.log.handler import Log
from dnsd.plugins.log.replacer import COMMON_FORMAT, SHORTCUTS
from dnsd.plugins.log.response import ALL, CLASSES

NAME = "log"


@dataclass(frozen=True)
class LogRule:
    """Log the queries for names in ``zone`` whose reply class is in ``classes``."""

    zone: str = "."
    format: str = COMMON_FORMAT
    classes: frozenset[str] = frozenset({ALL})


@dataclass(frozen=True)
class LogOptions:
    """The rules of one server block, in the order written."""

    rules: tuple[LogRule, ...] = (LogRule(),)


def _format(arg: str) -> str:
    return SHORTCUTS.get(arg, arg)


def _classes(c: Controller) -> frozenset[str]:
    """The union of the ``class`` lines of the directive's block (``all`` when none)."""
    classes: set[str] = set()
    while c.next_block():
        if c.val() != "class":
            c.unknown_property()
        args = c.remaining_args()
        if not args:
            c.arg_err()
        for arg in args:
            if arg not in CLASSES:
                c.err(f"invalid class '{arg}': want one of {', '.join(CLASSES)}")
            classes.add(arg)
    return frozenset(classes or {ALL})


def parse(c: Controller) -> LogOptions:
    """Read every ``log`` line of the block into rules."""
    rules: list[LogRule] = []
    while c.next():
        args = c.remaining_args()
        fmt = COMMON_FORMAT
        if args and "{" in args[-1]:
            fmt = _format(args.pop())
        try:
            zones = normalize_zones(args) if args else ["."]
        except ValueError as exc:
            c.err(str(exc))
        classes = _classes(c)
        rules.extend(LogRule(zone=zone, format=fmt, classes=classes) for zone in zones)
    return LogOptions(rules=tuple(rules)) if rules else LogOptions()


def setup(c: Controller) -> None:
    """Register the handler with the block's rules."""
    c.add_handler(Log(parse(c)))
