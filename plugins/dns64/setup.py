"""Setup of *dns64* (CoreDNS's syntax)::

    dns64 [PREFIX] {
        prefix PREFIX
        translate_all
        allow_ipv4
    }

PREFIX is an IPv6 network of one of RFC 6052's lengths (32, 40, 48, 56, 64 or 96 bits),
default the well-known prefix ``64:ff9b::/96``. As in CoreDNS a later occurrence in the same
server block adds its options to the earlier ones; one handler serves the block.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dnsd.controller import Controller

NAME = "dns64"
WELL_KNOWN_PREFIX = "64:ff9b::/96"
#: RFC 6052 §2.2: the prefix lengths an IPv4 address can be embedded after.
PREFIX_LENGTHS = (32, 40, 48, 56, 64, 96)


@dataclass(frozen=True)
class Dns64Options:
    """Every option with CoreDNS's default."""

    #: The IPv6 prefix synthesized addresses start with, normalised (``64:ff9b::/96``).
    prefix: str = WELL_KNOWN_PREFIX
    #: Synthesize even when the AAAA answer has records (CoreDNS's "not RFC 6147 §5.1.1").
    translate_all: bool = False
    #: Translate for IPv4 clients too (by default only queries that came over IPv6).
    allow_ipv4: bool = False


def _prefix(c: Controller, text: str) -> str:
    """``text`` checked as Go's ``net.ParseCIDR`` and CoreDNS's ``parsePrefix`` do."""
    addr, sep, bits = text.partition("/")
    try:
        if not sep or "%" in addr or not bits.isascii() or not bits.isdigit() or len(bits) > 3:
            raise ValueError(text)
        ip = ipaddress.ip_address(addr)
        if int(bits) > ip.max_prefixlen:
            raise ValueError(text)
        net = ipaddress.ip_network(f"{ip}/{int(bits)}", strict=False)
    except ValueError:
        c.err(f"invalid CIDR address: {text}")
    if net.version != 6:
        c.err(f'invalid netmask 32 IPv6 address: "{net}"')
    if net.prefixlen not in PREFIX_LENGTHS:
        c.err(f'invalid prefix length "{net}"')
    return str(net)


def parse(c: Controller) -> Dns64Options:
    """Read every ``dns64`` of the block."""
    prefix, translate_all, allow_ipv4 = WELL_KNOWN_PREFIX, False, False
    while c.next():
        args = c.remaining_args()
        if len(args) > 1:
            c.arg_err()
        if args:
            prefix = _prefix(c, args[0])
        while c.next_block():
            match c.val():
                case "prefix":
                    values = c.remaining_args()
                    if len(values) != 1:
                        c.arg_err()
                    prefix = _prefix(c, values[0])
                case "translate_all":
                    if c.next_arg():
                        c.arg_err()
                    translate_all = True
                case "allow_ipv4":
                    if c.next_arg():
                        c.arg_err()
                    allow_ipv4 = True
                case _:
                    c.unknown_property()
    return Dns64Options(prefix, translate_all, allow_ipv4)


def setup(c: Controller) -> None:
    """Put the handler in the chain."""
    from dnsd.plugins.dns64.handler import Dns64

    c.add_handler(Dns64(parse(c)))
