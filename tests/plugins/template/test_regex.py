"""Go (RE2) patterns compiled for Python's ``re``: same matches, or a clear refusal."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dnsd.plugins.template.regex import MAX_LENGTH, RegexError, compile_go


@dataclass(frozen=True)
class Case:
    id: str
    pattern: str
    name: str
    #: The groups of the first match (group 0 first), None when it must not match.
    groups: list[str] | None = field(default_factory=list)


CASES = [
    Case("default", ".*", "a.example.", ["a.example."]),
    Case("unanchored", "example", "www.example.org.", ["example"]),
    Case("anchored-miss", "^example", "www.example.org.", None),
    Case(
        "named-P",
        r"^ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)[.]example[.]$",
        "ip-10-2.example.",
        ["ip-10-2.example.", "10", "2"],
    ),
    Case("named-go122", r"^(?<a>[a-z]+)\.", "www.example.", ["www.", "www"]),
    Case("unmatched-group", "^(a)?b", "b.", ["b", ""]),
    Case("backslash-z", r"example\.\z", "example.", ["example."]),
    Case("quoted-literal", r"^\Qa.b\E", "a.b.", ["a.b"]),
    Case("quoted-literal-miss", r"^\Qa.b\E", "axb.", None),
    Case("posix-class", r"^[[:digit:]]+[[:alpha:]_]", "12ab", ["12a"]),
    Case("posix-punct", r"[[:punct:]]", "ab-", ["-"]),
    Case("bracket-literal", r"[[a]+", "x[a", ["[a"]),
    Case("set-operators-literal", r"^[a&&b|~]+$", "a&b|~", ["a&b|~"]),
    Case("hex-escape", r"^\x41\x{42}", "AB", ["AB"]),
    Case("octal-escape", r"^\101\0", "A\x00", ["A\x00"]),
    Case("flags-at-start", "(?i)^EXAMPLE", "example.", ["example"]),
    Case("flags-mid-pattern", "^a(?i)B(c)", "abC", ["abC", "C"]),
    Case("flags-mid-group", "^(x(?i)Y)z", "xyz", ["xyz", "xy"]),
    Case("flags-mid-group-end", "^(x(?i)Y)Z", "xyz", None),
    Case("scoped-flags", "^(?i:AB)c", "abc", ["abc"]),
    Case("ascii-digits", r"^\d+$", "١٢", None),
    Case("ascii-word", r"^\w+$", "é", None),
    Case("lazy", "^a+?", "aaa", ["a"]),
    Case("repeat", "^a{2,3}", "aaaa", ["aaa"]),
    Case("literal-brace", "^a{x", "a{x", ["a{x"]),
    Case("escaped-punct", r"^a\.b\-c", "a.b-c", ["a.b-c"]),
    Case(
        "reverse-zone",
        r"^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.]in-addr[.]arpa[.]$",
        "4.3.in-addr.arpa.",
        ["4.3.in-addr.arpa.", "4", "3"],
    ),
    Case("never", "$^", "example.", None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_match(case: Case) -> None:
    match = compile_go(case.pattern).search(case.name)
    if case.groups is None:
        assert match is None
        return
    assert match is not None
    assert [match.group(0), *(g or "" for g in match.groups())] == case.groups


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"),
        ("(?<=a)b", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"),
        ("(?>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?>`"),
        ("(?#c)", "error parsing regexp: invalid or unsupported Perl syntax: `(?#`"),
        ("(?x)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?x)`"),
        ("(?U)a", "error parsing regexp: the ungreedy flag U is not supported by dnsd"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("a\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
        ("\\pL", "error parsing regexp: Unicode class `\\p` is not supported by dnsd"),
        ("\\C", "error parsing regexp: invalid escape sequence: `\\C`"),
        ("[\\b]", "error parsing regexp: invalid escape sequence: `\\b`"),
        (
            "[[:^alpha:]]",
            "error parsing regexp: negated class `[:^alpha:]` is not supported by dnsd",
        ),
        ("a*+", "error parsing regexp: invalid nested repetition operator: `*+`"),
        ("a{2}+", "error parsing regexp: invalid nested repetition operator: `}+`"),
        ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("a{3,2}", "error parsing regexp: invalid repeat count: `{3,2}`"),
        ("(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"),
        ("[a", "error parsing regexp: missing closing ]: `[a`"),
        ("a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
        ("\\x{zz}", "error parsing regexp: invalid escape sequence: `\\xzz`"),
        ("(a", "error parsing regexp: missing ), unterminated subpattern at position 0"),
        ("a)", "error parsing regexp: unbalanced parenthesis at position 1"),
        ("x" * (MAX_LENGTH + 1), f"regex pattern too long: {MAX_LENGTH + 1} > {MAX_LENGTH}"),
    ],
)
def test_refused(pattern: str, error: str) -> None:
    with pytest.raises(RegexError) as info:
        compile_go(pattern)
    assert str(info.value) == error
