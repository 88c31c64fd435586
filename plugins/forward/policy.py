"""Upstream selection: ``policy random|round_robin|sequential`` (CoreDNS's forward/policy.go).

A policy orders the upstreams for one query; the handler tries them in that order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Policy(Protocol):
    """Orders the upstreams for one query."""

    def order(self, pool: Sequence[T]) -> Sequence[T]: ...


class Random:
    """A random order for every query (the default)."""

    def order(self, pool: Sequence[T]) -> Sequence[T]:
        n = len(pool)
        if n == 1:
            return pool
        if n == 2:
            return pool if random.getrandbits(1) else (pool[1], pool[0])
        return random.sample(pool, n)


class RoundRobin:
    """Each query starts one further along the list; the rest follow in list order."""

    def __init__(self) -> None:
        self.robin = 0

    def order(self, pool: Sequence[T]) -> Sequence[T]:
        self.robin += 1
        i = self.robin % len(pool)
        return [pool[i], *pool[:i], *pool[i + 1 :]]


class Sequential:
    """Always the list order: the first healthy upstream gets every query."""

    def order(self, pool: Sequence[T]) -> Sequence[T]:
        return pool


def make_policy(name: str) -> Policy:
    """The policy called ``name`` (setup has checked it)."""
    if name == "round_robin":
        return RoundRobin()
    if name == "sequential":
        return Sequential()
    return Random()
