"""Setup of *loadbalance*.

::

    loadbalance [round_robin | weighted WEIGHTFILE] {
        reload DURATION
        prefer CIDR...
    }

``reload`` belongs to ``weighted``; ``prefer`` works with either policy (in
CoreDNS a ``weighted`` block takes only ``reload``). The weight file is read
here, so a missing or bad file is a positioned config error, not a surprise
at start-up. The directive may appear once per server block.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.loadbalance import weights as weightfile
from dnsd.plugins.loadbalance.handler import Loadbalance
from dnsd.plugins.loadbalance.policy import Subnet

NAME = "loadbalance"
ROUND_ROBIN = "round_robin"
WEIGHTED = "weighted"


@dataclass(frozen=True)
class LoadbalanceOptions:
    """What the block asked for."""

    policy: str = ROUND_ROBIN
    #: The weight file (``weighted``), absolute: a relative name is joined to *root*.
    weight_file: str = ""
    #: Seconds between weight file reads; 0 never reads it again.
    reload: float = 30.0
    #: Preferred subnets, normalised (``10.0.0.0/8``), in the order given.
    prefer: tuple[str, ...] = ()


def parse(c: Controller) -> LoadbalanceOptions:
    """Read the directive; the weight file must exist and parse."""
    opts = LoadbalanceOptions()
    while c.next_once():
        policy, weight_file = _policy(c, c.remaining_args())
        reload, subnets = 30.0, list[str]()
        while c.next_block():
            match c.val():
                case "reload":
                    if policy != WEIGHTED:
                        c.err("reload is only valid with the weighted policy")
                    reload = c.duration_arg(
                        c.remaining_args(),
                        missing="reload duration value is missing",
                        extra="unexpected argument '{arg}' after the reload duration",
                        invalid="invalid reload duration '{arg}'",
                    )
                case "prefer":
                    subnets.extend(_subnet(c, arg) for arg in _args(c))
                case _:
                    c.unknown_property()
        opts = LoadbalanceOptions(policy, weight_file, reload, tuple(subnets))
    return opts


def _policy(c: Controller, args: list[str]) -> tuple[str, str]:
    if not args or args[0] == ROUND_ROBIN:
        if len(args) > 1:
            c.err(f"unexpected argument '{args[1]}' after round_robin")
        return ROUND_ROBIN, ""
    if args[0] != WEIGHTED:
        c.err(f"unknown policy '{args[0]}': want round_robin or weighted")
    if len(args) < 2:
        c.err("missing weight file argument")
    if len(args) > 2:
        c.err(f"unexpected argument '{args[2]}' after the weight file")
    path = c.path(args[1])
    try:
        weightfile.parse(weightfile.read(path), path)
    except weightfile.WeightFileError as exc:
        c.err(str(exc))
    return WEIGHTED, path


def _args(c: Controller) -> list[str]:
    args = c.remaining_args()
    if not args:
        c.arg_err()
    return args


def _subnet(c: Controller, text: str) -> str:
    try:
        if "/" not in text:
            raise ValueError
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        c.err(f"invalid CIDR '{text}': want ADDRESS/BITS")


def subnets(cidrs: tuple[str, ...]) -> list[Subnet]:
    """The preferred subnets as (address size, network, mask) for matching."""
    out: list[Subnet] = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        out.append((4 if net.version == 4 else 16, int(net.network_address), int(net.netmask)))
    return out


def setup(c: Controller) -> None:
    """Put the handler in the chain; ``weighted`` also reloads its file while serving."""
    opts = parse(c)
    weights: weightfile.WeightFile | None = None
    if opts.policy == WEIGHTED:
        weights = weightfile.WeightFile(opts.weight_file, opts.reload)
        c.on_startup(weights.start)
        c.on_shutdown(weights.stop)
    c.add_handler(Loadbalance(weights, subnets(opts.prefer)))
