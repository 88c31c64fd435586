"""Label selectors: parsing and matching."""

from __future__ import annotations

import pytest

from dnsd.plugins.kubernetes.selector import parse_selector

MATCH = [
    # (selector, labels, matches)
    ("", {}, True),
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "web"}, True),
    ("app=web", {"app": "db"}, False),
    ("app!=web", {"app": "db"}, True),
    ("app!=web", {}, True),
    ("env in (prod, staging)", {"env": "staging"}, True),
    ("env in (prod,staging)", {"env": "dev"}, False),
    ("env notin (prod)", {"env": "dev"}, True),
    ("env notin (prod)", {}, True),
    ("team", {"team": ""}, True),
    ("!team", {"team": "x"}, False),
    ("!team", {}, True),
    ("example.com/tier=gold,env in (a,b),!legacy", {"example.com/tier": "gold", "env": "b"}, True),
    ("example.com/tier=gold,env in (a,b),!legacy", {"example.com/tier": "gold", "env": "c"}, False),
]


@pytest.mark.parametrize(
    ("selector", "labels", "matches"), MATCH, ids=[m[0] or "empty" for m in MATCH]
)
def test_matches(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_selector(selector).matches(labels) is matches


BAD = [
    ("app=web,", "trailing ','"),
    ("app=web env=x", "expected ',' before 'env=x'"),
    ("env in prod", "'env in prod': values of in/notin go in parentheses: (a,b)"),
    ("=x", "cannot parse '=x'"),
    ("env in (a b)", "'env in (a b)': values of in/notin go in parentheses: (a,b)"),
]


@pytest.mark.parametrize(("selector", "error"), BAD, ids=[b[0] for b in BAD])
def test_bad(selector: str, error: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_selector(selector)
    assert str(exc.value) == error
