"""Setup of *template*.

::

    template CLASS TYPE [ZONE...] {
        match REGEX...
        answer RR...
        additional RR...
        authority RR...
        rcode CODE
        ederror EXTENDED_ERROR_CODE [EXTRA_REASON]
        fallthrough [ZONE...]
    }

As in CoreDNS: each ``template`` line is one template, tried in the order written; CLASS and
TYPE are miekg/dns names (upper case; ``ANY`` matches all); ZONES default to the block's;
``match`` takes Go regular expressions (default ``.*``), ``answer``, ``additional`` and
``authority`` Go templates (several per line allowed); ``rcode`` a miekg/dns rcode name
(default ``NOERROR``); ``ederror`` an RFC 8914 code (0-65535) and an optional text;
``upstream`` is accepted and ignored (CoreDNS always resolves CNAME targets now).

Stricter than CoreDNS, which fails on the first query instead: a regex Python cannot run as Go
does (:mod:`.regex`) and a template naming an unknown field or giving a function the wrong
arguments (:mod:`.gotemplate`) are errors here, positioned ``FILE:LINE: template: ...``.
Extra arguments to ``rcode`` are errors (CoreDNS ignores them). ``var`` and ``expr``
(expr-lang expressions, CoreDNS 1.12.1+) are not supported: a positioned error says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dns.rdatatype

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.encode import class_name, rcode_name, type_name
from dnsd.fall import Fallthrough
from dnsd.plugins.template.data import Data
from dnsd.plugins.template.gotemplate import BUILTINS, Template, TemplateError
from dnsd.plugins.template.regex import RegexError, compile_go

NAME = "template"
SECTIONS = ("answer", "additional", "authority")
CLASS_ANY = TYPE_ANY = 255

#: miekg/dns StringToClass.
CLASSES = {class_name(c): c for c in (1, 2, 3, 4, 254, 255)}
#: miekg/dns StringToRcode: RcodeToString reversed, plus NOTIMPL and BADSIG (16).
RCODES = {**{rcode_name(r): r for r in (*range(12), *range(16, 24))}, "NOTIMPL": 4, "BADSIG": 16}


@dataclass(frozen=True)
class Regex:
    """A ``match`` pattern as written (the data's ``.Regex``) and compiled."""

    source: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class ExtendedError:
    """An RFC 8914 extended DNS error to put in the reply's OPT."""

    code: int
    reason: str = ""


DEFAULT_REGEX = Regex(".*", compile_go(".*"))


@dataclass(frozen=True)
class Rule:
    """One ``template`` line and its block."""

    qclass: int
    qtype: int
    zones: tuple[str, ...]
    regex: tuple[Regex, ...] = (DEFAULT_REGEX,)
    answer: tuple[Template, ...] = ()
    additional: tuple[Template, ...] = ()
    authority: tuple[Template, ...] = ()
    rcode: int = 0
    ederror: ExtendedError | None = None
    fallthrough: Fallthrough = Fallthrough()

    @property
    def templates(self) -> tuple[Template, ...]:
        return (*self.answer, *self.additional, *self.authority)


@dataclass(frozen=True)
class TemplateOptions:
    """Every template of the block, in the order written."""

    rules: tuple[Rule, ...] = ()

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones of all templates, without duplicates (the handler's ``Zones``)."""
        return tuple(dict.fromkeys(z for rule in self.rules for z in rule.zones))


def parse(c: Controller) -> TemplateOptions:
    """Read every ``template`` directive of the block."""
    rules: list[Rule] = []
    while c.next():
        args = c.remaining_args()
        if len(args) < 2:
            c.arg_err()
        qclass = CLASSES.get(args[0])
        if qclass is None:
            c.err(f"invalid query class {args[0]}")
        qtype = _qtype(args[1])
        if qtype is None:
            c.err(f"invalid query type {args[1]}")
        try:
            zones = tuple(normalize_zones(args[2:])) if len(args) > 2 else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        values: dict[str, object] = {}
        while c.next_block():
            _property(c, values)
        rules.append(Rule(qclass, qtype, zones, **values))  # type: ignore[arg-type]
    return TemplateOptions(tuple(rules))


def _qtype(text: str) -> int | None:
    """miekg/dns StringToType: a type's exact name (``A``, ``AAAA``, ``ANY``, ``TYPE65280``)."""
    try:
        code = int(dns.rdatatype.from_text(text))
    except (dns.rdatatype.UnknownRdatatype, ValueError):
        return None
    return code if type_name(code) == text else None


def _property(c: Controller, values: dict[str, object]) -> None:
    prop = c.val()
    if prop == "match":
        values["regex"] = (*_existing(values, "regex"), *_regexes(c))
    elif prop in SECTIONS:
        values[prop] = (*_existing(values, prop), *_templates(c, prop))
    elif prop == "rcode":
        args = c.remaining_args()
        if len(args) != 1:
            c.arg_err()
        if args[0] not in RCODES:
            c.err(f"unknown rcode {args[0]}")
        values["rcode"] = RCODES[args[0]]
    elif prop == "ederror":
        values["ederror"] = _ederror(c, c.remaining_args())
    elif prop == "fallthrough":
        try:
            values["fallthrough"] = Fallthrough.from_args(c.remaining_args())
        except ValueError as exc:
            c.err(str(exc))
    elif prop == "upstream":
        c.remaining_args()  # CoreDNS ignores it ("remove soon")
    elif prop in ("var", "expr"):
        c.err(f"'{prop}' (expr-lang expressions) is not supported by dnsd; see its README's Bugs")
    else:
        c.unknown_property()


def _existing(values: dict[str, object], key: str) -> tuple[object, ...]:
    found = values.get(key, ())
    return found if isinstance(found, tuple) else ()


def _regexes(c: Controller) -> list[Regex]:
    args = c.remaining_args()
    if not args:
        c.arg_err()
    out = []
    for source in args:
        try:
            out.append(Regex(source, compile_go(source)))
        except RegexError as exc:
            c.err(f"could not parse regex: {source}, {exc}")
    return out


def _templates(c: Controller, section: str) -> list[Template]:
    args = c.remaining_args()
    if not args:
        c.arg_err()
    out = []
    for text in args:
        try:
            out.append(Template(section, text, Data, BUILTINS))
        except TemplateError as exc:
            c.err(f"could not compile template: {exc}")
    return out


def _ederror(c: Controller, args: list[str]) -> ExtendedError:
    if len(args) not in (1, 2):
        c.arg_err()
    code = args[0]
    if not (code.isascii() and code.isdigit()) or int(code) > 0xFFFF:
        c.err(f"invalid extended DNS error code '{code}': a number from 0 to 65535")
    return ExtendedError(int(code), args[1] if len(args) == 2 else "")


def setup(c: Controller) -> None:
    """Parse; one handler holds every template of the block."""
    from dnsd.plugins.template.handler import Template

    opts = parse(c)
    c.add_handler(Template(opts))
