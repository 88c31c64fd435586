"""Setup of dns64: the prefix (argument or property), translate_all, allow_ipv4, every error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.dns64.setup import NAME, Dns64Options, parse
from dnsd.testing import parsed_options


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: Dns64Options | None = None
    error: str | None = None


def block(*lines: str) -> str:
    return ". {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


CASES = {
    "default": SetupCase(block("dns64"), want=Dns64Options()),
    "prefix-argument": SetupCase(
        block("dns64 64:1337::/96"), want=Dns64Options(prefix="64:1337::/96")
    ),
    "prefix-property": SetupCase(
        block("dns64 {", "    prefix 64:1337::/96", "}"), want=Dns64Options(prefix="64:1337::/96")
    ),
    "prefix-host-bits-cleared": SetupCase(
        block("dns64 2001:db8:122:344::1/64"), want=Dns64Options(prefix="2001:db8:122:344::/64")
    ),
    **{
        f"prefix-length-{n}": SetupCase(
            block(f"dns64 2001:db8::/{n}"), want=Dns64Options(prefix=f"2001:db8::/{n}")
        )
        for n in (32, 40, 48, 56, 64, 96)
    },
    "translate-all": SetupCase(
        block("dns64 {", "    translate_all", "}"), want=Dns64Options(translate_all=True)
    ),
    "allow-ipv4": SetupCase(
        block("dns64 {", "    allow_ipv4", "}"), want=Dns64Options(allow_ipv4=True)
    ),
    "everything": SetupCase(
        block("dns64 64:1337::/96 {", "    translate_all", "    allow_ipv4", "}"),
        want=Dns64Options(prefix="64:1337::/96", translate_all=True, allow_ipv4=True),
    ),
    "property-after-argument-wins": SetupCase(
        block("dns64 64:1337::/96 {", "    prefix 2001:db8::/32", "}"),
        want=Dns64Options(prefix="2001:db8::/32"),
    ),
    "second-directive-adds": SetupCase(
        block("dns64 64:1337::/96", "dns64 {", "    translate_all", "}"),
        want=Dns64Options(prefix="64:1337::/96", translate_all=True),
    ),
    "two-arguments": SetupCase(
        block("dns64 64:1337::/96 64:ff9b::/96"),
        error="Corefile:2: dns64: wrong argument count or unexpected line ending after "
        "'64:ff9b::/96'",
    ),
    "not-a-cidr": SetupCase(
        block("dns64 64:ff9b::"), error="Corefile:2: dns64: invalid CIDR address: 64:ff9b::"
    ),
    "garbage": SetupCase(
        block("dns64 {", "    prefix nope/96", "}"),
        error="Corefile:3: dns64: invalid CIDR address: nope/96",
    ),
    "mask-too-long": SetupCase(
        block("dns64 64:ff9b::/129"), error="Corefile:2: dns64: invalid CIDR address: 64:ff9b::/129"
    ),
    "ipv4-prefix": SetupCase(
        block("dns64 10.0.0.0/8"),
        error='Corefile:2: dns64: invalid netmask 32 IPv6 address: "10.0.0.0/8"',
    ),
    "length-not-a-multiple-of-8": SetupCase(
        block("dns64 64:ff9b::/95"), error='Corefile:2: dns64: invalid prefix length "64:ff9b::/95"'
    ),
    "length-too-short": SetupCase(
        block("dns64 2001::/24"), error='Corefile:2: dns64: invalid prefix length "2001::/24"'
    ),
    "length-too-long": SetupCase(
        block("dns64 {", "    prefix 64:ff9b::1:2:0/112", "}"),
        error='Corefile:3: dns64: invalid prefix length "64:ff9b::1:2:0/112"',
    ),
    "length-72-not-in-rfc6052": SetupCase(
        block("dns64 2001:db8::/72"),
        error='Corefile:2: dns64: invalid prefix length "2001:db8::/72"',
    ),
    "prefix-without-value": SetupCase(
        block("dns64 {", "    prefix", "}"),
        error="Corefile:3: dns64: wrong argument count or unexpected line ending after 'prefix'",
    ),
    "prefix-two-values": SetupCase(
        block("dns64 {", "    prefix 64:ff9b::/96 64:1337::/96", "}"),
        error="Corefile:3: dns64: wrong argument count or unexpected line ending after "
        "'64:1337::/96'",
    ),
    "translate-all-with-value": SetupCase(
        block("dns64 {", "    translate_all yes", "}"),
        error="Corefile:3: dns64: wrong argument count or unexpected line ending after 'yes'",
    ),
    "allow-ipv4-with-value": SetupCase(
        block("dns64 {", "    allow_ipv4 yes", "}"),
        error="Corefile:3: dns64: wrong argument count or unexpected line ending after 'yes'",
    ),
    "unknown-property": SetupCase(
        block("dns64 {", "    translateAll", "}"),
        error="Corefile:3: dns64: unknown property 'translateAll'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_setup(case: SetupCase) -> None:
    if case.error is not None:
        with pytest.raises(CorefileError) as exc:
            load(case.corefile, "Corefile")
        assert str(exc.value) == case.error
        return
    assert parsed_options(case.corefile, NAME, parse) == [case.want]
    (loaded,) = load(case.corefile, "Corefile").blocks
    assert [h.name for h in loaded.handlers] == ["dns64"]
