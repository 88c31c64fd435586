"""Go's fmt for templates (``printf``, ``print``, ``%v``) and ``parseInt``, with Go's outputs."""

from __future__ import annotations

from typing import Any

import pytest

from dnsd.plugins.template.gotemplate.funcs import FuncError, parse_int
from dnsd.plugins.template.gotemplate.gofmt import go_quote, go_str, sprint, sprintf, sprintln
from dnsd.plugins.template.gotemplate.values import MISSING, Uint8, Uint16, Uint64, go_float

PRINTF = [
    # strings
    ("%s", ["abc"], "abc"),
    ("%v", ["abc"], "abc"),
    ("%5s|%-5s|", ["ab", "cd"], "   ab|cd   |"),
    ("%.2s", ["abcdef"], "ab"),
    ("%q", ['a"b\n'], '"a\\"b\\n"'),
    ("%#q", ["ab"], "`ab`"),
    ("%+q", ["é"], '"\\u00e9"'),
    ("%x", ["hi"], "6869"),
    ("%X", ["hi"], "6869"),
    ("% x", ["hi"], "68 69"),
    ("%#x", ["hi"], "0x6869"),
    # integers
    ("%d", [42], "42"),
    ("%5d|%-5d|", [42, 42], "   42|42   |"),
    ("%05d", [-42], "-0042"),
    ("%08d", [-42], "-0000042"),
    ("%.5d", [42], "00042"),
    ("%+d % d", [5, 5], "+5  5"),
    ("%x %X %#x %o %#o %O %b", [255, 255, 255, 8, 8, 8, 5], "ff FF 0xff 10 010 0o10 101"),
    ("%x", [-255], "-ff"),
    ("%c%c", [65, 0x1F600], "A\U0001f600"),
    ("%q", [65], "'A'"),
    ("%U %#U", [0x1F600, 65], "U+1F600 U+0041 'A'"),
    ("%d", [Uint64(18446744073709551615)], "18446744073709551615"),
    ("%v", [Uint8(98)], "98"),
    # floats
    ("%f", [3.14159], "3.141590"),
    ("%.2f", [3.14159], "3.14"),
    ("%08.3f", [-3.14159], "-003.142"),
    ("%e", [1234.5678], "1.234568e+03"),
    ("%E", [1234.5678], "1.234568E+03"),
    ("%g", [1234.5678], "1234.5678"),
    ("%.3g", [1234.5678], "1.23e+03"),
    ("%v", [1e21], "1e+21"),
    ("%v", [100000.0], "100000"),
    ("%v", [1000000.0], "1e+06"),
    ("%+.1f", [2.0], "+2.0"),
    # bools, types, composites
    ("%t %v", [True, False], "true false"),
    (
        "%T %T %T %T %T %T",
        [1, "s", 1.5, True, ["a"], {"a": "b"}],
        "int string float64 bool []string map[string]string",
    ),
    ("%T %T", [Uint16(1), None], "uint16 <nil>"),
    ("%v %d %q", [["a", "b"], [1, 2], ["a"]], '[a b] [1 2] ["a"]'),
    ("%v", [{"b": "2", "a": "1"}], "map[a:1 b:2]"),
    ("%v %s", [None, None], "<nil> %!s(<nil>)"),
    # Go's in-band errors
    ("%d", ["x"], "%!d(string=x)"),
    ("%s", [5], "%!s(int=5)"),
    ("%t", [1], "%!t(int=1)"),
    ("%z", [1], "%!z(int=1)"),
    ("%x", [1.5], "%!x(float64=1.5)"),
    ("%d %d", [1], "1 %!d(MISSING)"),
    ("%d", [1, "a"], "1%!(EXTRA string=a)"),
    ("%d", [1, 2, 3], "1%!(EXTRA int=2, int=3)"),
    ("abc%", [], "abc%!(NOVERB)"),
    ("%d%%", [50], "50%"),
    # argument indexes and star
    ("%[2]d %[1]d", [1, 2], "2 1"),
    ("%[3]d", [1, 2], "%!d(BADINDEX)"),
    ("%*d|%-*d|", [5, 3, 4, 7], "    3|7   |"),
    ("%.*f", [2, 3.14159], "3.14"),
    ("%*d", ["x", 3], "%!(BADWIDTH)3"),
]


@pytest.mark.parametrize(
    ("fmt", "args", "want"), PRINTF, ids=[f"{i}-{p[0]}" for i, p in enumerate(PRINTF)]
)
def test_sprintf(fmt: str, args: list[Any], want: str) -> None:
    assert sprintf(fmt, args) == want


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["a", 1, 2, "b"], "a1 2b"),
        ([1, 2], "1 2"),
        (["a", "b"], "ab"),
        ([True, 1.5, None], "true 1.5 <nil>"),
        ([], ""),
    ],
)
def test_sprint(args: list[Any], want: str) -> None:
    assert sprint(args) == want


def test_sprintln() -> None:
    assert sprintln(["a", "b", 1]) == "a b 1\n"
    assert sprintln([]) == "\n"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("s", "s"),
        (True, "true"),
        (-3, "-3"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (float("inf"), "+Inf"),
        (float("nan"), "NaN"),
        ([], "[]"),
        ({}, "map[]"),
        (None, "<nil>"),
        (MISSING, "<nil>"),
    ],
)
def test_go_str(value: Any, want: str) -> None:
    assert go_str(value) == want


def test_go_float_matches_go_for_large_and_small() -> None:
    assert go_float(1e100) == "1e+100"
    assert go_float(1.5e-300) == "1.5e-300"
    assert go_float(12345.678) == "12345.678"


def test_go_quote() -> None:
    assert go_quote('a\tb"\\\x01\u00e9') == '"a\\tb\\"\\\\\\x01é"'
    assert go_quote("\U0001f600", ascii_only=True) == '"\\U0001f600"'


PARSE_INT = [
    ("7b", 16, 8, 123),
    ("255", 10, 8, 255),
    ("0x1f", 0, 64, 31),
    ("0o17", 0, 64, 15),
    ("017", 0, 64, 15),
    ("0b101", 0, 64, 5),
    ("1_000", 0, 64, 1000),
    ("zz", 36, 0, 1295),
    ("18446744073709551615", 10, 0, 18446744073709551615),
]


@pytest.mark.parametrize(("s", "base", "bits", "want"), PARSE_INT)
def test_parse_int(s: str, base: int, bits: int, want: int) -> None:
    got = parse_int(s, base, bits)
    assert got == want and isinstance(got, Uint64)


@pytest.mark.parametrize(
    ("s", "base", "bits", "error"),
    [
        ("256", 10, 8, 'strconv.ParseUint: parsing "256": value out of range'),
        ("", 10, 8, 'strconv.ParseUint: parsing "": invalid syntax'),
        ("-1", 10, 64, 'strconv.ParseUint: parsing "-1": invalid syntax'),
        ("+1", 10, 64, 'strconv.ParseUint: parsing "+1": invalid syntax'),
        ("0x1f", 16, 64, 'strconv.ParseUint: parsing "0x1f": invalid syntax'),
        ("1_000", 10, 64, 'strconv.ParseUint: parsing "1_000": invalid syntax'),
        ("1__0", 0, 64, 'strconv.ParseUint: parsing "1__0": invalid syntax'),
        ("12", 1, 64, 'strconv.ParseUint: parsing "12": invalid base 1'),
        ("12", 10, 65, 'strconv.ParseUint: parsing "12": invalid bit size 65'),
        ("1g", 16, 64, 'strconv.ParseUint: parsing "1g": invalid syntax'),
        (
            "18446744073709551616",
            10,
            64,
            'strconv.ParseUint: parsing "18446744073709551616": value out of range',
        ),
    ],
)
def test_parse_int_errors(s: str, base: int, bits: int, error: str) -> None:
    with pytest.raises(FuncError) as info:
        parse_int(s, base, bits)
    assert str(info.value) == error
