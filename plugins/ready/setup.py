"""Setup of *ready*: ``ready [ADDRESS] { monitor until-ready|continuously }``, once per block."""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.ready.ready import CONTINUOUSLY, MONITOR_TYPES, UNTIL_READY, Ready

NAME = "ready"
DEFAULT_ADDR = ":8181"


@dataclass(frozen=True)
class ReadyOptions:
    """What one block asked for."""

    addr: str = DEFAULT_ADDR
    #: ``until-ready``: a source that said ready once is not asked again;
    #: ``continuously``: every source is asked at every request.
    monitor: str = UNTIL_READY

    @property
    def continuously(self) -> bool:
        return self.monitor == CONTINUOUSLY


def parse(c: Controller) -> ReadyOptions:
    """Read the block's single ``ready`` directive."""
    opts = ReadyOptions()
    while c.next_once():
        addr = c.addr_arg(DEFAULT_ADDR)
        monitor = UNTIL_READY
        while c.next_block():
            if c.val() != "monitor":
                c.unknown_property()
            values = c.remaining_args()
            if len(values) != 1:
                c.arg_err()
            if values[0] not in MONITOR_TYPES:
                c.err(f"monitor type '{values[0]}' not supported")
            monitor = values[0]
        opts = ReadyOptions(addr=addr, monitor=monitor)
    return opts


def setup(c: Controller) -> None:
    """Report this block's readiness sources on ``/ready`` at the address (one state per config)."""
    opts = parse(c)
    ready: Ready = c.shared(NAME, lambda: _new(c))
    ready.add_block(c.block, continuously=opts.continuously)
    c.http_route(opts.addr, "/ready", ready.handle)


def _new(c: Controller) -> Ready:
    ready = Ready()
    c.on_final_shutdown(ready.final_shutdown)
    return ready
