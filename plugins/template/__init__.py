"""template: answers from Go templates, for names matching regular expressions."""

from __future__ import annotations

from dnsd.plugins.template.setup import NAME, setup

__all__ = ["NAME", "setup"]
