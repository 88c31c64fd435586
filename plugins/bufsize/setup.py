"""Setup of *bufsize*: ``bufsize [SIZE]``, SIZE 512..4096 (RFC 6891), default 1232."""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.plugins.bufsize.handler import Bufsize

NAME = "bufsize"

#: DNS Flag Day 2020's recommendation, CoreDNS's default.
DEFAULT_SIZE = 1232
MIN_SIZE, MAX_SIZE = 512, 4096


@dataclass(frozen=True)
class BufsizeOptions:
    """The largest UDP size a client may advertise."""

    size: int = DEFAULT_SIZE


def parse(c: Controller) -> BufsizeOptions:
    """Read the one ``bufsize`` line (a second one is an error; CoreDNS ignores it)."""
    options: BufsizeOptions | None = None
    while c.next_once():
        size = DEFAULT_SIZE
        if c.next_arg():
            text = c.val()
            if not (text.isascii() and text.isdigit()) or not MIN_SIZE <= int(text) <= MAX_SIZE:
                c.err(f"SIZE must be an integer between {MIN_SIZE} and {MAX_SIZE}: '{text}'")
            size = int(text)
            if c.next_arg():
                c.arg_err()
        if c.next_block():
            c.unknown_property()
        options = BufsizeOptions(size=size)
    return options or BufsizeOptions()


def setup(c: Controller) -> None:
    """Register the handler."""
    c.add_handler(Bufsize(parse(c).size))
