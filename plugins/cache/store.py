"""Where entries live: one dict for lookups, CoreDNS's sharded capacities for eviction.

CoreDNS keeps a success and a denial cache of 256 shards each; a shard holds
``capacity // 256`` items (at least 4, so at least 1024 in all) and, when it is
full, adding a new key evicts a random item of that shard. dnsd keeps exactly
that accounting (so capacities, rounding and when evictions happen match) but
looks entries up in one dict: a hit costs one dict lookup, whatever the shard.

A key holds one entry: storing a positive reply replaces a negative one for the
same question and the reverse (CoreDNS can hold both and answers from the
negative one first, even when the positive one is newer).
"""

from __future__ import annotations

import random

from dnsd.plugins.cache.entry import Entry, Key

SHARDS = 256
_MIN_PER_SHARD = 4


def per_shard(capacity: int) -> int:
    """Items per shard for a configured capacity (CoreDNS's ``cache.New``)."""
    return max(capacity // SHARDS, _MIN_PER_SHARD)


class _Class:
    """The shards of one cache class (success or denial)."""

    __slots__ = ("limit", "shards", "size")

    def __init__(self, capacity: int) -> None:
        self.limit = per_shard(capacity)
        self.shards: list[list[Entry]] = [[] for _ in range(SHARDS)]
        self.size = 0


class Store:
    """Entries by key, with per-class, per-shard capacity and random eviction."""

    def __init__(self, success_capacity: int, denial_capacity: int) -> None:
        #: Lookups go straight to this dict (the hit path).
        self.map: dict[Key, Entry] = {}
        self._classes = (_Class(success_capacity), _Class(denial_capacity))
        self._random = random.Random()

    def capacity(self, denial: int) -> int:
        """The effective capacity of a class (a multiple of 256, at least 1024)."""
        return self._classes[denial].limit * SHARDS

    def size(self, denial: int) -> int:
        """Entries held in a class."""
        return self._classes[denial].size

    def put(self, entry: Entry) -> bool:
        """Store ``entry`` (replacing its key's entry); True when another one was evicted."""
        old = self.map.get(entry.key)
        if old is not None:
            self.remove(old)
        cls = self._classes[entry.denial]
        entry.shard = hash(entry.key) & (SHARDS - 1)
        shard = cls.shards[entry.shard]
        evicted = False
        if len(shard) >= cls.limit:
            self.remove(shard[self._random.randrange(len(shard))])
            evicted = True
        entry.pos = len(shard)
        shard.append(entry)
        cls.size += 1
        self.map[entry.key] = entry
        return evicted

    def remove(self, entry: Entry) -> None:
        """Forget ``entry`` if it is still stored."""
        if self.map.get(entry.key) is not entry:
            return
        del self.map[entry.key]
        cls = self._classes[entry.denial]
        shard = cls.shards[entry.shard]
        last = shard.pop()
        if last is not entry:
            shard[entry.pos] = last
            last.pos = entry.pos
        cls.size -= 1

    def clear(self) -> None:
        """Forget every entry."""
        self.map.clear()
        for cls in self._classes:
            cls.shards = [[] for _ in range(SHARDS)]
            cls.size = 0
