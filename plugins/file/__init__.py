"""file: zones served authoritatively from RFC 1035 master files, reloaded when they change."""

from __future__ import annotations

from dnsd.plugins.file.setup import NAME, setup

__all__ = ["NAME", "setup"]
