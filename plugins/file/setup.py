"""Setup of *file*: ``file DBFILE [ZONES...] { reload DURATION; reload_by_mtime;
fallthrough [ZONES...] }`` (CoreDNS's syntax).

- DBFILE is joined to the block's *root* when relative. ZONES (default: the block's zones) are
  the origins the file is read with, one zone each.
- ``reload`` (default 1m, ``0`` off): how often the file is looked at. A changed file is applied
  when its SOA serial changed (any change, as CoreDNS does), or, with ``reload_by_mtime``,
  whenever the file's modification time changed.
- ``fallthrough``: NXDOMAIN answers for these zones (all when none are named) go to the next
  plugin instead.
- ``upstream`` (a removed CoreDNS option) is accepted and ignored, as CoreDNS does.

Each ``file`` line is one :class:`ZoneFileOptions`; a block may have several. At start-up every
zone is read: a zone that does not parse is a configuration error (at the DBFILE), and so is a
file that cannot be opened when ``reload`` is 0; with reloading on, a missing file is logged and
its zones answer SERVFAIL until it appears (CoreDNS's behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.corefile import Token
from dnsd.errors import CorefileError
from dnsd.fall import Fallthrough

NAME = "file"

#: CoreDNS's default reload interval, in seconds.
DEFAULT_RELOAD = 60.0


@dataclass(frozen=True)
class ZoneFileOptions:
    """One ``file`` line, with CoreDNS's defaults."""

    #: The zone file, joined to *root* when relative.
    path: str
    #: Absolute lowercase origins the file is read with.
    zones: tuple[str, ...]
    #: Seconds between looks at the file; 0: never.
    reload: float = DEFAULT_RELOAD
    #: Apply a changed file when its modification time changed, whatever its SOA serial.
    reload_by_mtime: bool = False
    fallthrough: Fallthrough = Fallthrough()


@dataclass(frozen=True)
class FileOptions:
    """Every ``file`` line of a server block."""

    files: tuple[ZoneFileOptions, ...] = ()

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(zone for f in self.files for zone in f.zones)


def parse(c: Controller) -> FileOptions:
    """Read every ``file`` line of the block."""
    return FileOptions(tuple(spec for spec, _ in parse_lines(c)))


def parse_lines(c: Controller) -> list[tuple[ZoneFileOptions, Token]]:
    """Each ``file`` line's options with its DBFILE token (where loading errors are reported)."""
    out: list[tuple[ZoneFileOptions, Token]] = []
    seen: dict[str, str] = {}
    while c.next():
        if not c.next_arg():
            c.arg_err()
        where = c.token()
        path = c.path(c.val())
        zones = _zones(c, c.remaining_args())
        for zone in zones:
            if zone in seen:
                c.err(f"zone {zone} is already read from {seen[zone]}")
            seen[zone] = path
        reload, by_mtime, fall = DEFAULT_RELOAD, False, Fallthrough()
        while c.next_block():
            match c.val():
                case "reload":
                    reload = c.duration_arg(
                        c.remaining_args(),
                        missing="reload duration value is expected",
                        extra="unexpected argument '{arg}' after the reload duration",
                        invalid="invalid reload duration '{arg}'",
                    )
                case "reload_by_mtime":
                    if c.remaining_args():
                        c.arg_err()
                    by_mtime = True
                case "fallthrough":
                    fall = _fallthrough(c, c.remaining_args())
                case "upstream":
                    c.remaining_args()  # CoreDNS: "remove soon"; ignored
                case _:
                    c.unknown_property()
        out.append((ZoneFileOptions(path, zones, reload, by_mtime, fall), where))
    return out


def _zones(c: Controller, args: list[str]) -> tuple[str, ...]:
    if not args:
        return tuple(c.zones)
    try:
        return tuple(dict.fromkeys(normalize_zones(args)))
    except ValueError as exc:
        c.err(str(exc))


def _fallthrough(c: Controller, args: list[str]) -> Fallthrough:
    try:
        return Fallthrough.from_args(args)
    except ValueError as exc:
        c.err(str(exc))


def error_at(token: Token, message: str) -> CorefileError:
    """A configuration error of this directive at ``token``."""
    return CorefileError(message, token.file, token.line, NAME)


def setup(c: Controller) -> None:
    """Read the zones, put the handler in the chain and start the reloads with the server."""
    from dnsd.plugins.file.handler import register

    register(c, parse_lines(c))
