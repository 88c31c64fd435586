"""Setup of *autopath*: ``autopath [ZONE...] RESOLV-CONF|@PLUGIN``.

RESOLV-CONF is read now, as CoreDNS does: a file that cannot be read refuses the configuration
(CoreDNS: ``failed to parse "FILE": ...``); a file without a search list gives a warning and no
autopath. ``@PLUGIN`` names the plugin of the same block that gives each client's search list
(``@kubernetes``); it is set up after *autopath* (later in ORDER), so it is found, and checked,
once the whole block is set up. Where CoreDNS silently does no autopath (no such plugin in the
block, ``pods`` not ``verified``), dnsd refuses the configuration with a positioned error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.log import plugin_logger
from dnsd.plugins.autopath.search import SearchError, read_search

if TYPE_CHECKING:
    from dnsd.plugins.autopath.handler import Autopath

NAME = "autopath"

log = plugin_logger(NAME)


@dataclass(frozen=True)
class AutopathOptions:
    """Every option with CoreDNS's default."""

    #: Absolute lowercase zones autopath works in; by default the server block's zones.
    zones: tuple[str, ...] = ()
    #: The RESOLV-CONF file (absolute), '' with ``@PLUGIN``.
    resolv_conf: str = ""
    #: Its search domains, lowercase and absolute, in order.
    search: tuple[str, ...] = ()
    #: The plugin named by ``@PLUGIN``, '' with a file.
    plugin: str = ""


def parse(c: Controller) -> AutopathOptions:
    """Read the block's one ``autopath`` (a second one is an error: CoreDNS keeps the last)."""
    opts = AutopathOptions()
    while c.next_once():
        args = c.remaining_args()
        if not args:
            c.err("no resolv-conf specified")
        if c.next_block():
            c.unknown_property()
        *zone_args, source = args
        try:
            zones = tuple(normalize_zones(zone_args)) if zone_args else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        if source.startswith("@"):
            if len(source) == 1:
                c.err("no plugin named after '@'")
            opts = AutopathOptions(zones=zones, plugin=source[1:])
            continue
        path = c.path(source)
        try:
            search = read_search(path)
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            c.err(f'failed to parse "{source}": {reason}')
        except SearchError as exc:
            c.err(f'failed to parse "{source}": {exc}')
        opts = AutopathOptions(zones=zones, resolv_conf=path, search=search)
    return opts


def plugin_check(c: Controller, opts: AutopathOptions, handler: Autopath) -> Callable[[], None]:
    """The check run once the block is set up: find ``@PLUGIN``'s handler, make sure it can
    give search paths, and ``bind`` it; errors are positioned at the ``autopath`` line."""
    token = c.token()
    block = c.block

    def fail(message: str) -> NoReturn:
        raise CorefileError(message, token.file, token.line, NAME)

    def check() -> None:
        from dnsd.plugins.autopath.handler import SearchPather

        name = opts.plugin
        source = next((h for h in block.handlers if h.name == name), None)
        if source is None:
            fail(f"@{name}: no {name} plugin in this server block")
        if not isinstance(source, SearchPather):
            fail(f"{name} does not implement the AutoPather interface")
        why = getattr(source, "search_path_error", lambda: "")()
        if why:
            fail(str(why))
        handler.bind(source)

    return check


def setup(c: Controller) -> None:
    """Parse, read the file or plan the binding to ``@PLUGIN``, and add the handler."""
    from dnsd.plugins.autopath.handler import Autopath

    opts = parse(c)
    handler = Autopath(opts)
    if opts.plugin:
        c.after_block_setup(plugin_check(c, opts, handler))
    elif not opts.search:
        log.warning('no search domains in "%s": nothing to autopath', opts.resolv_conf)
    c.add_handler(handler)
