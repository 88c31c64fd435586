"""reload: applies a changed Corefile without dropping a query."""

from __future__ import annotations

from dnsd.plugins.reload.setup import NAME, setup

__all__ = ["NAME", "setup"]
