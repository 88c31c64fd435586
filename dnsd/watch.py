"""A hint that something changed in a set of folders, from watchdog (inotify).

File events are only a hint: a ConfigMap update is a ``..data`` symlink swap that no
event reports under the file's own name, and a watch on the file itself dies with
the swap (reference: ecosystem.md §4). So users of :class:`FolderHint` watch the
*parent folders*, treat any event as "check now", and still poll a content hash
on their interval. Events arrive on watchdog's thread and only set a flag on the
event loop; nothing is read or parsed there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from typing import Any

from dnsd.log import core as log


class FolderHint:
    """Calls ``callback`` on the event loop after any file event in ``folders``."""

    def __init__(self, folders: Iterable[str], callback: Callable[[], None]) -> None:
        self.folders = sorted({os.path.abspath(f) for f in folders})
        self._callback = callback
        self._observer: Any = None

    def start(self) -> None:
        """Start watching the folders that exist; a failure only loses the hint."""
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover - watchdog is a dependency
            return
        loop = asyncio.get_running_loop()
        callback = self._callback

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # reads, including our own
                try:
                    loop.call_soon_threadsafe(callback)
                except RuntimeError:  # the loop is closed: we are shutting down
                    pass

        observer = Observer()
        observer.daemon = True
        watched = 0
        for folder in self.folders:
            if not os.path.isdir(folder):
                continue
            try:
                observer.schedule(_Handler(), folder, recursive=False)
                watched += 1
            except OSError as exc:
                log.warning("cannot watch %s: %s (polling only)", folder, exc.strerror or exc)
        if not watched:
            return
        try:
            observer.start()
        except OSError as exc:
            log.warning("cannot start a file watcher: %s (polling only)", exc.strerror or exc)
            return
        self._observer = observer

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=2.0)
