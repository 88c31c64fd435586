"""loadbalance: shuffles (round_robin) or weights (weighted) the address records of replies."""

from __future__ import annotations

from dnsd.plugins.loadbalance.setup import NAME, setup

__all__ = ["NAME", "setup"]
