"""The in-memory state of the cluster, indexed for answering: the informers' sink.

:class:`Store` lives on the asyncio loop and is not thread-safe; informer threads reach it through
``store.threadsafe(loop)``, which marshals each sink call with ``loop.call_soon_threadsafe``. The
``objects`` file source, which runs on the loop, may call it directly.

Tables (all keyed by :data:`~.objects.Key`), one per kind: ``Service``, ``EndpointSlice``,
``Namespace`` (key ``("", name)``) and ``Pod``. Indexes, updated only for the keys that change:

- the slices of each Service (merged across its slices; each slice is one address family),
- IP -> Services having it as a cluster IP, IP -> slices holding it as a ready endpoint
  (PTR answers and the NS records' lookup of the server's own IPs; the PTR names are built by
  *records*, which knows the zone and the endpoint naming mode),
- IP -> Pods (``pods verified``).

``generation`` grows by one for each changed key, ``serial`` is the unix time of the last change
(the SOA serial, as CoreDNS's "modified"), ``synced_kinds`` holds the kinds whose first list
completed. Listeners registered with :meth:`Store.on_change` are called as
``listener(kind, old, new)`` once per changed key, after the indexes are updated (``old`` is None
for an addition, ``new`` None for a deletion); identical re-deliveries (a relist) call nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

from dnsd.log import plugin_logger
from dnsd.plugins.kubernetes.objects import EndpointSlice, Key, Namespace, Pod, Service

__all__ = ["KINDS", "Listener", "LoopSink", "Store"]

log: logging.Logger = plugin_logger("kubernetes")

#: The kinds the store holds and the record type of each.
KINDS: dict[str, type] = {
    "Service": Service,
    "EndpointSlice": EndpointSlice,
    "Namespace": Namespace,
    "Pod": Pod,
}

Listener = Callable[[str, object | None, object | None], None]

_T = TypeVar("_T")
_EMPTY: tuple[()] = ()


class _IPIndex(Generic[_T]):
    """IP -> records; a single record is stored bare (no 1-tuple: memory, ~100k addresses)."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map: dict[str, _T | tuple[_T, ...]] = {}

    def __len__(self) -> int:
        return len(self._map)

    def get(self, ip: str) -> tuple[_T, ...]:
        value = self._map.get(ip)
        if value is None:
            return ()
        return value if type(value) is tuple else (value,)  # type: ignore[return-value]

    def add(self, ip: str, item: _T) -> None:
        current = self._map.get(ip)
        if current is None:
            self._map[ip] = item
        elif type(current) is tuple:
            self._map[ip] = (*current, item)
        else:
            self._map[ip] = (current, item)  # type: ignore[assignment]

    def remove(self, ip: str, item: _T) -> None:
        current = self._map.get(ip)
        if current is None:
            return
        if type(current) is not tuple:
            if current is item:
                del self._map[ip]
            return
        rest = tuple(x for x in current if x is not item)
        if len(rest) > 1:
            self._map[ip] = rest
        elif rest:
            self._map[ip] = rest[0]
        else:
            del self._map[ip]


class Store:
    """Services, EndpointSlices, Namespaces and Pods with the indexes *records* reads."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, object]] = {kind: {} for kind in KINDS}
        self._services: dict[Key, Service] = self.tables["Service"]  # type: ignore[assignment]
        self._namespaces: dict[Key, Namespace] = self.tables["Namespace"]  # type: ignore[assignment]
        self._service_slices: dict[Key, tuple[EndpointSlice, ...]] = {}
        self._services_by_ip: _IPIndex[Service] = _IPIndex()
        self._slices_by_ip: _IPIndex[EndpointSlice] = _IPIndex()
        self._pods_by_ip: _IPIndex[Pod] = _IPIndex()
        self._listeners: list[Listener] = []
        #: Grows by one for every changed key.
        self.generation = 0
        #: The generation of the last change to a Namespace object.
        self.namespaces_stamp = 0
        #: Namespace -> the generation of the last change to a Service, slice or Pod in it
        #: (never removed, so a stamp never repeats).
        self.ns_stamps: dict[str, int] = {}
        #: Unix time of the last change (the SOA serial).
        self.serial = int(time.time())
        #: Kinds whose first full list has been delivered.
        self.synced_kinds: set[str] = set()

    # -- reading ---------------------------------------------------------------------------

    def service(self, namespace: str, name: str) -> Service | None:
        return self._services.get((namespace, name))

    def slices(self, namespace: str, service: str) -> tuple[EndpointSlice, ...]:
        """The slices of a Service (whether or not the Service itself is known)."""
        return self._service_slices.get((namespace, service), _EMPTY)

    def namespace(self, name: str) -> Namespace | None:
        return self._namespaces.get(("", name))

    def services_by_ip(self, ip: str) -> tuple[Service, ...]:
        """Services with ``ip`` (canonical text) among their cluster IPs."""
        return self._services_by_ip.get(ip)

    def slices_by_ip(self, ip: str) -> tuple[EndpointSlice, ...]:
        """Slices with a ready endpoint having address ``ip``."""
        return self._slices_by_ip.get(ip)

    def pods_by_ip(self, ip: str) -> tuple[Pod, ...]:
        return self._pods_by_ip.get(ip)

    def synced(self, kind: str) -> None:
        """Sink: the first list of ``kind`` is complete."""
        self.synced_kinds.add(kind)

    def has_synced(self, kinds: Iterable[str]) -> bool:
        return all(kind in self.synced_kinds for kind in kinds)

    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, old, new)`` for each change; returns a function removing it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- the sink --------------------------------------------------------------------------

    def replace(self, kind: str, items: dict[Key, object]) -> None:
        """The full state of ``kind`` after a (re)list: apply only what differs."""
        table = self.tables.get(kind)
        if table is None:
            log.debug("store: ignoring unknown kind %s", kind)
            return
        gone = [key for key in table if key not in items]
        for key in gone:
            self._apply(kind, key, table[key], None)
        for key, item in items.items():
            old = table.get(key)
            if old is item or old == item:
                continue
            self._apply(kind, key, old, item)

    def upsert(self, kind: str, key: Key, item: object) -> None:
        table = self.tables.get(kind)
        if table is None:
            log.debug("store: ignoring unknown kind %s", kind)
            return
        old = table.get(key)
        if item is None:
            if old is not None:
                self._apply(kind, key, old, None)
        elif old is not item and old != item:
            self._apply(kind, key, old, item)

    def delete(self, kind: str, key: Key) -> None:
        table = self.tables.get(kind)
        old = table.get(key) if table is not None else None
        if old is not None:
            self._apply(kind, key, old, None)

    def threadsafe(self, loop: asyncio.AbstractEventLoop) -> LoopSink:
        """A sink for other threads: every call runs on ``loop``."""
        return LoopSink(self, loop)

    # -- applying one change -----------------------------------------------------------------

    def _apply(self, kind: str, key: Key, old: object | None, new: object | None) -> None:
        if new is not None and not isinstance(new, KINDS[kind]):
            log.warning("store: %s %s/%s is a %s, ignored", kind, *key, type(new).__name__)
            return
        table = self.tables[kind]
        if new is None:
            del table[key]
        else:
            table[key] = new
        if kind == "Service":
            self._index_service(old, new)  # type: ignore[arg-type]
        elif kind == "EndpointSlice":
            self._index_slice(old, new)  # type: ignore[arg-type]
        elif kind == "Pod":
            self._index_pod(old, new)  # type: ignore[arg-type]
        self.generation += 1
        if kind == "Namespace":
            self.namespaces_stamp = self.generation
        else:
            self.ns_stamps[key[0]] = self.generation
        self.serial = int(time.time())
        for listener in self._listeners:
            try:
                listener(kind, old, new)
            except Exception:
                log.exception("store: change listener failed")

    def _index_service(self, old: Service | None, new: Service | None) -> None:
        if old is not None:
            for ip in old.cluster_ips:
                self._services_by_ip.remove(ip, old)
        if new is not None:
            for ip in new.cluster_ips:
                self._services_by_ip.add(ip, new)

    def _index_slice(self, old: EndpointSlice | None, new: EndpointSlice | None) -> None:
        if old is not None:
            for ip in _slice_ips(old):
                self._slices_by_ip.remove(ip, old)
            skey = old.service_key
            current = self._service_slices.get(skey, _EMPTY)
            if new is not None and new.service_key == skey:
                # Same service: replace in place, so answers keep their order.
                self._service_slices[skey] = tuple(new if s is old else s for s in current)
                new_done = True
            else:
                rest = tuple(s for s in current if s is not old)
                if rest:
                    self._service_slices[skey] = rest
                else:
                    self._service_slices.pop(skey, None)
                new_done = False
        else:
            new_done = False
        if new is not None:
            if not new_done:
                skey = new.service_key
                self._service_slices[skey] = (*self._service_slices.get(skey, _EMPTY), new)
            for ip in _slice_ips(new):
                self._slices_by_ip.add(ip, new)

    def _index_pod(self, old: Pod | None, new: Pod | None) -> None:
        if old is not None:
            for ip in old.ips:
                self._pods_by_ip.remove(ip, old)
        if new is not None:
            for ip in new.ips:
                self._pods_by_ip.add(ip, new)


def _slice_ips(item: EndpointSlice) -> Iterable[str]:
    return dict.fromkeys(ip for ep in item.endpoints for ip in ep.addresses)


class LoopSink:
    """The store's sink for informer threads: each call is queued onto the loop's thread.

    ``replace`` copies the dict it is given, so the caller may reuse it. Calls made after the
    loop has closed (shutdown) are dropped.
    """

    __slots__ = ("_store", "_loop")

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def _call(self, fn: Callable[..., None], *args: object) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop closed
            log.debug("store: loop closed, dropping %s", getattr(fn, "__name__", fn))

    def replace(self, kind: str, items: dict[Key, object]) -> None:
        self._call(self._store.replace, kind, dict(items))

    def upsert(self, kind: str, key: Key, item: object) -> None:
        self._call(self._store.upsert, kind, key, item)

    def delete(self, kind: str, key: Key) -> None:
        self._call(self._store.delete, kind, key)

    def synced(self, kind: str) -> None:
        self._call(self._store.synced, kind)


if TYPE_CHECKING:  # both are informer sinks (checked by mypy, nothing imported at run time)
    from dnsd.plugins.kubernetes.informer import Sink

    def _sinks(store: Store, loop_sink: LoopSink) -> tuple[Sink, Sink]:
        return store, loop_sink
