"""Setup of *multisocket*: ``multisocket [NUM_SOCKETS]``, once per server block.

NUM_SOCKETS is an integer from 1 to 1024 (CoreDNS's bounds and wording); the
default is the number of CPUs this process may run on (``os.sched_getaffinity``,
dnsd's GOMAXPROCS). The count goes to ``c.settings["multisocket"]``; the
process-wide worker count is the largest of all blocks (:func:`dnsd.workers.wanted`),
because dnsd's workers are processes that serve every listener, where CoreDNS's
are per-listener goroutines. It puts nothing in the chain.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from dnsd.controller import Controller

NAME = "multisocket"
MAX_NUM_SOCKETS = 1024
_INT = re.compile(r"[+-]?[0-9]+")


def default_num_sockets() -> int:
    """The CPUs this process may use (the container's cpuset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class MultisocketOptions:
    """How many processes serve each listener (the supervisor is one of them)."""

    num_sockets: int = field(default_factory=default_num_sockets)


def parse(c: Controller) -> MultisocketOptions:
    """Read the block's single ``multisocket`` directive."""
    opts = MultisocketOptions()
    while c.next_once():
        args = c.remaining_args()
        if len(args) > 1:
            c.arg_err()
        if c.next_block():
            c.unknown_property()
        if not args:
            continue
        text = args[0]
        if not _INT.fullmatch(text):
            c.err(f'invalid num sockets: strconv.Atoi: parsing "{text}": invalid syntax')
        num = int(text)
        if num < 1:
            c.err(f"num sockets can not be zero or negative: {num}")
        if num > MAX_NUM_SOCKETS:
            c.err(f"num sockets exceeds maximum ({MAX_NUM_SOCKETS}): {num}")
        opts = MultisocketOptions(num)
    return opts


def setup(c: Controller) -> None:
    """Record the count in the block; the CLI's supervisor starts the workers."""
    c.settings[NAME] = parse(c).num_sockets
