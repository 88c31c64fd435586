"""Request rules and their parser: ``[continue|stop] FIELD [TYPE] FROM TO [OPTIONS]``.

:func:`new_rule` is CoreDNS's ``newRule``: it takes the words of one rule (a
``rewrite`` line, or every word of a ``rewrite {...}`` block) and builds a
rule, raising :class:`RuleError` with CoreDNS's message. The fields:

- ``name [exact|prefix|suffix|substring|regex] FROM TO [answer ...]``
- ``type FROM TO``, ``class FROM TO``
- ``ttl [TYPE] NAME SECONDS|MIN-MAX|MIN-|-MAX``
- ``rcode [TYPE] NAME FROM TO`` (names or numbers 0-23)
- ``cname [TYPE] FROM TO`` (CNAME targets in replies)
- ``edns0 ...`` (:mod:`dnsd.plugins.rewrite.edns0`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dnsd.encode import _CLASSES, _RCODES, _TYPES
from dnsd.plugins.rewrite.edns0 import new_edns0_rule
from dnsd.plugins.rewrite.names import (
    EXACT,
    MATCH_TYPES,
    REGEX,
    SUFFIX,
    NameMatch,
    RegexRewrite,
    Remap,
    RuleError,
    SuffixSwap,
    compile_name_regex,
    compile_plain_regex,
    is_fqdn,
    name_match,
    normalize,
)
from dnsd.plugins.rewrite.response import (
    CnameTarget,
    NameRewrite,
    RcodeRewrite,
    ResponseRule,
    TTLClamp,
    ValueRewrite,
)
from dnsd.plugins.rewrite.state import CONTINUE, STOP, Rule, State

TYPES = {name.upper(): code for code, name in _TYPES.items()}
CLASSES = {name: code for code, name in _CLASSES.items()}
RCODES = {name: code for code, name in _RCODES.items()} | {"BADSIG": 16, "NOTIMPL": 4}
MAX_TTL = 2147483647


@dataclass(frozen=True)
class NameRule:
    """``name``: the question name rewritten; replies mapped back as the options say."""

    mode: str
    match: NameMatch
    to: str
    #: ``answer auto`` (always on for exact): the new name mapped back to the asked one.
    auto: bool
    answers: tuple[ResponseRule, ...] = ()

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        new = self.match.rewrite(state.lower, self.to)
        if new is None:
            return None
        asked = state.name
        state.name = new
        if not self.auto:
            return self.answers
        remap = Remap(new.lower(), asked)
        return (NameRewrite(remap), ValueRewrite(remap), *self.answers)


@dataclass(frozen=True)
class TypeRule:
    """``type FROM TO``: the question's type."""

    mode: str
    old: int
    new: int

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        if state.qtype != self.old:
            return None
        state.qtype = self.new
        return ()


@dataclass(frozen=True)
class ClassRule:
    """``class FROM TO``: the question's class."""

    mode: str
    old: int
    new: int

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        if state.qclass != self.old:
            return None
        state.qclass = self.new
        return ()


@dataclass(frozen=True)
class MatchRule:
    """``ttl`` and ``rcode``: a reply change for the names that match."""

    mode: str
    match: NameMatch
    response: ResponseRule

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        return (self.response,) if self.match.matches(state.lower) else None


@dataclass(frozen=True)
class CnameRule:
    """``cname``: applies to every query; its work is done on the reply."""

    mode: str
    response: CnameTarget

    def rewrite(self, state: State) -> Sequence[ResponseRule] | None:
        return (self.response,)


def new_rule(args: Sequence[str]) -> Rule:
    """The rule the words ``args`` describe."""
    if not args:
        raise RuleError("no rule type specified for rewrite")
    first = args[0].lower()
    mode = STOP
    if first in (STOP, CONTINUE):
        mode = first
        if len(args) < 2:
            raise RuleError(f"{first} rule must begin with a rule type", args[0])
        args = args[1:]
    field, rest = args[0].lower(), list(args[1:])
    match field:
        case "answer":
            raise RuleError("response rewrites must begin with a name rule", args[0])
        case "name":
            return new_name_rule(mode, rest)
        case "class" | "type":
            if len(rest) != 2:
                raise RuleError(f"{field} rules must have exactly two arguments", args[0])
            table = CLASSES if field == "class" else TYPES
            old, new = (_lookup(table, word, field) for word in rest)
            return (ClassRule if field == "class" else TypeRule)(mode, old, new)
        case "edns0":
            return new_edns0_rule(mode, rest)
        case "ttl":
            return new_ttl_rule(mode, rest)
        case "rcode":
            return new_rcode_rule(mode, rest)
        case "cname":
            return new_cname_rule(mode, rest)
    raise RuleError(f'invalid rule type "{args[0]}"', args[0])


def _lookup(table: dict[str, int], word: str, field: str) -> int:
    code = table.get(word.upper())
    if code is None:
        raise RuleError(f'invalid {field} "{word.upper()}"', word)
    return code


def new_name_rule(mode: str, args: list[str]) -> NameRule:
    """``name [TYPE] FROM TO [answer auto|name FROM TO|value FROM TO]...``."""
    if len(args) < 2:
        raise RuleError("too few arguments for a name rule")
    if len(args) == 2:
        kind, frm, to = EXACT, normalize(args[0]), normalize(args[1])
    else:
        kind = args[0].lower()
        frm, to = (args[1], args[2]) if kind == REGEX else (normalize(args[1]), normalize(args[2]))
    if kind in (EXACT, SUFFIX):
        frm, to = (x if is_fqdn(x) else x + "." for x in (frm, to))
    auto, answers = parse_answers(kind, args[3:]) if len(args) > 3 else (False, ())
    match kind:
        case "exact":
            compile_name_regex(to, frm)  # CoreDNS checks TO as a pattern too
            return NameRule(mode, NameMatch(kind, frm), to, True, answers)
        case "prefix" | "substring":
            return NameRule(mode, NameMatch(kind, frm), to, auto, answers)
        case "suffix":
            if auto:  # the reverse suffix swap is better than the generic remap
                swap = SuffixSwap(to, frm)
                answers = (NameRewrite(swap), ValueRewrite(swap), *answers)
            return NameRule(mode, NameMatch(kind, frm), to, False, answers)
        case "regex":
            regex = compile_name_regex(frm, to)
            return NameRule(mode, NameMatch(kind, frm, regex), normalize(to), auto, answers)
    raise RuleError(
        "name rule supports only exact, prefix, suffix, substring, and regex name matching, "
        f"received: {kind}",
        args[0],
    )


def parse_answers(kind: str, args: list[str]) -> tuple[bool, tuple[ResponseRule, ...]]:
    """``answer auto``, ``answer name FROM TO``, ``answer value FROM TO``, chained; ``answer``
    may be left out after the first."""
    if len(args) < 2:
        raise RuleError(f"invalid arguments for {kind} rule", args[0] if args else None)
    auto, names, i = False, 0, 0
    rules: list[ResponseRule] = []
    while i < len(args):
        if i == 0 and args[i] != "answer":
            raise RuleError(
                f"exceeded the number of arguments for a non-answer rule argument for {kind} rule",
                args[i],
            )
        if args[i] == "answer":
            i += 1
        if i >= len(args):
            raise RuleError(f"type missing for answer rule for {kind} rule", args[i - 1])
        which = args[i]
        i += 1
        if which == "auto":
            auto = True
            continue
        if which not in ("name", "value"):
            raise RuleError(f'invalid type "{which}" for answer rule for {kind} rule', which)
        if len(args) - i < 2:
            raise RuleError(f"{which} answer rule for {kind} rule: 2 arguments required", which)
        try:
            regex = compile_name_regex(args[i], args[i + 1])
        except RuleError as exc:
            raise RuleError(f"{which} answer rule for {kind} rule: {exc}", exc.word) from None
        rewrite = RegexRewrite(regex, normalize(args[i + 1]))
        rules.append(NameRewrite(rewrite) if which == "name" else ValueRewrite(rewrite))
        names += which == "name"
        i += 2
    if auto and names:
        # CoreDNS's wording, typo included
        raise RuleError("auto name answer rule cannot be combined with explicit name anwer rules")
    return auto, tuple(rules)


def _name_args(args: list[str], rule: str, extra: int) -> tuple[NameMatch, list[str]]:
    """``[TYPE] NAME`` followed by ``extra`` values: the matcher and the values."""
    if len(args) == 1 + extra:
        return name_match(EXACT, args[0], rule), args[1:]
    kind = args[0].lower()
    if kind not in MATCH_TYPES:
        raise RuleError(
            f"{rule} rule supports only exact, prefix, suffix, substring, and regex name matching",
            args[0],
        )
    return name_match(kind, args[1], rule), args[2:]


def new_ttl_rule(mode: str, args: list[str]) -> MatchRule:
    """``ttl [TYPE] NAME SECONDS|MIN-MAX|MIN-|-MAX``."""
    if len(args) < 2:
        raise RuleError(f"too few ({len(args)}) arguments for a ttl rule")
    if len(args) > 3:
        raise RuleError("many few arguments for a ttl rule", args[3])  # CoreDNS's words
    value = args[-1]
    bounds = ttl_range(value)
    if bounds is None:
        raise RuleError(f"invalid TTL '{value}' for a ttl rule", value)
    match, _ = _name_args(args, "ttl", 1)
    return MatchRule(mode, match, TTLClamp(*bounds))


def ttl_range(text: str) -> tuple[int, int] | None:
    """``30`` -> (30, 30); ``30-300``, ``-300`` (0-300), ``30-`` (30-2147483647)."""
    parts = text.split("-")
    if len(parts) > 2 or not all(p == "" or (p.isascii() and p.isdigit()) for p in parts):
        return None
    if len(parts) == 1:
        return None if not text or int(text) > 0xFFFFFFFF else (int(text), int(text))
    low_text, high_text = parts
    if not low_text and not high_text:
        return None
    low = int(low_text) if low_text else 0
    high = int(high_text) if high_text else MAX_TTL
    if low > 0xFFFFFFFF or high > 0xFFFFFFFF or low > high:
        return None
    return low, high


def new_rcode_rule(mode: str, args: list[str]) -> MatchRule:
    """``rcode [TYPE] NAME FROM TO``."""
    if len(args) < 3:
        raise RuleError(f"too few ({len(args)}) arguments for a rcode rule")
    if len(args) > 4:
        raise RuleError("many few arguments for a rcode rule", args[4])  # CoreDNS's words
    old, new = rcode_value(args[-2]), rcode_value(args[-1])
    if old is None:
        raise RuleError(f"invalid matching RCODE '{args[-2]}' for a rcode rule", args[-2])
    if new is None:
        raise RuleError(f"invalid replacement RCODE '{args[-1]}' for a rcode rule", args[-1])
    match, _ = _name_args(args, "rcode", 2)
    return MatchRule(mode, match, RcodeRewrite(old, new))


def rcode_value(text: str) -> int | None:
    """An rcode by number (0-23) or by name (NOERROR, SERVFAIL...)."""
    if text.isascii() and text.isdigit():
        return int(text) if int(text) <= 23 else None
    return RCODES.get(text.upper())


def new_cname_rule(mode: str, args: list[str]) -> CnameRule:
    """``cname [TYPE] FROM TO``: targets compared lowercased; exact and suffix names absolute."""
    if len(args) < 2:
        raise RuleError(f"too few ({len(args)}) arguments for a cname rule")
    if len(args) > 3:
        raise RuleError(f"too many ({len(args)}) arguments for a cname rule", args[3])
    kind = args[0].lower() if len(args) == 3 else EXACT
    if kind not in MATCH_TYPES:
        raise RuleError(f"unknown cname rewrite type: {kind}", args[0])
    frm, to = args[-2], args[-1].lower()
    if kind == REGEX:
        match = NameMatch(kind, frm, compile_plain_regex(frm, "cname"))
    elif kind in (EXACT, SUFFIX):
        match = NameMatch(kind, normalize(frm))
        to = normalize(to)
    else:
        match = NameMatch(kind, frm.lower())
    return CnameRule(mode, CnameTarget(match, to))
