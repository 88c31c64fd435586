"""Setup of *acl* (CoreDNS's syntax; the directive may appear several times per block)::

    acl [ZONES...] {
        ACTION [type QTYPE...] [net SOURCE...]
    }

ACTION is ``allow``, ``block``, ``filter`` or ``drop``; QTYPE a type name as miekg/dns
spells it (``A``, ``AAAA``, ``NSAP-PTR``...) or ``*``; SOURCE an address, a CIDR or ``*``.
No ``type`` section matches every type, no ``net`` section every source. Without ZONES a
directive guards the server block's zones. Each directive is one :class:`Rule`; one handler
checks them all, in the order written.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.encode import type_name
from dnsd.plugins.acl.policy import ACTIONS, Policy, Rule, parse_network

NAME = "acl"
_SECTIONS = ("type", "net")
#: miekg/dns's StringToType: every type name dnsd knows (the table stops below 300, plus the
#: private-use TA and DLV), "None" excepted.
QTYPES = {
    name: code
    for code in (*range(1, 300), 32768, 32769)
    if not (name := type_name(code)).startswith("TYPE")
}


@dataclass(frozen=True)
class AclOptions:
    """Every ``acl`` directive of a server block, in order."""

    rules: tuple[Rule, ...] = ()


def _quote(text: str) -> str:
    """``text`` quoted as Go's ``%q`` does for printable text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(c: Controller) -> AclOptions:
    """Read every ``acl`` directive of the block."""
    rules: list[Rule] = []
    while c.next():
        args = c.remaining_args()
        try:
            zones = tuple(normalize_zones(args)) if args else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        policies: list[Policy] = []
        while c.next_block():
            policies.append(_policy(c))
        rules.append(Rule(zones, tuple(policies)))
    return AclOptions(tuple(rules))


def _policy(c: Controller) -> Policy:
    action = c.val().lower()
    if action not in ACTIONS:
        c.err(f"unexpected token {_quote(c.val())}; expect 'allow', 'block', 'filter' or 'drop'")
    tokens = c.remaining_args()
    qtypes: set[int] | None = set()
    nets: list[str] | None = []
    has_type = has_net = False
    i = 0
    while i < len(tokens):
        section = tokens[i].lower()
        if section not in _SECTIONS:
            c.err(f"unexpected token {_quote(tokens[i])}; expect 'type | net'")
        end = i + 1
        while end < len(tokens) and tokens[end].lower() not in _SECTIONS:
            end += 1
        values = tokens[i + 1 : end]
        if not values:
            c.err(f"no token specified in {_quote(section)} section")
        if section == "type":
            has_type = True
            qtypes = _qtypes(c, values, qtypes)
        else:
            has_net = True
            nets = _nets(c, values, nets)
        i = end
    return Policy(
        action,
        frozenset(qtypes) if has_type and qtypes is not None else None,
        tuple(nets) if has_net and nets is not None else None,
    )


def _qtypes(c: Controller, values: list[str], into: set[int] | None) -> set[int] | None:
    for value in values:
        if value == "*":
            into = None
            continue
        code = QTYPES.get(value)
        if code is None:
            c.err(f"unexpected token {_quote(value)}; expect legal QTYPE")
        if into is not None:
            into.add(code)
    return into


def _nets(c: Controller, values: list[str], into: list[str] | None) -> list[str] | None:
    for value in values:
        if value == "*":
            into = None
            continue
        if "/" not in value:
            value += "/128" if ":" in value else "/32"
        try:
            net = str(parse_network(value))
        except ValueError:
            c.err(f"illegal CIDR notation {_quote(value)}")
        if into is not None and net not in into:
            into.append(net)
    return into


def setup(c: Controller) -> None:
    """Put one handler for every ``acl`` directive of the block in the chain."""
    from dnsd.plugins.acl.handler import Acl

    c.add_handler(Acl(parse(c)))
