"""An informer per resource: list, then watch from the list's resourceVersion, forever.

What client-go's reflector does and no Python client ships (the official ``Watch`` is half of it,
ecosystem §2): one daemon thread per resource that

- lists (``labelSelector``/``fieldSelector``, paged with ``limit``/``continue``), converts every
  item in this thread and hands the whole state to ``sink.replace`` (the store deletes what
  vanished), then ``sink.synced`` once;
- watches from the list's resourceVersion with ``allowWatchBookmarks=true`` and a jittered
  ``timeoutSeconds``, parsing each line with ``json.loads`` (raw dicts, no models) and resuming from
  the last resourceVersion seen, objects' and BOOKMARKs' alike, whenever the stream ends;
- relists on 410 Gone (an ERROR event with code 410 or an HTTP 410) and on nothing else;
- notices a dead or silent stream by the socket's read timeout (set above the API server's
  one-minute bookmark interval) and TCP keepalive;
- backs off exponentially with jitter on every error (HTTP 5xx, garbage, connection refused) and
  never stops; while the API is unreachable the sink keeps what it has, since ``replace`` is only
  called with the result of a complete list.

``convert(obj)`` returning None (or raising) means "absent": the key is left out of a list and
deleted on ADDED/MODIFIED; objects without a name and JSON lines that are not events are skipped
and counted in ``bad_objects``. ``stop()`` shuts the socket of the response being read so the
thread ends at once (the urllib3 ProtocolError that causes is expected and swallowed); a request
still waiting for its response headers cannot be interrupted and ends within the connect/read
timeout (the thread is a daemon, so it never holds up the process).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from urllib3.exceptions import HTTPError, ReadTimeoutError

from dnsd.log import plugin_logger
from dnsd.plugins.kubernetes.client import Api, ApiError, Cancelled, Response

Key = tuple[str, str]  # (namespace, name); ("", name) for cluster-scoped objects

log = plugin_logger("kubernetes")


class Sink(Protocol):
    """Where an informer delivers, called from the informer's thread (the store provides a
    ``threadsafe(loop)`` adapter that hops onto the event loop)."""

    def replace(self, kind: str, items: dict[Key, object]) -> None: ...
    def upsert(self, kind: str, key: Key, item: object) -> None: ...
    def delete(self, kind: str, key: Key) -> None: ...
    def synced(self, kind: str) -> None: ...


class ResourceLike(Protocol):
    """What the informer needs of ``objects.Resource``."""

    @property
    def kind(self) -> str: ...
    @property
    def plural(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def convert(self) -> Callable[[dict[str, Any]], object | None]: ...


class BadResponse(Exception):
    """The API server sent something that is not the JSON it should have."""


class _Expired(Exception):
    """410 Gone: the resourceVersion we hold is too old; relist."""


class _Stopped(Exception):
    pass


class Backoff:
    """Exponential back-off with jitter: the n-th wait is in [d/2, d], d = min(cap, first*2^n)."""

    def __init__(self, first: float, cap: float, rand: Callable[[], float] = random.random) -> None:
        self.first, self.cap, self._rand = first, cap, rand
        self.failures = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2.0 ** min(self.failures, 60))
        self.failures += 1
        return delay * (0.5 + 0.5 * self._rand())

    def reset(self) -> None:
        self.failures = 0


class Informer:
    """List+watch ``resource`` from ``api`` into ``sink`` on a daemon thread.

    Timeouts are seconds: ``watch_timeout`` is the ``timeoutSeconds`` asked of the server
    (± ``watch_jitter`` as a fraction); ``read_timeout`` is the longest silence tolerated on a
    socket (keep it above the API server's bookmark interval, one minute); ``backoff_min`` and
    ``backoff_max`` bound the wait after an error; ``page_size`` is the list ``limit`` (0: none).
    """

    def __init__(
        self,
        api: Api,
        resource: ResourceLike,
        sink: Sink,
        *,
        label_selector: str = "",
        field_selector: str = "",
        watch_timeout: float = 300.0,
        watch_jitter: float = 0.1,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        backoff_min: float = 0.2,
        backoff_max: float = 30.0,
        page_size: int = 500,
    ) -> None:
        self.api = api
        self.resource = resource
        self.sink = sink
        self.kind = resource.kind
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.watch_timeout = watch_timeout
        self.watch_jitter = watch_jitter
        self.timeout = (connect_timeout, read_timeout)
        self.page_size = page_size
        self.backoff = Backoff(backoff_min, backoff_max)
        #: resourceVersion the next watch resumes from; None = list first.
        self.resource_version: str | None = None
        #: objects skipped because they had no name or convert raised
        self.bad_objects = 0
        self._last_error: str | None = None
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._response: Response | None = None
        self._thread: threading.Thread | None = None

    # -- public -------------------------------------------------------------------------------

    @property
    def has_synced(self) -> bool:
        """The first list completed and was handed to the sink."""
        return self._synced.is_set()

    @property
    def last_error(self) -> str | None:
        """The latest failure, cleared by the next successful list or watch event."""
        return self._last_error

    def wait_synced(self, timeout: float | None = None) -> bool:
        return self._synced.wait(timeout)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"k8s-informer-{self.resource.plural}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and abort the request in flight (returns at once)."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            response.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended (or never started)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # -- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        expired_in_a_row = 0
        while not self._stop.is_set():
            try:
                rv = self.resource_version
                if rv is None:
                    rv = self._list()
                self._watch(rv)
                expired_in_a_row = 0
            except _Stopped:
                break
            except _Expired as exc:
                self.resource_version = None
                expired_in_a_row += 1
                log.info("%s: watch expired (%s); relisting", self.resource.plural, exc)
                if expired_in_a_row > 1:
                    self._stop.wait(self.backoff.next())
            except Exception as exc:
                if self._stop.is_set():
                    break
                self._failed(exc)
        log.debug("%s: informer stopped", self.resource.plural)

    def _failed(self, exc: Exception) -> None:
        what = "watch" if self.resource_version is not None else "list"
        self._last_error = f"{what} {self.resource.path}: {_describe(exc)}"
        delay = self.backoff.next()
        expected = isinstance(exc, ApiError | BadResponse | HTTPError | OSError)
        if expected:  # CoreDNS's client-go logs these as errors too ("Failed to watch ...")
            log.error("Failed to watch: %s; retrying in %.1fs", self._last_error, delay)
        else:  # a bug: keep going, but show where
            log.error("%s; retrying in %.1fs", self._last_error, delay, exc_info=exc)
        self._stop.wait(delay)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _open(self, params: dict[str, str], *, stream: bool) -> Response:
        params = dict(params, labelSelector=self.label_selector, fieldSelector=self.field_selector)
        try:
            response = self.api.get(
                self.resource.path, params, timeout=self.timeout, stream=stream, stop=self._stop
            )
        except Cancelled:
            raise _Stopped from None
        with self._lock:
            self._response = response
        if self._stop.is_set():
            response.close()
            raise _Stopped
        return response

    def _close(self, response: Response) -> None:
        with self._lock:
            self._response = None
        response.close()

    # -- list ---------------------------------------------------------------------------------

    def _list(self) -> str:
        items: dict[Key, object] = {}
        rv, token, restarted = "", "", False
        while True:
            params = {"limit": str(self.page_size) if self.page_size > 0 else ""}
            if token:
                params["continue"] = token
            try:
                doc = self._get_json(params)
            except ApiError as exc:
                if exc.code == 410 and token and not restarted:  # continue token expired
                    items, rv, token, restarted = {}, "", "", True
                    continue
                raise
            meta = doc.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            raw_items = doc.get("items")
            if raw_items is None:
                raw_items = []
            if not isinstance(raw_items, list):
                raise BadResponse("list 'items' is not an array")
            for obj in raw_items:
                key, item = self._convert(obj)
                if key is not None and item is not None:
                    items[key] = item
            rv = meta.get("resourceVersion") or rv
            token = meta.get("continue") or ""
            if not isinstance(token, str) or not token:
                break
        if not isinstance(rv, str) or not rv:
            raise BadResponse("list without metadata.resourceVersion")
        self._deliver(self.sink.replace, self.kind, items)
        if not self._synced.is_set():
            self._deliver(self.sink.synced, self.kind)
            self._synced.set()
        self.resource_version = rv
        self._last_error = None
        self.backoff.reset()
        log.debug("%s: listed %d at resourceVersion %s", self.resource.plural, len(items), rv)
        return rv

    def _get_json(self, params: dict[str, str]) -> dict[str, Any]:
        response = self._open(params, stream=False)
        try:
            body = response.read()
        finally:
            self._close(response)
        try:
            doc = json.loads(body)
        except ValueError:
            raise BadResponse(f"list body is not JSON: {body[:80]!r}") from None
        if not isinstance(doc, dict):
            raise BadResponse("list body is not a JSON object")
        return doc

    # -- watch --------------------------------------------------------------------------------

    def _watch(self, rv: str) -> None:
        jitter = random.uniform(1.0 - self.watch_jitter, 1.0 + self.watch_jitter)
        timeout_seconds = max(1, round(self.watch_timeout * jitter))
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": rv,
            "timeoutSeconds": str(timeout_seconds),
        }
        try:
            response = self._open(params, stream=True)
        except ApiError as exc:
            if exc.code == 410:
                raise _Expired(exc.message) from None
            raise
        started, events = time.monotonic(), 0
        try:
            for line in response.lines():
                if self._stop.is_set():
                    raise _Stopped
                try:
                    event = json.loads(line)
                except ValueError:
                    raise BadResponse(f"watch line is not JSON: {line[:80]!r}") from None
                self._event(event)
                if events == 0:
                    self._last_error = None
                    self.backoff.reset()
                events += 1
        except ReadTimeoutError:
            if self._stop.is_set():
                raise _Stopped from None
            # silent for read_timeout: a dead connection or a server without bookmarks;
            # resume from where we are (cheap; no relist).
            log.debug(
                "%s: watch silent for %.0fs; rewatching", self.resource.plural, self.timeout[1]
            )
            return
        finally:
            self._close(response)
        if events == 0 and time.monotonic() - started < min(1.0, timeout_seconds / 2):
            self._sleep(self.backoff.next())  # ended at once with nothing: don't spin

    def _event(self, event: Any) -> None:
        kind = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(obj, dict):  # valid JSON, but not an event: skip it, keep watching
            self.bad_objects += 1
            log.debug("%s: ignoring malformed watch event %.80r", self.resource.plural, event)
            return
        if kind == "ERROR":
            code, message = obj.get("code"), str(obj.get("message") or obj.get("reason") or "")
            if code == 410 or obj.get("reason") in ("Expired", "Gone"):
                raise _Expired(message)
            raise ApiError(code if isinstance(code, int) else 500, f"watch error: {message}")
        rv = _resource_version(obj)
        if kind in ("ADDED", "MODIFIED"):
            key, item = self._convert(obj)
            if key is not None:
                if item is None:
                    self._deliver(self.sink.delete, self.kind, key)
                else:
                    self._deliver(self.sink.upsert, self.kind, key, item)
        elif kind == "DELETED":
            key = _key(obj)
            if key is not None:
                self._deliver(self.sink.delete, self.kind, key)
        elif kind != "BOOKMARK":
            log.debug("%s: ignoring watch event of type %r", self.resource.plural, kind)
            return
        if rv:
            self.resource_version = rv

    # -- helpers ------------------------------------------------------------------------------

    def _convert(self, obj: Any) -> tuple[Key | None, object | None]:
        key = _key(obj)
        if key is None:
            self.bad_objects += 1
            return None, None
        try:
            return key, self.resource.convert(obj)
        except Exception as exc:  # converters should never raise; treat the object as absent
            self.bad_objects += 1
            log.debug("%s: cannot convert %s/%s: %r", self.resource.plural, *key, exc)
            return key, None

    def _deliver(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # a bug in the sink must not end the informer
            log.exception("%s: sink %s failed", self.resource.plural, fn.__name__)


def _key(obj: Any) -> Key | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return None
    name, namespace = meta.get("name"), meta.get("namespace") or ""
    if not isinstance(name, str) or not name or not isinstance(namespace, str):
        return None
    return (namespace, name)


def _resource_version(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
    return rv if isinstance(rv, str) else ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError | BadResponse):
        return str(exc)
    reason = getattr(exc, "reason", None)  # urllib3 MaxRetryError/NewConnectionError wrap one
    text = str(reason or exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
