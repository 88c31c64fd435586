"""debug: DEBUG log lines on, and panics logged with their traceback."""

from __future__ import annotations

from dnsd.plugins.debug.setup import NAME, setup

__all__ = ["NAME", "setup"]
