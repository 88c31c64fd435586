"""Setup of rewrite: every field and option parsed, and every error with its whole message."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from dnsd.plugins.rewrite.edns0 import Edns0Rule
from dnsd.plugins.rewrite.names import NameMatch, RegexRewrite, SuffixSwap
from dnsd.plugins.rewrite.response import (
    CnameTarget,
    NameRewrite,
    RcodeRewrite,
    TTLClamp,
    ValueRewrite,
)
from dnsd.plugins.rewrite.rules import ClassRule, CnameRule, MatchRule, NameRule, TypeRule
from dnsd.plugins.rewrite.setup import NAME, RewriteOptions, parse
from dnsd.plugins.rewrite.state import Rule
from dnsd.testing import check_parse


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: RewriteOptions | None = None
    error: str | None = None


def block(*lines: str) -> str:
    return ". {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def rules(*items: Rule) -> RewriteOptions:
    return RewriteOptions(tuple(items))


def exact(frm: str, to: str, mode: str = "stop", answers: tuple[object, ...] = ()) -> NameRule:
    return NameRule(mode, NameMatch("exact", frm), to, True, answers)  # type: ignore[arg-type]


def regex(pattern: str) -> NameMatch:
    return NameMatch("regex", pattern, re.compile(pattern))


US_WEST = r"(.*)-(us-west-1)\.example\.org"
CONSUL = r"(.*)\.service\.(us-west-1)\.consul"
ANSWER_NAME = NameRewrite(RegexRewrite(re.compile(CONSUL), "{1}-{2}.example.org."))
ANSWER_VALUE = ValueRewrite(RegexRewrite(re.compile(CONSUL), "{1}.example.org."))
SWAP = SuffixSwap(".new.example.", ".old.example.")
LONG = "a" * 10_001

CASES = {
    # name: every match type, normalized as CoreDNS normalizes
    "name-two-args-exact": SetupCase(
        block("rewrite name Foo.Example.org bar.example.org"),
        want=rules(exact("foo.example.org.", "bar.example.org.")),
    ),
    "name-exact": SetupCase(
        block("rewrite name exact a.example. b.example."),
        want=rules(exact("a.example.", "b.example.")),
    ),
    "name-continue": SetupCase(
        block("rewrite continue name a.example. b.example."),
        want=rules(exact("a.example.", "b.example.", "continue")),
    ),
    "name-stop-uppercase": SetupCase(
        block("rewrite STOP NAME EXACT a.example. b.example."),
        want=rules(exact("a.example.", "b.example.")),
    ),
    "name-prefix-made-absolute": SetupCase(
        block("rewrite name prefix foo bar"),
        want=rules(NameRule("stop", NameMatch("prefix", "foo."), "bar.", False)),
    ),
    "name-suffix": SetupCase(
        block("rewrite name suffix .old.example. .new.example."),
        want=rules(NameRule("stop", NameMatch("suffix", ".old.example."), ".new.example.", False)),
    ),
    "name-suffix-auto-swaps-back": SetupCase(
        block("rewrite name suffix .old.example .new.example answer auto"),
        want=rules(
            NameRule(
                "stop",
                NameMatch("suffix", ".old.example."),
                ".new.example.",
                False,
                (NameRewrite(SWAP), ValueRewrite(SWAP)),
            )
        ),
    ),
    "name-substring": SetupCase(
        block("rewrite name substring us-west-1.example.org us-west-1.consul"),
        want=rules(
            NameRule(
                "stop", NameMatch("substring", "us-west-1.example.org."), "us-west-1.consul.", False
            )
        ),
    ),
    "name-regex-keeps-pattern-normalizes-template": SetupCase(
        block(rf"rewrite name regex {US_WEST} {{1}}.Service.{{2}}.consul"),
        want=rules(NameRule("stop", regex(US_WEST), "{1}.service.{2}.consul.", False)),
    ),
    "name-regex-answer-auto": SetupCase(
        block(rf"rewrite name regex {US_WEST} {{1}}.service.{{2}}.consul answer auto"),
        want=rules(NameRule("stop", regex(US_WEST), "{1}.service.{2}.consul.", True)),
    ),
    "name-regex-answer-name-and-value-chained": SetupCase(
        block(
            rf"rewrite name regex {US_WEST} {{1}}.service.{{2}}.consul "
            rf"answer name {CONSUL} {{1}}-{{2}}.example.org value {CONSUL} {{1}}.example.org"
        ),
        want=rules(
            NameRule(
                "stop",
                regex(US_WEST),
                "{1}.service.{2}.consul.",
                False,
                (ANSWER_NAME, ANSWER_VALUE),
            )
        ),
    ),
    "name-block-form": SetupCase(
        block(
            "rewrite stop {",
            rf"    name regex {US_WEST} {{1}}.service.{{2}}.consul",
            rf"    answer name {CONSUL} {{1}}-{{2}}.example.org",
            "}",
        ),
        want=rules(
            NameRule("stop", regex(US_WEST), "{1}.service.{2}.consul.", False, (ANSWER_NAME,))
        ),
    ),
    "block-without-mode": SetupCase(
        block("rewrite {", "    name a.example. b.example.", "}"),
        want=rules(exact("a.example.", "b.example.")),
    ),
    "exact-with-answer-value": SetupCase(
        block(rf"rewrite name exact a.example. b.example. answer value {CONSUL} {{1}}.example.org"),
        want=rules(exact("a.example.", "b.example.", answers=(ANSWER_VALUE,))),
    ),
    "several-lines-in-order": SetupCase(
        block(
            "rewrite continue name a.example. b.example.",
            "rewrite type AAAA A",
            "rewrite class ch in",
        ),
        want=rules(
            exact("a.example.", "b.example.", "continue"),
            TypeRule("stop", 28, 1),
            ClassRule("stop", 3, 1),
        ),
    ),
    "type-any-hinfo": SetupCase(
        block("rewrite type ANY HINFO"), want=rules(TypeRule("stop", 255, 13))
    ),
    # ttl
    "ttl-exact-default": SetupCase(
        block("rewrite ttl Example.com 15"),
        want=rules(MatchRule("stop", NameMatch("exact", "example.com."), TTLClamp(15, 15))),
    ),
    "ttl-range": SetupCase(
        block("rewrite ttl example.com. 30-300"),
        want=rules(MatchRule("stop", NameMatch("exact", "example.com."), TTLClamp(30, 300))),
    ),
    "ttl-cap": SetupCase(
        block("rewrite ttl example.com. -30"),
        want=rules(MatchRule("stop", NameMatch("exact", "example.com."), TTLClamp(0, 30))),
    ),
    "ttl-floor": SetupCase(
        block("rewrite ttl example.com. 30-"),
        want=rules(MatchRule("stop", NameMatch("exact", "example.com."), TTLClamp(30, 2147483647))),
    ),
    "ttl-regex-block": SetupCase(
        block("rewrite continue {", r"    ttl regex (.*)\.coredns\.rocks 15", "}"),
        want=rules(MatchRule("continue", regex(r"(.*)\.coredns\.rocks"), TTLClamp(15, 15))),
    ),
    "ttl-suffix": SetupCase(
        block("rewrite ttl suffix .example.com 10"),
        want=rules(MatchRule("stop", NameMatch("suffix", ".example.com."), TTLClamp(10, 10))),
    ),
    # rcode
    "rcode-numbers": SetupCase(
        block("rewrite rcode srv1.coredns.rocks 2 0"),
        want=rules(
            MatchRule("stop", NameMatch("exact", "srv1.coredns.rocks."), RcodeRewrite(2, 0))
        ),
    ),
    "rcode-names": SetupCase(
        block("rewrite rcode exact srv1.coredns.rocks SERVFAIL NoError"),
        want=rules(
            MatchRule("stop", NameMatch("exact", "srv1.coredns.rocks."), RcodeRewrite(2, 0))
        ),
    ),
    "rcode-prefix-notauth": SetupCase(
        block("rewrite rcode prefix coredns.rocks NotAuth 0"),
        want=rules(MatchRule("stop", NameMatch("prefix", "coredns.rocks."), RcodeRewrite(9, 0))),
    ),
    "rcode-regex-extended": SetupCase(
        block(r"rewrite continue rcode regex (srv1)\.coredns BADCOOKIE 23"),
        want=rules(MatchRule("continue", regex(r"(srv1)\.coredns"), RcodeRewrite(23, 23))),
    ),
    # cname
    "cname-exact-default": SetupCase(
        block("rewrite cname Old.Target. new.target"),
        want=rules(
            CnameRule("stop", CnameTarget(NameMatch("exact", "old.target."), "new.target."))
        ),
    ),
    "cname-substring": SetupCase(
        block("rewrite cname substring Old New"),
        want=rules(CnameRule("stop", CnameTarget(NameMatch("substring", "old"), "new"))),
    ),
    "cname-regex": SetupCase(
        block(r"rewrite cname regex (.*)\.old\.example\. {1}.new.example."),
        want=rules(
            CnameRule("stop", CnameTarget(regex(r"(.*)\.old\.example\."), "{1}.new.example."))
        ),
    ),
    # edns0
    "edns0-local-hex": SetupCase(
        block("rewrite edns0 local set 0xffee 0x61626364"),
        want=rules(Edns0Rule("stop", "local", "set", 0xFFEE, data=b"abcd")),
    ),
    "edns0-local-string": SetupCase(
        block("rewrite edns0 local append 65518 abcd"),
        want=rules(Edns0Rule("stop", "local", "append", 0xFFEE, data=b"abcd")),
    ),
    "edns0-local-variable-revert": SetupCase(
        block("rewrite edns0 local replace 0xffee {client_ip} revert"),
        want=rules(
            Edns0Rule("stop", "local", "replace", 0xFFEE, variable="{client_ip}", revert=True)
        ),
    ),
    "edns0-local-unset": SetupCase(
        block("rewrite edns0 local unset 0xffee"),
        want=rules(Edns0Rule("stop", "local", "unset", 0xFFEE)),
    ),
    "edns0-nsid": SetupCase(
        block("rewrite continue edns0 nsid set"),
        want=rules(Edns0Rule("continue", "nsid", "set", 3, data=b"")),
    ),
    "edns0-subnet": SetupCase(
        block("rewrite edns0 subnet set 24 56"),
        want=rules(Edns0Rule("stop", "subnet", "set", 8, v4_bits=24, v6_bits=56)),
    ),
    "edns0-subnet-unset": SetupCase(
        block("rewrite edns0 subnet unset"),
        want=rules(Edns0Rule("stop", "subnet", "unset", 8)),
    ),
}

ERRORS = {
    "no-rule": ("rewrite", "Corefile:2: rewrite: no rule type specified for rewrite"),
    "empty-block": ("rewrite {\n    }", "Corefile:2: rewrite: no rule type specified for rewrite"),
    "stop-alone": ("rewrite stop", "Corefile:2: rewrite: stop rule must begin with a rule type"),
    "continue-alone": (
        "rewrite continue",
        "Corefile:2: rewrite: continue rule must begin with a rule type",
    ),
    "unknown-field": ("rewrite stop foo a b", 'Corefile:2: rewrite: invalid rule type "foo"'),
    "answer-first": (
        "rewrite answer name a b",
        "Corefile:2: rewrite: response rewrites must begin with a name rule",
    ),
    "block-after-rule": (
        "rewrite name a. b. {\n        answer auto\n    }",
        "Corefile:2: rewrite: unexpected '{': a rule is either on one line or inside the block",
    ),
    "type-args": (
        "rewrite type A",
        "Corefile:2: rewrite: type rules must have exactly two arguments",
    ),
    "type-unknown": ("rewrite type A BOGUS", 'Corefile:2: rewrite: invalid type "BOGUS"'),
    "class-args": (
        "rewrite class IN CH HS",
        "Corefile:2: rewrite: class rules must have exactly two arguments",
    ),
    "class-unknown": ("rewrite class XX IN", 'Corefile:2: rewrite: invalid class "XX"'),
    "name-few": (
        "rewrite name a.example.",
        "Corefile:2: rewrite: too few arguments for a name rule",
    ),
    "name-kind": (
        "rewrite name glob a b",
        "Corefile:2: rewrite: name rule supports only exact, prefix, suffix, substring, and "
        "regex name matching, received: glob",
    ),
    "name-bad-regex": (
        "rewrite name regex (a b",
        "Corefile:2: rewrite: invalid regex matching pattern: (a",
    ),
    "name-regex-too-long": (
        f"rewrite name regex {LONG} b",
        "Corefile:2: rewrite: regex pattern too long: 10001 > 10000",
    ),
    "name-too-many-groups": (
        "rewrite name regex (a).b {1}.{2}",
        "Corefile:2: rewrite: the rewrite regex pattern ({1}.{2}) uses more subexpressions than "
        "its corresponding matching regex pattern ((a).b)",
    ),
    "name-exact-to-checked-as-regex": (
        "rewrite name exact a.example. b(.example.",
        "Corefile:2: rewrite: invalid regex matching pattern: b(.example.",
    ),
    "answer-one-word": (
        "rewrite name regex a b answer",
        "Corefile:2: rewrite: invalid arguments for regex rule",
    ),
    "answer-missing-keyword": (
        "rewrite name regex a b name c d",
        "Corefile:2: rewrite: exceeded the number of arguments for a non-answer rule argument "
        "for regex rule",
    ),
    "answer-type-missing": (
        "rewrite name regex a b answer auto answer",
        "Corefile:2: rewrite: type missing for answer rule for regex rule",
    ),
    "answer-unknown-type": (
        "rewrite name regex a b answer other c d",
        'Corefile:2: rewrite: invalid type "other" for answer rule for regex rule',
    ),
    "answer-name-args": (
        "rewrite name regex a b answer name c",
        "Corefile:2: rewrite: name answer rule for regex rule: 2 arguments required",
    ),
    "answer-value-bad-regex": (
        "rewrite name prefix a b answer value [x y",
        "Corefile:2: rewrite: value answer rule for prefix rule: invalid regex matching "
        "pattern: [x",
    ),
    "answer-auto-and-name": (
        "rewrite name regex (a) b answer auto answer name c d",
        "Corefile:2: rewrite: auto name answer rule cannot be combined with explicit name "
        "anwer rules",
    ),
    "answer-error-on-its-line": (
        "rewrite {\n        name regex (a) b\n        answer name [x y\n    }",
        "Corefile:4: rewrite: name answer rule for regex rule: invalid regex matching pattern: [x",
    ),
    "ttl-few": ("rewrite ttl 15", "Corefile:2: rewrite: too few (1) arguments for a ttl rule"),
    "ttl-many": (
        "rewrite ttl exact a. 15 16",
        "Corefile:2: rewrite: many few arguments for a ttl rule",
    ),
    "ttl-bad": ("rewrite ttl a. 1x", "Corefile:2: rewrite: invalid TTL '1x' for a ttl rule"),
    "ttl-dash": ("rewrite ttl a. -", "Corefile:2: rewrite: invalid TTL '-' for a ttl rule"),
    "ttl-reversed": (
        "rewrite ttl a. 300-30",
        "Corefile:2: rewrite: invalid TTL '300-30' for a ttl rule",
    ),
    "ttl-too-big": (
        "rewrite ttl a. 4294967296",
        "Corefile:2: rewrite: invalid TTL '4294967296' for a ttl rule",
    ),
    "ttl-kind": (
        "rewrite ttl glob a. 15",
        "Corefile:2: rewrite: ttl rule supports only exact, prefix, suffix, substring, and regex "
        "name matching",
    ),
    "ttl-bad-regex": (
        "rewrite ttl regex (a 15",
        "Corefile:2: rewrite: invalid regex pattern in a ttl rule: (a",
    ),
    "ttl-regex-too-long": (
        f"rewrite ttl regex {LONG} 15",
        "Corefile:2: rewrite: regex pattern too long in a ttl rule: 10001 > 10000",
    ),
    "rcode-few": (
        "rewrite rcode a. 2",
        "Corefile:2: rewrite: too few (2) arguments for a rcode rule",
    ),
    "rcode-many": (
        "rewrite rcode exact a. 2 1 0",
        "Corefile:2: rewrite: many few arguments for a rcode rule",
    ),
    "rcode-bad-old": (
        "rewrite rcode a. random 0",
        "Corefile:2: rewrite: invalid matching RCODE 'random' for a rcode rule",
    ),
    "rcode-bad-new": (
        "rewrite rcode a. 2 24",
        "Corefile:2: rewrite: invalid replacement RCODE '24' for a rcode rule",
    ),
    "rcode-kind": (
        "rewrite rcode glob a. 2 0",
        "Corefile:2: rewrite: rcode rule supports only exact, prefix, suffix, substring, and "
        "regex name matching",
    ),
    "rcode-regex-too-long": (
        f"rewrite rcode regex {LONG} 2 0",
        "Corefile:2: rewrite: regex pattern too long in a rcode rule: 10001 > 10000",
    ),
    "rcode-bad-regex": (
        "rewrite rcode regex (a 2 0",
        "Corefile:2: rewrite: invalid regex pattern in a rcode rule: (a",
    ),
    "cname-few": (
        "rewrite cname a.",
        "Corefile:2: rewrite: too few (1) arguments for a cname rule",
    ),
    "cname-many": (
        "rewrite cname exact a. b. c.",
        "Corefile:2: rewrite: too many (4) arguments for a cname rule",
    ),
    "cname-kind": (
        "rewrite cname glob a. b.",
        "Corefile:2: rewrite: unknown cname rewrite type: glob",
    ),
    "cname-bad-regex": (
        "rewrite cname regex (a b.",
        "Corefile:2: rewrite: invalid regex pattern in a cname rule: (a",
    ),
    "edns0-few": (
        "rewrite edns0 local",
        "Corefile:2: rewrite: too few arguments for an EDNS0 rule",
    ),
    "edns0-action": ("rewrite edns0 local add 1 2", 'Corefile:2: rewrite: invalid action: "add"'),
    "edns0-type": ("rewrite edns0 cookie set", 'Corefile:2: rewrite: invalid rule type "cookie"'),
    "edns0-local-args": (
        "rewrite edns0 local set 0xffee",
        "Corefile:2: rewrite: EDNS0 local rules require exactly three args",
    ),
    "edns0-local-unset-args": (
        "rewrite edns0 local unset",
        "Corefile:2: rewrite: EDNS0 local unset rules require exactly one arg: the code",
    ),
    "edns0-unset-revert": (
        "rewrite edns0 local unset 0xffee revert",
        "Corefile:2: rewrite: EDNS0 unset rules cannot be reverted",
    ),
    "edns0-local-code": (
        "rewrite edns0 local set 0x10000 abc",
        'Corefile:2: rewrite: invalid EDNS0 local code "0x10000"',
    ),
    "edns0-local-code-word": (
        "rewrite edns0 local set code abc",
        'Corefile:2: rewrite: invalid EDNS0 local code "code"',
    ),
    "edns0-local-hex": (
        "rewrite edns0 local set 0xffee 0xzz",
        'Corefile:2: rewrite: invalid hex data "0xzz"',
    ),
    "edns0-local-variable": (
        "rewrite edns0 local set 0xffee {client_mac}",
        'Corefile:2: rewrite: unsupported variable name "{client_mac}"',
    ),
    "edns0-local-metadata": (
        "rewrite edns0 local set 0xffee {kubernetes/client-namespace}",
        'Corefile:2: rewrite: unsupported variable name "{kubernetes/client-namespace}": dnsd has '
        "no metadata plugin",
    ),
    "edns0-nsid-args": (
        "rewrite edns0 nsid set 1",
        "Corefile:2: rewrite: EDNS0 NSID rules do not accept args",
    ),
    "edns0-subnet-args": (
        "rewrite edns0 subnet set 24",
        "Corefile:2: rewrite: EDNS0 subnet rules require exactly three args",
    ),
    "edns0-subnet-unset-args": (
        "rewrite edns0 subnet unset 24",
        "Corefile:2: rewrite: EDNS0 subnet unset rules do not accept args",
    ),
    "edns0-subnet-v4": (
        "rewrite edns0 subnet set 33 56",
        "Corefile:2: rewrite: invalid IPv4 bit mask length 33",
    ),
    "edns0-subnet-v6": (
        "rewrite edns0 subnet set 24 129",
        "Corefile:2: rewrite: invalid IPv6 bit mask length 129",
    ),
    "edns0-subnet-word": (
        "rewrite edns0 subnet set x 56",
        'Corefile:2: rewrite: invalid IPv4 bit mask length "x"',
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want)


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_setup_errors(case: tuple[str, str]) -> None:
    check_parse(block(case[0]), NAME, parse, error=case[1])


def test_defaults() -> None:
    assert RewriteOptions() == RewriteOptions(rules=())
