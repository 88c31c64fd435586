"""Server keys and zone names: ``[SCHEME://]ZONE[:PORT]``, CIDRs as reverse zones.

Follows CoreDNS (``core/dnsserver/register.go``, ``plugin/normalize.go``
``SplitHostPort``, ``plugin/pkg/cidr``):

* a port is what follows the *last* colon when it is all digits, so ``fd00::/8`` has
  no port and ``fd00::/8:1053`` has port 1053; without one the scheme's default is used
  (53, or ``default_port`` for ``dns``; 853 for tls/quic; 443 for grpc/https/https3);
* the zone must be a valid domain name (labels of 1..63 octets, at most 255 octets);
* a zone that parses as ``IP/MASK`` is replaced by its reverse zones: the mask is
  rounded up to a multiple of 8 (IPv4) or 4 (IPv6) and every subnet of that size is
  listed, so ``10.0.0.0/27`` gives 32 zones ``0.0.0.10.in-addr.arpa.`` ...
  ``31.0.0.10.in-addr.arpa.``; a CIDR starting with ``:`` or ``0`` and holding a ``:``
  is rejected, as CoreDNS does.

Stricter than CoreDNS: an unknown scheme (CoreDNS reads ``foo://x`` as the zone
``foo://x.``), a port above 65535, and ``IP/junk`` (CoreDNS makes it a zone named
``10.0.0.0/33.``) are errors.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_PORTS", "ZoneAddr", "normalize_zone", "normalize_zones", "parse_key"]
__all__ += ["reverse_zones", "split_host_port", "split_scheme"]

DEFAULT_PORTS = {
    "dns": "53",
    "tls": "853",
    "quic": "853",
    "grpc": "443",
    "https": "443",
    "https3": "443",
}

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class ZoneAddr:
    """One zone a server block serves, on one transport and port."""

    transport: str
    zone: str
    port: str

    def __str__(self) -> str:
        return f"{self.transport}://{self.zone}:{self.port}"


def parse_key(key: str, default_port: str = "53") -> list[ZoneAddr]:
    """The zone addresses of server key ``key`` (several for a non-octet CIDR).

    ``default_port`` is the port of ``dns`` keys without one (``-dns.port``).
    Raises ValueError with a message fit for a Corefile error.
    """
    transport, rest = split_scheme(key)
    zones, port = split_host_port(rest)
    if port is None:
        port = default_port if transport == "dns" else DEFAULT_PORTS[transport]
    return [ZoneAddr(transport, zone, port) for zone in zones]


def split_scheme(key: str) -> tuple[str, str]:
    """(transport, rest) of ``key``; ``dns`` when it has no ``scheme://``."""
    scheme, sep, rest = key.partition("://")
    if not sep:
        return "dns", key
    if scheme.lower() not in DEFAULT_PORTS:
        raise ValueError(f"unknown scheme '{scheme}'")
    return scheme.lower(), rest


def split_host_port(text: str) -> tuple[list[str], str | None]:
    """Normalised zones and port (None if absent) of ``ZONE[:PORT]`` (no scheme)."""
    host, port = text, None
    colon = text.rfind(":")
    if colon == len(text) - 1 and text:
        raise ValueError(f"expecting data after last colon: '{text}'")
    if colon != -1 and set(text[colon + 1 :]) <= _DIGITS:
        number = int(text[colon + 1 :])
        if number > 65535:
            raise ValueError(f"invalid port '{text[colon + 1 :]}': must be 0-65535")
        host, port = text[:colon], str(number)
    if len(host) > 255:
        raise ValueError(f"zone is too long: {len(host)} > 255")
    if not _is_domain_name(host):
        raise ValueError(f"zone is not a valid domain name: '{host}'")
    network = _parse_cidr(host)
    if network is None:
        return [normalize_zone(host)], port
    if host[0] == ":" or (host[0] == "0" and ":" in host):
        raise ValueError(f"invalid CIDR '{host}'")
    return _reverse(network), port


def normalize_zone(name: str) -> str:
    """``name`` lowercased and fully qualified (``""`` is the root ``.``)."""
    name = name.lower()
    return name if _is_fqdn(name) else name + "."


def normalize_zones(args: Sequence[str]) -> list[str]:
    """Zones of plugin arguments, like CoreDNS ``plugin.Host(arg).NormalizeExact()``.

    Each argument may carry a scheme and a port (both dropped) and may be a CIDR
    (replaced by its reverse zones). Raises ValueError on a bad argument.
    """
    zones: list[str] = []
    for arg in args:
        _, rest = split_scheme(arg)
        zones.extend(split_host_port(rest)[0])
    return zones


def reverse_zones(cidr: str) -> list[str]:
    """The reverse zones covering ``cidr`` (``10.0.0.0/24`` -> ``0.0.10.in-addr.arpa.``)."""
    network = _parse_cidr(cidr)
    if network is None:
        raise ValueError(f"invalid CIDR '{cidr}'")
    return _reverse(network)


def _parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network of ``IP/BITS``; None if ``text`` is not ``IP/...``; ValueError if
    the part before ``/`` is an IP address but the whole is not a CIDR."""
    addr, sep, bits = text.partition("/")
    if not sep or "%" in addr:
        return None
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if not bits or len(bits) > 3 or not set(bits) <= _DIGITS or int(bits) > ip.max_prefixlen:
        raise ValueError(f"invalid CIDR '{text}'")
    return ipaddress.ip_network(f"{ip}/{int(bits)}", strict=False)


def _reverse(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """Reverse zones of ``network``, split on label boundaries (8 bits v4, 4 bits v6)."""
    step = 8 if network.version == 4 else 4
    prefix = -(-network.prefixlen // step) * step
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [network]
    if prefix != network.prefixlen:
        subnets = list(network.subnets(new_prefix=prefix))
    drop = (network.max_prefixlen - prefix) // step
    zones: list[str] = []
    for subnet in subnets:
        labels = subnet.network_address.reverse_pointer.split(".")
        zones.append(".".join(labels[drop:]) + ".")
    return zones


def _is_fqdn(name: str) -> bool:
    """True when ``name`` ends with a dot that is not escaped."""
    if not name.endswith("."):
        return False
    body = name[:-1]
    slashes = len(body) - len(body.rstrip("\\"))
    return slashes % 2 == 0


def _is_domain_name(name: str) -> bool:
    """miekg/dns ``IsDomainName``: labels of 1..63 octets (``\\.`` and ``\\DDD``
    escapes count as one), 255 octets in wire form; ``.`` is the root."""
    if name == ".":
        return True
    if not name:
        return False
    labels: list[int] = [0]
    i, n = 0, len(name)
    while i < n:
        ch = name[i]
        if ch == "\\":
            if i + 1 >= n:
                return False
            escape = name[i + 1 : i + 4]
            i += 4 if len(escape) == 3 and set(escape) <= _DIGITS else 2
            labels[-1] += 1
            continue
        if ch == ".":
            if labels[-1] == 0:
                return False
            labels.append(0)
        else:
            labels[-1] += len(ch.encode())
        i += 1
    if labels[-1] == 0:
        labels.pop()  # trailing dot: root label
    if any(size == 0 or size > 63 for size in labels):
        return False
    return sum(size + 1 for size in labels) + 1 <= 255


def split_addr(addr: str) -> tuple[str | None, int]:
    """``:8080`` -> (None, 8080); ``localhost:9153``; ``[::1]:8080``. ValueError when bad."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid address '{addr}': want HOST:PORT or :PORT")
    host = host.strip("[]")
    return (host or None), int(port)
