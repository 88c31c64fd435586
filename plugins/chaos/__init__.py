"""chaos: answers CH TXT queries for the server's version, authors and hostname."""

from __future__ import annotations

from dnsd.plugins.chaos.setup import NAME, setup

__all__ = ["NAME", "setup"]
