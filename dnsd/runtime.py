"""Starting, reloading and stopping a loaded config.

The :class:`Runtime` is the process: it owns the listeners and the HTTP
endpoints and swaps configs under them. A reload builds the new
:class:`~dnsd.instance.Instance` first; if parsing, setup, binding or a
start-up hook fails, the old config keeps serving untouched. Sockets of
addresses both configs use are kept, so no query is lost or refused.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dnsd import log as dlog
from dnsd import metrics
from dnsd.controller import Hook
from dnsd.http import HttpManager
from dnsd.instance import Instance, ListenAddr
from dnsd.listener import Listener
from dnsd.log import core as log
from dnsd.server import Dispatcher

if TYPE_CHECKING:
    from dnsd.config import ConfigSource


class StartError(Exception):
    """A config could not start (bind failed, a start-up hook failed)."""


class Runtime:
    """The running server."""

    #: False in a *multisocket* worker: its HTTP routes are not served (no self-probe either).
    serves_http = True

    def __init__(self) -> None:
        self.listeners: dict[ListenAddr, Listener] = {}
        self.http = HttpManager()
        self.instance: Instance | None = None
        #: Where the config comes from, for *reload* (None: it cannot be read again).
        self.source: ConfigSource | None = None
        self.stopping = False
        self._lock = asyncio.Lock()

    async def start(self, instance: Instance) -> None:
        """Serve ``instance``, replacing the current config. Raises StartError, keeping the old."""
        async with self._lock:
            await self._start(instance)

    async def _start(self, instance: Instance) -> None:
        opened: dict[ListenAddr, Listener] = {}
        first = self.instance is None
        try:
            for addr in instance.routes:
                if addr not in self.listeners:
                    listener = Listener(addr, self._dispatcher(addr, instance))
                    await listener.open()
                    opened[addr] = listener
            await self.http.prepare(instance.http)
            if first:
                # Nothing serves yet: /health and /ready answer while start-up hooks wait
                # (kubernetes waits up to 5 s for its first sync): 200, and 503 "kubernetes".
                await self.http.commit(instance.http)
            instance.runtime = self
            for hook in instance.startup:
                await hook()
        except Exception as exc:
            for listener in opened.values():
                await listener.close()
            if first:
                await self.http.close()
            else:
                await self.http.abort()
            await _run_hooks(instance.shutdown, "shutdown")
            raise StartError(_describe(exc)) from exc
        # Commit: from here on nothing can fail the start.
        old, self.instance = self.instance, instance
        dlog.set_debug(instance.debug)
        self.listeners.update(opened)
        for addr, listener in list(self.listeners.items()):
            if addr in instance.routes:
                listener.dispatcher = self._dispatcher(addr, instance)
            else:
                del self.listeners[addr]
                await listener.close()
        await self.http.commit(instance.http)
        _set_plugin_metrics(old, instance)
        if old is not None:
            await _run_hooks(old.shutdown, "shutdown")

    def _dispatcher(self, addr: ListenAddr, instance: Instance) -> Dispatcher:
        return Dispatcher(addr, instance.routes[addr], stacktrace=instance.debug)

    async def reload(self, load: Callable[[], Instance]) -> str | None:
        """Load and start a new config: ``None`` when it serves, else why it failed.

        On any failure the old config keeps serving, untouched; the caller logs the
        reason in its own words (SIGUSR1: ``Restart failed``, *reload*: ``Corefile
        changed but reload failed``).
        """
        async with self._lock:
            if self.stopping:
                return "shutting down"
            log.info("Reloading")
            try:
                instance = load()
                await self._start(instance)
            except Exception as exc:
                return _describe(exc)
            log.info("Reloading complete")
            return None

    async def stop(self) -> None:
        """Final shutdown: hooks (ready reports 'Shutting down', health's lameduck), then close."""
        async with self._lock:
            self.stopping = True
            instance = self.instance
            if instance is not None:
                await asyncio.gather(*(hook() for hook in instance.final_shutdown))
            tasks = self._tasks()
            for listener in self.listeners.values():
                await listener.close()
            self.listeners.clear()
            if tasks:
                await asyncio.wait(tasks, timeout=5.0)
            if instance is not None:
                await _run_hooks(instance.shutdown, "shutdown")
            await self.http.close()

    def _tasks(self) -> list[asyncio.Task[object]]:
        out: list[asyncio.Task[object]] = []
        for listener in self.listeners.values():
            out.extend(listener.dispatcher.tasks)
        return out

    def fatal(self, message: str) -> None:
        """Log ``[FATAL] message`` and end the process with status 1 (CoreDNS's log.Fatal).

        Tests replace this method to observe the call instead of exiting.
        """
        log.critical("%s", message)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(1)

    def port(self, addr: ListenAddr) -> int:
        """The bound port of a listener."""
        return self.listeners[addr].port


def _describe(exc: BaseException) -> str:
    """A one-line reason: OSError's own text (no ``[Errno N]``), else the message."""
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__


async def _run_hooks(hooks: Sequence[Hook], what: str) -> None:
    for hook in hooks:
        try:
            await hook()
        except Exception as exc:
            log.error("%s hook failed: %s", what, exc)


def _set_plugin_metrics(old: Instance | None, new: Instance) -> None:
    if old is not None:
        metrics.plugin_enabled.clear()
    # As CoreDNS: only blocks that have prometheus, only plugins that put a handler in the chain.
    for addr, zones in new.routes.items():
        for zone, block in zones.items():
            if "prometheus" not in block.plugins:
                continue
            for handler in block.handlers:
                metrics.plugin_enabled.labels(addr.label, zone, "", handler.name).set(1)
