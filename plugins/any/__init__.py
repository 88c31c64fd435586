"""any: answers ANY queries with the HINFO record of RFC 8482."""

from __future__ import annotations

from dnsd.plugins.any.setup import NAME, setup

__all__ = ["NAME", "setup"]
