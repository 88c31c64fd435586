"""log: one line per query on standard output, in CoreDNS's query log format."""

from __future__ import annotations

from dnsd.plugins.log.setup import NAME, setup

__all__ = ["NAME", "setup"]
