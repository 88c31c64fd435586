"""Setup of *header*: ``header { SELECTOR ACTION FLAGS... }`` lines.

SELECTOR is ``query`` or ``response``, ACTION ``set`` or ``clear``, FLAGS from
``aa``, ``ra``, ``rd`` (all case-insensitive). A line without a selector
(``set ra``), the syntax of older CoreDNS versions, applies to responses and logs
a deprecation warning, as CoreDNS did while it accepted it (CoreDNS 1.14 refuses it).
Error messages are CoreDNS's, positioned at their line.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.log import plugin_logger
from dnsd.plugins.header.flags import ACTIONS, FLAGS, Rule
from dnsd.plugins.header.handler import Header

NAME = "header"

log = plugin_logger(NAME)


@dataclass(frozen=True)
class HeaderOptions:
    """The rules, in the order written: applied to the query, and to the reply."""

    query: tuple[Rule, ...] = ()
    response: tuple[Rule, ...] = ()


def parse(c: Controller) -> HeaderOptions:
    """Read every ``header`` block; each must hold at least one rule."""
    query: list[Rule] = []
    response: list[Rule] = []
    while c.next():
        if c.next_arg():
            c.arg_err()
        rules = 0
        while c.next_block():
            selector, new = _line(c)
            (query if selector == "query" else response).extend(new)
            rules += 1
        if not rules:
            c.arg_err()
    return HeaderOptions(query=tuple(query), response=tuple(response))


def _line(c: Controller) -> tuple[str, list[Rule]]:
    """One ``[SELECTOR] ACTION FLAGS...`` line: its selector and rules."""
    selector = c.val().lower()
    action = ""
    if selector in ACTIONS:
        tok = c.token()
        log.warning(
            "%s:%d: rule without a selector applies to responses; this syntax is deprecated, "
            "write 'response %s ...'",
            tok.file,
            tok.line,
            selector,
        )
        action, selector = selector, "response"
    elif selector in ("query", "response"):
        if c.next_arg():
            action = c.val()
    else:
        c.err(f"setting up rule: invalid selector={selector} should be query or response")
    flags = c.remaining_args()
    if not action:
        c.err("setting up rule: no flag action provided")
    if not flags:
        c.err("setting up rule: invalid length for flags, at least one should be provided")
    state = ACTIONS.get(action.lower())
    if state is None:
        c.err(f"setting up rule: unknown flag action={action.lower()}, should be set or clear")
    rules = []
    for flag in flags:
        if flag.lower() not in FLAGS:
            c.err(f"setting up rule: unknown/unsupported flag={flag.lower()}")
        rules.append(Rule(flag.lower(), state))
    return selector, rules


def setup(c: Controller) -> None:
    """Register the handler."""
    options = parse(c)
    c.add_handler(Header(options.query, options.response))
