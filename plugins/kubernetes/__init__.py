"""kubernetes: the Kubernetes DNS-Based Service Discovery records, from a list+watch of the API."""

from __future__ import annotations

from dnsd.plugins.kubernetes.setup import NAME, setup

__all__ = ["NAME", "setup"]
