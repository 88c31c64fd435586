"""bind: listen only on the given addresses or on the addresses of the given interfaces."""

from __future__ import annotations

from dnsd.plugins.bind.setup import NAME, setup

__all__ = ["NAME", "setup"]
