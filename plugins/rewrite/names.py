"""Names for *rewrite*: matching a question name, rewriting it, and mapping names in replies.

Names are handled in presentation form (``www.example.org.``, escapes as
:func:`dnsd.wire.name_text` writes them), as CoreDNS does: a rule sees the
current question name lowercased, and writes a new one that must still be a
valid domain name (:func:`labels_of`). Regular expressions are Python's
:mod:`re`, searched (not anchored) like Go's ``FindStringSubmatch``; ``{N}`` in
a replacement is group N (``{0}`` the whole match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXACT, PREFIX, SUFFIX, SUBSTRING, REGEX = "exact", "prefix", "suffix", "substring", "regex"
MATCH_TYPES = (EXACT, PREFIX, SUFFIX, SUBSTRING, REGEX)
#: The longest regular expression a rule accepts (CoreDNS's ``maxRegexpLen``).
MAX_REGEX_LEN = 10_000
_GROUP_REF_LIMIT = 100


class RuleError(ValueError):
    """A rule that cannot be built; ``word`` is the argument at fault (to position the error)."""

    def __init__(self, message: str, word: str | None = None) -> None:
        super().__init__(message)
        self.word = word


def normalize(name: str) -> str:
    """CoreDNS's ``plugin.Name(n).Normalize()``: lowercased and absolute."""
    name = name.lower()
    return name if is_fqdn(name) else name + "."


def is_fqdn(name: str) -> bool:
    """True when ``name`` ends with a dot that is not escaped."""
    if not name.endswith("."):
        return False
    backslashes = len(name) - 1 - len(name[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def labels_of(name: str) -> tuple[bytes, ...] | None:
    """The wire labels of a presentation name, or None when it is not a valid domain name.

    Invalid: an empty label (``a..b``), a label over 63 octets, a name over 255
    octets on the wire, a bad escape. A missing final dot is tolerated.
    """
    if name in (".", ""):
        return () if name == "." else None
    labels: list[bytes] = []
    label = bytearray()
    i, n = 0, len(name)
    while i < n:
        ch = name[i]
        if ch == "\\":
            digits = name[i + 1 : i + 4]
            if len(digits) == 3 and all(d in "0123456789" for d in digits):
                value = int(digits)
                if value > 255:
                    return None
                label.append(value)
                i += 4
                continue
            if i + 1 >= n:
                return None
            label += name[i + 1].encode()
            i += 2
            continue
        if ch == ".":
            if not label:
                return None
            labels.append(bytes(label))
            label = bytearray()
        else:
            label += ch.encode()
        i += 1
    if label:
        labels.append(bytes(label))
    if any(len(part) > 63 for part in labels):
        return None
    if sum(len(part) + 1 for part in labels) + 1 > 255:
        return None
    return tuple(labels)


def substitute(template: str, match: re.Match[str]) -> str:
    """``template`` with ``{N}`` replaced by group N of ``match``, in group order (as CoreDNS)."""
    out = template
    for index in range(match.re.groups + 1):
        out = out.replace("{" + str(index) + "}", match.group(index) or "")
    return out


def group_refs(template: str) -> int:
    """How many distinct ``{0}``..``{100}`` references ``template`` makes."""
    return sum(1 for i in range(_GROUP_REF_LIMIT + 1) if "{" + str(i) + "}" in template)


def compile_name_regex(pattern: str, template: str) -> re.Pattern[str]:
    """A name rule's (or ``answer name|value``'s) regex, checked as CoreDNS checks it."""
    if len(pattern.encode()) > MAX_REGEX_LEN:
        raise RuleError(
            f"regex pattern too long: {len(pattern.encode())} > {MAX_REGEX_LEN}", pattern
        )
    try:
        regex = re.compile(pattern)
    except re.error:
        raise RuleError(f"invalid regex matching pattern: {pattern}", pattern) from None
    if group_refs(template) > regex.groups:
        raise RuleError(
            f"the rewrite regex pattern ({template}) uses more subexpressions than its "
            f"corresponding matching regex pattern ({pattern})",
            template,
        )
    return regex


def compile_plain_regex(pattern: str, rule: str) -> re.Pattern[str]:
    """A ttl, rcode or cname rule's regex (it only matches): ``rule`` names the rule in errors."""
    if len(pattern.encode()) > MAX_REGEX_LEN:
        raise RuleError(
            f"regex pattern too long in a {rule} rule: {len(pattern.encode())} > {MAX_REGEX_LEN}",
            pattern,
        )
    try:
        return re.compile(pattern)
    except re.error:
        raise RuleError(f"invalid regex pattern in a {rule} rule: {pattern}", pattern) from None


@dataclass(frozen=True)
class NameMatch:
    """How a rule finds its names: ``kind`` is exact, prefix, suffix, substring or regex."""

    kind: str
    #: The name (normalized for exact and suffix) or the text to look for; the regex's source.
    pattern: str
    regex: re.Pattern[str] | None = None

    def matches(self, name: str) -> bool:
        """Does ``name`` (lowercased presentation form) match?"""
        match self.kind:
            case "exact":
                return name == self.pattern
            case "prefix":
                return name.startswith(self.pattern)
            case "suffix":
                return name.endswith(self.pattern)
            case "substring":
                return self.pattern in name
        assert self.regex is not None
        return self.regex.search(name) is not None

    def rewrite(self, name: str, to: str) -> str | None:
        """``name`` rewritten with ``to`` as CoreDNS's name rules do; None: no match."""
        match self.kind:
            case "exact":
                return to if name == self.pattern else None
            case "prefix":
                return to + name[len(self.pattern) :] if name.startswith(self.pattern) else None
            case "suffix":
                if not name.endswith(self.pattern):
                    return None
                return name[: len(name) - len(self.pattern)] + to
            case "substring":
                return name.replace(self.pattern, to) if self.pattern in name else None
        assert self.regex is not None
        found = self.regex.search(name)
        return substitute(to, found) if found is not None else None


def name_match(kind: str, pattern: str, rule: str) -> NameMatch:
    """A matcher for a ttl or rcode rule: names normalized, regexes checked."""
    if kind == REGEX:
        return NameMatch(kind, pattern, compile_plain_regex(pattern, rule))
    return NameMatch(kind, normalize(pattern))


# -- rewriting names in replies ----------------------------------------------------------------


@dataclass(frozen=True)
class Remap:
    """``answer auto``: the rewritten name (and names under it) back to the asked one."""

    orig: str
    replacement: str

    def __call__(self, name: str) -> str:
        low = name.lower()
        if low == self.orig:
            return self.replacement
        if low.endswith("." + self.orig):
            return name[: len(name) - len(self.orig)] + self.replacement
        return name


@dataclass(frozen=True)
class SuffixSwap:
    """``answer auto`` of a suffix rule: the new suffix back to the old one."""

    suffix: str
    replacement: str

    def __call__(self, name: str) -> str:
        if name.lower().endswith(self.suffix):
            return name[: len(name) - len(self.suffix)] + self.replacement
        return name


@dataclass(frozen=True)
class RegexRewrite:
    """``answer name|value FROM TO``: a regex search and a ``{N}`` template."""

    regex: re.Pattern[str]
    template: str

    def __call__(self, name: str) -> str:
        found = self.regex.search(name)
        return substitute(self.template, found) if found is not None else name
