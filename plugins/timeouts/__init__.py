"""timeouts: read, write and idle timeouts and limits of the TCP side of a server."""

from __future__ import annotations

from dnsd.plugins.timeouts.setup import NAME, setup

__all__ = ["NAME", "setup"]
