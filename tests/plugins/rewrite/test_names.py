"""Names of rewrite: presentation names to labels, matchers, reply name rewriters."""

from __future__ import annotations

import re

import pytest
from dnslib import RD, RR, DNSLabel

from dnsd.plugins.rewrite.names import (
    NameMatch,
    RegexRewrite,
    Remap,
    SuffixSwap,
    is_fqdn,
    labels_of,
    normalize,
)
from dnsd.plugins.rewrite.response import ValueRewrite


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        (".", ()),
        ("example.org.", (b"example", b"org")),
        ("example.org", (b"example", b"org")),
        ("a\\.b.org.", (b"a.b", b"org")),
        ("a\\032b.org.", (b"a b", b"org")),
        ("a\\\\.org.", (b"a\\", b"org")),
        ("a" * 63 + ".", (b"a" * 63,)),
        ("a" * 64 + ".", None),
        ("a..org.", None),
        (".org.", None),
        ("", None),
        ("a\\256.org.", None),
        ("a\\", None),
        ("x." * 127, (b"x",) * 127),
        ("x." * 127 + "y.", None),
    ],
)
def test_labels_of(name: str, labels: tuple[bytes, ...] | None) -> None:
    assert labels_of(name) == labels


@pytest.mark.parametrize(
    ("name", "fqdn"), [("a.", True), ("a", False), ("a\\.", False), ("a\\\\.", True)]
)
def test_is_fqdn(name: str, fqdn: bool) -> None:
    assert is_fqdn(name) is fqdn


def test_normalize() -> None:
    assert normalize("Example.ORG") == "example.org."
    assert normalize("example.org.") == "example.org."


@pytest.mark.parametrize(
    ("match", "name", "to", "want"),
    [
        (NameMatch("exact", "a.example."), "a.example.", "b.", "b."),
        (NameMatch("exact", "a.example."), "x.a.example.", "b.", None),
        (NameMatch("prefix", "ftp."), "ftp.example.", "www.", "www.example."),
        (NameMatch("suffix", ".old."), "a.b.old.", ".new.", "a.b.new."),
        (NameMatch("substring", "-x-"), "a-x-b-x-c.", "-y-", "a-y-b-y-c."),
        (
            NameMatch("regex", "", re.compile(r"^(\w+)\.(\w+)\.$")),
            "a.b.",
            "{2}.{1}.{0}",
            "b.a.a.b.",
        ),
        (NameMatch("regex", "", re.compile(r"(a)|(b)")), "b.", "[{1}{2}]", "[b]"),
        (NameMatch("regex", "", re.compile(r"^z")), "a.", "b.", None),
    ],
)
def test_name_match_rewrite(match: NameMatch, name: str, to: str, want: str | None) -> None:
    assert match.rewrite(name, to) == want
    assert match.matches(name) is (want is not None)


def test_reply_rewriters() -> None:
    remap = Remap("web.new.example.", "Web.Old.Example.")
    assert remap("WEB.new.example.") == "Web.Old.Example."
    assert remap("_http._tcp.web.new.example.") == "_http._tcp.Web.Old.Example."
    assert remap("other.new.example.") == "other.new.example."
    swap = SuffixSwap(".new.example.", ".old.example.")
    assert swap("a.NEW.example.") == "a.old.example."
    assert swap("new.example.") == "new.example."
    regex = RegexRewrite(re.compile(r"(.*)\.svc\.cluster\.local\."), "{1}.old.example.")
    assert regex("web.demo.svc.cluster.local.") == "web.demo.old.example."
    assert regex("web.example.") == "web.example."


def test_dname_value_is_rewritten_in_its_raw_data() -> None:
    rr = RR(DNSLabel("old.example."), 39, 1, 60, RD(b"\x03new\x07example\x00"))
    ValueRewrite(Remap("new.example.", "new.org.")).record(rr)
    assert bytes(rr.rdata.data) == b"\x03new\x03org\x00"
