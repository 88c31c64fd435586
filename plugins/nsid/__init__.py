"""nsid: adds the server's identifier (EDNS0 NSID, RFC 5001) to replies that ask for it."""

from __future__ import annotations

from dnsd.plugins.nsid.setup import NAME, setup

__all__ = ["NAME", "setup"]
