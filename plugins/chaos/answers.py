"""What *chaos* answers: the texts for each CH TXT name, no server knowledge.

The names are BIND's (``version.bind``, ``authors.bind``, ``hostname.bind``)
and RFC 4892's (``version.server``, ``id.server``). A TXT string holds at most
255 bytes, so longer texts are cut there, as CoreDNS does.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence

VERSION_NAMES = frozenset({"version.bind.", "version.server."})
HOSTNAME_NAMES = frozenset({"hostname.bind.", "id.server."})
AUTHORS_NAME = "authors.bind."

MAX_TXT = 255


def trim(text: str) -> bytes:
    """``text`` as UTF-8, cut to the 255 bytes a TXT string holds."""
    return text.encode("utf-8", "surrogateescape")[:MAX_TXT]


def hostname() -> str:
    """The host's name (CoreDNS: ``os.Hostname()``, ``localhost`` when it fails)."""
    try:
        return socket.gethostname() or "localhost"
    except OSError:
        return "localhost"


def texts(
    name: str, version: bytes, authors: Sequence[bytes], rng: random.Random
) -> list[bytes] | None:
    """The TXT strings answering ``name`` (lowercased, absolute); None: not a chaos name.

    Authors come one per record, in a new random order each time.
    """
    if name in VERSION_NAMES:
        return [version]
    if name in HOSTNAME_NAMES:
        return [trim(hostname())]
    if name == AUTHORS_NAME:
        shuffled = list(authors)
        rng.shuffle(shuffled)
        return shuffled
    return None
