"""forward: proxies queries to upstream resolvers over UDP, TCP and DNS over TLS."""

from __future__ import annotations

from dnsd.plugins.forward.setup import NAME, setup

__all__ = ["NAME", "setup"]
