"""Setup of *kubernetes*: ``kubernetes [ZONES...] { ... }``, CoreDNS's options plus ``objects``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.duration import parse_duration
from dnsd.fall import Fallthrough

NAME = "kubernetes"

PODS_MODES = ("disabled", "insecure", "verified")


@dataclass(frozen=True)
class KubernetesOptions:
    """Every option with CoreDNS's default."""

    zones: tuple[str, ...] = ()
    endpoint: str = ""
    tls: tuple[str, str, str] | None = None
    kubeconfig: str = ""
    context: str = ""
    namespaces: frozenset[str] = frozenset()
    namespace_labels: str = ""
    labels: str = ""
    pods: str = "disabled"
    endpoint_pod_names: bool = False
    ttl: int = 5
    noendpoints: bool = False
    fallthrough: Fallthrough = Fallthrough()
    ignore_empty_service: bool = False
    startup_timeout: float = 5.0
    apiserver_qps: float = 0.0
    apiserver_burst: int = 0
    apiserver_max_inflight: int = 0
    #: dnsd: read objects from YAML/JSON files or folders instead of an API server.
    objects: tuple[str, ...] = ()

    @property
    def primary_zone(self) -> str:
        """The first non-reverse zone: PTR targets and SOA names live there."""
        return next(z for z in self.zones if not _reverse(z))


def _reverse(zone: str) -> bool:
    return zone.endswith(("in-addr.arpa.", "ip6.arpa."))


def parse(c: Controller) -> KubernetesOptions:
    """Read the block's single ``kubernetes`` directive."""
    opts = KubernetesOptions()
    while c.next_once():
        args = c.remaining_args()
        try:
            zones = tuple(normalize_zones(args)) if args else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        if not any(not _reverse(z) for z in zones):
            c.err("non-reverse zone name must be used")
        values: dict[str, object] = {"zones": zones}
        while c.next_block():
            _option(c, values)
        if values.get("namespaces") and values.get("namespace_labels"):
            c.err("namespaces and namespace_labels cannot both be set")
        if values.get("tls") and not values.get("endpoint"):
            c.err("tls needs an endpoint")
        opts = KubernetesOptions(**values)  # type: ignore[arg-type]
    return opts


def _option(c: Controller, values: dict[str, object]) -> None:
    prop = c.val()
    args = c.remaining_args()
    if prop in ("endpoint_pod_names", "noendpoints"):
        if args:
            c.arg_err()
        values[prop] = True
    elif prop == "pods":
        if len(args) != 1:
            c.arg_err()
        if args[0] not in PODS_MODES:
            c.err(f"wrong value for pods: {args[0]}, must be one of: disabled, verified, insecure")
        values["pods"] = args[0]
    elif prop == "namespaces":
        if not args:
            c.arg_err()
        values["namespaces"] = frozenset(args)
    elif prop == "endpoint":
        if len(args) != 1:
            c.err("endpoint takes one URL (multiple endpoints are not supported)")
        if not args[0].startswith(("http://", "https://")):
            c.err(f"endpoint must be an http:// or https:// URL: '{args[0]}'")
        values["endpoint"] = args[0]
    elif prop == "tls":
        if len(args) != 3:
            c.arg_err()
        values["tls"] = (c.path(args[0]), c.path(args[1]), c.path(args[2]))
    elif prop in ("labels", "namespace_labels"):
        if not args:
            c.arg_err()
        selector = " ".join(args)
        problem = _selector_error(selector)
        if problem:
            what = "label" if prop == "labels" else "namespace_label"
            c.err(f"unable to parse {what} selector value: '{selector}': {problem}")
        values[prop] = selector
    elif prop == "fallthrough":
        try:
            values["fallthrough"] = Fallthrough.from_args(args)
        except ValueError as exc:
            c.err(str(exc))
    elif prop == "ttl":
        if len(args) != 1:
            c.arg_err()
        if not args[0].lstrip("-").isdigit():
            c.err(f"ttl must be an integer: '{args[0]}'")
        ttl = int(args[0])
        if not 0 <= ttl <= 3600:
            c.err(f"ttl must be in range [0, 3600]: {ttl}")
        values["ttl"] = ttl
    elif prop == "ignore":
        if args != ["empty_service"]:
            c.err(f"unable to parse ignore value: '{' '.join(args)}'")
        values["ignore_empty_service"] = True
    elif prop == "kubeconfig":
        if len(args) not in (1, 2):
            c.arg_err()
        values["kubeconfig"] = c.path(args[0])
        values["context"] = args[1] if len(args) == 2 else ""
    elif prop == "startup_timeout":
        if len(args) != 1:
            c.arg_err()
        try:
            values["startup_timeout"] = parse_duration(args[0])
        except ValueError as exc:
            c.err(str(exc))
    elif prop in ("apiserver_qps", "apiserver_burst", "apiserver_max_inflight"):
        if len(args) != 1:
            c.arg_err()
        values[prop] = _number(c, prop, args[0], integer=prop != "apiserver_qps")
    elif prop == "objects":
        if not args:
            c.arg_err()
        paths = tuple(c.path(a) for a in args)
        for path in paths:
            if not os.path.exists(path):
                c.err(f"objects path does not exist: {path}")
        values["objects"] = paths
    elif prop == "multicluster":
        c.err("multicluster (the MCS API) is not supported by dnsd")
    elif prop in ("resyncperiod", "upstream", "transfer"):
        c.err(f"'{prop}' was removed from CoreDNS's kubernetes plugin and dnsd does not take it")
    else:
        c.err(f"unknown property '{prop}'")  # c.val() has moved on to the last argument


def _number(c: Controller, prop: str, text: str, *, integer: bool) -> float | int:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        c.err(f"{prop} must be a {'whole ' if integer else ''}number: '{text}'")
    if value < 0:
        c.err(f"{prop} must not be negative: {text}")
    return value


def _selector_error(selector: str) -> str:
    """Why ``selector`` is not a valid label selector, or ''."""
    from dnsd.plugins.kubernetes.selector import parse_selector

    try:
        parse_selector(selector)
    except ValueError as exc:
        return str(exc)
    return ""


def setup(c: Controller) -> None:
    """Parse, then register the handler and the informers' start and stop hooks."""
    from dnsd.plugins.kubernetes.handler import register

    register(c, parse(c))
