"""The exceptions of dnsd.

One exception reaches users for configuration problems: :class:`CorefileError`,
printed ``FILE:LINE: directive: message``. Plugins raise :class:`PluginError`
for deliberate failures (they become SERVFAIL and one log line by *errors*).
"""

from __future__ import annotations


class DnsdError(Exception):
    """Root of dnsd's exceptions."""


class CorefileError(DnsdError):
    """A positioned configuration error: ``FILE:LINE: directive: message``."""

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        directive: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.directive = directive

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.directive:
            parts.append(self.directive)
        parts.append(self.message)
        return ": ".join(parts)


class PluginError(DnsdError):
    """A plugin could not answer (upstream down, no next plugin...): SERVFAIL.

    Raise it from ``serve``; the *errors* plugin logs it as CoreDNS does:
    ``[ERROR] plugin/errors: 2 example.org. A: plugin/forward: no healthy upstream``.
    Any other exception is a bug: it is counted in ``coredns_panics_total``.
    """


class ChainError(DnsdError):
    """An exception escaping a handler, tagged with the plugin that raised it."""

    def __init__(self, plugin: str, error: BaseException) -> None:
        super().__init__(f"plugin/{plugin}: {error}")
        self.plugin = plugin
        self.error = error

    @property
    def panic(self) -> bool:
        """True when the error was not a deliberate :class:`PluginError`."""
        return not isinstance(self.error, PluginError)
