"""Setup of acl: zones, actions, type and net sections, several directives, and every error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.acl.policy import Policy, Rule
from dnsd.plugins.acl.setup import NAME, QTYPES, AclOptions, parse
from dnsd.testing import parsed_options


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: AclOptions | None = None
    error: str | None = None


def block(*lines: str, key: str = ".") -> str:
    return key + " {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def acl(*policies: str, zones: str = "") -> list[str]:
    head = f"acl {zones} {{" if zones else "acl {"
    return [head, *(f"    {p}" for p in policies), "}"]


def rules(*rules: Rule) -> AclOptions:
    return AclOptions(rules)


ROOT = (".",)
A, AAAA, MX, SRV = 1, 28, 15, 33

CASES = {
    "no-block": SetupCase(block("acl"), want=rules(Rule(ROOT))),
    "empty-block": SetupCase(block(*acl()), want=rules(Rule(ROOT))),
    "bare-actions": SetupCase(
        block(*acl("allow", "block", "filter", "drop")),
        want=rules(
            Rule(ROOT, (Policy("allow"), Policy("block"), Policy("filter"), Policy("drop")))
        ),
    ),
    "action-case-insensitive": SetupCase(
        block(*acl("BLOCK", "Allow")), want=rules(Rule(ROOT, (Policy("block"), Policy("allow"))))
    ),
    "type-and-net": SetupCase(
        block(*acl("block type A net 192.168.0.0/16")),
        want=rules(Rule(ROOT, (Policy("block", frozenset({A}), ("192.168.0.0/16",)),))),
    ),
    "net-then-type": SetupCase(
        block(*acl("filter net 10.0.0.0/8 type AAAA MX")),
        want=rules(Rule(ROOT, (Policy("filter", frozenset({AAAA, MX}), ("10.0.0.0/8",)),))),
    ),
    "section-names-any-case": SetupCase(
        block(*acl("block TYPE A NET 10.0.0.1")),
        want=rules(Rule(ROOT, (Policy("block", frozenset({A}), ("10.0.0.1/32",)),))),
    ),
    "sections-repeat-and-merge": SetupCase(
        block(*acl("block type A net 10.0.0.0/8 type SRV net 10.1.0.0/16 10.0.0.0/8")),
        want=rules(
            Rule(ROOT, (Policy("block", frozenset({A, SRV}), ("10.0.0.0/8", "10.1.0.0/16")),))
        ),
    ),
    "type-only": SetupCase(
        block(*acl("drop type AAAA")),
        want=rules(Rule(ROOT, (Policy("drop", frozenset({AAAA})),))),
    ),
    "type-star-is-every-type": SetupCase(
        block(*acl("block type A * net 10.0.0.0/8")),
        want=rules(Rule(ROOT, (Policy("block", None, ("10.0.0.0/8",)),))),
    ),
    "net-star-is-every-source": SetupCase(
        block(*acl("block type A net 10.0.0.0/8 *")),
        want=rules(Rule(ROOT, (Policy("block", frozenset({A})),))),
    ),
    "hyphenated-type": SetupCase(
        block(*acl("block type NSAP-PTR")),
        want=rules(Rule(ROOT, (Policy("block", frozenset({23})),))),
    ),
    "single-addresses-and-host-bits": SetupCase(
        block(*acl("block net 192.0.2.7 2001:db8::1 192.168.1.7/16 2001:db8:1::5/48")),
        want=rules(
            Rule(
                ROOT,
                (
                    Policy(
                        "block",
                        None,
                        ("192.0.2.7/32", "2001:db8::1/128", "192.168.0.0/16", "2001:db8:1::/48"),
                    ),
                ),
            )
        ),
    ),
    "ipv4-mapped-networks-are-ipv4": SetupCase(
        block(*acl("block net ::ffff:192.168.0.0/112 ::ffff:10.0.0.1")),
        want=rules(Rule(ROOT, (Policy("block", None, ("192.168.0.0/16", "10.0.0.1/32")),))),
    ),
    "zones-given": SetupCase(
        block(
            *acl("block net 192.168.1.0/24", zones="A.example.org sub.example.org."),
            key="example.org",
        ),
        want=rules(
            Rule(
                ("a.example.org.", "sub.example.org."),
                (Policy("block", None, ("192.168.1.0/24",)),),
            )
        ),
    ),
    "zones-default-to-the-block-keys": SetupCase(
        block(*acl("block"), key="example.org example.net:1053"),
        want=rules(Rule(("example.org.", "example.net."), (Policy("block"),))),
    ),
    "reverse-zone-from-cidr": SetupCase(
        block(*acl("block", zones="10.0.0.0/24")),
        want=rules(Rule(("0.0.10.in-addr.arpa.",), (Policy("block"),))),
    ),
    "several-directives-in-order": SetupCase(
        block(*acl("allow net 10.0.0.0/8", zones="a.org"), *acl("block type ANY"), "acl b.org"),
        want=rules(
            Rule(("a.org.",), (Policy("allow", None, ("10.0.0.0/8",)),)),
            Rule(ROOT, (Policy("block", frozenset({255})),)),
            Rule(("b.org.",)),
        ),
    ),
    "unknown-action": SetupCase(
        block(*acl("deny net 10.0.0.0/8")),
        error='Corefile:3: acl: unexpected token "deny"; '
        "expect 'allow', 'block', 'filter' or 'drop'",
    ),
    "unknown-section": SetupCase(
        block(*acl("block from 10.0.0.0/8")),
        error="Corefile:3: acl: unexpected token \"from\"; expect 'type | net'",
    ),
    "value-before-section": SetupCase(
        block(*acl("block A")),
        error="Corefile:3: acl: unexpected token \"A\"; expect 'type | net'",
    ),
    "empty-type-section": SetupCase(
        block(*acl("block type net 10.0.0.0/8")),
        error='Corefile:3: acl: no token specified in "type" section',
    ),
    "empty-net-section-at-the-end": SetupCase(
        block(*acl("block type A NET")),
        error='Corefile:3: acl: no token specified in "net" section',
    ),
    "lowercase-type": SetupCase(
        block(*acl("block type a")),
        error='Corefile:3: acl: unexpected token "a"; expect legal QTYPE',
    ),
    "unknown-type": SetupCase(
        block(*acl("block type A BOGUS")),
        error='Corefile:3: acl: unexpected token "BOGUS"; expect legal QTYPE',
    ),
    "bad-address": SetupCase(
        block(*acl("block net 10.0.0.300")),
        error='Corefile:3: acl: illegal CIDR notation "10.0.0.300/32"',
    ),
    "bad-ipv6-address": SetupCase(
        block(*acl("block net 2001:db8::g")),
        error='Corefile:3: acl: illegal CIDR notation "2001:db8::g/128"',
    ),
    "mask-too-long": SetupCase(
        block(*acl("block net 10.0.0.0/33")),
        error='Corefile:3: acl: illegal CIDR notation "10.0.0.0/33"',
    ),
    "netmask-form": SetupCase(
        block(*acl("block net 10.0.0.0/255.0.0.0")),
        error='Corefile:3: acl: illegal CIDR notation "10.0.0.0/255.0.0.0"',
    ),
    "zone-index": SetupCase(
        block(*acl("block net fe80::1%eth0")),
        error='Corefile:3: acl: illegal CIDR notation "fe80::1%eth0/128"',
    ),
    "name-as-net": SetupCase(
        block(*acl("block net example.org")),
        error='Corefile:3: acl: illegal CIDR notation "example.org/32"',
    ),
    "bad-zone": SetupCase(
        block(*acl("block", zones="10.0.0.0/99")),
        error="Corefile:2: acl: invalid CIDR '10.0.0.0/99'",
    ),
    "error-in-second-directive": SetupCase(
        block(*acl("block"), *acl("allow", "nope")),
        error='Corefile:7: acl: unexpected token "nope"; '
        "expect 'allow', 'block', 'filter' or 'drop'",
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
    assert [h.name for h in loaded.handlers] == ["acl"]  # one handler for every directive


def test_type_names_are_miekgs() -> None:
    assert QTYPES["A"] == 1 and QTYPES["AAAA"] == 28 and QTYPES["ANY"] == 255
    assert QTYPES["HTTPS"] == 65 and QTYPES["CAA"] == 257 and QTYPES["DLV"] == 32769
    assert "None" not in QTYPES and "TYPE65280" not in QTYPES
