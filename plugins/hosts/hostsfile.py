"""The hosts file format and the table answers are looked up in (no server knowledge).

A line is ``ADDRESS NAME [NAME...]``; ``#`` starts a comment anywhere on a line. As in CoreDNS
(a modified Go ``net/hosts.go``):

* an IPv6 zone (``fe80::1%eth0``) is dropped; an IPv4-mapped IPv6 address (``::ffff:10.0.0.2``)
  is an IPv4 address, so it gives an A record (and its PTR is under ``in-addr.arpa``);
* names are lowercased and made absolute; names outside the plugin's zones are ignored;
* a name may appear on several lines and get several addresses, of both families.

Unlike CoreDNS (which skips them silently), a line that cannot be used is reported: its first
field is not an IP address, it has no name, or a name is not a valid domain name (a label of 1
to 63 characters, at most 255 octets, none of ``'@;()"\\``). The rest of the file is used.

A name whose leftmost label is ``*`` is a wildcard: it answers for names one label longer that
have no entry of their own (not for its apex, not two labels down) and has no PTR record.

:func:`build` makes the :class:`Table` of the inline entries and the file's: a name given
inline replaces the file's entries for that name (all its addresses, both families).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Characters a host name may not hold (they would need escaping in a DNS name's text form).
_SPECIAL = frozenset("'@;()\"\\")
#: How many unusable lines of one read are logged; the rest are counted.
MAX_REPORTED = 10


class LineError(ValueError):
    """A line that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One name with one address, in file order."""

    #: Lowercase, absolute (``www.example.org.``).
    name: str
    #: The address as text in its canonical form (``10.0.0.2`` for ``::ffff:10.0.0.2``).
    address: str
    #: 4 or 6.
    version: int


def parse_address(text: str) -> tuple[str, int]:
    """(canonical text, 4 or 6) of ``text``; LineError when it is not an IP address."""
    try:
        ip = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        raise LineError(f"invalid IP address '{text}'") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped), 4
    return str(ip), ip.version


def normalize_name(text: str) -> str:
    """``text`` lowercased and absolute; LineError when it is not a usable domain name."""
    name = text.lower().rstrip(".") if text != "." else ""
    labels = name.split(".")
    octets = sum(len(label) + 1 for label in labels) + 1
    if (
        not name
        or text.endswith("..")
        or octets > 255
        or any(not 0 < len(label) <= 63 for label in labels)
        or not name.isascii()
        or not name.isprintable()
        or any(ch in _SPECIAL or ch.isspace() for ch in name)
    ):
        raise LineError(f"invalid host name '{text}'")
    return name + "."


def in_zones(name: str, zones: Sequence[str]) -> bool:
    """True when absolute lowercase ``name`` is in (or is) one of ``zones``."""
    for zone in zones:
        if zone == "." or name == zone or name.endswith("." + zone):
            return True
    return False


def parse_line(line: str, zones: Sequence[str]) -> list[Entry]:
    """The entries of one line (none for a blank or comment line); LineError when unusable.

    A line with a bad name is refused whole, so a typo never half-applies a line.
    """
    fields = line.partition("#")[0].split()
    if not fields:
        return []
    address, version = parse_address(fields[0])
    if len(fields) < 2:
        raise LineError(f"no host name after '{fields[0]}'")
    names = [normalize_name(field) for field in fields[1:]]
    return [Entry(name, address, version) for name in names if in_zones(name, zones)]


def parse(text: str, zones: Sequence[str], where: str) -> tuple[list[Entry], list[str]]:
    """The entries of a whole file and the problems found, as ``WHERE:LINE: why`` messages."""
    entries: list[Entry] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            entries.extend(parse_line(line, zones))
        except LineError as exc:
            problems.append(f"{where}:{number}: {exc}")
    return entries, problems


def reverse_name(address: str) -> str:
    """The PTR owner of ``address``: ``1.0.0.10.in-addr.arpa.`` or its ``ip6.arpa.`` nibbles."""
    return ipaddress.ip_address(address).reverse_pointer + "."


class Table:
    """What the plugin answers from, replaced as a whole on every reload."""

    __slots__ = ("v4", "v6", "ptr", "size")

    def __init__(self) -> None:
        #: Name -> IPv4 addresses, in the order given (inline ones first).
        self.v4: dict[str, tuple[str, ...]] = {}
        #: Name -> IPv6 addresses.
        self.v6: dict[str, tuple[str, ...]] = {}
        #: Reverse name -> names, in the order given.
        self.ptr: dict[str, tuple[str, ...]] = {}
        #: CoreDNS's ``coredns_hosts_entries``: addresses of every name plus every PTR name.
        self.size = 0

    def owner(self, name: str) -> str | None:
        """The table name answering for ``name``: itself, else its wildcard, else None."""
        if name in self.v4 or name in self.v6:
            return name
        dot = name.find(".")
        if 0 < dot < len(name) - 1:
            wildcard = "*" + name[dot:]
            if wildcard in self.v4 or wildcard in self.v6:
                return wildcard
        return None


def build(inline: Iterable[Entry], file: Iterable[Entry], *, reverse: bool) -> Table:
    """The table of ``inline`` and ``file`` entries; inline names replace the file's."""
    inline = list(inline)
    overridden = {e.name for e in inline}
    entries = inline + [e for e in file if e.name not in overridden]
    v4: dict[str, dict[str, None]] = {}
    v6: dict[str, dict[str, None]] = {}
    ptr: dict[str, dict[str, None]] = {}
    for e in entries:
        (v4 if e.version == 4 else v6).setdefault(e.name, {})[e.address] = None
        if reverse and not e.name.startswith("*."):
            ptr.setdefault(reverse_name(e.address), {})[e.name] = None
    table = Table()
    table.v4 = {name: tuple(addrs) for name, addrs in v4.items()}
    table.v6 = {name: tuple(addrs) for name, addrs in v6.items()}
    table.ptr = {rev: tuple(names) for rev, names in ptr.items()}
    table.size = sum(map(len, v4.values())) + sum(map(len, v6.values()))
    table.size += sum(map(len, ptr.values()))
    return table
