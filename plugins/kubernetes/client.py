"""HTTP access to the Kubernetes API: configuration, auth, client-side limits, REST metrics.

The official ``kubernetes`` package does what it is good at: loading the in-cluster service
account, a kubeconfig (certificates, tokens, exec/OIDC refresh) or an endpoint with client TLS,
and building a urllib3 pool with the right TLS settings and TCP keepalive. Requests bypass its
generated API classes and model objects (5-6x slower than ``json.loads``) and its ``Watch`` (see
the informer): :class:`Api` sends plain GETs through the package's own pool manager with the
configuration's auth headers, and hands back a :class:`Response` whose body the caller reads as
bytes or as lines. That surface (``ApiClient.rest_client.pool_manager``,
``Configuration.auth_settings()``) is the same in every release since 12.0, unlike
``call_api``, whose signature changed in 37.0.

Client-side limits, as client-go's: a token bucket (``apiserver_qps`` / ``apiserver_burst``) in
front of every request, watches included, and a cap on concurrent requests
(``apiserver_max_inflight``). A watch holds its in-flight slot only until its response headers
arrive: it is long-lived and would otherwise starve lists.

Metrics (CoreDNS's names; client-go's semantics: ``verb`` and ``method`` are the HTTP method,
``host`` is the API server's host:port, ``code`` the HTTP status or ``<error>`` when no response
came back). A list's duration covers reading its body; a watch's ends at its headers.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from prometheus_client import Counter, Histogram

from dnsd import __version__

SUBSYSTEM = "kubernetes"
USER_AGENT = f"dnsd/{__version__} (kubernetes plugin)"

# client-go's rest_client buckets (k8s.io/client-go/tools/metrics via component-base).
_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

request_duration = Histogram(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb and host.",
    ["verb", "host"],
    namespace="coredns",
    subsystem=SUBSYSTEM,
    buckets=_BUCKETS,
)
rate_limiter_duration = Histogram(
    "rest_client_rate_limiter_duration_seconds",
    "Client side rate limiter latency in seconds. Broken down by verb and host.",
    ["verb", "host"],
    namespace="coredns",
    subsystem=SUBSYSTEM,
    buckets=_BUCKETS,
)
requests_total = Counter(
    "rest_client_requests",
    "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"],
    namespace="coredns",
    subsystem=SUBSYSTEM,
)


class ApiError(Exception):
    """The API server answered with a non-2xx status; ``status`` is the HTTP status and
    ``code`` the Status object's code (they differ only when the body says so)."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}" if message else f"HTTP {status}")
        self.status = status
        self.code = code if code is not None else status
        self.message = message


class Cancelled(Exception):
    """``stop`` was set while the request waited for the rate limiter or an in-flight slot."""


class TokenBucket:
    """client-go's ``flowcontrol.NewTokenBucketRateLimiter(qps, burst)``: up to ``burst``
    requests at once, then ``qps`` a second. ``qps <= 0`` means no limit. Waiters reserve a
    token first, so they are served in arrival order."""

    def __init__(
        self, qps: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.qps = qps
        self.burst = max(1, burst if burst > 0 else math.ceil(qps))
        self._clock = clock
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it."""
        if self.qps <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def wait(self, stop: threading.Event | None = None) -> float:
        """Block until a token is ours (or ``stop`` is set); return the time waited."""
        delay = self.reserve()
        if delay > 0:
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
        return delay


class Response:
    """A 2xx response whose body has not been read yet. Read it with :meth:`read` (a list) or
    :meth:`lines` (a watch); a body read to its end gives the connection back to the pool.
    :meth:`close` aborts, from any thread: it shuts the socket down so that a read blocked in
    another thread returns at once (urllib3 then raises ProtocolError there)."""

    def __init__(
        self, raw: urllib3.BaseHTTPResponse, on_done: Callable[[], None] | None = None
    ) -> None:
        self.raw = raw
        self.status = raw.status
        self._on_done = on_done
        self._lock = threading.Lock()
        self._over = False

    def _end(self) -> bool:
        """Mark the response over (once); run the on_done hook. False if it already was."""
        with self._lock:
            if self._over:
                return False
            self._over = True
            on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done()
        return True

    def read(self) -> bytes:
        """The whole body (a list)."""
        try:
            data = self.raw.read()
        except BaseException:
            self.close()
            raise
        if self._end():
            self.raw.release_conn()
        return data

    def lines(self) -> Iterator[bytes]:
        """The body split on newlines as chunks arrive (a watch); ends when the server ends the
        stream. Raises urllib3's errors (ReadTimeoutError, ProtocolError) as they come."""
        pending = b""
        for chunk in self._chunks():
            if b"\n" not in chunk:
                pending += chunk
                continue
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            for line in parts:
                if line.strip():
                    yield line
        if pending.strip():
            yield pending
        if self._end():
            self.raw.release_conn()

    def _chunks(self) -> Iterator[bytes]:
        raw = self.raw
        if getattr(raw, "chunked", False) and getattr(raw, "supports_chunked_reads", bool)():
            yield from raw.read_chunked(decode_content=True)
            return
        while True:  # not chunked: read what is available, not a fixed amount
            data = raw.read1(65536) if hasattr(raw, "read1") else raw.read(4096)
            if not data:
                return
            yield data

    def close(self) -> None:
        """Abort: unblock a pending read and drop the connection. Idempotent; a no-op once the
        body was read to its end (the connection is back in the pool by then)."""
        if not self._end():
            return
        try:
            self.raw.shutdown()  # urllib3 >= 2.3: shutdown(SHUT_RD) of the socket
        except Exception:
            sock = getattr(getattr(self.raw, "connection", None), "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        try:
            self.raw.close()
        except Exception:
            pass


class Api:
    """One API server: ``configuration`` is a ``kubernetes.client.Configuration``."""

    def __init__(
        self, configuration: Any, *, qps: float = 0.0, burst: int = 0, max_inflight: int = 0
    ) -> None:
        client: Any = importlib.import_module("kubernetes.client")  # untyped package

        if getattr(configuration, "socket_options", None) is None:
            configuration.socket_options = keepalive_socket_options()
        self.configuration = configuration
        self.base = str(configuration.host).rstrip("/")
        self.host = urlsplit(self.base).netloc or self.base
        self._client: Any = client.ApiClient(configuration)
        self._pool = self._client.rest_client.pool_manager
        self.limiter = TokenBucket(qps, burst)
        self.max_inflight = max_inflight
        self._inflight = threading.BoundedSemaphore(max_inflight) if max_inflight > 0 else None

    def headers(self) -> dict[str, str]:
        """Accept, User-Agent and the auth headers (token refreshed by the configuration's hook)."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        for setting in self.configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def url(self, path: str, params: Mapping[str, str]) -> str:
        query = urlencode([(k, v) for k, v in params.items() if v != ""])
        return f"{self.base}{path}?{query}" if query else f"{self.base}{path}"

    def get(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        timeout: tuple[float, float],
        stream: bool = False,
        stop: threading.Event | None = None,
    ) -> Response:
        """GET ``path``: waits for the rate limiter and an in-flight slot, then returns the 2xx
        :class:`Response` (caller reads it) or raises :class:`ApiError` (non-2xx) or urllib3's
        errors (connection refused, timeouts). ``stream``: a watch (slot freed at headers)."""
        waited = self.limiter.wait(stop)
        rate_limiter_duration.labels("GET", self.host).observe(waited)
        release = self._acquire(stop)
        if stop is not None and stop.is_set():
            release()
            raise Cancelled(path)
        start = time.perf_counter()
        observed = False

        def observe() -> None:
            nonlocal observed
            if not observed:
                observed = True
                request_duration.labels("GET", self.host).observe(time.perf_counter() - start)
                release()

        try:
            raw = self._pool.request(
                "GET",
                self.url(path, params),
                headers=self.headers(),
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
                preload_content=False,
                retries=False,
            )
        except BaseException:
            observe()
            requests_total.labels("<error>", "GET", self.host).inc()
            raise
        requests_total.labels(str(raw.status), "GET", self.host).inc()
        if not 200 <= raw.status <= 299:
            try:
                body = raw.read()
            except Exception:
                body = b""
            finally:
                observe()
                raw.release_conn()
            raise _api_error(raw.status, raw.reason or "", body)
        if stream:
            observe()
            return Response(raw)
        return Response(raw, observe)

    def _acquire(self, stop: threading.Event | None) -> Callable[[], None]:
        sem = self._inflight
        if sem is None:
            return _noop
        while not sem.acquire(timeout=0.05):
            if stop is not None and stop.is_set():
                return _noop
        return sem.release

    def close(self) -> None:
        self._client.close()


def _noop() -> None:
    return None


def keepalive_socket_options() -> list[tuple[int, int, int]]:
    """urllib3's defaults plus TCP keepalive (probe after 30s idle, every 10s, 3 tries), so a
    peer that vanished without a FIN is noticed even on a quiet watch."""
    from urllib3.connection import HTTPConnection

    opts = list(HTTPConnection.default_socket_options)
    opts.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            opts.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return opts


def _api_error(status: int, reason: str, body: bytes) -> ApiError:
    """Read a Status object (``{"kind":"Status","code":410,"message":...}``) if there is one."""
    message, code = reason, None
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("message"), str):
            message = doc["message"]
        if isinstance(doc.get("code"), int):
            code = doc["code"]
    elif body:
        message = body[:200].decode("utf-8", "replace").strip() or reason
    return ApiError(status, message, code)


def make_api(
    *,
    kubeconfig: str | None,
    context: str | None,
    endpoint: str | None,
    tls: tuple[str, str, str] | None,
    qps: float,
    burst: int,
    max_inflight: int,
) -> Api:
    """Build the :class:`Api` the way CoreDNS chooses its config: ``kubeconfig FILE [CONTEXT]``
    first, else ``endpoint URL`` (with ``tls CERT KEY CACERT``), else in-cluster. ValueError
    with a readable message when the configuration cannot be loaded."""
    kconfig: Any = importlib.import_module("kubernetes.config")  # untyped package
    cfg: Any = importlib.import_module("kubernetes.client").Configuration()
    if kubeconfig:
        if not os.path.isfile(kubeconfig):
            raise ValueError(f"kubeconfig file not found: {kubeconfig}")
        try:
            kconfig.load_kube_config(
                config_file=kubeconfig,
                context=context or None,
                client_configuration=cfg,
                persist_config=False,
            )
        except Exception as exc:
            raise ValueError(f"invalid kubeconfig {kubeconfig}: {exc}") from exc
    elif endpoint:
        cfg.host = endpoint.rstrip("/")
        if tls is not None:
            for what, path in zip(("cert", "key", "cacert"), tls, strict=True):
                if not os.path.isfile(path):
                    raise ValueError(f"tls {what} file not found: {path}")
            cfg.cert_file, cfg.key_file, cfg.ssl_ca_cert = tls
    else:
        try:
            kconfig.load_incluster_config(client_configuration=cfg)
        except Exception as exc:
            raise ValueError(
                f"no in-cluster Kubernetes configuration ({exc}); "
                "outside a cluster set 'endpoint' or 'kubeconfig'"
            ) from exc
    return Api(cfg, qps=qps, burst=burst, max_inflight=max_inflight)
