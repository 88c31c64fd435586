"""Setup of *whoami*: ``whoami`` takes no arguments."""

from __future__ import annotations

from dnsd.controller import Controller
from dnsd.plugins.whoami.handler import Whoami

NAME = "whoami"


def setup(c: Controller) -> None:
    """Register the handler; any argument or block is an error."""
    while c.next():
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    c.add_handler(Whoami())
