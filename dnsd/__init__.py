"""dnsd: a cluster DNS server for Kubernetes that reads CoreDNS's Corefile."""

from __future__ import annotations

__version__ = "0.1.0"
#: The CoreDNS release whose behaviour (plugin order, flags, metrics) dnsd follows.
COREDNS_VERSION = "1.14.7"


def revision() -> str:
    """The git commit dnsd runs from (short), or "unknown" outside a checkout."""
    import os

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(here, ".git", "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            with open(os.path.join(here, ".git", head[5:])) as f:
                head = f.read().strip()
        return head[:8]
    except OSError:
        return "unknown"
