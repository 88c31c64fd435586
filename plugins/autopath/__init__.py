"""autopath: walks the client's search list on the server, so one query finds the name."""

from __future__ import annotations

from dnsd.plugins.autopath.setup import NAME, setup

__all__ = ["NAME", "setup"]
