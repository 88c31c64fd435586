"""The data one *hosts* plugin serves: its inline entries plus the file's, kept up to date.

Changes are found by hashing the file's content (SHA-256) every ``reload`` seconds, whatever
the mtime says, so an in-place write, an editor's rename, a bind mount and a kubelet ``..data``
symlink swap are all seen. A :class:`~dnsd.watch.FolderHint` on the file's parent folder only makes
the next check happen at once. ``reload 0`` reads the file once, at start-up.

A new content is applied once it has stayed the same for ``SETTLE`` seconds (or the reload
interval if shorter): it is read again then, and must not have changed. So a file caught while
being written is not served half-written, however many events wake the loop in between; a
file that keeps changing is applied anyway after ``MAX_UNSTABLE`` seconds. The first read
applies at once.

* A file that goes missing (also a symlink into a removed directory) after it was read changes
  nothing: the entries read before keep serving, with one warning, as CoreDNS's code does (its
  README says the entries go); when the file is back it is used again. A file missing at
  start-up gives the inline entries alone until it appears.
* A file that cannot be read (permissions, a directory, a FIFO, larger than ``MAX_SIZE``) changes
  nothing: the data served stay as they were; the error is logged once until it changes.
* Unusable lines are logged once per content (the first ``MAX_REPORTED``) and skipped.

The read, hash and parse run in a worker thread; the new table is put in place, and listeners
(the cache) told, on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dnsd.files import read_regular
from dnsd.log import plugin_logger
from dnsd.plugins.hosts import metrics
from dnsd.plugins.hosts.hostsfile import MAX_REPORTED, Entry, Table, build, parse, parse_line
from dnsd.watch import FolderHint

log = plugin_logger("hosts")

#: Seconds a changed content must stay the same before it is used.
SETTLE = 0.2
#: Seconds after which a file that never stops changing is used as last read.
MAX_UNSTABLE = 5.0
#: The fewest seconds between two checks woken by the folder watch.
MIN_GAP = 0.05
#: A larger file is refused (it is not a hosts file, e.g. /dev/zero by mistake).
MAX_SIZE = 64 << 20
#: The digest of "the file does not exist".
MISSING = "missing"

APPLY, WAIT, SAME, ERROR, GONE = "apply", "wait", "same", "error", "gone"


@dataclass(frozen=True)
class Snapshot:
    """One read of the file: its digest and bytes, MISSING, or why it could not be read."""

    digest: str
    data: bytes = b""
    error: str = ""


def read(path: str) -> Snapshot:
    """Read ``path`` whole (following symlinks) and hash it."""
    try:
        data = read_regular(path, MAX_SIZE + 1)
    except FileNotFoundError:
        return Snapshot(MISSING)
    except OSError as exc:
        return Snapshot("", error=exc.strerror or str(exc))
    if len(data) > MAX_SIZE:
        return Snapshot("", error=f"larger than {MAX_SIZE >> 20} MiB")
    return Snapshot(hashlib.sha256(data).hexdigest(), data)


@dataclass(frozen=True)
class _Step:
    """What a check found, computed off the loop and committed on it."""

    snap: Snapshot
    action: str
    table: Table | None = None
    problems: Sequence[str] = ()


class HostsSource:
    """The table of one plugin; :meth:`start` reads the file and keeps reading it."""

    def __init__(
        self,
        path: str,
        zones: Sequence[str],
        inline: Sequence[str] = (),
        *,
        reverse: bool = True,
        reload: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.zones = tuple(zones)
        self.reverse = reverse
        self.reload = reload
        self.clock = clock
        #: Seconds a changed content must stay the same (at most the reload interval).
        self.settle = min(SETTLE, reload) if reload > 0 else SETTLE
        #: The inline lines' entries (setup checked the lines).
        self.inline: list[Entry] = [e for line in inline for e in parse_line(line, self.zones)]
        #: What queries are answered from; replaced as a whole.
        self.table = build(self.inline, (), reverse=reverse)
        #: Digest of the file content in :attr:`table` (MISSING...); None before a good read.
        self.applied: str | None = None
        #: Digest of a changed content waiting to be seen unchanged ``settle`` seconds later.
        self.pending: str | None = None
        self._pending_since = 0.0
        #: Wall-clock time the data served were read (0 before the first read).
        self.reloaded = 0.0
        self._unstable_since: float | None = None
        self._error: str | None = None
        self._listeners: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self.watch = FolderHint([os.path.dirname(path) or "."], self.hint)

    @property
    def entries(self) -> int:
        return self.table.size

    # -- listeners ---------------------------------------------------------------------------
    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after each new table; returns the function that stops it."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    # -- one check ---------------------------------------------------------------------------
    def check(self) -> bool:
        """Read the file now and act on it; True when a new table was put in place."""
        return self._commit(self._prepare())

    async def check_async(self) -> bool:
        """:meth:`check` with the read and parse in a worker thread."""
        return self._commit(await asyncio.to_thread(self._prepare))

    def _decide(self, snap: Snapshot) -> str:
        if snap.error:
            return ERROR
        if snap.digest == self.applied:
            return SAME
        if self.applied is None:
            return APPLY
        if snap.digest == MISSING:
            return GONE
        now = self.clock()
        if snap.digest == self.pending and now - self._pending_since >= self.settle:
            return APPLY
        since = self._unstable_since
        if since is not None and now - since >= MAX_UNSTABLE:
            return APPLY
        return WAIT

    def _prepare(self) -> _Step:
        snap = read(self.path)
        action = self._decide(snap)
        if action != APPLY:
            return _Step(snap, action)
        entries: list[Entry] = []
        problems: list[str] = []
        if snap.digest != MISSING:
            text = snap.data.decode("utf-8", errors="replace")
            entries, problems = parse(text, self.zones, self.path)
        return _Step(snap, action, build(self.inline, entries, reverse=self.reverse), problems)

    def _commit(self, step: _Step) -> bool:
        snap = step.snap
        if step.action == ERROR:
            if snap.error != self._error:
                log.error(
                    "cannot read %s: %s; serving the entries read before", self.path, snap.error
                )
                self._error = snap.error
            return False
        if step.action == GONE:
            if self._error != MISSING:
                log.warning("File does not exist: %s; serving the entries read before", self.path)
                self._error = MISSING
            self.pending = self._unstable_since = None
            return False
        self._error = None
        if step.action == SAME:
            self.pending = self._unstable_since = None
            return False
        if step.action == WAIT or step.table is None:
            if snap.digest != self.pending:
                self.pending, self._pending_since = snap.digest, self.clock()
            if self._unstable_since is None:
                self._unstable_since = self._pending_since
            return False
        self._report(snap, step.problems)
        self.table = step.table
        self.applied = snap.digest
        self.pending = self._unstable_since = None
        self.reloaded = time.time()
        log.debug("Parsed hosts file into %d entries", step.table.size)
        for callback in list(self._listeners):
            try:
                callback()
            except Exception as exc:  # a listener's bug must not stop the reloads
                log.error("data change listener failed: %s", exc)
        return True

    def _report(self, snap: Snapshot, problems: Sequence[str]) -> None:
        if snap.digest == MISSING:
            log.warning("File does not exist: %s", self.path)
        for problem in problems[:MAX_REPORTED]:
            log.error("%s; line skipped", problem)
        if len(problems) > MAX_REPORTED:
            log.error("%s: %d more lines skipped", self.path, len(problems) - MAX_REPORTED)

    # -- the reload loop ---------------------------------------------------------------------
    def hint(self) -> None:
        """Check at once (called on the loop by the folder watch)."""
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        """Read the file, then (unless ``reload`` is 0) keep checking it and watch its folder."""
        metrics.track(self)
        await self.check_async()
        if self.reload <= 0 or self._task is not None:
            return
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(self._wake), name=f"hosts {self.path}")
        self.watch.start()

    async def stop(self) -> None:
        """Stop watching and checking."""
        await self.watch.stop()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._wake = None
        metrics.untrack(self)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, wake: asyncio.Event) -> None:
        last = self.clock()
        while True:
            delay = self.reload
            if self.pending is not None:
                delay = max(0.0, self._pending_since + self.settle - self.clock())
            try:
                await asyncio.wait_for(wake.wait(), delay)
            except TimeoutError:
                pass
            else:  # woken by the folder watch: a busy folder must not make this spin
                gap = last + MIN_GAP - self.clock()
                if gap > 0:
                    await asyncio.sleep(gap)
            wake.clear()
            last = self.clock()
            try:
                await self.check_async()
            except Exception as exc:  # a bug: log it and keep the data and the loop
                log.error("checking %s failed: %s", self.path, exc)
