"""A small fake Kubernetes API server: real HTTP, real resourceVersion semantics.

It runs an aiohttp app on its own event loop in a background thread, so sync tests, async tests
and the informer threads all reach it the same way, through the real ``kubernetes`` client::

    with FakeAPI(bookmark_interval=0.2) as api:
        api.add("Service", make_service("default", "web", cluster_ip="10.0.0.1"))
        ... api.url ...

Served: GET list and watch of services, endpointslices, namespaces and pods, cluster-wide and
per namespace. One global resourceVersion counter is bumped by every add/update/delete and every
change is kept as an event until :meth:`FakeAPI.compact`, after which older resourceVersions get
410 Gone (as an ERROR event on a watch; an expired ``continue`` token gets an HTTP 410).

Lists: consistent snapshots, ``limit``/``continue`` paging, ``labelSelector`` (=, ==, !=, in, notin,
exists, !exists) and ``fieldSelector`` (metadata.name, metadata.namespace, and status.phase and
spec.nodeName of pods, with = == !=); bad selectors get 400. Watches: ``watch`` parsed like Go's
ParseBool, ``resourceVersion`` "" or "0" replays the current state as ADDED, otherwise every
change after it; ``timeoutSeconds`` closes the stream; BOOKMARKs every ``bookmark_interval``
seconds (and on :meth:`FakeAPI.bookmark`) when ``allowWatchBookmarks`` is true; an object that
stops or starts matching the selector is sent as DELETED or ADDED, as the API server does.

Faults: :meth:`FakeAPI.fail` (HTTP status, garbage body, hang, delay, raw lines) for the next N
matching requests; :meth:`FakeAPI.close_watches`; :meth:`FakeAPI.stop` / :meth:`FakeAPI.start`
close and reopen the port (state is kept). :attr:`FakeAPI.requests` logs every request.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Obj = dict[str, Any]
ObjKey = tuple[str, str]


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    api_version: str
    prefix: str
    namespaced: bool


KINDS = {
    k.kind: k
    for k in (
        Kind("Service", "services", "v1", "/api/v1", True),
        Kind(
            "EndpointSlice",
            "endpointslices",
            "discovery.k8s.io/v1",
            "/apis/discovery.k8s.io/v1",
            True,
        ),
        Kind("Namespace", "namespaces", "v1", "/api/v1", False),
        Kind("Pod", "pods", "v1", "/api/v1", True),
    )
}
_BY_NAME = {**KINDS, **{k.plural: k for k in KINDS.values()}}
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}  # Go's strconv.ParseBool
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def kind_of(name: str) -> Kind:
    return _BY_NAME[name]


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    params: Mapping[str, str]
    kind: str
    namespace: str
    watch: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    #: the client's source port: the same port twice means a kept-alive connection was reused
    peer_port: int = 0


@dataclass
class _Event:
    rv: int
    kind: str
    type: str  # ADDED MODIFIED DELETED
    obj: Obj  # the new state (the last state for DELETED)
    old: Obj | None


@dataclass
class _Fault:
    status: int | None
    garbage: bool
    hang: bool
    delay: float
    count: int
    watch: bool | None
    kind: str | None
    when: Callable[[Mapping[str, str]], bool] | None
    lines: tuple[bytes, ...] = ()

    def matches(self, kind: str, watch: bool, params: Mapping[str, str]) -> bool:
        return (
            self.count > 0
            and (self.watch is None or self.watch is watch)
            and (self.kind is None or self.kind == kind)
            and (self.when is None or self.when(params))
        )


@dataclass(eq=False)
class _Watcher:
    kind: str
    queue: asyncio.Queue[Any]
    bookmarks: bool
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def push(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


_CLOSE = object()
_BOOKMARK = object()


class FakeAPI:
    """See the module docstring. ``watch_timeout``: the server's own limit on a watch."""

    def __init__(
        self,
        *,
        bookmark_interval: float | None = None,
        watch_timeout: float = 1800.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        #: Serve HTTPS with this context (client certificates are checked if it says so).
        self.ssl_context = ssl_context
        self.bookmark_interval = bookmark_interval
        self.watch_timeout = watch_timeout
        self.requests: list[Request] = []
        self.peak_inflight = 0  # most list requests served at once
        self._inflight = 0
        self._lock = threading.Lock()
        self._rv = 1
        self._objects: dict[str, dict[ObjKey, Obj]] = {k: {} for k in KINDS}
        self._compacted = 1
        self._base: dict[str, dict[ObjKey, Obj]] = {k: {} for k in KINDS}
        self._history: list[_Event] = []
        self._watchers: set[_Watcher] = set()
        self._faults: list[_Fault] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fakeapi")
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakeAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        """Listen (again, on the same port after a :meth:`stop`)."""
        if self._runner is None:
            self._call(self._start())

    def stop(self) -> None:
        """Close the port and every open stream; the state is kept for :meth:`start`."""
        if self._runner is not None:
            self.close_watches()
            self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock, ssl_context=self.ssl_context).start()
        self._runner = runner

    async def _stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()  # no new connections from here on
            self.close_watches()  # then end the streams that slipped in meanwhile
            await runner.cleanup()

    # -- state --------------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def add(self, kind: str, obj: Obj) -> Obj:
        """Create ``obj``; returns the stored copy (with resourceVersion and uid)."""
        return self._change(kind, obj, create=True)

    def update(self, kind: str, obj: Obj) -> Obj:
        """Replace an existing object (MODIFIED)."""
        return self._change(kind, obj, create=False)

    def apply(self, kind: str, obj: Obj) -> Obj:
        """Create or replace."""
        k = kind_of(kind)
        with self._lock:
            exists = _obj_key(obj, k) in self._objects[k.kind]
        return self._change(kind, obj, create=not exists)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        k = kind_of(kind)
        with self._lock:
            old = self._objects[k.kind].pop((namespace if k.namespaced else "", name))
            self._rv += 1
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record(_Event(self._rv, k.kind, "DELETED", gone, old))

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        k = kind_of(kind)
        with self._lock:
            obj = self._objects[k.kind].get((namespace if k.namespaced else "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def _change(self, kind: str, obj: Obj, *, create: bool) -> Obj:
        k = kind_of(kind)
        obj = copy.deepcopy(obj)
        obj.setdefault("kind", k.kind)
        obj.setdefault("apiVersion", k.api_version)
        meta = obj.setdefault("metadata", {})
        if not k.namespaced:
            meta.pop("namespace", None)
        key = _obj_key(obj, k)
        with self._lock:
            old = self._objects[k.kind].get(key)
            if create and old is not None:
                raise ValueError(f"{k.kind} {key} exists")
            if not create and old is None:
                raise KeyError(f"{k.kind} {key} does not exist")
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            meta.setdefault("uid", old["metadata"]["uid"] if old else str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
            self._objects[k.kind][key] = obj
            kind_ = "ADDED" if old is None else "MODIFIED"
            self._record(_Event(self._rv, k.kind, kind_, obj, old))
            return copy.deepcopy(obj)

    def _record(self, event: _Event) -> None:  # with self._lock held
        self._history.append(event)
        for w in self._watchers:
            if w.kind == event.kind:
                w.push(event)

    def compact(self) -> None:
        """Forget the history: watches and continue tokens from older resourceVersions get 410."""
        with self._lock:
            self._compacted = self._rv
            self._base = copy.deepcopy(self._objects)
            self._history.clear()

    def _state_at(self, kind: str, rv: int) -> dict[ObjKey, Obj]:  # with self._lock held
        state = dict(self._base[kind])
        for ev in self._history:
            if ev.rv > rv:
                break
            if ev.kind == kind:
                key = _obj_key(ev.obj, KINDS[kind])
                if ev.type == "DELETED":
                    state.pop(key, None)
                else:
                    state[key] = ev.obj
        return state

    # -- faults and streams -------------------------------------------------------------------

    def fail(
        self,
        status: int | None = None,
        *,
        garbage: bool = False,
        hang: bool = False,
        delay: float = 0.0,
        count: int = 1,
        watch: bool | None = None,
        kind: str | None = None,
        when: Callable[[Mapping[str, str]], bool] | None = None,
        lines: Iterable[bytes] = (),
    ) -> None:
        """The next ``count`` requests (only watches or only lists if ``watch`` is set; only of
        ``kind`` if set; only those whose query parameters satisfy ``when``) get HTTP ``status``,
        a garbage body (a list: non-JSON; a watch: one non-JSON line, then the stream ends),
        hang (a list: no headers; a watch: headers, then silence; until :meth:`close_watches`
        or :meth:`stop`), are served after ``delay``, or (watches) get these raw ``lines``
        first, then the normal stream."""
        with self._lock:
            self._faults.append(
                _Fault(
                    status,
                    garbage,
                    hang,
                    delay,
                    count,
                    watch,
                    kind_of(kind).kind if kind else None,
                    when,
                    tuple(lines),
                )
            )

    def close_watches(self) -> None:
        """End every open watch stream (and hanging request) as a server timeout would."""
        with self._lock:
            for w in self._watchers:
                w.push(_CLOSE)

    def bookmark(self) -> None:
        """Send a BOOKMARK at the current resourceVersion to every watch that allows them."""
        with self._lock:
            for w in self._watchers:
                if w.bookmarks:
                    w.push(_BOOKMARK)

    @property
    def watch_count(self) -> int:
        """Open watch streams (hanging requests included)."""
        with self._lock:
            return len(self._watchers)

    def watches(self, kind: str | None = None) -> list[Request]:
        want = kind_of(kind).kind if kind else None
        return [r for r in list(self.requests) if r.watch and (want is None or r.kind == want)]

    def lists(self, kind: str | None = None) -> list[Request]:
        want = kind_of(kind).kind if kind else None
        return [r for r in list(self.requests) if not r.watch and (want is None or r.kind == want)]

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        route = _route(request.path)
        if route is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        k, namespace = route
        watch_param = params.get("watch", "")
        if watch_param and watch_param not in _TRUE | _FALSE:
            return _status(400, "BadRequest", f"invalid watch parameter {watch_param!r}")
        watch = watch_param in _TRUE
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(
            Request(
                request.method,
                request.path,
                params,
                k.kind,
                namespace,
                watch,
                dict(request.headers),
                peer[1] if peer else 0,
            )
        )
        if request.method != "GET":
            return _status(405, "MethodNotAllowed", "only GET is served")
        try:
            match = _matcher(params.get("labelSelector", ""), params.get("fieldSelector", ""), k)
        except ValueError as exc:
            return _status(400, "BadRequest", str(exc))
        with self._lock:
            fault = next((f for f in self._faults if f.matches(k.kind, watch, params)), None)
            if fault is not None:
                fault.count -= 1
            if not watch:
                self._inflight += 1
                self.peak_inflight = max(self.peak_inflight, self._inflight)
        try:
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                reason = {410: "Expired", 404: "NotFound"}.get(fault.status, "InternalError")
                return _status(fault.status, reason, f"injected HTTP {fault.status}")

            def selected(obj: Obj) -> bool:
                meta = obj.get("metadata", {})
                return (not namespace or meta.get("namespace") == namespace) and match(obj)

            if watch:
                return await self._watch(request, k, params, selected, fault)
            return await self._list(k, params, selected, fault)
        finally:
            if not watch:
                with self._lock:
                    self._inflight -= 1

    async def _list(
        self,
        k: Kind,
        params: dict[str, str],
        selected: Callable[[Obj], bool],
        fault: _Fault | None,
    ) -> web.StreamResponse:
        if fault is not None and fault.hang:
            await self._hang(k)
            return _status(504, "Timeout", "hung request released")
        if fault is not None and fault.garbage:
            return web.Response(
                body=b'{"kind": "ServiceList", garbage', content_type="application/json"
            )
        return self._list_body(k, params, selected)

    def _list_body(
        self, k: Kind, params: dict[str, str], selected: Callable[[Obj], bool]
    ) -> web.StreamResponse:
        limit = _int(params.get("limit", "") or "0")
        token = params.get("continue", "")
        if limit is None or limit < 0:
            return _status(400, "BadRequest", f"invalid limit {params.get('limit')!r}")
        with self._lock:
            if token:
                if params.get("resourceVersion"):
                    return _status(
                        400,
                        "BadRequest",
                        "specifying resource version is not allowed when using continue",
                    )
                try:
                    state = json.loads(base64.urlsafe_b64decode(token))
                    rv, after = int(state["rv"]), tuple(state["after"])
                except (ValueError, KeyError, TypeError):
                    return _status(400, "BadRequest", "invalid continue token")
                if rv < self._compacted:
                    return _status(410, "Expired", "The provided continue parameter is too old")
                objects = self._state_at(k.kind, rv)
            else:
                rv, after, objects = self._rv, ("", ""), self._objects[k.kind]
            keys = sorted(key for key in objects if key > after and selected(objects[key]))
            page = keys[:limit] if limit else keys
            items = [copy.deepcopy(objects[key]) for key in page]
        meta: Obj = {"resourceVersion": str(rv)}
        if limit and len(keys) > limit:
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"rv": rv, "after": list(page[-1])}).encode()
            ).decode()
            meta["remainingItemCount"] = len(keys) - limit
        body = {
            "kind": f"{k.kind}List",
            "apiVersion": k.api_version,
            "metadata": meta,
            "items": items,
        }
        return web.json_response(body)

    async def _hang(self, k: Kind) -> None:
        watcher = _Watcher(k.kind, asyncio.Queue(), False, self._loop)
        with self._lock:
            self._watchers.add(watcher)
        try:
            while await asyncio.wait_for(watcher.queue.get(), 60) is not _CLOSE:
                pass
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._watchers.discard(watcher)

    async def _watch(
        self,
        request: web.Request,
        k: Kind,
        params: dict[str, str],
        selected: Callable[[Obj], bool],
        fault: _Fault | None,
    ) -> web.StreamResponse:
        rv_param = params.get("resourceVersion", "")
        timeout = _int(params.get("timeoutSeconds", "") or "0")
        if (rv_param not in ("", "0") and _int(rv_param) is None) or timeout is None:
            return _status(400, "BadRequest", "invalid resourceVersion or timeoutSeconds")
        bookmarks = params.get("allowWatchBookmarks", "") in _TRUE
        watcher = _Watcher(k.kind, asyncio.Queue(), bookmarks, self._loop)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if fault is not None and fault.hang:
            await self._hang(k)
            return response
        if fault is not None and fault.garbage:
            await response.write(b"{this is not json\n")
            return response
        for line in fault.lines if fault is not None else ():
            await response.write(line + b"\n")
        with self._lock:
            expired = False
            if rv_param in ("", "0"):
                initial = [
                    _Event(self._rv, k.kind, "ADDED", o, None)
                    for _, o in sorted(self._objects[k.kind].items())
                ]
            elif int(rv_param) < self._compacted:
                expired, initial = True, []
            else:
                initial = [e for e in self._history if e.kind == k.kind and e.rv > int(rv_param)]
            if not expired:
                self._watchers.add(watcher)
        if expired:
            status = _status_body(
                410, "Expired", f"too old resource version: {rv_param} ({self._compacted})"
            )
            await _send(response, {"type": "ERROR", "object": status})
            return response
        try:
            await self._stream(
                response, k, watcher, initial, selected, timeout or self.watch_timeout
            )
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            with self._lock:
                self._watchers.discard(watcher)
        return response

    async def _stream(
        self,
        response: web.StreamResponse,
        k: Kind,
        watcher: _Watcher,
        initial: Iterable[_Event],
        selected: Callable[[Obj], bool],
        timeout: float,
    ) -> None:
        for ev in initial:
            await _send_event(response, ev, selected)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        interval = self.bookmark_interval if watcher.bookmarks else None
        next_bookmark = loop.time() + interval if interval else None
        while True:
            now = loop.time()
            wake = min(deadline, next_bookmark) if next_bookmark is not None else deadline
            try:
                item = await asyncio.wait_for(watcher.queue.get(), max(0.0, wake - now))
            except TimeoutError:
                if loop.time() >= deadline:
                    return
                item = _BOOKMARK
            if item is _CLOSE:
                return
            if item is _BOOKMARK:
                meta = {"resourceVersion": str(self._rv)}
                await _send(response, {"type": "BOOKMARK", "object": _bookmark(k, meta)})
                if interval:
                    next_bookmark = loop.time() + interval
                continue
            await _send_event(response, item, selected)


# -- HTTP helpers -------------------------------------------------------------------------------


def _route(path: str) -> tuple[Kind, str] | None:
    """(kind, namespace or "") of a collection path."""
    for k in KINDS.values():
        if path == f"{k.prefix}/{k.plural}":
            return k, ""
        m = re.fullmatch(rf"{re.escape(k.prefix)}/namespaces/([a-z0-9-]+)/{k.plural}", path)
        if m and k.namespaced:
            return k, m.group(1)
    return None


def _status_body(code: int, reason: str, message: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(_status_body(code, reason, message), status=code)


def _bookmark(k: Kind, meta: Obj) -> Obj:
    return {"kind": k.kind, "apiVersion": k.api_version, "metadata": meta}


async def _send(response: web.StreamResponse, event: Obj) -> None:
    await response.write(json.dumps(event).encode() + b"\n")


async def _send_event(
    response: web.StreamResponse, ev: _Event, selected: Callable[[Obj], bool]
) -> None:
    """As the API server's watch cache: a change across the selector's edge is ADDED/DELETED."""
    now = selected(ev.obj)
    before = ev.old is not None and selected(ev.old)
    if ev.type == "ADDED" and now:
        await _send(response, {"type": "ADDED", "object": ev.obj})
    elif ev.type == "DELETED" and before:
        await _send(response, {"type": "DELETED", "object": ev.obj})
    elif ev.type == "MODIFIED" and (now or before):
        if now and before:
            kind, obj = "MODIFIED", ev.obj
        elif now:
            kind, obj = "ADDED", ev.obj
        else:
            kind, obj = "DELETED", copy.deepcopy(ev.old)
            assert obj is not None
            obj["metadata"]["resourceVersion"] = str(ev.rv)
        await _send(response, {"type": kind, "object": obj})


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _obj_key(obj: Obj, k: Kind) -> ObjKey:
    meta = obj.get("metadata", {})
    return (meta.get("namespace", "") if k.namespaced else "", meta["name"])


# -- selectors (an independent implementation: the fake is the oracle) --------------------------

_LABEL_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_LABEL_VALUE = r"[-A-Za-z0-9_.]*"
_LABEL_TERM = re.compile(
    rf"\s*(?:(?P<nkey>!)\s*(?P<nexists>{_LABEL_KEY})"
    rf"|(?P<skey>{_LABEL_KEY})\s+(?P<setop>in|notin)\s*\((?P<values>[^()]*)\)"
    rf"|(?P<ekey>{_LABEL_KEY})\s*(?P<eqop>==|=|!=)\s*(?P<value>{_LABEL_VALUE})"
    rf"|(?P<key>{_LABEL_KEY}))\s*(?:,|$)"
)
_FIELDS: dict[str, tuple[str, ...]] = {
    "metadata.name": (),
    "metadata.namespace": (),
    "status.phase": ("Pod",),
    "spec.nodeName": ("Pod",),
}


def _labels_matcher(text: str) -> Callable[[Mapping[str, str]], bool]:
    tests: list[Callable[[Mapping[str, str]], bool]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _LABEL_TERM.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unable to parse requirement: {text[pos:]!r}")
        pos = m.end()
        g = m.groupdict()
        if g["nexists"]:
            tests.append(lambda labels, key=g["nexists"]: key not in labels)
        elif g["skey"]:
            values = {v.strip() for v in g["values"].split(",")}
            if g["setop"] == "in":
                tests.append(lambda labels, key=g["skey"], vs=values: labels.get(key) in vs)
            else:
                tests.append(lambda labels, key=g["skey"], vs=values: labels.get(key) not in vs)
        elif g["ekey"]:
            key, value = g["ekey"], g["value"]
            if g["eqop"] == "!=":
                tests.append(lambda labels, key=key, value=value: labels.get(key) != value)
            else:
                tests.append(lambda labels, key=key, value=value: labels.get(key) == value)
        else:
            tests.append(lambda labels, key=g["key"]: key in labels)
    return lambda labels: all(t(labels) for t in tests)


def _fields_matcher(text: str, k: Kind) -> Callable[[Obj], bool]:
    tests: list[Callable[[Obj], bool]] = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|=|!=)\s*(.*)", term)
        if m is None:
            raise ValueError(f"invalid field selector: {term!r}")
        path, op, value = m.groups()
        kinds = _FIELDS.get(path)
        if kinds is None or (kinds and k.kind not in kinds):
            raise ValueError(f'field label not supported: "{path}"')

        def get(obj: Obj, path: str = path) -> str:
            cur: Any = obj
            for part in path.split("."):
                cur = cur.get(part) if isinstance(cur, dict) else None
            return cur if isinstance(cur, str) else ""

        if op == "!=":
            tests.append(lambda obj, get=get, value=value: get(obj) != value)
        else:
            tests.append(lambda obj, get=get, value=value: get(obj) == value)
    return lambda obj: all(t(obj) for t in tests)


def _matcher(labels: str, fields: str, k: Kind) -> Callable[[Obj], bool]:
    by_labels, by_fields = _labels_matcher(labels), _fields_matcher(fields, k)

    def match(obj: Obj) -> bool:
        obj_labels = obj.get("metadata", {}).get("labels") or {}
        return by_labels(obj_labels) and by_fields(obj)

    return match


# -- object builders ----------------------------------------------------------------------------

Port = Mapping[str, Any] | tuple[Any, ...]


def _ports(ports: Iterable[Port], *, target: bool) -> list[Obj]:
    """Ports as dicts, or tuples (name, port[, protocol])."""
    out = []
    for p in ports:
        if isinstance(p, Mapping):
            out.append(dict(p))
            continue
        name, number, *rest = p
        port: Obj = {"name": name, "port": number, "protocol": rest[0] if rest else "TCP"}
        if target:
            port["targetPort"] = number
        out.append(port)
    return out


def _meta(namespace: str, name: str, labels: Mapping[str, str] | None) -> Obj:
    meta: Obj = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def make_service(
    ns: str,
    name: str,
    *,
    cluster_ip: str = "",
    cluster_ips: Iterable[str] | None = None,
    ports: Iterable[Port] = (("http", 80, "TCP"),),
    type: str = "ClusterIP",
    external_name: str = "",
    labels: Mapping[str, str] | None = None,
    ip_families: Iterable[str] | None = None,
) -> Obj:
    """A Service; ``cluster_ip="None"`` is headless, ``external_name`` makes an ExternalName."""
    spec: Obj = {
        "type": "ExternalName" if external_name else type,
        "ports": _ports(ports, target=True),
    }
    if external_name:
        spec["externalName"] = external_name
    else:
        ips = list(cluster_ips) if cluster_ips is not None else ([cluster_ip] if cluster_ip else [])
        if ips:
            spec["clusterIP"], spec["clusterIPs"] = ips[0], ips
        if ip_families is not None:
            spec["ipFamilies"] = list(ip_families)
        elif ips and ips[0] != "None":
            spec["ipFamilies"] = ["IPv6" if ":" in ip else "IPv4" for ip in ips]
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": _meta(ns, name, labels),
        "spec": spec,
    }


def endpoint(
    *addresses: str,
    ready: bool | None = True,
    hostname: str | None = None,
    pod: str | None = None,
    zone: str | None = None,
    node: str | None = None,
) -> Obj:
    """One EndpointSlice endpoint; ``ready=None`` leaves the condition out (counts as ready)."""
    ep: Obj = {
        "addresses": list(addresses),
        "conditions": {} if ready is None else {"ready": ready},
    }
    if hostname:
        ep["hostname"] = hostname
    if pod:
        ep["targetRef"] = {"kind": "Pod", "name": pod}
    if zone:
        ep["zone"] = zone
    if node:
        ep["nodeName"] = node
    return ep


def make_slice(
    ns: str,
    service: str,
    name: str | None = None,
    *,
    endpoints: Iterable[Obj | str] = (),
    ports: Iterable[Port] = (("http", 80, "TCP"),),
    address_type: str = "IPv4",
    labels: Mapping[str, str] | None = None,
) -> Obj:
    """An EndpointSlice of ``service``; endpoints are dicts (see :func:`endpoint`) or IPs."""
    eps = [endpoint(e) if isinstance(e, str) else dict(e) for e in endpoints]
    all_labels = {"kubernetes.io/service-name": service, **(labels or {})}
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": _meta(ns, name or f"{service}-{next(_slice_ids)}", all_labels),
        "addressType": address_type,
        "endpoints": eps,
        "ports": _ports(ports, target=False),
    }


_slice_ids = itertools.count(1)


def make_namespace(name: str, labels: Mapping[str, str] | None = None) -> Obj:
    all_labels = {"kubernetes.io/metadata.name": name, **(labels or {})}
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": _meta("", name, all_labels)}


def make_pod(
    ns: str,
    name: str,
    ip: str = "",
    *,
    phase: str = "Running",
    labels: Mapping[str, str] | None = None,
    ips: Iterable[str] | None = None,
    deleting: bool = False,
    node: str = "node-1",
) -> Obj:
    """A Pod; ``deleting`` sets metadata.deletionTimestamp (a terminating pod)."""
    meta = _meta(ns, name, labels)
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    all_ips = list(ips) if ips is not None else ([ip] if ip else [])
    status: Obj = {"phase": phase}
    if all_ips:
        status["podIP"], status["podIPs"] = all_ips[0], [{"ip": i} for i in all_ips]
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "registry.k8s.io/pause"}],
        },
        "status": status,
    }


# -- test helpers -------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


class RecordingSink:
    """An informer Sink that applies what it gets to ``state[kind][key]`` and logs every call
    as ``(method, kind, detail)``; thread-safe, for tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state: dict[str, dict[tuple[str, str], object]] = {}
        self.calls: list[tuple[str, str, object]] = []
        self.synced_kinds: list[str] = []

    def replace(self, kind: str, items: dict[tuple[str, str], object]) -> None:
        with self._lock:
            self.state[kind] = dict(items)
            self.calls.append(("replace", kind, dict(items)))

    def upsert(self, kind: str, key: tuple[str, str], item: object) -> None:
        with self._lock:
            self.state.setdefault(kind, {})[key] = item
            self.calls.append(("upsert", kind, (key, item)))

    def delete(self, kind: str, key: tuple[str, str]) -> None:
        with self._lock:
            self.state.setdefault(kind, {}).pop(key, None)
            self.calls.append(("delete", kind, key))

    def synced(self, kind: str) -> None:
        with self._lock:
            self.synced_kinds.append(kind)
            self.calls.append(("synced", kind, None))

    def snapshot(self, kind: str) -> dict[tuple[str, str], object]:
        with self._lock:
            return dict(self.state.get(kind, {}))

    def methods(self) -> list[str]:
        with self._lock:
            return [c[0] for c in self.calls]
