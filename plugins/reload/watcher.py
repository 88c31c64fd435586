"""Checking the Corefile for a change in meaning, and applying it.

Every period (and at once when a file event in a watched folder hints at a
change) the Corefile is read again and parsed, imports expanded, with no setup.
Its SHA-512 digest (:func:`dnsd.corefile.digest`: comments, whitespace and line
numbers do not count) is compared with the running config's:

- same digest: nothing to do;
- different: the runtime loads, sets up and starts it as a graceful restart that
  keeps the listening sockets; when it serves, this watcher is stopped with the
  old config and the new config's own watcher (if it has *reload*) takes over;
- it fails to read, parse, set up or start: the old config keeps serving,
  ``Corefile changed but reload failed: ...`` is logged at ERROR,
  ``coredns_reload_failed_total`` counts it, and the same text is not tried
  again until the file changes (CoreDNS only warns about a parse failure and
  does not count it; a broken ConfigMap deserves the same alarm either way).

Folders watched for the hint: the Corefile's and every imported file's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import TYPE_CHECKING

from dnsd.errors import CorefileError
from dnsd.log import plugin_logger
from dnsd.plugins.reload import metrics
from dnsd.watch import FolderHint

if TYPE_CHECKING:
    from dnsd.config import ConfigSource
    from dnsd.instance import Instance
    from dnsd.runtime import Runtime

log = plugin_logger("reload")

#: After a file event, wait for this much quiet before reading (an editor's
#: truncate-then-write, the kubelet's several renames), but never longer than SETTLE_MAX.
SETTLE = 0.1
SETTLE_MAX = 1.0


class Watcher:
    """Polls and applies the Corefile for one running config."""

    def __init__(
        self, runtime: Runtime, source: ConfigSource, instance: Instance, period: float
    ) -> None:
        self.runtime = runtime
        self.source = source
        self.running = instance.digest
        self.period = period
        self._failed: str | None = None  # the hash of the text that last failed
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._hint: FolderHint | None = None
        self._folders = _folders(instance)
        self.checks = 0

    def start(self) -> None:
        log.info("Running configuration SHA512 = %s", self.running)
        metrics.running(self.running)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="reload")
        self._hint = FolderHint(self._folders, self.poke)
        self._hint.start()

    async def stop(self) -> None:
        if self._hint is not None:
            await self._hint.stop()
            self._hint = None
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task], timeout=2.0)

    def poke(self) -> None:
        """Check soon (a file event in a watched folder)."""
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.period)
            except TimeoutError:
                pass
            else:
                await self._settle(loop.time() + SETTLE_MAX)
            self._wake.clear()
            await self.check()

    async def _settle(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            self._wake.clear()
            await asyncio.sleep(SETTLE)
            if not self._wake.is_set():
                return

    async def check(self) -> None:
        """Read the Corefile once and apply it if its meaning changed."""
        self.checks += 1
        try:
            text, filename = self.source.read()
        except (OSError, CorefileError) as exc:
            # Unreadable for now (a swap in progress, a missing file): try again later.
            log.debug("cannot read the Corefile: %s", exc)
            return
        raw = hashlib.sha512(text.encode()).hexdigest()
        if raw == self._failed:
            return
        try:
            digest = self.source.fingerprint(text, filename).digest
        except CorefileError as exc:
            self._fail(raw, str(exc))
            return
        if digest == self.running:
            self._failed = None
            return
        # Apply in its own task: on success this watcher is stopped with the old config.
        applying = asyncio.ensure_future(
            self.runtime.reload(lambda: self.source.load(text, filename))
        )
        error = await asyncio.shield(applying)
        if error is not None:
            self._fail(raw, error)

    def _fail(self, raw: str, error: str) -> None:
        self._failed = raw
        metrics.failed.inc()
        log.error("Corefile changed but reload failed: %s", error)


def _folders(instance: Instance) -> set[str]:
    return {os.path.dirname(f) for f in instance.files}
