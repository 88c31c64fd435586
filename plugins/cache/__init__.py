"""cache: CoreDNS's frontend cache of whole replies, with hits served from stored bytes."""

from __future__ import annotations

from dnsd.plugins.cache.setup import NAME, setup

__all__ = ["NAME", "setup"]
