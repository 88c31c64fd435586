"""acl: allows, blocks (REFUSED), filters (empty NOERROR) or drops queries by source and type."""

from __future__ import annotations

from dnsd.plugins.acl.setup import NAME, setup

__all__ = ["NAME", "setup"]
