"""header: sets or clears the AA, RA and RD flags of queries and replies."""

from __future__ import annotations

from dnsd.plugins.header.setup import NAME, setup

__all__ = ["NAME", "setup"]
