"""dns64: synthesizes AAAA records from A records (RFC 6147) for IPv6-only clients behind NAT64."""

from __future__ import annotations

from dnsd.plugins.dns64.setup import NAME, setup

__all__ = ["NAME", "setup"]
