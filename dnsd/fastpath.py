"""Answer memos: a reply served again, before the chain, to the same query bytes.

A plugin that answers from data it can vouch for (the cache; kubernetes, until
its store's generation moves) offers a *memo check* with its
:class:`~dnsd.reply.Reply`: a callable that says whether the same bytes are
still the right answer (and counts the hit as the plugin's own,
so metrics and prefetch see it). The server keeps the encoded reply under the
query's bytes after the ID (question, flags and EDNS, case included: any byte
that could change an answer is in the key) and answers the next identical
query with two slices and a join: no parse, no routing, no task, no chain.
UDP and TCP keep separate tables (a UDP reply may be truncated for its client).

A memo is only kept when every plugin that ran before the answering one is
*memo-safe* (``memo_safe = True`` on its handler): its effect on a query
depends on nothing but the query's bytes, and whatever it does per query is a
reply observer (``req.on_reply``), replayed on every memo hit, a memo hook
(``req.on_memo_hit``), called on every hit (*cache*'s miss count), or a memo
transform (``req.transform_memo``), applied to every copy (*loadbalance*'s
round_robin shuffles each copy). *log*, *prometheus*, *errors*, *bufsize*, *any*
and *loadbalance* round_robin are; plugins that look at the client's address
(acl, ``loadbalance`` with ``prefer``, whoami) are not, so a block with them in
front keeps using the chain. A plugin in front that answers with a new Reply
object drops the memo check unless it hands it on: *cache* hands it on only when
it did not store the reply (a zone where caching is disabled), so a stored
answer is served by the cache with its TTL counting down.

Memos live in one listener's :class:`~dnsd.server.Dispatcher`, so a reload
starts with none. The table is bounded: when it holds :data:`LIMIT` memos the
oldest quarter is dropped (:func:`make_room`), so a working set larger than the
table still gets most of its hits. A memo of a kubernetes answer is about 420
bytes (the key, the reply, the Memo and its slot; the check is shared per store
generation), so a full table is about 40 MiB per listener and transport.

A flood of unique names (``<random>.svc.cluster.local``) would fill that table
with memos that are never hit again: 60,000 random names through *file* grew
dnsd's RSS by 47 MiB. So past the first :data:`FREE` memos a query's bytes are
only remembered the *second* time they are answered (:class:`Doorkeeper`, the
"doorkeeper" of TinyLFU): names clients repeat still get their memo on the
second ask, a random-name flood adds almost nothing (false positives, under 3%
of its names). The residue is stated, not hidden: a client that sends every
name twice can still fill the table up to :data:`LIMIT`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any

#: Returns True when the memo still answers (and counts the hit); False drops it.
MemoCheck = Callable[[], bool]

#: Memos one listener keeps at most, per transport: enough for every name of a cluster with
#: 50,000 Services and its search-path misses.
LIMIT = 100_000

#: Memos a table takes on first sight; past this a key must be seen twice (:class:`Doorkeeper`).
FREE = 8_192


class Memo:
    """One remembered reply: its bytes after the ID and what to do on a hit."""

    __slots__ = ("tail", "check", "observers", "transforms", "hooks", "zone", "plugin")

    def __init__(
        self,
        tail: bytes,
        check: MemoCheck,
        observers: Sequence[Callable[..., Any]],
        zone: str,
        plugin: str,
        transforms: Sequence[Callable[[bytes], bytes | None]] = (),
        hooks: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.tail = tail
        self.check = check
        self.observers = tuple(observers)
        self.transforms = tuple(transforms)
        self.hooks = tuple(hooks)
        self.zone = zone
        self.plugin = plugin


class Doorkeeper:
    """Says whether a key was seen before, in a fixed bit set: no per-key memory at all.

    One bit per hash slot (``bits`` slots, allocated on first use); the set is cleared after
    ``window`` new keys, so at most ``window / bits`` of it is set and a never-seen key passes
    as seen that rarely (the false positives). Keys seen again after a clear pay one more miss.
    """

    __slots__ = ("bits", "size", "mask", "window", "added")

    def __init__(self, bits: int = 1 << 22, window: int = 1 << 17) -> None:
        if bits & (bits - 1) or bits < 8:
            raise ValueError("bits must be a power of two, at least 8")
        self.size = bits >> 3
        self.mask = bits - 1
        self.window = window
        self.bits = bytearray()
        self.added = 0

    def seen(self, key: bytes) -> bool:
        """True when ``key`` was seen since the last clear; otherwise note it and say False."""
        if not self.bits:
            self.bits = bytearray(self.size)
        slot = hash(key) & self.mask
        index, bit = slot >> 3, 1 << (slot & 7)
        if self.bits[index] & bit:
            return True
        self.added += 1
        if self.added >= self.window:
            self.bits = bytearray(self.size)
            self.added = 0
        self.bits[index] |= bit
        return False


def admit(memos: dict[bytes, Memo], door: Doorkeeper, key: bytes, free: int = FREE) -> bool:
    """Whether to remember ``key``: always while ``memos`` is small, else on its second sight."""
    return len(memos) < free or door.seen(key)


def make_room(memos: dict[bytes, Memo], limit: int) -> None:
    """Drop the oldest quarter of ``memos`` (dicts keep insertion order) when it holds ``limit``."""
    if len(memos) < limit:
        return
    for key in list(islice(memos, max(1, limit // 4))):
        del memos[key]


def memo_plugins(handlers: Sequence[Any]) -> frozenset[str]:
    """The plugins of a chain whose memos may be kept: every handler before them is memo-safe."""
    names: set[str] = set()
    for handler in handlers:
        names.add(handler.name)
        if not getattr(handler, "memo_safe", False):
            break
    return frozenset(names)
