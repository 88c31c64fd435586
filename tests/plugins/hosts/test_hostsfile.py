"""The hosts file format: lines, addresses, names, zones, and the table built from them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.plugins.hosts.hostsfile import Entry, LineError, build, parse, parse_line

ANY = (".",)


@dataclass(frozen=True)
class LineCase:
    line: str
    want: list[tuple[str, str, int]] | None = None
    error: str | None = None
    zones: tuple[str, ...] = ANY


LINES = {
    "blank": LineCase("   ", []),
    "comment": LineCase("# 10.0.0.1 a.example", []),
    "one-name": LineCase("10.0.0.1 a.example", [("a.example.", "10.0.0.1", 4)]),
    "aliases-and-tabs": LineCase(
        "10.0.0.1\ta.example\t b", [("a.example.", "10.0.0.1", 4), ("b.", "10.0.0.1", 4)]
    ),
    "trailing-comment": LineCase("10.0.0.1 a.example # b.example", [("a.example.", "10.0.0.1", 4)]),
    "comment-glued": LineCase("10.0.0.1 a.example#b.example", [("a.example.", "10.0.0.1", 4)]),
    "lowercased-and-absolute": LineCase(
        "10.0.0.1 WWW.Example.ORG.", [("www.example.org.", "10.0.0.1", 4)]
    ),
    "ipv6": LineCase("2001:DB8::1 six.example", [("six.example.", "2001:db8::1", 6)]),
    "ipv6-zone-dropped": LineCase("fe80::1%eth0 link.example", [("link.example.", "fe80::1", 6)]),
    "ipv4-zone-dropped": LineCase("10.0.0.1%x a.example", [("a.example.", "10.0.0.1", 4)]),
    "ipv4-mapped-is-ipv4": LineCase("::FFFF:10.0.0.2 m.example", [("m.example.", "10.0.0.2", 4)]),
    "ipv4-mapped-hex": LineCase("::ffff:a00:3 m.example", [("m.example.", "10.0.0.3", 4)]),
    "wildcard": LineCase("10.0.0.1 *.example.com", [("*.example.com.", "10.0.0.1", 4)]),
    "underscore": LineCase("10.0.0.1 _srv.example", [("_srv.example.", "10.0.0.1", 4)]),
    "outside-zones-dropped": LineCase(
        "10.0.0.1 a.example.org a.example.net example.org",
        [("a.example.org.", "10.0.0.1", 4), ("example.org.", "10.0.0.1", 4)],
        zones=("example.org.",),
    ),
    "bad-address": LineCase("10.0.0.256 a", error="invalid IP address '10.0.0.256'"),
    "leading-zero": LineCase("010.0.0.1 a", error="invalid IP address '010.0.0.1'"),
    "name-first": LineCase("a.example 10.0.0.1", error="invalid IP address 'a.example'"),
    "no-name": LineCase("10.0.0.1 # a", error="no host name after '10.0.0.1'"),
    "empty-label": LineCase("10.0.0.1 ok a..b", error="invalid host name 'a..b'"),
    "double-dot-end": LineCase("10.0.0.1 a..", error="invalid host name 'a..'"),
    "root": LineCase("10.0.0.1 .", error="invalid host name '.'"),
    "long-label": LineCase(f"10.0.0.1 {'x' * 64}", error=f"invalid host name '{'x' * 64}'"),
    "long-name": LineCase(
        "10.0.0.1 " + ".".join(["x" * 63] * 4),
        error="invalid host name '" + ".".join(["x" * 63] * 4) + "'",
    ),
    "special-character": LineCase("10.0.0.1 a@b", error="invalid host name 'a@b'"),
    "not-ascii": LineCase("10.0.0.1 bücher.example", error="invalid host name 'bücher.example'"),
}


@pytest.mark.parametrize("case", LINES.values(), ids=LINES.keys())
def test_parse_line(case: LineCase) -> None:
    if case.error is not None:
        with pytest.raises(LineError) as exc:
            parse_line(case.line, case.zones)
        assert str(exc.value) == case.error
        return
    got = [(e.name, e.address, e.version) for e in parse_line(case.line, case.zones)]
    assert got == case.want


def test_parse_skips_bad_lines_and_says_where() -> None:
    text = "10.0.0.1 a\nnot-an-ip b\n\n10.0.0.2\n::1 c # ok\n10.0.0.3 d e..f\n"
    entries, problems = parse(text, ANY, "/etc/hosts")
    assert [(e.name, e.address) for e in entries] == [("a.", "10.0.0.1"), ("c.", "::1")]
    assert problems == [
        "/etc/hosts:2: invalid IP address 'not-an-ip'",
        "/etc/hosts:4: no host name after '10.0.0.2'",
        "/etc/hosts:6: invalid host name 'e..f'",
    ]


def entries(text: str) -> list[Entry]:
    found, problems = parse(text, ANY, "test")
    assert problems == []
    return found


FILE = """
10.0.0.1 a.example
10.0.0.2 a.example b.example
fd00::1 a.example
10.0.0.2 a.example
10.0.0.9 *.wild.example
10.0.0.1 c.example
"""


def test_build_both_families_reverse_and_size() -> None:
    table = build([], entries(FILE), reverse=True)
    assert table.v4 == {
        "a.example.": ("10.0.0.1", "10.0.0.2"),  # a repeated address is given once
        "b.example.": ("10.0.0.2",),
        "*.wild.example.": ("10.0.0.9",),
        "c.example.": ("10.0.0.1",),
    }
    assert table.v6 == {"a.example.": ("fd00::1",)}
    assert table.ptr == {
        "1.0.0.10.in-addr.arpa.": ("a.example.", "c.example."),
        "2.0.0.10.in-addr.arpa.": ("a.example.", "b.example."),
        "1" + ".0" * 29 + ".d.f.ip6.arpa.": ("a.example.",),
    }  # no PTR for the wildcard
    assert table.size == 6 + 5  # CoreDNS's Len: addresses of every name + PTR names


def test_build_without_reverse() -> None:
    table = build([], entries(FILE), reverse=False)
    assert table.ptr == {}
    assert table.size == 6


def test_inline_names_replace_the_files() -> None:
    inline = entries("192.0.2.1 a.example\n192.0.2.2 new.example\n")
    table = build(inline, entries(FILE), reverse=True)
    assert table.v4["a.example."] == ("192.0.2.1",)
    assert "a.example." not in table.v6  # the whole name is the inline one's
    assert table.v4["b.example."] == ("10.0.0.2",)
    assert table.ptr["2.0.0.10.in-addr.arpa."] == ("b.example.",)
    assert table.ptr["1.0.0.10.in-addr.arpa."] == ("c.example.",)
    assert table.ptr["1.2.0.192.in-addr.arpa."] == ("a.example.",)


OWNERS = {
    "exact": ("c.example.", "c.example."),
    "exact-v6-only": ("v6.example.", "v6.example."),
    "wildcard": ("apps.wild.example.", "*.wild.example."),
    "wildcard-itself": ("*.wild.example.", "*.wild.example."),
    "exact-beats-wildcard": ("x.wild.example.", "x.wild.example."),
    "apex-excluded": ("wild.example.", None),
    "two-labels-down": ("deep.apps.wild.example.", None),
    "unknown": ("nope.example.", None),
    "root": (".", None),
}


@pytest.mark.parametrize(("name", "want"), OWNERS.values(), ids=OWNERS.keys())
def test_owner(name: str, want: str | None) -> None:
    text = FILE + "fd00::2 v6.example\nfd00::3 x.wild.example\n"
    assert build([], entries(text), reverse=True).owner(name) == want
