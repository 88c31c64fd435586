"""errors: logs the errors of the plugins below it and answers SERVFAIL."""

from __future__ import annotations

from dnsd.plugins.errors.setup import NAME, setup

__all__ = ["NAME", "setup"]
