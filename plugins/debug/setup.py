"""Setup of *debug*: ``debug`` takes no arguments.

It only sets ``c.block.settings["debug"]``; the runtime turns DEBUG logging on
while any block of the loaded config has it (and off again after a reload
without it), and the server logs the traceback of every panic. Like CoreDNS,
writing ``debug`` twice in a block is allowed and means the same.
"""

from __future__ import annotations

from dnsd.controller import Controller

NAME = "debug"


def setup(c: Controller) -> None:
    """Reject arguments and blocks; switch the block to debug."""
    while c.next():
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    c.settings[NAME] = True
