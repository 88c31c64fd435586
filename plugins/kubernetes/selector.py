"""Kubernetes label selectors: ``env in (a,b),app=x,!legacy``.

Parsed at setup so a bad selector is a config error, and matched against
Namespace labels for ``namespace_labels`` (``labels`` is also sent to the API).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_KEY = r"(?:[a-z0-9A-Z.\-]+/)?[a-zA-Z0-9](?:[a-zA-Z0-9_.\-]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9_.\-]*[a-zA-Z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(\s*({_VALUE}(?:\s*,\s*{_VALUE})*)\s*\)\s*")
_EQ = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*")


@dataclass(frozen=True)
class Requirement:
    """One term: ``op`` is one of in, notin, exists, !exists."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "in":
            return labels.get(self.key) in self.values
        return labels.get(self.key) not in self.values  # notin (absent key matches, as in k8s)


@dataclass(frozen=True)
class Selector:
    """All requirements must match (an empty selector matches everything)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def parse_selector(text: str) -> Selector:
    """Parse a selector; ValueError says what is wrong."""
    rest = text.strip()
    reqs: list[Requirement] = []
    while rest:
        m = _SET.match(rest)
        if m:
            values = frozenset(v.strip() for v in m.group(3).split(","))
            reqs.append(Requirement(m.group(1), m.group(2), values))
        elif m := _EQ.match(rest):
            op = "notin" if m.group(2) == "!=" else "in"
            reqs.append(Requirement(m.group(1), op, frozenset([m.group(3)])))
        elif m := _EXISTS.match(rest):
            if re.match(r"(in|notin)\b", rest[m.end() :]):
                raise ValueError(f"'{rest.strip()}': values of in/notin go in parentheses: (a,b)")
            reqs.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
        else:
            raise ValueError(f"cannot parse '{rest}'")
        rest = rest[m.end() :]
        if rest.startswith(","):
            rest = rest[1:]
            if not rest.strip():
                raise ValueError("trailing ','")
        elif rest:
            raise ValueError(f"expected ',' before '{rest}'")
    return Selector(tuple(reqs))
