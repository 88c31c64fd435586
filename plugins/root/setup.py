"""Setup of *root*: ``root PATH``.

A relative PATH is taken relative to the working directory, as in CoreDNS,
and stored absolute in ``c.block.root`` (``c.path(name)`` joins to it). A
PATH that does not exist yet is accepted with a warning (the directory may
appear later); one that cannot be read or is not a directory is an error.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.log import plugin_logger

NAME = "root"

log = plugin_logger(NAME)


@dataclass(frozen=True)
class RootOptions:
    """The block's root directory, absolute."""

    path: str


def parse(c: Controller) -> RootOptions:
    """Read the one ``root`` line; check the directory."""
    path: str | None = None
    while c.next_once():
        if not c.next_arg():
            c.arg_err()
        path = os.path.abspath(c.val())
        if c.next_arg():
            c.arg_err()
        if c.next_block():
            c.unknown_property()
    if path is None:
        c.arg_err()
    check(c, path)
    return RootOptions(path=path)


def check(c: Controller, path: str) -> None:
    """Warn when ``path`` is missing; fail when it is unreadable or not a directory."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        log.warning("Root path does not exist: %s", path)
        return
    except (OSError, ValueError) as exc:
        c.err(f"unable to access root path '{path}': {exc}")
    if not stat.S_ISDIR(mode):
        c.err(f"root path '{path}' is not a directory")


def setup(c: Controller) -> None:
    """Set the block's root."""
    c.block.root = parse(c).path
