"""One zone read from one file, and kept up to date while serving (CoreDNS's reload.go).

::

    src = ZoneSource("example.org.", "/etc/coredns/db.example.org", reload=60.0)
    src.load()        # start-up: ZoneFileError (bad zone) or ZoneFileMissing (cannot open)
    src.zone          # the Zone being served, None until one was read
    src.check()       # one look at the file; True when a new zone was applied
    await src.start() / await src.stop()   # the background loop (none when reload is 0)

Every ``reload`` seconds, and at once when :meth:`wake` is called (the folder watcher's hint),
the file is read and hashed together with the files it ``$INCLUDE``s. Nothing happens while the
hash is unchanged, so any kind of update is seen (an edit in place, a rename over the file, a
ConfigMap's ``..data`` symlink swap) and an unchanged zone costs one read. A changed file is
parsed and applied when its SOA serial differs from the one served (CoreDNS compares for
equality, so a lower serial is applied too), or, with ``reload_by_mtime``, when the file's
modification time changed. The log lines are CoreDNS's:

- ``[INFO] plugin/file: Successfully reloaded zone "example.org." in "PATH" with N SOA serial``
- ``[ERROR] plugin/file: Failed to open zone "example.org." in "PATH": open PATH: ...``
- ``[ERROR] plugin/file: Parsing zone "example.org.": PATH:LINE: ...``, the old zone still served.

The same failure is logged once, not at every look. Parsing runs in a worker thread, so a large
zone does not stall the queries being answered meanwhile; the new zone replaces the old one in
the event loop, in one assignment, and the change listeners (the *cache*) are called there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

from dnsd.log import plugin_logger
from dnsd.plugins.file import zonefile
from dnsd.plugins.file.zone import Zone
from dnsd.plugins.file.zonefile import ZoneFileError

log = plugin_logger("file")

#: After a hint, how long to let a writer finish before reading (editors write in steps).
SETTLE = 0.1


class ZoneFileMissing(ZoneFileError):
    """The zone file cannot be opened."""


class ZoneSource:
    """The current :class:`Zone` of one origin of one file."""

    def __init__(self, origin: str, path: str, reload: float, by_mtime: bool = False) -> None:
        self.origin = origin
        self.path = path
        self.reload = reload
        self.by_mtime = by_mtime
        self.zone: Zone | None = None
        #: The hash of the files last looked at, and the files ``$INCLUDE``d then.
        self._digest: bytes | None = None
        self._includes: tuple[str, ...] = ()
        self._mtime: int | None = None
        self._last_error: str | None = None
        self._listeners: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- reading --------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the zone at start-up; ZoneFileMissing when the file cannot be opened, ZoneFileError
        when it is not a valid zone."""
        self._mtime = self._stat()
        try:
            data = zonefile.read_bytes(self.path)
        except ZoneFileError as exc:
            raise ZoneFileMissing(str(exc)) from None
        parsed = zonefile.read(self.path, self.origin, data)
        self._includes = parsed.files[1:]
        self._digest = zonefile.digest(data, self._includes)
        self.zone = Zone(parsed)

    def poll(self) -> Zone | None:
        """Look at the file once: the zone to apply, or None. Safe to run in a worker thread
        (it only changes what the looks remember, not the zone served)."""
        mtime = self._stat()
        try:
            data = zonefile.read_bytes(self.path)
        except ZoneFileError as exc:
            self._error(f'Failed to open zone "{self.origin}" in "{self.path}": {exc}')
            return None
        digest = zonefile.digest(data, self._includes)
        if self.by_mtime:
            if mtime == self._mtime and self.zone is not None:
                return None
        elif digest == self._digest:
            return None
        try:
            parsed = zonefile.read(self.path, self.origin, data)
        except ZoneFileError as exc:
            self._digest, self._mtime = digest, mtime
            self._error(f'Parsing zone "{self.origin}": {exc}')
            return None
        self._includes = parsed.files[1:]
        self._digest = zonefile.digest(data, self._includes)
        self._mtime = mtime
        self._last_error = None
        current = self.zone
        if not self.by_mtime and current is not None and parsed.serial == current.serial:
            return None  # CoreDNS: "no change in SOA serial", not logged
        return Zone(parsed)

    def apply(self, zone: Zone) -> None:
        """Serve ``zone`` from now on and tell the listeners."""
        self.zone = zone
        log.info(
            'Successfully reloaded zone "%s" in "%s" with %d SOA serial',
            self.origin,
            self.path,
            zone.serial,
        )
        for callback in list(self._listeners):
            callback()

    def check(self) -> bool:
        """:meth:`poll` then :meth:`apply`; True when a new zone is served."""
        zone = self.poll()
        if zone is None:
            return False
        self.apply(zone)
        return True

    def _stat(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    def _error(self, message: str) -> None:
        if message != self._last_error:
            self._last_error = message
            log.error("%s", message)

    @property
    def files(self) -> tuple[str, ...]:
        """The zone file and the files it includes, as last read."""
        return (self.path, *self._includes)

    # -- listeners and the loop -----------------------------------------------------------------

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after each new zone; returns the function that stops it."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def wake(self) -> None:
        """Look at the file now rather than at the next tick (event loop thread only)."""
        self._wake.set()

    async def start(self) -> None:
        """Start looking at the file every ``reload`` seconds (not when ``reload`` is 0)."""
        if self.reload > 0 and self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"file-{self.origin}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.reload)
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(SETTLE)
            self._wake.clear()
            try:
                zone = await asyncio.to_thread(self.poll)
            except Exception:  # a bug must not end the reloads
                log.exception('Reloading zone "%s" failed', self.origin)
                continue
            if zone is not None:
                self.apply(zone)
