"""k8s_external: Service external IPs, LoadBalancer ingress and (``headless``) endpoints under an
additional zone, from the *kubernetes* plugin's data."""

from __future__ import annotations

from dnsd.plugins.k8s_external.setup import NAME, setup

__all__ = ["NAME", "setup"]
