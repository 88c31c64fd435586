"""Handler of *hosts*: one row per query against fixed data (a file plus inline entries).

Each row: query name and type, options variant, rcode, answer records as zone-file text (read
back by dnspython from the packed reply), or that the query was passed to the next plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.flags
import dns.message
import pytest

from dnsd.fall import Fallthrough
from dnsd.plugins.hosts.handler import Hosts
from dnsd.plugins.hosts.setup import HostsOptions
from dnsd.plugins.hosts.source import HostsSource
from tests.handlers import PASSED, lines, next_plugin, request

FILE = """\
# comment line
127.0.0.1   localhost localhost.localdomain   # trailing comment
::1         localhost ip6-localhost
10.0.0.1    example.org www.example.org
10.0.0.2    Example.ORG
::FFFF:10.0.0.3 mapped.example.org
fe80::1%eth0 link.example.org
2001:db8::1 v6only.example.org
10.0.0.7    dual.example.org
2001:db8::7 dual.example.org
192.168.1.10 *.wild.example.com
192.168.1.11 a.wild.example.com
2001:db8::11 b.wild.example.com
10.0.0.300  broken.example.org
10.0.0.8    override.example.org
2001:db8::8 override.example.org
10.0.0.9    other.example.net
"""
INLINE = ("10.1.0.1 inline.example.org", "10.1.0.8 override.example.org")

ALL = Fallthrough((".",))
ZONES = ("example.org.", "example.com.", "localhost.", "localhost.localdomain.", "ip6-localhost.")
BASE = HostsOptions(zones=ZONES, inline=INLINE)
VARIANTS = {
    "default": BASE,
    "any-zone": HostsOptions(inline=INLINE),
    "ttl": HostsOptions(zones=ZONES, inline=INLINE, ttl=60),
    "no-reverse": HostsOptions(zones=ZONES, inline=INLINE, reverse=False),
    "fallthrough": HostsOptions(zones=ZONES, inline=INLINE, fallthrough=ALL),
    "fallthrough-com": HostsOptions(
        zones=ZONES, inline=INLINE, fallthrough=Fallthrough(("example.com.",))
    ),
    "unsupported": HostsOptions(
        zones=ZONES, inline=INLINE, fallthrough=ALL, fallthrough_unsupported=True
    ),
    "unsupported-com": HostsOptions(
        zones=ZONES,
        inline=INLINE,
        fallthrough=Fallthrough(("example.com.",)),
        fallthrough_unsupported=True,
    ),
}


@functools.cache
def handler(variant: str, folder: Path) -> Hosts:
    opts = VARIANTS[variant]
    path = folder / "hosts"
    path.write_text(FILE)
    source = HostsSource(str(path), opts.zones, opts.inline, reverse=opts.reverse)
    assert source.check()
    return Hosts(opts, source)


@dataclass(frozen=True)
class Case:
    id: str
    qname: str
    qtype: str
    rcode: str = "NOERROR"
    answer: Sequence[str] = ()
    opts: str = "default"
    qclass: str = "IN"
    #: The query went to the next plugin.
    passed: bool = False


WWW = "www.example.org."
CASES = [
    # -- forward records
    Case("A", WWW, "A", answer=[f"{WWW} 3600 IN A 10.0.0.1"]),
    Case(
        "A-two-lines-same-name",
        "example.org.",
        "A",
        answer=["example.org. 3600 IN A 10.0.0.1", "example.org. 3600 IN A 10.0.0.2"],
    ),
    Case("case-kept", "WWW.Example.Org.", "A", answer=["WWW.Example.Org. 3600 IN A 10.0.0.1"]),
    Case(
        "AAAA",
        "v6only.example.org.",
        "AAAA",
        answer=["v6only.example.org. 3600 IN AAAA 2001:db8::1"],
    ),
    Case("v6-only-A-is-nodata", "v6only.example.org.", "A"),
    Case("v4-only-AAAA-is-nodata", WWW, "AAAA"),
    Case("dual-A", "dual.example.org.", "A", answer=["dual.example.org. 3600 IN A 10.0.0.7"]),
    Case(
        "dual-AAAA",
        "dual.example.org.",
        "AAAA",
        answer=["dual.example.org. 3600 IN AAAA 2001:db8::7"],
    ),
    Case(
        "ipv4-mapped-A",
        "mapped.example.org.",
        "A",
        answer=["mapped.example.org. 3600 IN A 10.0.0.3"],
    ),
    Case("ipv4-mapped-no-AAAA", "mapped.example.org.", "AAAA"),
    Case(
        "zone-scoped-AAAA",
        "link.example.org.",
        "AAAA",
        answer=["link.example.org. 3600 IN AAAA fe80::1"],
    ),
    Case("localhost-A", "localhost.", "A", answer=["localhost. 3600 IN A 127.0.0.1"]),
    Case("localhost-AAAA", "localhost.", "AAAA", answer=["localhost. 3600 IN AAAA ::1"]),
    Case("ttl-option", WWW, "A", opts="ttl", answer=[f"{WWW} 60 IN A 10.0.0.1"]),
    Case("bad-line-skipped", "broken.example.org.", "A", rcode="SERVFAIL"),
    # -- inline entries
    Case("inline", "inline.example.org.", "A", answer=["inline.example.org. 3600 IN A 10.1.0.1"]),
    Case(
        "inline-wins",
        "override.example.org.",
        "A",
        answer=["override.example.org. 3600 IN A 10.1.0.8"],
    ),
    Case("inline-wins-whole-name", "override.example.org.", "AAAA"),
    # -- other types for a name that exists
    Case("MX-nodata", WWW, "MX"),
    Case("TXT-nodata-with-fallthrough", WWW, "TXT", opts="fallthrough"),
    Case("TXT-unsupported-passed", WWW, "TXT", opts="unsupported", passed=True),
    Case("HTTPS-unsupported-passed", WWW, "HTTPS", opts="unsupported", passed=True),
    Case("unsupported-out-of-fallthrough-zone", WWW, "TXT", opts="unsupported-com"),
    Case(
        "unsupported-in-fallthrough-zone",
        "a.wild.example.com.",
        "TXT",
        opts="unsupported-com",
        passed=True,
    ),
    Case("unsupported-keeps-A", WWW, "A", opts="unsupported", answer=[f"{WWW} 3600 IN A 10.0.0.1"]),
    Case("unsupported-keeps-nodata-for-AAAA", WWW, "AAAA", opts="unsupported"),
    # -- names without an entry
    Case("unknown-servfail", "nope.example.org.", "A", rcode="SERVFAIL"),
    Case("unknown-MX-servfail", "nope.example.org.", "MX", rcode="SERVFAIL"),
    Case("unknown-fallthrough", "nope.example.org.", "A", opts="fallthrough", passed=True),
    Case(
        "unknown-fallthrough-other-zone",
        "nope.example.org.",
        "A",
        opts="fallthrough-com",
        rcode="SERVFAIL",
    ),
    Case("unknown-fallthrough-zone", "nope.example.com.", "A", opts="fallthrough-com", passed=True),
    Case("outside-zones-passed", "other.example.net.", "A", passed=True),
    Case(
        "any-zone-loads-every-name",
        "other.example.net.",
        "A",
        opts="any-zone",
        answer=["other.example.net. 3600 IN A 10.0.0.9"],
    ),
    Case(
        "any-zone-PTR",
        "9.0.0.10.in-addr.arpa.",
        "PTR",
        opts="any-zone",
        answer=["9.0.0.10.in-addr.arpa. 3600 IN PTR other.example.net."],
    ),
    Case(
        "any-zone",
        "localhost.localdomain.",
        "A",
        opts="any-zone",
        answer=["localhost.localdomain. 3600 IN A 127.0.0.1"],
    ),
    Case("class-CH-passed", WWW, "A", qclass="CH", passed=True),
    # -- wildcards
    Case(
        "wildcard",
        "apps.wild.example.com.",
        "A",
        answer=["apps.wild.example.com. 3600 IN A 192.168.1.10"],
    ),
    Case(
        "wildcard-case-kept",
        "Apps.Wild.Example.com.",
        "A",
        answer=["Apps.Wild.Example.com. 3600 IN A 192.168.1.10"],
    ),
    Case("wildcard-AAAA-nodata", "apps.wild.example.com.", "AAAA"),
    Case("wildcard-MX-nodata", "apps.wild.example.com.", "MX"),
    Case(
        "exact-beats-wildcard",
        "a.wild.example.com.",
        "A",
        answer=["a.wild.example.com. 3600 IN A 192.168.1.11"],
    ),
    Case("exact-other-family-beats-wildcard", "b.wild.example.com.", "A"),
    Case("wildcard-apex-excluded", "wild.example.com.", "A", rcode="SERVFAIL"),
    Case("wildcard-one-label-only", "deep.apps.wild.example.com.", "A", rcode="SERVFAIL"),
    # -- reverse
    Case(
        "PTR-v4",
        "1.0.0.10.in-addr.arpa.",
        "PTR",
        answer=[
            "1.0.0.10.in-addr.arpa. 3600 IN PTR example.org.",
            "1.0.0.10.in-addr.arpa. 3600 IN PTR www.example.org.",
        ],
    ),
    Case(
        "PTR-lowercased-name",
        "2.0.0.10.in-addr.arpa.",
        "PTR",
        answer=["2.0.0.10.in-addr.arpa. 3600 IN PTR example.org."],
    ),
    Case(
        "PTR-localhost",
        "1.0.0.127.in-addr.arpa.",
        "PTR",
        answer=[
            "1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.",
            "1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.localdomain.",
        ],
    ),
    Case(
        "PTR-v6",
        "1" + ".0" * 23 + ".8.b.d.0.1.0.0.2.ip6.arpa.",
        "PTR",
        answer=[
            "1" + ".0" * 23 + ".8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN PTR v6only.example.org.",
        ],
    ),
    Case(
        "PTR-mapped-is-v4",
        "3.0.0.10.in-addr.arpa.",
        "PTR",
        answer=["3.0.0.10.in-addr.arpa. 3600 IN PTR mapped.example.org."],
    ),
    Case(
        "PTR-case-insensitive",
        "1.0.0.10.IN-ADDR.ARPA.",
        "PTR",
        answer=[
            "1.0.0.10.IN-ADDR.ARPA. 3600 IN PTR example.org.",
            "1.0.0.10.IN-ADDR.ARPA. 3600 IN PTR www.example.org.",
        ],
    ),
    Case(
        "PTR-inline",
        "1.0.1.10.in-addr.arpa.",
        "PTR",
        answer=["1.0.1.10.in-addr.arpa. 3600 IN PTR inline.example.org."],
    ),
    Case("PTR-overridden-file-line-gone", "8.0.0.10.in-addr.arpa.", "PTR", passed=True),
    Case(
        "PTR-ttl",
        "1.0.0.10.in-addr.arpa.",
        "PTR",
        opts="ttl",
        answer=[
            "1.0.0.10.in-addr.arpa. 60 IN PTR example.org.",
            "1.0.0.10.in-addr.arpa. 60 IN PTR www.example.org.",
        ],
    ),
    Case("PTR-not-for-wildcards", "10.1.168.192.in-addr.arpa.", "PTR", passed=True),
    Case("PTR-outside-zones-name-not-loaded", "9.0.0.10.in-addr.arpa.", "PTR", passed=True),
    Case("PTR-unknown-passed-without-fallthrough", "99.0.0.10.in-addr.arpa.", "PTR", passed=True),
    Case("PTR-no-reverse-passed", "1.0.0.10.in-addr.arpa.", "PTR", opts="no-reverse", passed=True),
    Case("PTR-for-a-forward-name-passed", WWW, "PTR", passed=True),
    Case("A-for-a-reverse-name-passed", "1.0.0.10.in-addr.arpa.", "A", passed=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_handler(case: Case, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.getbasetemp() / "hosts-handler"
    folder.mkdir(exist_ok=True)
    h = handler(case.opts, folder)
    reply = await h.serve(request(case.qname, case.qtype, case.qclass), next_plugin)
    assert reply is not None
    msg = dns.message.from_wire(bytes(reply.msg.pack()))
    if case.passed:
        assert lines(msg.answer) == [f"{case.qname} 0 IN A {PASSED}"]
        return
    assert dns.rcode.to_text(msg.rcode()) == case.rcode
    assert lines(msg.answer) == sorted(case.answer)
    assert msg.authority == [] and msg.additional == []  # no SOA: hosts has none
    assert bool(msg.flags & dns.flags.AA) == (case.rcode == "NOERROR")


def test_zones_for_the_cache() -> None:
    source = HostsSource("/no/such/hosts", ZONES)
    assert Hosts(BASE, source).zones == (*ZONES, "in-addr.arpa.", "ip6.arpa.")
    no_reverse = HostsOptions(zones=ZONES, reverse=False)
    assert Hosts(no_reverse, source).zones == ZONES
    assert Hosts(HostsOptions(), source).zones == (".",)


def test_on_data_changed_follows_the_source(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example.org\n")
    source = HostsSource(str(path), ZONES)
    h = Hosts(BASE, source)
    calls: list[int] = []
    stop = h.on_data_changed(lambda: calls.append(1))
    source.check()
    assert calls == [1]
    stop()
    path.write_text("10.0.0.2 a.example.org\n")
    source.check()
    source.check()
    assert calls == [1]
