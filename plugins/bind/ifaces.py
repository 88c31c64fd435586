"""The host's network interfaces and their addresses, read without netlink and without root.

- interface names: :func:`socket.if_nameindex` (every interface, up or down);
- IPv4 addresses: the ``SIOCGIFCONF`` ioctl, which lists every IPv4 address with
  its label (``eth0``, or ``eth0:1`` for a labelled alias; the part before ``:``
  is the device, Linux forbids ``:`` in device names);
- IPv6 addresses: ``/proc/net/if_inet6``.

Link-local IPv6 addresses get the interface as scope (``fe80::1%eth0``), as
CoreDNS's *bind* does since it learned to listen on them: without the scope
such an address cannot be bound. Outside Linux the table may be incomplete
(no ``SIOCGIFCONF`` layout or ``/proc``): interfaces are still known by name.
"""

from __future__ import annotations

import array
import fcntl
import ipaddress
import socket
import struct
import sys

SIOCGIFCONF = 0x8912
IF_INET6 = "/proc/net/if_inet6"
_IFNAMSIZ = 16


def interfaces() -> dict[str, list[str]]:
    """Every interface name mapped to its addresses: IPv4 first, then IPv6, kernel order."""
    table: dict[str, list[str]] = {name: [] for _, name in _names()}
    for name, ip in [*ipv4_addresses(), *ipv6_addresses()]:
        addrs = table.setdefault(name, [])
        if ip not in addrs:
            addrs.append(ip)
    return table


def _names() -> list[tuple[int, str]]:
    try:
        return socket.if_nameindex()
    except OSError:
        return []


def ipv4_addresses() -> list[tuple[str, str]]:
    """``(device, address)`` for every IPv4 address (SIOCGIFCONF; Linux layout)."""
    if not sys.platform.startswith("linux"):
        return []
    # struct ifreq: IFNAMSIZ name + a union whose largest member is a 24-byte ifmap on LP64.
    size = 40 if struct.calcsize("P") == 8 else 32
    count = 64
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while True:
                buf = array.array("B", bytes(count * size))
                pointer, _ = buf.buffer_info()
                request = struct.pack("iP", count * size, pointer)
                answer = fcntl.ioctl(sock.fileno(), SIOCGIFCONF, request)
                length = int(struct.unpack("iP", answer)[0])
                if length < count * size or count >= 65536:
                    break
                count *= 2  # the buffer may have been filled: ask again with more room
    except OSError:
        return []
    return parse_ifconf(buf.tobytes()[:length], size)


def parse_ifconf(data: bytes, size: int) -> list[tuple[str, str]]:
    """Decode an array of ``struct ifreq`` holding ``sockaddr_in`` (SIOCGIFCONF's answer)."""
    out: list[tuple[str, str]] = []
    for off in range(0, len(data) - size + 1, size):
        label = data[off : off + _IFNAMSIZ].split(b"\0", 1)[0].decode("utf-8", "replace")
        family = int.from_bytes(data[off + 16 : off + 18], sys.byteorder)
        if family != socket.AF_INET:
            continue
        ip = socket.inet_ntoa(data[off + 20 : off + 24])
        out.append((label.split(":", 1)[0], ip))
    return out


def ipv6_addresses(path: str = IF_INET6) -> list[tuple[str, str]]:
    """``(device, address)`` for every IPv6 address; link-local ones carry ``%device``."""
    try:
        with open(path, encoding="ascii") as f:
            text = f.read()
    except OSError:
        return []
    return parse_if_inet6(text)


def parse_if_inet6(text: str) -> list[tuple[str, str]]:
    """Decode ``/proc/net/if_inet6``: ``ADDRHEX IFINDEX PREFIXLEN SCOPE FLAGS NAME`` per line."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or len(fields[0]) != 32:
            continue
        try:
            addr = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
        except ValueError:
            continue
        name = fields[5]
        text_addr = f"{addr}%{name}" if addr.is_link_local else str(addr)
        out.append((name, text_addr))
    return out
