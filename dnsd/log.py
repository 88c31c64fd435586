"""Log lines in CoreDNS's format: ``[INFO] plugin/<name>: message``.

Core messages use the ``dnsd`` logger and carry no prefix (``[INFO] Reloading``);
plugins log through :func:`plugin_logger`. Output goes to stdout as CoreDNS's does.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

CORE = "dnsd"
_LEVELS = {"CRITICAL": "FATAL"}


class Formatter(logging.Formatter):
    """``[LEVEL] name: message``; no name for the core logger."""

    def format(self, record: logging.LogRecord) -> str:
        level = _LEVELS.get(record.levelname, record.levelname)
        message = record.getMessage()
        if record.exc_info and record.levelno >= logging.ERROR:
            message += "\n" + self.formatException(record.exc_info)
        if record.name == CORE or record.name.startswith(CORE + "."):
            return f"[{level}] {message}"
        return f"[{level}] {record.name}: {message}"


def plugin_logger(name: str) -> logging.Logger:
    """The logger of plugin ``name`` (``plugin/<name>``)."""
    return logging.getLogger(f"plugin/{name}")


core = logging.getLogger(CORE)

_handler: logging.Handler | None = None


def setup(stream: TextIO | None = None, debug: bool = False) -> None:
    """Send every log line to ``stream`` (stdout) in CoreDNS's format."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(stream or sys.stdout)
    _handler.setFormatter(Formatter())
    root.addHandler(_handler)
    set_debug(debug)


def set_debug(debug: bool) -> None:
    """DEBUG lines are shown only while a *debug* plugin is configured."""
    logging.getLogger().setLevel(logging.DEBUG if debug else logging.INFO)
