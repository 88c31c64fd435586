"""ready: a readiness endpoint (``/ready``) fed by the plugins that report readiness."""

from __future__ import annotations

from dnsd.plugins.ready.setup import NAME, setup

__all__ = ["NAME", "setup"]
