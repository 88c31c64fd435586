"""health: a process-wide liveness endpoint (``/health``) with an optional lame-duck delay."""

from __future__ import annotations

from dnsd.plugins.health.setup import NAME, setup

__all__ = ["NAME", "setup"]
