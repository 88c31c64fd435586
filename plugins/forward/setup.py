"""Setup of *forward*: ``forward FROM TO... { ... }``, one handler per occurrence.

Every occurrence in a server block becomes its own handler, chained in Corefile
order (CoreDNS 1.11+): a query outside the first one's FROM (or in its
``except``) goes to the second, and ``next RCODE`` / ``next_on_nodata`` hand a
query on only when the next handler is another *forward* of this block.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.duration import format_duration, parse_duration
from dnsd.log import plugin_logger
from dnsd.plugins.forward.targets import TLS, TargetError, To, parse_targets
from dnsd.plugins.forward.tlsconfig import TlsConfigError, client_context, tls_args

NAME = "forward"
#: CoreDNS's limit on upstreams per forward.
MAX_UPSTREAMS = 15
POLICIES = ("random", "round_robin", "sequential")

log = plugin_logger(NAME)

#: miekg/dns StringToRcode: the names ``next`` and ``failover`` accept.
RCODES = {
    "NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "NOTIMPL": 4,
    "REFUSED": 5, "YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10,
    "BADSIG": 16, "BADVERS": 16, "BADKEY": 17, "BADTIME": 18, "BADMODE": 19, "BADNAME": 20,
    "BADALG": 21, "BADTRUNC": 22, "BADCOOKIE": 23,
}  # fmt: skip


@dataclass(frozen=True)
class ForwardOptions:
    """One ``forward`` occurrence, with CoreDNS's defaults."""

    from_zone: str = "."
    to: tuple[To, ...] = ()
    ignored: tuple[str, ...] = ()
    force_tcp: bool = False
    prefer_udp: bool = False
    expire: float = 10.0
    #: Undocumented in CoreDNS: no connection is reused once this old (0: no limit).
    max_age: float = 0.0
    max_idle_conns: int = 0
    read_timeout: float = 2.0
    max_fails: int = 2
    #: Upstream attempts per query; None: twice the number of upstreams; 0: no cap.
    max_connect_attempts: int | None = None
    health_check: float = 0.5
    hc_recursion_desired: bool = True
    hc_domain: str = "."
    policy: str = "random"
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    tls_servername: str = ""
    max_concurrent: int = 0
    next_rcodes: tuple[int, ...] = ()
    next_on_nodata: bool = False
    failover_rcodes: tuple[int, ...] = ()
    failfast_all_unhealthy_upstreams: bool = False
    source_address: str = ""

    @property
    def attempts(self) -> int:
        """The effective cap on upstream attempts per query (0: none)."""
        if self.max_connect_attempts is None:
            return 2 * len(self.to)
        return self.max_connect_attempts


def parse(c: Controller) -> tuple[ForwardOptions, ...]:
    """Every ``forward`` occurrence of the block, in Corefile order."""
    found: list[ForwardOptions] = []
    while c.next():
        found.append(_stanza(c))
    return tuple(found)


def _stanza(c: Controller) -> ForwardOptions:
    if not c.next_arg():
        c.arg_err()
    origin = c.val()
    try:
        zones = normalize_zones([origin])
    except ValueError:
        zones = []
    if not zones:
        c.err(f"unable to normalize '{origin}'")
    if len(zones) > 1:
        log.warning(
            "Unsupported CIDR notation: '%s' expands to multiple zones. Using only '%s'.",
            origin,
            zones[0],
        )
    args = c.remaining_args()
    if not args:
        c.arg_err()
    try:
        to = parse_targets(args, c.path)
    except TargetError as exc:
        c.err(str(exc))
    if len(to) > MAX_UPSTREAMS:
        c.err(f"more than {MAX_UPSTREAMS} TOs configured: {len(to)}")
    values: dict[str, object] = {"from_zone": zones[0], "to": tuple(to)}
    while c.next_block():
        _option(c, values)
    opts = ForwardOptions(**values)  # type: ignore[arg-type]
    return opts


def _option(c: Controller, values: dict[str, object]) -> None:
    prop = c.val()
    args = c.remaining_args()
    if prop in ("force_tcp", "prefer_udp", "next_on_nodata", "failfast_all_unhealthy_upstreams"):
        if args:
            c.arg_err()
        values[prop] = True
    elif prop == "except":
        if not args:
            c.arg_err()
        try:
            values["ignored"] = (*values.get("ignored", ()), *normalize_zones(args))  # type: ignore[misc]
        except ValueError as exc:
            c.err(str(exc))
    elif prop in ("max_fails", "max_connect_attempts", "max_idle_conns", "max_concurrent"):
        values[prop] = _count(c, prop, args)
    elif prop in ("expire", "max_age", "read_timeout"):
        values[prop] = _duration(c, prop, args, positive=prop == "read_timeout")
        max_age, expire = values.get("max_age", 0.0), values.get("expire", ForwardOptions.expire)
        assert isinstance(max_age, float) and isinstance(expire, float)
        if max_age and max_age < expire:
            c.err(
                f"max_age ({format_duration(max_age)}) must not be less than "
                f"expire ({format_duration(expire)})"
            )
    elif prop == "health_check":
        _health_check(c, args, values)
    elif prop == "policy":
        if len(args) != 1:
            c.arg_err()
        if args[0] not in POLICIES:
            c.err(f"unknown policy '{args[0]}'")
        values["policy"] = args[0]
    elif prop == "tls":
        _tls(c, args, values)
    elif prop == "tls_servername":
        if len(args) != 1:
            c.arg_err()
        _servername_clash(c, args[0], values)
        values["tls_servername"] = args[0]
    elif prop in ("next", "failover"):
        if not args:
            c.arg_err()
        values[f"{prop}_rcodes"] = _rcodes(c, prop, args)
    elif prop == "source_address":
        _source_address(c, args, values)
    elif prop in ("resolver", "doh_method"):
        _ignored_option(c, prop, args)
    else:
        c.err(f"unknown property '{prop}'")  # c.val() has moved on to the last argument


def _servername_clash(c: Controller, name: str, values: dict[str, object]) -> None:
    """``tls_servername`` and a ``tls://IP%name`` upstream cannot both name the server."""
    targets = values["to"]
    assert isinstance(targets, tuple)
    for target in targets:
        if target.transport == TLS and target.server_name:
            c.err(
                f"both forward ('{name}') and proxy level ('{target.server_name}') "
                f"TLS servernames are set for upstream proxy '{target}'"
            )


def _count(c: Controller, prop: str, args: list[str]) -> int:
    if len(args) != 1:
        c.arg_err()
    text = args[0]
    if text.startswith("-") and text[1:].isdigit():
        c.err(f"{prop} can't be negative: {text}")
    if not text.isdigit():
        c.err(f"{prop} must be a whole number: '{text}'")
    return int(text)


def _duration(c: Controller, prop: str, args: list[str], *, positive: bool = False) -> float:
    if len(args) != 1:
        c.arg_err()
    try:
        value = parse_duration(args[0])
    except ValueError as exc:
        c.err(f"{prop}: {exc}")
    if value < 0:
        c.err(f"{prop} can't be negative: {args[0]}")
    if positive and value == 0:
        c.err(f"{prop} must be greater than zero: {args[0]}")
    return value


def _health_check(c: Controller, args: list[str], values: dict[str, object]) -> None:
    """``health_check DURATION [no_rec] [domain FQDN]``."""
    if not args:
        c.arg_err()
    values["health_check"] = _duration(c, "health_check", args[:1])
    values["hc_domain"] = "."
    rest = args[1:]
    while rest:
        word = rest.pop(0)
        if word == "no_rec":
            values["hc_recursion_desired"] = False
        elif word == "domain":
            if not rest:
                c.arg_err()
            domain = rest.pop(0)
            try:
                (zone,) = normalize_zones([domain])
            except ValueError:
                c.err(f"health_check: invalid domain name {domain}")
            values["hc_domain"] = zone
        else:
            c.err(f"health_check: unknown option {word}")


def _tls(c: Controller, args: list[str], values: dict[str, object]) -> None:
    if len(args) > 3:
        c.arg_err()
    cert, key, ca = (c.path(a) if a else "" for a in tls_args(args))
    try:
        client_context(cert, key, ca)
    except TlsConfigError as exc:
        c.err(str(exc))
    values.update(tls_cert=cert, tls_key=key, tls_ca=ca)


def _rcodes(c: Controller, prop: str, args: list[str]) -> tuple[int, ...]:
    codes: list[int] = []
    for text in args:
        code = RCODES.get(text.upper())
        if code is None:
            c.err(f"{text} is not a valid rcode")
        if prop == "failover" and code == 0:
            c.err("NoError cannot be used in failover")
        codes.append(code)
    return tuple(codes)


def _source_address(c: Controller, args: list[str], values: dict[str, object]) -> None:
    import ipaddress

    if len(args) != 1:
        c.arg_err()
    try:
        ipaddress.ip_address(args[0])
    except ValueError:
        c.err(f"source_address must be an IP address: '{args[0]}'")
    values["source_address"] = args[0]


def _ignored_option(c: Controller, prop: str, args: list[str]) -> None:
    """``resolver`` and ``doh_method``: checked, unused (host names and https:// are rejected)."""
    if not args:
        c.arg_err()
    if prop == "doh_method" and (len(args) != 1 or args[0].upper() not in ("GET", "POST")):
        c.err(f"doh_method must be GET or POST: '{' '.join(args)}'")


def setup(c: Controller) -> None:
    """One handler per occurrence; the last one passes on to the rest of the chain."""
    from dnsd.plugins.forward.handler import register

    register(c, parse(c))
