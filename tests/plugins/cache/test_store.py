"""The store: CoreDNS's per-shard capacities, random eviction within a shard, one entry per key."""

from __future__ import annotations

import itertools

from dnsd.plugins.cache.entry import Entry, Key
from dnsd.plugins.cache.message import Shape
from dnsd.plugins.cache.store import SHARDS, Store

SHAPE = Shape(0x8180, 0, 1, 0, 0, 0, b"", 12)


def entry(key: Key, denial: int = 0) -> Entry:
    return Entry(key, b"\x00" * 12, SHAPE, 60, 0.0, denial, 0)


def keys_in_one_shard(count: int) -> list[Key]:
    """``count`` keys that fall in the same shard (hashes are per process, so search)."""
    found: list[Key] = []
    shard = None
    for i in itertools.count():
        key = (f"n{i}.example.org.", 1, 1, 0)
        if shard is None:
            shard = hash(key) & (SHARDS - 1)
        if hash(key) & (SHARDS - 1) == shard:
            found.append(key)
            if len(found) == count:
                return found
    raise AssertionError("unreachable")


def test_a_full_shard_evicts_one_of_its_entries() -> None:
    store = Store(success_capacity=1024, denial_capacity=1024)  # 4 per shard
    keys = keys_in_one_shard(6)
    assert [store.put(entry(k)) for k in keys[:4]] == [False] * 4
    assert store.put(entry(keys[4])) is True
    assert store.size(0) == 4 and keys[4] in store.map
    assert sum(k in store.map for k in keys[:4]) == 3
    # Storing a key again replaces it without evicting anything.
    assert store.put(entry(keys[4])) is False and store.size(0) == 4


def test_classes_have_their_own_capacity() -> None:
    store = Store(success_capacity=1024, denial_capacity=1024)
    keys = keys_in_one_shard(8)
    for k in keys[:4]:
        store.put(entry(k, denial=0))
    for k in keys[4:]:
        assert store.put(entry(k, denial=1)) is False
    assert (store.size(0), store.size(1)) == (4, 4)


def test_one_entry_per_key_across_classes() -> None:
    store = Store(success_capacity=0, denial_capacity=0)
    key = ("example.org.", 1, 1, 0)
    store.put(entry(key, denial=1))
    positive = entry(key, denial=0)
    store.put(positive)
    assert store.map[key] is positive
    assert (store.size(0), store.size(1)) == (1, 0)


def test_remove_keeps_positions_right() -> None:
    store = Store(success_capacity=1024, denial_capacity=1024)
    entries = [entry(k) for k in keys_in_one_shard(4)]
    for e in entries:
        store.put(e)
    store.remove(entries[0])
    store.remove(entries[0])  # twice is harmless
    store.remove(entries[2])
    assert set(store.map) == {entries[1].key, entries[3].key}
    for e in (entries[1], entries[3]):
        store.remove(e)
    assert store.size(0) == 0 and not store.map
    store.put(entries[0])
    store.clear()
    assert store.size(0) == 0 and not store.map
