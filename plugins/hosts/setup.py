"""Setup of *hosts*.

::

    hosts [FILE [ZONES...]] {
        [INLINE]
        ttl SECONDS
        no_reverse
        reload DURATION
        fallthrough [ZONES...]
        fallthrough_unsupported
    }

As in CoreDNS: once per server block; FILE defaults to ``/etc/hosts`` and a relative FILE is
joined to *root*; a FILE that does not exist is accepted (it is logged at start-up and used
once it appears), one that cannot be looked at is an error; ZONES default to the block's; an
inline line is any line of the block that is not an option, until ``fallthrough`` (after it, an
unknown word is ``unknown property``). ``reload 0`` turns reloading off.

Stricter than CoreDNS, which ignores such lines silently: an inline line must be
``ADDRESS NAME...`` with valid names (a first word that is no IP address is reported as an
unknown property, so ``no-reverse`` or a misspelt option is not taken for data), and extra
arguments to ``ttl``, ``no_reverse`` and ``fallthrough_unsupported`` are errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.fall import Fallthrough
from dnsd.log import plugin_logger
from dnsd.plugins.hosts.hostsfile import LineError, parse_address, parse_line

NAME = "hosts"
DEFAULT_PATH = "/etc/hosts"

log = plugin_logger(NAME)


@dataclass(frozen=True)
class HostsOptions:
    """Every option, with CoreDNS's default."""

    #: The hosts file, absolute.
    path: str = DEFAULT_PATH
    #: Absolute lowercase zones the plugin answers names in; by default the block's zones.
    zones: tuple[str, ...] = (".",)
    #: The inline lines (``ADDRESS NAME...``), checked, in the order given.
    inline: tuple[str, ...] = ()
    #: TTL of every record, forward and reverse.
    ttl: int = 3600
    #: Answer PTR queries from the entries (``no_reverse`` turns it off).
    reverse: bool = True
    #: Seconds between checks of the file; 0 reads it once.
    reload: float = 5.0
    fallthrough: Fallthrough = Fallthrough()
    #: Pass other types than A, AAAA and PTR on for names that exist, where fallthrough applies.
    fallthrough_unsupported: bool = False


def parse(c: Controller) -> HostsOptions:
    """Read the one ``hosts`` directive of the block."""
    opts = HostsOptions(zones=tuple(c.zones))
    while c.next_once():
        args = c.remaining_args()
        path = DEFAULT_PATH
        if args:
            path = c.path(args[0])
            _check_path(c, path)
        try:
            zones = tuple(normalize_zones(args[1:])) if len(args) > 1 else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        values: dict[str, object] = {"path": path, "zones": zones}
        inline: list[str] = []
        unsupported_at: tuple[str, int] | None = None
        while c.next_block():
            if c.val() == "fallthrough_unsupported":
                unsupported_at = (c.token().file, c.token().line)
            _property(c, values, inline)
        if unsupported_at is not None and "fallthrough" not in values:
            file, line = unsupported_at
            raise CorefileError("fallthrough_unsupported requires fallthrough", file, line, NAME)
        opts = HostsOptions(inline=tuple(inline), **values)  # type: ignore[arg-type]
    return opts


def _check_path(c: Controller, path: str) -> None:
    try:
        os.stat(path)
    except FileNotFoundError:
        return  # logged at start-up, used once it appears
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        c.err(f"unable to access hosts file '{path}': {reason}")


def _property(c: Controller, values: dict[str, object], inline: list[str]) -> None:
    prop = c.val()
    if prop == "fallthrough":
        try:
            values["fallthrough"] = Fallthrough.from_args(c.remaining_args())
        except ValueError as exc:
            c.err(str(exc))
    elif prop == "no_reverse":
        _no_args(c)
        values["reverse"] = False
    elif prop == "fallthrough_unsupported":
        _no_args(c)
        values["fallthrough_unsupported"] = True
    elif prop == "ttl":
        values["ttl"] = _ttl(c, c.remaining_args())
    elif prop == "reload":
        values["reload"] = c.duration_arg(
            c.remaining_args(),
            missing="reload needs a duration (zero seconds to disable)",
            invalid="invalid duration for reload '{arg}'",
            negative="invalid negative duration for reload '{arg}'",
        )
    elif "fallthrough" in values:
        c.unknown_property()
    else:
        inline.append(_inline(c, values["zones"]))  # type: ignore[arg-type]


def _no_args(c: Controller) -> None:
    if c.next_arg():
        c.arg_err()


def _ttl(c: Controller, args: list[str]) -> int:
    if len(args) != 1:
        c.arg_err()
    if not (args[0].isascii() and args[0].isdigit()):
        c.err(f"ttl needs a number of seconds: '{args[0]}'")
    ttl = int(args[0])
    if not 1 <= ttl <= 65535:
        c.err(f"ttl must be between 1 and 65535: {ttl}")
    return ttl


def _inline(c: Controller, zones: tuple[str, ...]) -> str:
    """One inline line, checked; names outside the zones are logged (CoreDNS drops them)."""
    first = c.val()
    try:
        parse_address(first)
    except LineError:
        c.unknown_property()
    rest = c.remaining_args()
    if not rest:
        c.arg_err()
    line = " ".join([first, *rest])
    try:
        entries = parse_line(line, zones)
    except LineError as exc:
        c.err(str(exc))
    if len(entries) < len(rest):
        kept = {e.name for e in entries}
        outside = [name for name in rest if name.lower().rstrip(".") + "." not in kept]
        where = f"{c.token().file}:{c.token().line}"
        log.warning(
            "%s: %s not in the zones %s; ignored", where, " ".join(outside), " ".join(zones)
        )
    return line


def setup(c: Controller) -> None:
    """Parse, put the handler in the chain; start-up reads the file and starts the reloads."""
    from dnsd.plugins.hosts.handler import Hosts
    from dnsd.plugins.hosts.source import HostsSource

    opts = parse(c)
    source = HostsSource(
        opts.path, opts.zones, opts.inline, reverse=opts.reverse, reload=opts.reload
    )
    c.add_handler(Hosts(opts, source))
    c.on_startup(source.start)
    c.on_shutdown(source.stop)
