"""A hint that zone files may have changed: watchdog on the folders that hold them.

Kubernetes updates a mounted ConfigMap by swapping a ``..data`` symlink, and no file watcher
reports that under the file's own name (a watch on the file itself is even lost after the first
swap). So the folder is watched, any event in it is taken as "look again now", and the event's
path is never trusted: the looking is :meth:`~.source.ZoneSource.poll`'s content hash. Without
the hint (no inotify, a network file system) the sources still see every change at their next
``reload`` tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from dnsd.log import plugin_logger

log = plugin_logger("file")


class _Forward(FileSystemEventHandler):
    def __init__(self, hint: Callable[[], None]) -> None:
        self._hint = hint

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._hint()


class FolderHint:
    """Calls ``wake()`` in the event loop after any change in the given folders."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._observer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, folders: Iterable[str]) -> None:
        """Watch ``folders`` (those that exist); a failure only costs the hint."""
        self._loop = asyncio.get_running_loop()
        observer = Observer()
        handler = _Forward(self._hint)
        watched = 0
        for folder in dict.fromkeys(folders):
            if not os.path.isdir(folder):
                continue
            try:
                observer.schedule(handler, folder, recursive=False)
                watched += 1
            except OSError as exc:
                log.warning("Not watching %s for changes: %s", folder, exc)
        if not watched:
            return
        try:
            observer.start()
        except OSError as exc:
            log.warning("Not watching zone file folders for changes: %s", exc)
            return
        self._observer = observer

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join()

    def _hint(self) -> None:
        """In the observer's thread: wake the sources in the loop's thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(self._wake)
