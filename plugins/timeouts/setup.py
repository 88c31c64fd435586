"""Setup of *timeouts*::

    timeouts {
        read DURATION
        write DURATION
        idle DURATION
        maxtcpqueries MAXIMUM
        max_connections MAXIMUM
    }

Durations are Go durations or bare seconds, between 1s and 24h (CoreDNS's
bounds). ``maxtcpqueries`` is a positive integer or -1 (unlimited);
CoreDNS's older spelling ``max_queries`` is accepted too. ``max_connections``
is dnsd's: the most TCP connections one listener holds at once. At least one
option is required. The limits go to ``c.block.settings["timeouts"]`` as a
:class:`~dnsd.instance.TcpLimits`; unset fields keep their defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dnsd.controller import Controller
from dnsd.duration import format_duration, parse_duration
from dnsd.instance import TcpLimits

NAME = "timeouts"

MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 24 * 3600.0

_DEFAULTS = TcpLimits()
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class TimeoutsOptions:
    """Server-side TCP limits; seconds for the timeouts, -1 for unlimited queries."""

    read: float = _DEFAULTS.read
    write: float = _DEFAULTS.write
    idle: float = _DEFAULTS.idle
    max_queries: int = _DEFAULTS.max_queries
    max_connections: int = _DEFAULTS.max_connections

    def limits(self) -> TcpLimits:
        """The :class:`TcpLimits` the listeners read (other fields at their defaults)."""
        return replace(
            _DEFAULTS,
            read=self.read,
            write=self.write,
            idle=self.idle,
            max_queries=self.max_queries,
            max_connections=self.max_connections,
        )


def parse(c: Controller) -> TimeoutsOptions:
    """Read the one ``timeouts`` block (a second one is an error)."""
    options: TimeoutsOptions | None = None
    while c.next_once():
        if c.next_arg():
            c.arg_err()
        options = TimeoutsOptions()
        count = 0
        while c.next_block():
            options = _option(c, options)
            count += 1
        if count == 0:
            c.err("timeouts block with no timeouts or limits specified")
    return options or TimeoutsOptions()


def _option(c: Controller, options: TimeoutsOptions) -> TimeoutsOptions:
    prop = c.val()
    if prop == "read":
        return replace(options, read=_timeout(c))
    if prop == "write":
        return replace(options, write=_timeout(c))
    if prop == "idle":
        return replace(options, idle=_timeout(c))
    if prop in ("maxtcpqueries", "max_queries"):
        value = _integer(c)
        if value == 0 or value < -1:
            c.err(f"{prop} must be a positive integer or -1 (unlimited), got {value}")
        return replace(options, max_queries=value)
    if prop == "max_connections":
        value = _integer(c)
        if value < 1:
            c.err(f"max_connections must be a positive integer, got {value}")
        return replace(options, max_connections=value)
    c.unknown_property()
    return options  # not reached: unknown_property raises


def _single(c: Controller) -> str:
    args = c.remaining_args()
    if len(args) != 1:
        c.arg_err()
    return args[0]


def _timeout(c: Controller) -> float:
    text = _single(c)
    try:
        seconds = parse_duration(text)
    except ValueError:
        c.err(f"failed to parse duration '{text}'")
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        shown = format_duration(seconds)
        c.err(f"timeout provided '{shown}' needs to be between 1 second and 24 hours")
    return seconds


def _integer(c: Controller) -> int:
    text = _single(c)
    if not _INTEGER.fullmatch(text):
        c.err(f"invalid integer '{text}'")
    return int(text)


def setup(c: Controller) -> None:
    """Store the limits for the block's listeners."""
    c.settings[NAME] = parse(c).limits()
