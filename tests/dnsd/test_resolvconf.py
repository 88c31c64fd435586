"""search_domains: the resolver's reading of a resolv.conf's search list."""

from __future__ import annotations

import pytest

from dnsd.resolvconf import search_domains

CASES = [
    ("", ()),
    ("nameserver 10.0.0.10\n", ()),
    ("search a.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
     ("a.svc.cluster.local.", "svc.cluster.local.", "cluster.local.")),
    ("search one.example\nsearch Two.Example. two.example\n", ("two.example.",)),
    ("search a b\ndomain corp.example extra\n", ("corp.example.",)),
    ("domain corp.example\nsearch x\n", ("x.",)),
    ("  search   spaced.example  \n#search commented\n", ("spaced.example.",)),
    ("search\n", ()),
]  # fmt: skip


@pytest.mark.parametrize(("text", "want"), CASES)
def test_search_domains(text: str, want: tuple[str, ...]) -> None:
    assert search_domains(text) == want
