"""multisocket: N worker processes share every listener through SO_REUSEPORT."""

from __future__ import annotations

from dnsd.plugins.multisocket.setup import NAME, setup

__all__ = ["NAME", "setup"]
