"""Setup of *rewrite*.

::

    rewrite [continue|stop] FIELD [TYPE] FROM TO [OPTIONS]
    rewrite [continue|stop] {
        FIELD [TYPE] FROM TO
        answer ...
    }

A block holds one rule written over several lines (every word of the block is
read in order, as CoreDNS reads it). The directive may appear any number of
times; the block's rules run in Corefile order. Errors carry CoreDNS's
wording and the line of the word at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.corefile import Token
from dnsd.errors import CorefileError
from dnsd.plugins.rewrite.handler import Rewrite
from dnsd.plugins.rewrite.names import RuleError
from dnsd.plugins.rewrite.rules import new_rule
from dnsd.plugins.rewrite.state import Rule

NAME = "rewrite"


@dataclass(frozen=True)
class RewriteOptions:
    """The block's rules, in Corefile order."""

    rules: tuple[Rule, ...] = ()


def parse(c: Controller) -> RewriteOptions:
    """Read every ``rewrite`` of the block."""
    rules: list[Rule] = []
    while c.next():
        head = c.token()
        words = _words(c)
        try:
            rules.append(new_rule([tok.text for tok in words]))
        except RuleError as exc:
            at = next((tok for tok in words if tok.text == exc.word), head)
            raise CorefileError(str(exc), at.file, at.line, NAME) from None
    return RewriteOptions(tuple(rules))


def _words(c: Controller) -> list[Token]:
    """The rule's words: the line's arguments, or with fewer than two, the block's words too."""
    words: list[Token] = []
    while c.next_arg():
        words.append(c.token())
    if len(words) >= 2:
        if c.next_block():
            last = words[-1]
            raise CorefileError(
                "unexpected '{': a rule is either on one line or inside the block",
                last.file,
                last.line,
                NAME,
            )
        return words
    while c.next_block():
        words.append(c.token())
        while c.next_arg():
            words.append(c.token())
    return words


def setup(c: Controller) -> None:
    """Put one handler with all the block's rules in the chain."""
    c.add_handler(Rewrite(parse(c).rules))
