"""Setup of *health*: ``health [ADDRESS] { lameduck DURATION }``.

Like CoreDNS, *health* may appear in several server blocks and several times in
one block; within a block the last occurrence wins. Every block naming the same
address shares one endpoint (one ``/health``, one self-probe, one lame-duck
delay: the largest ``lameduck`` of those blocks wins).
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.duration import parse_duration
from dnsd.plugins.health.health import Health

NAME = "health"
DEFAULT_ADDR = ":8080"


@dataclass(frozen=True)
class HealthOptions:
    """What one block asked for."""

    addr: str = DEFAULT_ADDR
    #: Seconds to keep serving (DNS and ``/health``) once the final shutdown starts.
    lameduck: float = 0.0


def parse(c: Controller) -> HealthOptions:
    """Read every ``health`` occurrence of the block; the last one wins (as in CoreDNS)."""
    opts = HealthOptions()
    while c.next():
        addr, lameduck = c.addr_arg(DEFAULT_ADDR), 0.0
        while c.next_block():
            if c.val() != "lameduck":
                c.unknown_property()
            values = c.remaining_args()
            if len(values) != 1:
                c.arg_err()
            lameduck = _lameduck(c, values[0])
        opts = HealthOptions(addr=addr, lameduck=lameduck)
    return opts


def _lameduck(c: Controller, text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError:
        c.err(f"unable to parse lameduck duration value: '{text}'")
    if value < 0:
        c.err(f"lameduck duration must not be negative: '{text}'")
    return value


def setup(c: Controller) -> None:
    """Share one :class:`Health` per address in this config; the largest lame duck wins."""
    opts = parse(c)
    health: Health = c.shared(f"{NAME}:{opts.addr}", lambda: _new(c, opts.addr))
    health.lameduck = max(health.lameduck, opts.lameduck)


def _new(c: Controller, addr: str) -> Health:
    health = Health(addr, c.instance)
    c.http_route(addr, "/health", health.handle)
    c.on_startup(health.start)
    c.on_shutdown(health.stop)
    c.on_final_shutdown(health.final_shutdown)
    return health
