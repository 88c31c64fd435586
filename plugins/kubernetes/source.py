"""``objects PATH...`` (a dnsd addition): the cluster's objects from YAML or JSON files.

Instead of an API server, *kubernetes* can read Namespaces, Services, EndpointSlices and Pods from
files or folders: single objects, ``kind: List`` (or ``ServiceList``...) with ``items``, and
multi-document YAML, so the output of
``kubectl get ns,svc,endpointslices,pods -A -o yaml`` can be used as it is. Folders are read
recursively for ``*.yaml``, ``*.yml`` and ``*.json``, skipping names that start with a dot (the
``..data`` links of a mounted ConfigMap are followed through the visible names only). Other kinds
are ignored; objects go through the same converters as the API's.

Conveniences for hand-written files: a namespaced object without ``metadata.namespace`` is in
``default`` (as ``kubectl apply`` would put it), and when the files hold no Namespace at all,
every namespace the other objects use exists (without labels).

The files are polled: every ``interval`` seconds their content is hashed and, when it changed,
parsed and delivered with ``sink.replace`` for each kind (the store applies only the differences),
then ``sink.synced`` the first time. A file that cannot be read or parsed keeps the last good data
and logs one line naming the file, the document (and line where YAML tells it); the same broken
content is not reported twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from dnsd.files import read_regular
from dnsd.log import plugin_logger
from dnsd.plugins.kubernetes.jsonstream import top_level
from dnsd.plugins.kubernetes.objects import RESOURCES, Key, Namespace, object_key
from dnsd.plugins.kubernetes.selector import Selector

if TYPE_CHECKING:
    from dnsd.plugins.kubernetes.informer import Sink

__all__ = ["FileSource", "SourceError", "load_objects"]

log: logging.Logger = plugin_logger("kubernetes")

KINDS = ("Namespace", "Service", "EndpointSlice", "Pod")
_SUFFIXES = (".yaml", ".yml", ".json")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Objects = dict[str, dict[Key, object]]


class SourceError(Exception):
    """A path that cannot be read or a document that cannot be used; the message names it."""


def _files(paths: Sequence[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path, followlinks=True):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(
                    os.path.join(root, n)
                    for n in sorted(names)
                    if not n.startswith(".") and n.endswith(_SUFFIXES)
                )
        elif os.path.exists(path):
            found.append(path)
        else:
            raise SourceError(f"{path}: no such file or directory")
    return found


def _read(paths: Sequence[str]) -> tuple[str, dict[str, bytes]]:
    """(sha256 of every file's name and content, contents by file)."""
    digest = hashlib.sha256()
    contents: dict[str, bytes] = {}
    for name in _files(paths):
        try:
            data = read_regular(name)  # a FIFO in a file's place must not stall the polls
        except OSError as exc:
            raise SourceError(f"{name}: {exc.strerror or exc}") from None
        contents[name] = data
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest(), contents


def _documents(name: str, data: bytes) -> Iterable[tuple[int, object]]:
    """(1-based document number, document) of one YAML file."""
    text = data.decode("utf-8-sig", errors="replace")
    index = 0
    try:
        for index, doc in enumerate(yaml.load_all(text, Loader=_Loader), 1):  # noqa: B007
            yield index, doc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"{where}: document {index + 1}: {problem}") from None


def _objects(doc: object, where: str) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """(kind, position, object) of the objects in one document (lists flattened)."""
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise SourceError(f"{where}: not a Kubernetes object (a {type(doc).__name__})")
    kind = doc.get("kind")
    if not isinstance(kind, str):
        raise SourceError(f"{where}: no kind")
    if kind == "List" or kind.endswith("List"):
        items = doc.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            raise SourceError(f"{where}: items is not a list")
        for i, item in enumerate(items, 1):
            yield _list_item(kind, i, item, where)
        return
    yield kind, where, doc


def _list_item(list_kind: str, i: int, item: object, where: str) -> tuple[str, str, dict[str, Any]]:
    """(kind, position, object) of the ``i``-th item of a list of kind ``list_kind``."""
    if not isinstance(item, dict):
        raise SourceError(f"{where}, item {i}: not a Kubernetes object")
    kind_of = item.get("kind", list_kind[: -len("List")])
    return (kind_of if isinstance(kind_of, str) else ""), f"{where}, item {i}", item


def _is_list(kind: str) -> bool:
    return kind == "List" or kind.endswith("List")


def _json_objects(name: str, data: bytes) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, position, object) of a JSON file; a list's items are decoded one at a time
    (:mod:`jsonstream`). Items before the list's ``kind`` that name no kind of their own wait
    for it."""
    where = f"{name}: document 1"
    fields: dict[str, Any] = {}
    waiting: list[tuple[int, object]] = []
    streamed = False
    try:
        for key, value in top_level(data.decode("utf-8-sig", errors="replace")):
            if key is None:  # not an object
                yield from _objects(value, where)
                return
            kind = fields.get("kind")
            if key != "items" or not isinstance(value, Iterator):
                fields[key] = value
            elif isinstance(kind, str) and not _is_list(kind):
                fields[key] = list(value)
            else:
                streamed = True
                for i, item in enumerate(value, 1):
                    own = item.get("kind") if isinstance(item, dict) else None
                    if isinstance(kind, str) or isinstance(own, str):
                        yield _list_item(kind if isinstance(kind, str) else "List", i, item, where)
                    else:
                        waiting.append((i, item))
    except ValueError as exc:  # json.JSONDecodeError
        raise SourceError(f"{name}: {exc}") from None
    if not streamed:
        yield from _objects(fields, where)
        return
    kind = fields.get("kind")
    if not isinstance(kind, str):
        raise SourceError(f"{where}: no kind")
    if not _is_list(kind):
        raise SourceError(f"{where}: items in a {kind}, which is not a list")
    for i, item in waiting:
        yield _list_item(kind, i, item, where)


def _file_objects(name: str, data: bytes) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if name.endswith(".json"):
        yield from _json_objects(name, data)
        return
    for index, doc in _documents(name, data):
        yield from _objects(doc, f"{name}: document {index}")


def load_objects(
    contents: dict[str, bytes],
    kinds: Iterable[str] = KINDS,
    label_selector: Selector | None = None,
) -> Objects:
    """Records by kind and key from files' contents; raises SourceError."""
    wanted = set(kinds) | {"Namespace"}
    result: Objects = {kind: {} for kind in KINDS if kind in wanted}
    namespaces_seen: set[str] = set()
    has_namespaces = False
    for name, data in contents.items():
        for kind, where, obj in _file_objects(name, data):
            if kind == "Namespace":
                has_namespaces = True
            if kind not in result:
                continue
            record = _convert(kind, obj, where, label_selector)
            if record is None:
                continue
            key, item = record
            namespaces_seen.add(key[0])
            if item is not None:
                result[kind][key] = item
    if not has_namespaces:
        for ns in sorted(namespaces_seen - {""}):
            result["Namespace"][("", ns)] = Namespace(ns)
    return result


def _convert(
    kind: str, obj: dict[str, Any], where: str, selector: Selector | None
) -> tuple[Key, object | None] | None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise SourceError(f"{where}: {kind} without metadata.name")
    if kind != "Namespace":
        if not meta.get("namespace"):
            obj = {**obj, "metadata": {**meta, "namespace": "default"}}
            meta = obj["metadata"]
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = {}
        if selector is not None and not selector.matches(labels):
            return None
    key = object_key(obj)
    if key is None:
        raise SourceError(f"{where}: {kind} without metadata.name")
    if kind == "Namespace":
        key = ("", key[1])
    return key, RESOURCES[kind].convert(obj)


class FileSource:
    """Polls ``paths`` and delivers their objects to ``sink`` (see the module docstring).

    ``poll()`` reads and delivers in the calling thread; ``start()`` polls once, then keeps
    polling in a task, parsing in a worker thread and calling the sink on the loop (so the sink
    may be the Store itself).
    """

    def __init__(
        self,
        paths: Sequence[str],
        sink: Sink,
        *,
        interval: float = 5.0,
        kinds: Iterable[str] = KINDS,
        label_selector: Selector | None = None,
    ) -> None:
        self.paths = tuple(paths)
        self.sink = sink
        self.interval = interval
        self.kinds = tuple(k for k in KINDS if k in set(kinds) | {"Namespace"})
        self.label_selector = label_selector
        #: True once the files were read without error.
        self.has_synced = False
        #: Why the last read failed (None when it succeeded).
        self.last_error: str | None = None
        self._digest = ""
        self._task: asyncio.Task[None] | None = None

    def _scan(self) -> tuple[str, Objects | None]:
        """(digest, objects) when the content changed and parses; (digest, None) when
        unchanged or already reported broken. Raises SourceError once per broken content."""
        try:
            digest, contents = _read(self.paths)
        except SourceError as exc:
            digest, contents = "unreadable: " + str(exc), {}
            if digest != self._digest:
                self._digest = digest
                raise
            return digest, None
        if digest == self._digest:
            return digest, None
        self._digest = digest
        return digest, load_objects(contents, self.kinds, self.label_selector)

    def _deliver(self, objects: Objects) -> None:
        for kind in self.kinds:
            self.sink.replace(kind, objects.get(kind, {}))
        if not self.has_synced:
            for kind in self.kinds:
                self.sink.synced(kind)
        counts = ", ".join(f"{len(objects.get(k, {}))} {k}s" for k in self.kinds)
        log.info("objects: %s %s", "reloaded" if self.has_synced else "loaded", counts)
        self.has_synced = True
        self.last_error = None

    def _failed(self, exc: SourceError) -> None:
        self.last_error = str(exc)
        log.error("objects: %s (keeping the last good data)", exc)

    def poll(self) -> bool:
        """Read the files now; deliver when they changed. True when objects were delivered."""
        try:
            _, objects = self._scan()
        except SourceError as exc:
            self._failed(exc)
            return False
        if objects is None:
            return False
        self._deliver(objects)
        return True

    async def poll_async(self) -> bool:
        """:meth:`poll` with the reading and parsing done in a worker thread."""
        try:
            _, objects = await asyncio.to_thread(self._scan)
        except SourceError as exc:
            self._failed(exc)
            return False
        if objects is None:
            return False
        self._deliver(objects)
        return True

    async def start(self) -> None:
        """Poll once (so the first data is there before serving), then every ``interval``."""
        await self.poll_async()
        self._task = asyncio.create_task(self._run(), name="kubernetes-objects")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll_async()
            except Exception:  # never let the poller die
                log.exception("objects: poll failed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
