"""loop: detects a forwarding loop with a HINFO self-probe at start-up and halts the server."""

from __future__ import annotations

from dnsd.plugins.loop.setup import NAME, setup

__all__ = ["NAME", "setup"]
