"""bufsize: lowers the EDNS0 UDP size clients advertise, to avoid IP fragmentation."""

from __future__ import annotations

from dnsd.plugins.bufsize.setup import NAME, setup

__all__ = ["NAME", "setup"]
