"""A rendered template read as one record, as miekg/dns's NewRR reads it."""

from __future__ import annotations

import dns.message
import dns.rrset
import pytest
from dnslib import DNSRecord

from dnsd.plugins.template.rr import RRError, parse_rr


def text_of(rr: object) -> str:
    """The record as dnspython writes it (after a round trip through the wire)."""
    msg = DNSRecord()
    msg.add_answer(rr)
    parsed = dns.message.from_wire(bytes(msg.pack()))
    rrset: dns.rrset.RRset = parsed.answer[0]
    return str(rrset.to_text())


@pytest.mark.parametrize(
    ("text", "want", "cname"),
    [
        ("ip-10-1-2-3.example. 60 IN A 10.1.2.3", "ip-10-1-2-3.example. 60 IN A 10.1.2.3", None),
        ("Example.ORG. 60 IN A 10.0.0.1", "Example.ORG. 60 IN A 10.0.0.1", None),  # case kept
        ("example.org. IN A 10.0.0.1", "example.org. 3600 IN A 10.0.0.1", None),  # default TTL
        ("example.org. 60 A 10.0.0.1", "example.org. 60 IN A 10.0.0.1", None),  # default class
        ("example.org. IN 60 A 10.0.0.1", "example.org. 60 IN A 10.0.0.1", None),  # class first
        ("example.org. 1h IN A 10.0.0.1", "example.org. 3600 IN A 10.0.0.1", None),
        ("foogle.com 60 IN CNAME google.com", "foogle.com. 60 IN CNAME google.com.", "google.com."),
        ("a. 60 IN MX 10 {a}".format(a="mail.a"), "a. 60 IN MX 10 mail.a.", None),
        (
            "invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)",
            "invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60",
            None,
        ),
        (
            "engineering.coredns.io. 3600 CH SOA ns1. admin. (\n 1 60 120 86400 3600 )",
            "engineering.coredns.io. 3600 CH SOA ns1. admin. 1 60 120 86400 3600",
            None,
        ),
        ('x. 60 IN TXT "hello world" "two"', 'x. 60 IN TXT "hello world" "two"', None),
        ("x. 60 IN AAAA 2001:db8::1", "x. 60 IN AAAA 2001:db8::1", None),
        ("_s._tcp.x. 60 IN SRV 0 10 80 web.x.", "_s._tcp.x. 60 IN SRV 0 10 80 web.x.", None),
        ("x. 60 IN HINFO a b", 'x. 60 IN HINFO "a" "b"', None),
        ("x. 60 IN TYPE65280 \\# 2 abcd", "x. 60 IN TYPE65280 \\# 2 abcd", None),
        ("@ 60 IN A 10.0.0.1", ". 60 IN A 10.0.0.1", None),
        ("\n\na. 60 IN A 10.0.0.1", "a. 60 IN A 10.0.0.1", None),
        ("a. 60 IN A 10.0.0.1\nb. 60 IN A 10.0.0.2", "a. 60 IN A 10.0.0.1", None),  # first only
    ],
)
def test_parse(text: str, want: str, cname: str | None) -> None:
    record = parse_rr(text)
    assert text_of(record.rr) == want
    assert record.cname == cname


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no resource record in the template's output"),
        ("  \n ", "no resource record in the template's output"),
        ("test.example.", "bad resource record 'test.example.': the record has no type"),
        ("x. 60 IN BOGUS 1", "unknown type 'BOGUS'"),
        ("x. 60 IN A 10.0.0", "bad resource record 'x. 60 IN A 10.0.0': Text input is malformed."),
        (
            "x. 60 IN A 10.0.0.1 extra",
            "bad resource record 'x. 60 IN A 10.0.0.1 extra': expected EOL or EOF, got 3 \"extra\"",
        ),
    ],
)
def test_errors(text: str, error: str) -> None:
    with pytest.raises(RRError) as info:
        parse_rr(text)
    assert str(info.value) == error
