"""The worker side of *multisocket*: a full server that binds no HTTP port.

A worker is ``python -m dnsd`` started by the supervisor (:mod:`dnsd.workers`)
with ``DNSD_WORKER=INDEX:DIR:PARENT_PID`` in its environment. It loads the
Corefile text the supervisor applied (``DIR/config.json``, never the file on
disk, so both run the same config even while it changes), binds the same DNS
addresses (every listener sets SO_REUSEPORT) and serves the whole chain with
its own caches and watches. Its HTTP routes (health, ready, metrics) are kept
but not served; instead a private unix socket ``DIR/worker-INDEX.sock`` answers
the supervisor: ``GET /metrics`` (this process's registry), ``GET /ready`` (the
config's *ready* route, or 200 without one) and ``POST /reload`` (load
``config.json`` again, as SIGUSR1 does). The *reload* plugin does not run in a
worker: the supervisor decides what config runs.

The worker ends with its supervisor: Linux's PR_SET_PDEATHSIG sends it SIGTERM
when the supervisor dies, whatever the cause.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import REGISTRY, generate_latest

from dnsd.config import ConfigSource
from dnsd.controller import HttpHandler
from dnsd.http import HttpManager
from dnsd.instance import Instance
from dnsd.log import plugin_logger
from dnsd.runtime import Runtime

log = plugin_logger("multisocket")

ENV = "DNSD_WORKER"
CONFIG = "config.json"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Role:
    """Who this worker is: its index (1..N-1), the private folder and the supervisor's pid."""

    index: int
    folder: str
    parent: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Role | None:
        value = environ.get(ENV)
        if not value:
            return None
        index, folder, parent = value.rsplit(":", 2)
        return cls(int(index), folder, int(parent))

    def env_value(self) -> str:
        return f"{self.index}:{self.folder}:{self.parent}"

    @property
    def socket(self) -> str:
        return socket_path(self.folder, self.index)


def socket_path(folder: str, index: int) -> str:
    return os.path.join(folder, f"worker-{index}.sock")


def write_config(folder: str, text: str, filename: str, generation: int) -> None:
    """Publish the config the supervisor serves (atomically: a worker never reads half)."""
    tmp = os.path.join(folder, f".{CONFIG}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"text": text, "filename": filename, "generation": generation}, f)
    os.replace(tmp, os.path.join(folder, CONFIG))


class ConfigFile:
    """Reads the published config; a :class:`~dnsd.config.ConfigSource` reader."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, CONFIG)
        self.generation = -1

    def __call__(self) -> tuple[str, str]:
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        self.generation = int(data["generation"])
        return str(data["text"]), str(data["filename"])

    def published(self) -> int:
        with open(self.path, encoding="utf-8") as f:
            return int(json.load(f)["generation"])


def die_with_parent(parent: int) -> None:
    """SIGTERM this process when the supervisor dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


class PrivateHttp(HttpManager):
    """Keeps the config's HTTP routes without binding their addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, dict[str, HttpHandler]] = {}

    async def prepare(self, wanted: Mapping[str, Mapping[str, HttpHandler]]) -> None:
        return None

    async def abort(self) -> None:
        return None

    async def commit(self, wanted: Mapping[str, Mapping[str, HttpHandler]]) -> None:
        self.routes = {addr: dict(routes) for addr, routes in wanted.items()}

    def find(self, path: str) -> HttpHandler | None:
        """The handler of ``path`` on any address (one *ready* state per config)."""
        for routes in self.routes.values():
            if path in routes:
                return routes[path]
        return None


class WorkerRuntime(Runtime):
    """A worker's runtime: DNS listeners as usual, HTTP over the private socket only."""

    serves_http = False

    def __init__(self, role: Role, config: ConfigFile, source: ConfigSource) -> None:
        super().__init__()
        self.role = role
        self.config = config
        #: Not ``self.source``: that would start the *reload* plugin's watcher here.
        self.worker_source = source
        self.private = PrivateHttp()
        self.http = self.private
        self._channel: web.AppRunner | None = None

    async def _start(self, instance: Instance) -> None:
        await super()._start(instance)
        if self._channel is not None:
            return
        try:
            self._channel = await self._open_channel()
            # A reload published while this worker was starting found no socket to tell.
            if self.config.published() != self.config.generation:
                self.loop_reload()
        except (OSError, ValueError, KeyError) as exc:  # serve DNS anyway; /ready says so
            log.error("worker %d: no channel to the supervisor: %s", self.role.index, exc)

    def loop_reload(self) -> None:
        asyncio.get_running_loop().create_task(self._reload())

    async def _reload(self) -> str | None:
        error = await self.reload(self.worker_source.read_and_load)
        if error is not None:
            log.error("worker %d: Restart failed: %s", self.role.index, error)
        return error

    async def _open_channel(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/ready", self._ready)
        app.router.add_post("/reload", self._reload_request)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            os.unlink(self.role.socket)
        except FileNotFoundError:
            pass
        await web.UnixSite(runner, self.role.socket).start()
        return runner

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=generate_latest(REGISTRY), content_type="text/plain")

    async def _ready(self, request: web.Request) -> web.StreamResponse:
        handler = self.private.find("/ready")
        if handler is None:
            return web.Response(text="OK")
        return await handler(request)

    async def _reload_request(self, request: web.Request) -> web.StreamResponse:
        error = await self._reload()
        if error is None:
            return web.Response(text="OK")
        return web.Response(status=500, text=error)

    async def stop(self) -> None:
        await super().stop()
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.cleanup()
