"""minimal: drops the authority and additional sections of successful answers."""

from __future__ import annotations

from dnsd.plugins.minimal.setup import NAME, setup

__all__ = ["NAME", "setup"]
