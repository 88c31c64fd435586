"""Search lists: reading them from a resolv.conf, and the names a search walk tries.

No server knowledge here: names are tuples of raw labels (``(b"web", b"default", ...)``,
without the root), search domains are lowercase label tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dnsd.resolvconf import search_domains

Labels = tuple[bytes, ...]

#: Longest name on the wire (RFC 1035 section 2.3.4), length octets and root included.
MAX_NAME = 255


class SearchError(ValueError):
    """A search domain that is not a domain name."""


def read_search(path: str) -> tuple[str, ...]:
    """The search domains of the resolv.conf at ``path``, lowercase and absolute.

    As the resolver (and miekg/dns) reads the file: the last ``search`` or ``domain`` line
    wins; other lines are ignored. Raises OSError when the file cannot be read and
    :class:`SearchError` for a domain that is not a domain name.
    """
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    domains = search_domains(text)
    for domain in domains:
        to_labels(domain)  # raises SearchError
    return domains


def to_labels(domain: str) -> Labels:
    """The lowercase labels of the absolute ``domain`` (``.`` is the root: no labels)."""
    if domain == ".":
        return ()
    parts = domain.lower().removesuffix(".").split(".")
    labels = tuple(p.encode("utf-8") for p in parts)
    if any(not 0 < len(label) < 64 for label in labels) or wire_length(labels) > MAX_NAME:
        raise SearchError(f"not a domain name: {domain!r}")
    return labels


def wire_length(labels: Labels) -> int:
    """Octets of ``labels`` as an uncompressed name on the wire."""
    return sum(len(label) + 1 for label in labels) + 1


def base_name(labels: Labels, first: Labels) -> Labels | None:
    """What the client searched for, when ``labels`` is ``first`` (the first search domain) with
    at least one label in front; else None: the client is not on its first search step.

    A name that is the first search domain itself is left alone (CoreDNS answers it SERVFAIL).
    """
    n = len(first)
    if len(labels) <= n:
        return None
    if n and _lower(labels[-n:]) != first:
        return None
    return labels[: len(labels) - n]


def walk(base: Labels, search: Sequence[Labels]) -> Iterator[Labels]:
    """The names to try after the first: ``base`` under every later search domain, then bare.

    Names too long for the wire are skipped (no such name can exist), and so is a name tried
    already (a search list holding a domain twice, or the root).
    """
    seen = {_lower(base + search[0])}
    for domain in (*search[1:], ()):
        name = base + domain
        key = _lower(name)
        if key in seen or wire_length(name) > MAX_NAME:
            continue
        seen.add(key)
        yield name


def _lower(labels: Labels) -> Labels:
    return tuple(label.lower() for label in labels)
