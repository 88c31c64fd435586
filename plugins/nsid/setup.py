"""Setup of *nsid*: ``nsid [DATA]``, once per server block; DATA defaults to the hostname."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from dnsd.controller import Controller
from dnsd.plugins.nsid.handler import Nsid

NAME = "nsid"


def hostname() -> str:
    """The host's name (CoreDNS: ``os.Hostname()``, ``localhost`` when it fails)."""
    try:
        return socket.gethostname() or "localhost"
    except OSError:
        return "localhost"


@dataclass(frozen=True)
class NsidOptions:
    """The identifier replies carry."""

    data: str = field(default_factory=hostname)


def parse(c: Controller) -> NsidOptions:
    """DATA is every argument joined with spaces, as CoreDNS does; no block."""
    options = NsidOptions()
    while c.next_once():
        args = c.remaining_args()
        if c.next_block():
            c.unknown_property()
        if args:
            options = NsidOptions(data=" ".join(args))
    return options


def setup(c: Controller) -> None:
    """Register the handler."""
    c.add_handler(Nsid(parse(c).data))
