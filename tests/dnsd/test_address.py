"""Tests for dnsd.address: server keys, zone normalisation and reverse zones."""

from __future__ import annotations

import pytest

from dnsd.address import ZoneAddr, normalize_zone, normalize_zones, parse_key, reverse_zones

V4_27 = [f"dns://{i}.0.0.10.in-addr.arpa.:53" for i in range(32)]


@pytest.mark.parametrize(
    ("key", "default_port", "want"),
    [
        pytest.param(".", "53", ["dns://.:53"], id="root"),
        pytest.param(".:53", "53", ["dns://.:53"], id="root-port"),
        pytest.param("example.org", "53", ["dns://example.org.:53"], id="zone"),
        pytest.param("Example.ORG.:1053", "53", ["dns://example.org.:1053"], id="case-and-port"),
        pytest.param("dns://example.org", "53", ["dns://example.org.:53"], id="dns-scheme"),
        pytest.param("tls://example.org", "53", ["tls://example.org.:853"], id="tls"),
        pytest.param("quic://.", "53", ["quic://.:853"], id="quic"),
        pytest.param("grpc://.", "53", ["grpc://.:443"], id="grpc"),
        pytest.param("https://.", "53", ["https://.:443"], id="https"),
        pytest.param("https3://.", "53", ["https3://.:443"], id="https3"),
        pytest.param("TLS://.:8853", "53", ["tls://.:8853"], id="scheme-case-and-port"),
        pytest.param(".", "1053", ["dns://.:1053"], id="default-port"),
        pytest.param(".:54", "1053", ["dns://.:54"], id="explicit-port-wins"),
        pytest.param("tls://.", "1053", ["tls://.:853"], id="default-port-only-for-dns"),
        pytest.param(".:0", "53", ["dns://.:0"], id="port-zero"),
        pytest.param(".:0053", "53", ["dns://.:53"], id="port-leading-zeros"),
        pytest.param("a\\.b.example", "53", ["dns://a\\.b.example.:53"], id="escaped-dot"),
        pytest.param("10.0.0.0/24", "53", ["dns://0.0.10.in-addr.arpa.:53"], id="v4-24"),
        pytest.param("10.1.2.3/16", "53", ["dns://1.10.in-addr.arpa.:53"], id="v4-host-bits"),
        pytest.param("10.0.0.0/8:1053", "53", ["dns://10.in-addr.arpa.:1053"], id="v4-port"),
        pytest.param("10.0.0.1/32", "53", ["dns://1.0.0.10.in-addr.arpa.:53"], id="v4-32"),
        pytest.param("0.0.0.0/0", "53", ["dns://in-addr.arpa.:53"], id="v4-0"),
        pytest.param("10.0.0.0/27", "53", V4_27, id="v4-27"),
        pytest.param(
            "tls://10.0.0.0/23",
            "53",
            ["tls://0.0.10.in-addr.arpa.:853", "tls://1.0.10.in-addr.arpa.:853"],
            id="v4-23-tls",
        ),
        pytest.param("fd00::/8", "53", ["dns://d.f.ip6.arpa.:53"], id="v6"),
        pytest.param("fd00::/8:1053", "53", ["dns://d.f.ip6.arpa.:1053"], id="v6-port"),
        pytest.param(
            "fc00::/7", "53", ["dns://c.f.ip6.arpa.:53", "dns://d.f.ip6.arpa.:53"], id="v6-7"
        ),
        pytest.param("2001:db8::/32", "53", ["dns://8.b.d.0.1.0.0.2.ip6.arpa.:53"], id="v6-32"),
        pytest.param("fd00::1", "53", ["dns://fd00:.:1"], id="v6-without-mask-is-coredns-quirk"),
    ],
)
def test_parse_key(key: str, default_port: str, want: list[str]) -> None:
    assert [str(z) for z in parse_key(key, default_port)] == want


@pytest.mark.parametrize(
    ("key", "want"),
    [
        pytest.param("foo://x", "unknown scheme 'foo'", id="unknown-scheme"),
        pytest.param("unix://x", "unknown scheme 'unix'", id="unix-scheme"),
        pytest.param(
            "example.org:", "expecting data after last colon: 'example.org:'", id="empty-port"
        ),
        pytest.param("example.org:65536", "invalid port '65536': must be 0-65535", id="big-port"),
        pytest.param("", "zone is not a valid domain name: ''", id="empty"),
        pytest.param(":53", "zone is not a valid domain name: ''", id="port-only"),
        pytest.param("dns://", "zone is not a valid domain name: ''", id="scheme-only"),
        pytest.param("a..b", "zone is not a valid domain name: 'a..b'", id="empty-label"),
        pytest.param(".a", "zone is not a valid domain name: '.a'", id="leading-dot"),
        pytest.param("..", "zone is not a valid domain name: '..'", id="double-dot"),
        pytest.param("a\\", "zone is not a valid domain name: 'a\\'", id="trailing-backslash"),
        pytest.param(
            "x" * 64 + ".org",
            f"zone is not a valid domain name: '{'x' * 64}.org'",
            id="label-too-long",
        ),
        pytest.param(
            ".".join(["x" * 63] * 4),
            f"zone is not a valid domain name: '{'.'.join(['x' * 63] * 4)}'",
            id="wire-too-long",
        ),
        pytest.param("a" * 256, "zone is too long: 256 > 255", id="too-long"),
        pytest.param("::/0", "invalid CIDR '::/0'", id="cidr-starts-with-colon"),
        pytest.param("0::/64", "invalid CIDR '0::/64'", id="cidr-zero-colon"),
        pytest.param("10.0.0.0/33", "invalid CIDR '10.0.0.0/33'", id="v4-mask-too-big"),
        pytest.param("fd00::/129", "invalid CIDR 'fd00::/129'", id="v6-mask-too-big"),
        pytest.param("10.0.0.0/", "invalid CIDR '10.0.0.0/'", id="empty-mask"),
        pytest.param("10.0.0.0/x", "invalid CIDR '10.0.0.0/x'", id="bad-mask"),
    ],
)
def test_parse_key_errors(key: str, want: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_key(key)
    assert str(info.value) == want


def test_zone_addr() -> None:
    addr = ZoneAddr("dns", "example.org.", "53")
    assert str(addr) == "dns://example.org.:53"
    assert addr == parse_key("example.org")[0]


@pytest.mark.parametrize(
    ("name", "want"),
    [
        pytest.param("Example.ORG", "example.org.", id="lower-fqdn"),
        pytest.param("example.org.", "example.org.", id="already"),
        pytest.param(".", ".", id="root"),
        pytest.param("", ".", id="empty-is-root"),
        pytest.param("a\\.", "a\\..", id="escaped-dot-is-not-final"),
        pytest.param("a\\\\.", "a\\\\.", id="escaped-backslash"),
    ],
)
def test_normalize_zone(name: str, want: str) -> None:
    assert normalize_zone(name) == want


def test_normalize_zones() -> None:
    args = ["Example.org", "dns://Foo.:53", "10.0.0.0/24", "fc00::/7", "."]
    assert normalize_zones(args) == [
        "example.org.",
        "foo.",
        "0.0.10.in-addr.arpa.",
        "c.f.ip6.arpa.",
        "d.f.ip6.arpa.",
        ".",
    ]


@pytest.mark.parametrize(
    ("args", "want"),
    [
        pytest.param(["ok.", "a..b"], "zone is not a valid domain name: 'a..b'", id="bad-zone"),
        pytest.param(["::/0"], "invalid CIDR '::/0'", id="bad-cidr"),
        pytest.param(["x://a"], "unknown scheme 'x'", id="bad-scheme"),
    ],
)
def test_normalize_zones_errors(args: list[str], want: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize_zones(args)
    assert str(info.value) == want


@pytest.mark.parametrize(
    ("cidr", "want"),
    [
        pytest.param("10.0.0.0/24", ["0.0.10.in-addr.arpa."], id="v4-24"),
        pytest.param("192.168.0.0/16", ["168.192.in-addr.arpa."], id="v4-16"),
        pytest.param("10.0.0.0/27", [z[6:-3] for z in V4_27], id="v4-27"),
        pytest.param(
            "172.16.0.0/12", [f"{i}.172.in-addr.arpa." for i in range(16, 32)], id="v4-12"
        ),
        pytest.param("::/0", ["ip6.arpa."], id="v6-0"),
        pytest.param("2001:db8::/30", [f"{i}.b.d.0.1.0.0.2.ip6.arpa." for i in "89ab"], id="v6-30"),
    ],
)
def test_reverse_zones(cidr: str, want: list[str]) -> None:
    assert reverse_zones(cidr) == want


@pytest.mark.parametrize("cidr", ["example.org", "10.0.0.0", "10.0.0.0/40"])
def test_reverse_zones_errors(cidr: str) -> None:
    with pytest.raises(ValueError) as info:
        reverse_zones(cidr)
    assert str(info.value) == f"invalid CIDR '{cidr}'"
