"""Property tests of zone files and hosts files: any text gives a zone (or entries) or a clear
error; hosts entries written out read back the same."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dnsd.plugins.hosts.hostsfile import Entry, parse
from tests.fuzz import seeds, targets

ZONE_LINES = seeds.seeds("zonefile")[0].decode().splitlines()
TOKENS = st.sampled_from(
    [
        "@",
        "IN",
        "CH",
        "A",
        "AAAA",
        "CNAME",
        "NS",
        "MX",
        "TXT",
        "SRV",
        "SOA",
        "DNAME",
        "PTR",
        "NSEC3",
        "TYPE65534",
        "\\# 2 abcd",
        "3600",
        "-1",
        "4294967296",
        "(",
        ")",
        ";",
        '"x"',
        "$ORIGIN",
        "$TTL",
        "$INCLUDE",
        "$GENERATE",
        "1-3",
        "10.0.0.1",
        "::1",
        "a.b.",
        "x",
        "*",
        "example.org.",
        "other.",
        "\\065",
        "\\.",
        "1.2.3",
        "ns1 admin 1 2 3 4 5",
    ]
)


@given(st.lists(st.sampled_from(ZONE_LINES) | st.lists(TOKENS, max_size=8).map(" ".join)))
def test_zone_lines_in_any_order(lines: list[str]) -> None:
    targets.zonefile("\n".join([ZONE_LINES[2], *lines]).encode())


@given(st.binary(max_size=300))
def test_zone_any_bytes(data: bytes) -> None:
    targets.zonefile(data)


@given(st.text(max_size=300))
def test_hosts_any_text(text: str) -> None:
    targets.hosts(text.encode("utf-8", "surrogatepass"))


NAME = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20),
    min_size=1,
    max_size=4,
).map(".".join)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).filter(lambda ip: ip.ipv4_mapped is None).map(str)


@given(st.lists(st.tuples(IPV4 | IPV6, st.lists(NAME, min_size=1, max_size=3)), max_size=10))
def test_hosts_round_trip(lines: list[tuple[str, list[str]]]) -> None:
    text = "\n".join(f"{ip}\t{' '.join(names)}  # c" for ip, names in lines)
    entries, problems = parse(text, ["."], "hosts")
    assert problems == []
    want = [Entry(name + ".", ip, 6 if ":" in ip else 4) for ip, names in lines for name in names]
    assert entries == want
