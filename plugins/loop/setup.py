"""Setup of *loop*: ``loop`` takes no arguments and may appear once per server block.

The probe name lives in the block's first zone (CoreDNS: the first server key),
and the probe goes to the block's first listen address once it is serving.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.loop.handler import Loop

NAME = "loop"


@dataclass(frozen=True)
class LoopOptions:
    """What the block asked for: only where the probe name lives."""

    #: The zone of the block's first key; the probe is ``<rand>.<rand>.<zone>``.
    zone: str = "."


def parse(c: Controller) -> LoopOptions:
    """``loop`` alone; a second occurrence, an argument or a block is an error."""
    while c.next_once():
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    return LoopOptions(zone=c.zones[0] if c.zones else ".")


def setup(c: Controller) -> None:
    """Put the counting handler in the chain and start probing once the block serves."""
    opts = parse(c)
    handler = Loop(opts.zone, c.block, c.instance)
    c.add_handler(handler)
    c.on_startup(handler.start)
    c.on_shutdown(handler.stop)
