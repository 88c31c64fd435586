"""rewrite: rewrites queries on their way in and replies on their way out, invisibly to clients."""

from __future__ import annotations

from dnsd.plugins.rewrite.setup import NAME, setup

__all__ = ["NAME", "setup"]
