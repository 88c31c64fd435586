"""The **TO** arguments of *forward*: addresses, ``dns://``, ``tls://IP[%name][:port]``, files.

CoreDNS's ``parse.HostPortOrFile`` plus ``splitZone``: an argument that is not an IP
address (with an optional port) is tried as a resolv.conf-style file, whose
``nameserver`` lines become upstreams on port 53. Host names are not resolved by
dnsd (CoreDNS 1.12+ resolves them once at start-up); they are an error.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

DNS, TLS = "dns", "tls"
DEFAULT_PORTS = {DNS: 53, TLS: 853}
#: Schemes CoreDNS knows; forward accepts only dns:// and tls:// (https:// is not in dnsd).
OTHER_SCHEMES = ("https3", "https", "grpc", "quic", "unix")


class TargetError(ValueError):
    """A TO argument that is neither an address nor a readable resolv.conf."""


@dataclass(frozen=True)
class To:
    """One upstream: transport, IP address, port and (tls://) a server name of its own."""

    transport: str
    host: str
    port: int
    server_name: str = ""

    @property
    def addr(self) -> str:
        """``IP:port`` (``[v6]:port``): CoreDNS's ``to`` metric label and log form."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return self.addr if self.transport == DNS else f"{self.transport}://{self.addr}"


def parse_targets(args: list[str], path: Callable[[str], str]) -> list[To]:
    """Every upstream named by ``args``; ``path`` maps a file name to where it is read."""
    found: list[To] = []
    for arg in args:
        found.extend(_target(arg, path))
    if not found:
        raise TargetError("no nameservers found")
    return found


def _target(arg: str, path: Callable[[str], str]) -> list[To]:
    transport, rest = DNS, arg
    for scheme in (DNS, TLS):
        if arg.startswith(scheme + "://"):
            transport, rest = scheme, arg[len(scheme) + 3 :]
            break
    else:
        for scheme in OTHER_SCHEMES:
            if arg.startswith(scheme + "://"):
                raise TargetError(
                    f"'{scheme}' is not supported as a destination protocol in forward: {arg}"
                )
    target = rest  # the argument without its scheme: an address, or a file name
    host, port, server_name = _split(rest)
    if host is not None and _is_ip(host):
        if port is None:
            port = DEFAULT_PORTS[transport]
        if not 0 < port < 65536:
            raise TargetError(f"invalid port in {arg!r}")
        if transport == DNS:
            server_name = ""  # CoreDNS drops a %zone on plain DNS upstreams
        return [To(transport, host, port, server_name)]
    servers = read_resolv_conf(path(target)) if transport == DNS else None
    if servers is None:
        hint = "; dnsd does not resolve host names" if _looks_like_host(host) else ""
        raise TargetError(f'not an IP address or file: "{arg}"{hint}')
    return [To(DNS, ip, 53) for ip in servers]


def _split(rest: str) -> tuple[str | None, int | None, str]:
    """(host, port, server name) of ``IP[%name][:port]`` / ``[v6][%name][:port]``.

    The host is None when the text cannot be an address (a path, say).
    """
    name = ""
    if "%" in rest:
        rest, _, zone = rest.rpartition("%")
        if ":" in zone:  # the port follows the server name: IP%name:853
            zone, _, port_text = zone.rpartition(":")
            rest = f"{rest}:{port_text}"
        name = zone
    if rest.startswith("["):
        host, sep, after = rest[1:].partition("]")
        if not sep:
            return None, None, name
        if not after:
            return host, None, name
        if not after.startswith(":"):
            return None, None, name
        return host, _port(after[1:]), name
    if rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
        return host, _port(port_text), name
    return rest, None, name


def _port(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _looks_like_host(host: str | None) -> bool:
    return bool(host) and "/" not in (host or "") and any(ch.isalpha() for ch in host or "")


def read_resolv_conf(filename: str) -> list[str] | None:
    """The ``nameserver`` addresses of a resolv.conf-style file; None when it cannot be read."""
    try:
        with open(filename, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (OSError, ValueError):
        return None
    servers: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] != "nameserver":
            continue
        ip = fields[1]
        if _is_ip(ip.partition("%")[0]):
            servers.append(ip)
    return servers
