"""whoami: answers every query with the client's address and port."""

from __future__ import annotations

from dnsd.plugins.whoami.setup import NAME, setup

__all__ = ["NAME", "setup"]
