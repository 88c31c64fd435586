"""EDNS0 rules: ``edns0 local|nsid|subnet set|append|replace|unset ... [revert]``.

- ``set`` changes a matching option or adds one, ``append`` adds one only when
  none matches, ``replace`` changes a matching option only, ``unset`` removes
  every matching option. An option matches by code (NSID 3, subnet 8).
- ``local CODE DATA``: DATA is ``0x`` hex, a string, or one of the variables
  ``{qname} {qtype} {client_ip} {client_port} {protocol} {server_ip}
  {server_port}`` (names and the protocol as text, addresses and numbers as
  network-order bytes).
- ``nsid``: an empty NSID option (a request for the server's identifier).
- ``subnet V4BITS V6BITS``: an RFC 7871 client subnet built from the client's
  address, cut to the given prefix length.
- ``revert`` takes the option out of the reply again (or restores its data).

A rule that changed nothing counts as not applied (``stop`` does not stop).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from dnsd.plugins.rewrite.names import RuleError
from dnsd.plugins.rewrite.response import EdnsRevert, ResponseRule
from dnsd.plugins.rewrite.state import State

SET, APPEND, REPLACE, UNSET = "set", "append", "replace", "unset"
ACTIONS = (SET, APPEND, REPLACE, UNSET)
REVERT = "revert"
CODE_NSID, CODE_SUBNET = 3, 8
VARIABLES = (
    "{qname}",
    "{qtype}",
    "{client_ip}",
    "{client_port}",
    "{protocol}",
    "{server_ip}",
    "{server_port}",
)


@dataclass(frozen=True)
class Edns0Rule:
    """One EDNS0 rule: ``kind`` is local, nsid or subnet."""

    mode: str
    kind: str
    action: str
    code: int
    #: Fixed option data (local, nsid); None when it is computed per query.
    data: bytes | None = None
    #: A ``{...}`` variable (local).
    variable: str | None = None
    #: Prefix lengths (subnet).
    v4_bits: int = 0
    v6_bits: int = 0
    revert: bool = False

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        if self.action == UNSET:
            kept = [opt for opt in state.options if opt[0] != self.code]
            if len(kept) == len(state.options):
                return None
            state.options = kept
            return ()
        data = self.value(state)
        if data is None:
            return None
        found, original = False, None
        for index, (code, old) in enumerate(state.options):
            if code != self.code:
                continue
            if not found:
                original = old
            found = True
            if self.action in (SET, REPLACE):
                state.options[index] = (code, data)
        if found and self.action == APPEND:
            return None
        if not found:
            if self.action == REPLACE:
                return None
            state.options.append((self.code, data))
            state.edns = True
        return (EdnsRevert(self.code, original),) if self.revert else ()

    def value(self, state: State) -> bytes | None:
        """The option data for this query (None: it cannot be made, the rule does not apply)."""
        if self.kind == "subnet":
            return subnet_data(state.req.client, self.v4_bits, self.v6_bits)
        if self.variable is not None:
            return variable_data(self.variable, state)
        return self.data


def subnet_data(client: str, v4_bits: int, v6_bits: int) -> bytes | None:
    """RFC 7871 option data: family, source prefix, scope 0, the address cut to the prefix."""
    try:
        addr = ipaddress.ip_address(client)
    except ValueError:
        return None
    family, bits = (1, v4_bits) if addr.version == 4 else (2, v6_bits)
    net = ipaddress.ip_network(f"{addr}/{bits}", strict=False)
    raw = net.network_address.packed[: (bits + 7) // 8]
    return family.to_bytes(2, "big") + bytes([bits, 0]) + raw


def variable_data(variable: str, state: State) -> bytes | None:
    """What ``variable`` stands for in this query (None when it cannot be known)."""
    req = state.req
    match variable:
        case "{qname}":
            return state.name.encode()
        case "{qtype}":
            return state.qtype.to_bytes(2, "big")
        case "{client_ip}":
            return _packed(req.client)
        case "{client_port}":
            return req.port.to_bytes(2, "big")
        case "{protocol}":
            return req.proto.encode()
        case "{server_ip}":
            return _packed(req.local)
        case "{server_port}":
            port = req.server.rsplit(":", 1)[-1]
            return int(port).to_bytes(2, "big") if port.isdigit() else None
    return None


def _packed(address: str) -> bytes | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).packed
    except ValueError:
        return None


# -- parsing -----------------------------------------------------------------------------------


def new_edns0_rule(mode: str, args: Sequence[str]) -> Edns0Rule:
    """``edns0 TYPE ACTION ...`` (``args`` after ``edns0``), with CoreDNS's messages."""
    if len(args) < 2:
        raise RuleError("too few arguments for an EDNS0 rule")
    kind, action = args[0].lower(), args[1].lower()
    if action not in ACTIONS:
        raise RuleError(f'invalid action: "{action}"', args[1])
    rest = list(args[2:])
    revert = bool(rest) and rest[-1].lower() == REVERT
    if revert:
        if action == UNSET:
            raise RuleError("EDNS0 unset rules cannot be reverted", rest[-1])
        rest.pop()
    match kind:
        case "local":
            return _local(mode, action, rest, revert)
        case "nsid":
            if rest:
                raise RuleError("EDNS0 NSID rules do not accept args", rest[0])
            return Edns0Rule(mode, kind, action, CODE_NSID, data=b"", revert=revert)
        case "subnet":
            return _subnet(mode, action, rest, revert)
    raise RuleError(f'invalid rule type "{kind}"', args[0])


def _local(mode: str, action: str, rest: list[str], revert: bool) -> Edns0Rule:
    if action == UNSET:
        if len(rest) != 1:
            raise RuleError("EDNS0 local unset rules require exactly one arg: the code")
        return Edns0Rule(mode, "local", action, _code(rest[0]))
    if len(rest) != 2:
        raise RuleError("EDNS0 local rules require exactly three args")
    code, data = _code(rest[0]), rest[1]
    if data.startswith("{") and data.endswith("}"):
        if data not in VARIABLES:
            hint = ": dnsd has no metadata plugin" if "/" in data else ""
            raise RuleError(f'unsupported variable name "{data}"{hint}', data)
        return Edns0Rule(mode, "local", action, code, variable=data, revert=revert)
    if data.startswith("0x"):
        try:
            raw = bytes.fromhex(data[2:])
        except ValueError:
            raise RuleError(f'invalid hex data "{data}"', data) from None
    else:
        raw = data.encode()
    return Edns0Rule(mode, "local", action, code, data=raw, revert=revert)


def _subnet(mode: str, action: str, rest: list[str], revert: bool) -> Edns0Rule:
    if action == UNSET:
        if rest:
            raise RuleError("EDNS0 subnet unset rules do not accept args", rest[0])
        return Edns0Rule(mode, "subnet", action, CODE_SUBNET)
    if len(rest) != 2:
        raise RuleError("EDNS0 subnet rules require exactly three args")
    v4 = _bits(rest[0], 32, "IPv4")
    v6 = _bits(rest[1], 128, "IPv6")
    return Edns0Rule(mode, "subnet", action, CODE_SUBNET, v4_bits=v4, v6_bits=v6, revert=revert)


def _code(text: str) -> int:
    try:
        code = int(text, 0)
    except ValueError:
        code = -1
    if not 0 <= code <= 0xFFFF:
        raise RuleError(f'invalid EDNS0 local code "{text}"', text)
    return code


def _bits(text: str, limit: int, family: str) -> int:
    try:
        bits = int(text, 0)
    except ValueError:
        raise RuleError(f'invalid {family} bit mask length "{text}"', text) from None
    if not 0 <= bits <= limit:
        raise RuleError(f"invalid {family} bit mask length {bits}", text)
    return bits
