"""A hint that something happened in a folder: watchdog (inotify on Linux) on the file's PARENT.

The hint never says what changed and is never trusted to: a ConfigMap update is a ``..data``
symlink swap that no watcher reports under the file's own name, and a watch on the file itself
dies with the directory it points into (see ecosystem.md section 4). Any event in the folder
only asks the event loop to hash the file again now instead of at the next reload interval;
nothing is read or parsed in the watchdog thread.

Opening and reading a file without writing are not events here, or the plugin's own reads
would wake it again and again. Without watchdog, or when the folder cannot be watched
(missing, inotify limits), polling alone sees every change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from dnsd.log import plugin_logger

log = plugin_logger("hosts")

#: Makes an observer; None when watchdog is not installed (tests set it to None too).
observer_factory: Callable[[], Any] | None
#: The events that may mean the file's content changed.
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
    """The observer's event handler: schedules ``hint`` on the loop, and nothing else."""

    def __init__(self, loop: asyncio.AbstractEventLoop, hint: Callable[[], None]) -> None:
        self.loop = loop
        self.hint = hint

    def dispatch(self, event: object) -> None:
        try:
            self.loop.call_soon_threadsafe(self.hint)
        except RuntimeError:
            pass  # the loop is closed: the plugin is going away


class FolderWatch:
    """Calls ``hint()`` on the event loop after any change in ``folder`` (not recursive)."""

    def __init__(self, folder: str, hint: Callable[[], None]) -> None:
        self.folder = folder
        self.hint = hint
        self._observer: Any = None

    @property
    def running(self) -> bool:
        return self._observer is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start watching; False when watchdog is missing or the folder cannot be watched."""
        if observer_factory is None:
            log.debug("watchdog is not installed; %s is polled only", self.folder)
            return False
        observer = observer_factory()
        try:
            observer.schedule(
                _Hint(loop, self.hint), self.folder, recursive=False, event_filter=EVENTS
            )
            observer.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            log.warning(
                "cannot watch %s (%s); changes are seen at the reload interval", self.folder, reason
            )
            if observer.is_alive():
                observer.stop()
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
