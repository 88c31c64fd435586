"""A hint that something changed in a set of folders, from watchdog (inotify on Linux).

File events are only a hint: a ConfigMap update is a ``..data`` symlink swap that no
event reports under the file's own name, and a watch on the file itself dies with
the swap (reference: ecosystem.md §4). So users of :class:`FolderHint` (*reload*,
*hosts*, *file*) watch the *parent folders*, treat any event as "check now", and
still poll a content hash on their interval. Events arrive on watchdog's thread and
only schedule the callback on the event loop; nothing is read or parsed there.

Opening and reading a file are not events here (watchdog reports them), or every
poll of a watched file would wake its reader again. Without watchdog, or when a
folder cannot be watched (missing, inotify limits), polling alone sees every change.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from dnsd.log import core as log


class _StopRace(logging.Filter):
    """watchdog's inotify thread logs an ERROR when an event arrives while it is being stopped
    ("queue_events() called when the thread is inactive"): a harmless race in watchdog that
    would put an [ERROR] line in every shutdown or reload that stops a watcher."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_StopRace())

#: Makes an observer; None when watchdog is not installed (tests set it to None too).
observer_factory: Callable[[], Any] | None
#: The events that may mean a file's content changed.
EVENTS: list[Any] = []
try:
    from watchdog import events as _events
    from watchdog.observers import Observer

    observer_factory = Observer
    EVENTS = [
        _events.FileCreatedEvent,
        _events.DirCreatedEvent,
        _events.FileDeletedEvent,
        _events.DirDeletedEvent,
        _events.FileModifiedEvent,
        _events.DirModifiedEvent,
        _events.FileMovedEvent,
        _events.DirMovedEvent,
        _events.FileClosedEvent,
    ]
except ImportError:  # pragma: no cover - watchdog is a dependency; polling still works
    observer_factory = None


class _Hint:
    """The observer's event handler: schedules ``callback`` on the loop, and nothing else."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self.loop = loop
        self.callback = callback

    def dispatch(self, event: object) -> None:
        try:
            self.loop.call_soon_threadsafe(self.callback)
        except RuntimeError:
            pass  # the loop is closed: the watcher is going away


class FolderHint:
    """Calls ``callback`` on the event loop after any change in ``folders`` (not recursive)."""

    def __init__(self, folders: Iterable[str], callback: Callable[[], None]) -> None:
        self.folders = sorted({os.path.abspath(f) for f in folders})
        self._callback = callback
        self._observer: Any = None

    @property
    def running(self) -> bool:
        return self._observer is not None

    def start(self) -> bool:
        """Watch the folders that exist (call on the loop); False when nothing is watched."""
        if observer_factory is None:
            log.debug("watchdog is not installed; %s polled only", ", ".join(self.folders))
            return False
        handler = _Hint(asyncio.get_running_loop(), self._callback)
        observer = observer_factory()
        watched = 0
        for folder in self.folders:
            if not os.path.isdir(folder):
                continue
            try:
                observer.schedule(handler, folder, recursive=False, event_filter=EVENTS)
                watched += 1
            except OSError as exc:
                log.warning("cannot watch %s (%s); polling only", folder, exc.strerror or exc)
        if not watched:
            return False
        try:
            observer.start()
        except OSError as exc:
            log.warning("cannot start a file watcher (%s); polling only", exc.strerror or exc)
            return False
        self._observer = observer
        return True

    async def stop(self) -> None:
        """Stop the observer and wait for its thread to end."""
        observer, self._observer = self._observer, None
        if observer is None:
            return
        observer.stop()
        await asyncio.to_thread(observer.join, 5.0)
