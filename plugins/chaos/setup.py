"""Setup of *chaos*: ``chaos [VERSION] [AUTHORS...]``, once per server block."""

from __future__ import annotations

from dataclasses import dataclass

from dnsd import __version__
from dnsd.controller import Controller
from dnsd.plugins.chaos.handler import Chaos

NAME = "chaos"

#: What ``version.bind`` says by default (CoreDNS: ``CoreDNS-<version>``).
DEFAULT_VERSION = f"dnsd-{__version__}"
#: What ``authors.bind`` says by default (CoreDNS: the GitHub handles in its OWNERS files).
DEFAULT_AUTHORS: tuple[str, ...] = ("dnsd maintainers",)


@dataclass(frozen=True)
class ChaosOptions:
    """The version and the authors to tell."""

    version: str = DEFAULT_VERSION
    authors: tuple[str, ...] = DEFAULT_AUTHORS


def parse(c: Controller) -> ChaosOptions:
    """VERSION, then AUTHORS (deduplicated and sorted, as CoreDNS does); no block."""
    options = ChaosOptions()
    while c.next_once():
        args = c.remaining_args()
        if c.next_block():
            c.unknown_property()
        if len(args) == 1:
            options = ChaosOptions(version=args[0])
        elif len(args) > 1:
            options = ChaosOptions(version=args[0], authors=tuple(sorted(set(args[1:]))))
    return options


def setup(c: Controller) -> None:
    """Register the handler (a block with *chaos* also takes non-IN classes, see dnsd.instance)."""
    options = parse(c)
    c.add_handler(Chaos(options.version, options.authors))
