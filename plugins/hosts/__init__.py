"""hosts: A, AAAA and PTR answers from an /etc/hosts style file and inline entries."""

from __future__ import annotations

from dnsd.plugins.hosts.setup import NAME, setup

__all__ = ["NAME", "setup"]
