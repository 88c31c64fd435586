"""Header flag rules: which bits a list of ``set``/``clear`` rules turns on and off.

Rules apply in the order they are written, so the last rule naming a flag wins;
that makes a list of rules the same as one pair of masks,
``(flags | set_mask) & ~clear_mask``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The flags the rules may name, as CoreDNS's *header* allows them, and their header bits.
FLAGS: dict[str, int] = {"aa": 0x0400, "ra": 0x0080, "rd": 0x0100}
ACTIONS: dict[str, bool] = {"set": True, "clear": False}


@dataclass(frozen=True)
class Rule:
    """Set (``state`` True) or clear one flag."""

    flag: str
    state: bool


@dataclass(frozen=True)
class Masks:
    """The bits a list of rules sets and clears."""

    set: int = 0
    clear: int = 0

    def __bool__(self) -> bool:
        return bool(self.set or self.clear)

    def apply(self, flags: int) -> int:
        """``flags`` with the rules applied."""
        return (flags | self.set) & ~self.clear & 0xFFFF


def masks(rules: Sequence[Rule]) -> Masks:
    """The rules folded into masks, later rules overriding earlier ones."""
    on = off = 0
    for rule in rules:
        bit = FLAGS[rule.flag]
        if rule.state:
            on, off = on | bit, off & ~bit
        else:
            on, off = on & ~bit, off | bit
    return Masks(on, off)
