"""root: the directory relative file names in the block are joined to."""

from __future__ import annotations

from dnsd.plugins.root.setup import NAME, setup

__all__ = ["NAME", "setup"]
