"""Where the running config comes from, so *reload* and SIGUSR1 can read it again.

A :class:`ConfigSource` reads the Corefile the process was started with (a file,
standard input, or a test's text), tells what it means (:meth:`fingerprint`: the
SHA-512 digest of the parsed blocks, imports expanded, and the files it read),
and loads it into an :class:`~dnsd.instance.Instance` with the options the first
load used (default port, bind address, registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnsd import corefile
from dnsd.instance import Instance, load
from dnsd.plugin import REGISTRY, Registry


@dataclass(frozen=True)
class Fingerprint:
    """What a Corefile text means, and the files it was read from."""

    digest: str
    files: frozenset[str]


@dataclass
class ConfigSource:
    """Reads, fingerprints and loads the Corefile; ``read`` returns ``(text, filename)``."""

    read: Callable[[], tuple[str, str]]
    options: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self, text: str, filename: str) -> Fingerprint:
        """Parse only (no setup); raises :class:`~dnsd.errors.CorefileError`."""
        registry: Registry = self.options.get("registry", REGISTRY)
        blocks = corefile.parse(
            text,
            filename,
            directives=registry.names(),
            coredns_directives=registry.coredns_only(),
            base_dir=self.options.get("base_dir"),
        )
        return Fingerprint(corefile.digest(blocks), corefile.files_read(blocks, filename))

    def load(self, text: str, filename: str) -> Instance:
        """Parse and set up; raises :class:`~dnsd.errors.CorefileError`."""
        return load(text, filename, **self.options)

    def read_and_load(self) -> Instance:
        """What SIGUSR1 does: read the source again and load it."""
        text, filename = self.read()
        return self.load(text, filename)
