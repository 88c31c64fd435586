"""prometheus: counts every query and serves the metrics registry on ``/metrics``."""

from __future__ import annotations

from dnsd.plugins.prometheus.setup import NAME, setup

__all__ = ["NAME", "setup"]
