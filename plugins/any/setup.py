"""Setup of *any*: ``any`` takes no arguments."""

from __future__ import annotations

from dnsd.controller import Controller
from dnsd.plugins.any.handler import Any

NAME = "any"


def setup(c: Controller) -> None:
    """Register the handler once; any argument or block is an error.

    CoreDNS reads only the first ``any`` line of a block; every line is checked
    here and a repeated line changes nothing.
    """
    while c.next():
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    c.add_handler(Any())
