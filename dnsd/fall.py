"""``fallthrough [ZONES...]``: which names a plugin passes on instead of answering NXDOMAIN.

CoreDNS's ``plugin/pkg/fall``: the option without zones passes every name on;
with zones, only names inside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dnsd.address import normalize_zones


@dataclass(frozen=True)
class Fallthrough:
    """The zones whose names fall through; empty means fallthrough is off."""

    zones: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Sequence[str]) -> Fallthrough:
        """``fallthrough``: every name; ``fallthrough a.org``: that zone. ValueError when bad."""
        return cls(tuple(normalize_zones(args)) if args else (".",))

    def through(self, name: str) -> bool:
        """True when the lowercase absolute ``name`` must be passed to the next plugin."""
        for zone in self.zones:
            if zone == "." or name == zone or name.endswith("." + zone):
                return True
        return False
