"""The rules of *acl* and how a query meets them (no server knowledge).

A rule is one ``acl`` directive: its zones and its policies in the order written. A query
is checked against the rules in order; a rule whose zones do not hold the query name is
skipped; in a rule the first policy whose types and networks both match decides. ``allow``
ends the checking (later rules are not asked), ``block``, ``filter`` and ``drop`` answer;
a query no policy matched is allowed. This is CoreDNS's ``plugin/acl`` evaluation.

Networks are kept as integers per address family. An IPv4-mapped IPv6 network
(``::ffff:10.0.0.0/104``) is stored as the IPv4 network it maps (``10.0.0.0/8``), and a
client address arriving IPv4-mapped is matched as IPv4, so one written form covers both.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

ALLOW, BLOCK, FILTER, DROP = "allow", "block", "filter", "drop"
ACTIONS = (ALLOW, BLOCK, FILTER, DROP)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (IP version, network as an integer, mask as an integer).
_Net = tuple[int, int, int]
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_network(text: str) -> Network:
    """``ADDRESS[/BITS]`` as a network (a bare address is /32 or /128); ValueError when bad.

    As Go's ``net.ParseCIDR``: host bits may be set (they are cleared), BITS are digits only.
    """
    addr, sep, bits = text.partition("/")
    if "%" in addr:
        raise ValueError(text)
    ip = ipaddress.ip_address(addr)
    if not sep:
        bits = str(ip.max_prefixlen)
    if not bits.isascii() or not bits.isdigit() or len(bits) > 3 or int(bits) > ip.max_prefixlen:
        raise ValueError(text)
    net = ipaddress.ip_network(f"{ip}/{int(bits)}", strict=False)
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        mapped = net.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network(f"{mapped}/{net.prefixlen - 96}")
    return net


@functools.lru_cache(maxsize=4096)
def client_key(client: str) -> tuple[int, int] | None:
    """The client address as (IP version, integer); None when it is not an address.

    A zone index (``fe80::1%eth0``) is dropped; an IPv4-mapped address counts as IPv4.
    """
    try:
        ip = ipaddress.ip_address(client.partition("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.version, int(ip)


@dataclass(frozen=True)
class Policy:
    """One line of an ``acl`` block: ACTION [type QTYPE...] [net SOURCE...]."""

    action: str
    #: The query types it matches; None: every type (``type *`` or no ``type`` section).
    qtypes: frozenset[int] | None = None
    #: The source networks it matches, normalised (``10.0.0.0/8``); None: every source.
    nets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Rule:
    """One ``acl`` directive: the zones it guards and its policies, in order."""

    zones: tuple[str, ...]
    policies: tuple[Policy, ...] = ()


class _Compiled:
    __slots__ = ("action", "qtypes", "nets")

    def __init__(self, policy: Policy) -> None:
        self.action = policy.action
        self.qtypes = policy.qtypes
        self.nets: tuple[_Net, ...] | None = None
        if policy.nets is not None:
            nets = [parse_network(text) for text in policy.nets]
            self.nets = tuple((n.version, int(n.network_address), int(n.netmask)) for n in nets)

    def matches(self, qtype: int, client: tuple[int, int]) -> bool:
        if self.qtypes is not None and qtype not in self.qtypes:
            return False
        if self.nets is None:
            return True
        version, ip = client
        return any(v == version and ip & mask == net for v, net, mask in self.nets)


def longest_zone(name: str, zones: Sequence[str]) -> str:
    """The longest of ``zones`` holding the lowercase absolute ``name``; "" when none does."""
    best = ""
    for zone in zones:
        if len(zone) <= len(best):
            continue
        if zone == "." or name == zone or name.endswith("." + zone):
            best = zone
    return best


class Rules:
    """The compiled rules of one server block."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(
            (rule.zones, tuple(_Compiled(p) for p in rule.policies)) for rule in rules
        )

    def decide(self, name: str, qtype: int, client: str) -> tuple[str, str]:
        """(action, zone of the deciding rule) for a query; ``(ALLOW, "")`` when nothing matched.

        An unreadable client address is blocked (CoreDNS does the same), by the first rule
        whose zones hold the name; ``(BLOCK, zone)`` is then returned with zone set.
        """
        key: tuple[int, int] | None = None
        for zones, policies in self.rules:
            zone = longest_zone(name, zones)
            if not zone:
                continue
            if key is None:
                key = client_key(client)
                if key is None:
                    return BLOCK, zone
            for policy in policies:
                if policy.matches(qtype, key):
                    if policy.action == ALLOW:
                        return ALLOW, ""
                    return policy.action, zone
        return ALLOW, ""
