"""dnsd: a cluster DNS server for Kubernetes that reads CoreDNS's Corefile."""

from __future__ import annotations

__version__ = "0.1.0"
#: The CoreDNS release whose behaviour (plugin order, flags, metrics) dnsd follows.
COREDNS_VERSION = "1.14.7"
