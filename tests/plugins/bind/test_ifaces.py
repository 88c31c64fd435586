"""Decoding of SIOCGIFCONF answers and /proc/net/if_inet6, and the live table."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from dnsd.plugins.bind import ifaces

IF_INET6 = """\
fe8000000000000000fc00fffe000001 04 40 20 80     eth0
fd000000000000000000000000000002 04 40 00 82     eth0
00000000000000000000000000000001 01 80 10 80       lo
garbage line
"""


def ifreq(label: str, ip: str, family: int = socket.AF_INET, size: int = 40) -> bytes:
    name = label.encode().ljust(16, b"\0")
    sockaddr = family.to_bytes(2, sys.byteorder) + b"\0\0" + socket.inet_aton(ip)
    return (name + sockaddr).ljust(size, b"\0")


def test_parse_if_inet6_scopes_link_local() -> None:
    assert ifaces.parse_if_inet6(IF_INET6) == [
        ("eth0", "fe80::fc:ff:fe00:1%eth0"),
        ("eth0", "fd00::2"),
        ("lo", "::1"),
    ]


@pytest.mark.parametrize("size", [40, 32], ids=["lp64", "ilp32"])
def test_parse_ifconf_maps_alias_labels_to_devices(size: int) -> None:
    data = (
        ifreq("lo", "127.0.0.1", size=size)
        + ifreq("eth0", "192.0.2.2", size=size)
        + ifreq("eth0:1", "192.0.2.3", size=size)
        + ifreq("x", "10.0.0.1", family=socket.AF_INET6, size=size)
    )
    assert ifaces.parse_ifconf(data, size) == [
        ("lo", "127.0.0.1"),
        ("eth0", "192.0.2.2"),
        ("eth0", "192.0.2.3"),
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux interfaces")
def test_live_table_has_loopback() -> None:
    table = ifaces.interfaces()
    assert "lo" in table
    assert "127.0.0.1" in table["lo"]


def test_missing_proc_file_means_no_ipv6(tmp_path: Path) -> None:
    assert ifaces.ipv6_addresses(str(tmp_path) + "/missing") == []
