"""Upstream order per query: random, round_robin, sequential (CoreDNS's forward/policy.go)."""

from __future__ import annotations

from collections import Counter

from dnsd.plugins.forward.policy import Random, RoundRobin, Sequential, make_policy

POOL = ("a", "b", "c")


def test_sequential_keeps_the_list_order() -> None:
    assert [list(Sequential().order(POOL)) for _ in range(3)] == [["a", "b", "c"]] * 3


def test_round_robin_starts_one_further_each_time() -> None:
    policy = RoundRobin()
    got = [list(policy.order(POOL)) for _ in range(4)]
    # CoreDNS: the counter is incremented first, so the first query starts at the second upstream
    assert got == [["b", "a", "c"], ["c", "a", "b"], ["a", "b", "c"], ["b", "a", "c"]]


def test_random_is_a_permutation_and_spreads_the_first_pick() -> None:
    policy = Random()
    firsts = Counter()
    for _ in range(600):
        order = list(policy.order(POOL))
        assert sorted(order) == list(POOL)
        firsts[order[0]] += 1
    assert set(firsts) == set(POOL) and min(firsts.values()) > 100
    assert list(policy.order(("only",))) == ["only"]
    assert {tuple(policy.order(("x", "y"))) for _ in range(100)} == {("x", "y"), ("y", "x")}


def test_make_policy_by_name() -> None:
    assert isinstance(make_policy("random"), Random)
    assert isinstance(make_policy("round_robin"), RoundRobin)
    assert isinstance(make_policy("sequential"), Sequential)
