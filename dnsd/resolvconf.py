"""The search list of a resolv.conf, read as the resolver (and miekg/dns) reads it.

The last ``search`` or ``domain`` line wins (``domain`` gives one name); names are lowercased and
made absolute, duplicates dropped, other lines ignored. Used by *autopath* (its RESOLV-CONF file)
and *kubernetes* (the server's own search domains at the end of a pod's search path).
"""

from __future__ import annotations

__all__ = ["search_domains"]


def search_domains(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "search":
            found = fields[1:]
        elif fields[0] == "domain":
            found = fields[1:2]
    return tuple(dict.fromkeys(_absolute(name) for name in found))


def _absolute(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."
