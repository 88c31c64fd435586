"""Setup of *minimal*: ``minimal`` takes no arguments and no block."""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.minimal.handler import Minimal

NAME = "minimal"


@dataclass(frozen=True)
class MinimalOptions:
    """*minimal* has no options; the dataclass keeps the shape every plugin has."""


def parse(c: Controller) -> MinimalOptions:
    """Check every ``minimal`` line: no argument, no block (a repeated line changes nothing)."""
    while c.next():
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    return MinimalOptions()


def setup(c: Controller) -> None:
    """Register the handler."""
    parse(c)
    c.add_handler(Minimal())
