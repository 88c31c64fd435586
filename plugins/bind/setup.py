"""Setup of *bind*: ``bind ADDR|IFACE... { except ADDR|IFACE... }``.

Interfaces are resolved to their addresses now (at start-up and at every
reload), as CoreDNS does. Every ``bind`` line of a block adds to one list;
``except`` removes addresses from its own line's list only. The result, in
order and without duplicates, goes to ``c.block.settings["bind"]`` where the
server reads it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.corefile import Token
from dnsd.errors import CorefileError
from dnsd.plugins.bind import ifaces

NAME = "bind"

Interfaces = Callable[[], Mapping[str, list[str]]]


@dataclass(frozen=True)
class BindOptions:
    """The addresses to listen on; empty means every address (no *bind*)."""

    addresses: tuple[str, ...] = ()


def parse(c: Controller, interfaces: Interfaces | None = None) -> BindOptions:
    """Read every ``bind`` line of the block; interfaces are listed once per call.

    ``interfaces`` defaults to :func:`ifaces.interfaces`, looked up at call time.
    """
    table: Mapping[str, list[str]] | None = None
    out: list[str] = []
    first: Token | None = None
    while c.next():
        first = first or c.token()
        args = c.remaining_args()
        if not args:
            c.err("at least one address or interface name is expected")
        if table is None:
            table = (interfaces or ifaces.interfaces)()
        addrs = resolve(c, args, table)
        excluded: set[str] = set()
        while c.next_block():
            if c.val() != "except":
                c.unknown_property()
            names = c.remaining_args()
            if not names:
                c.err("at least one address or interface must be given to except subdirective")
            excluded.update(resolve(c, names, table))
        # An except without a scope also removes that address with any scope.
        out.extend(a for a in addrs if a not in excluded and a.split("%")[0] not in excluded)
    if first is not None and not out:
        # CoreDNS would fall back to every address: surely not what was meant.
        raise CorefileError("no address left to listen on", first.file, first.line, NAME)
    return BindOptions(addresses=tuple(dict.fromkeys(out)))


def resolve(c: Controller, args: list[str], table: Mapping[str, list[str]]) -> list[str]:
    """Interface names to their addresses, addresses to their canonical text."""
    out: list[str] = []
    for arg in args:
        if arg in table:
            out.extend(table[arg])
            continue
        try:
            out.append(str(ipaddress.ip_address(arg)))
        except ValueError:
            c.err(f'not a valid IP address or interface name: "{arg}"')
    return out


def setup(c: Controller) -> None:
    """Store the addresses for the server's listeners."""
    options = parse(c)
    c.settings[NAME] = list(options.addresses)
