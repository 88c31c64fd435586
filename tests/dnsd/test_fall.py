"""fallthrough [ZONES...]: which names pass on."""

from __future__ import annotations

import pytest

from dnsd.fall import Fallthrough

CASES = [
    # (id, args, name, through)
    ("off", None, "a.example.org.", False),
    ("all", [], "a.example.org.", True),
    ("all-root", [], ".", True),
    ("zone-match", ["example.org"], "a.example.org.", True),
    ("zone-apex", ["example.org"], "example.org.", True),
    ("zone-other", ["example.org"], "a.example.net.", False),
    ("suffix-not-label", ["ample.org"], "example.org.", False),
    ("reverse-cidr", ["10.0.0.0/8"], "1.2.3.10.in-addr.arpa.", True),
    ("reverse-zones", ["in-addr.arpa", "ip6.arpa"], "1.0.0.127.in-addr.arpa.", True),
    ("case-normalised", ["Example.ORG"], "a.example.org.", True),
]


@pytest.mark.parametrize(
    ("args", "name", "through"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_through(args: list[str] | None, name: str, through: bool) -> None:
    fall = Fallthrough() if args is None else Fallthrough.from_args(args)
    assert fall.through(name) is through


def test_bad_zone_is_an_error() -> None:
    with pytest.raises(ValueError):
        Fallthrough.from_args(["bad..zone"])
