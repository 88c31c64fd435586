"""Setup of *reload*.

::

    reload [INTERVAL] [JITTER]

INTERVAL (default 30s, at least 2s) and JITTER (default 15s, at least 1s or
exactly 0, capped at INTERVAL/2) as CoreDNS. The check interval is INTERVAL plus
a random offset in [-JITTER/2, JITTER/2], drawn again at every (re)load. The
plugin is process-wide: one watcher per running config, whichever blocks name
it; the last block's values win, as in CoreDNS. It puts nothing in the chain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dnsd.controller import Controller
from dnsd.duration import format_duration, parse_duration
from dnsd.instance import Instance
from dnsd.plugins.reload.watcher import Watcher

NAME = "reload"
MIN_INTERVAL = 2.0
MIN_JITTER = 1.0


@dataclass(frozen=True)
class ReloadOptions:
    """What the directive asked for, jitter already capped."""

    interval: float = 30.0
    jitter: float = 15.0

    def period(self) -> float:
        """One draw of the check period: INTERVAL ± JITTER/2."""
        if not self.jitter:
            return self.interval
        return self.interval + random.uniform(-self.jitter / 2, self.jitter / 2)


def parse(c: Controller) -> ReloadOptions:
    opts = ReloadOptions()
    while c.next_once():
        args = c.remaining_args()
        if len(args) > 2:
            c.arg_err()
        interval, jitter = opts.interval, opts.jitter
        if args:
            interval = _duration(c, args[0])
        if interval < MIN_INTERVAL:
            c.err(f"interval value must be greater or equal to {format_duration(MIN_INTERVAL)}")
        if len(args) > 1:
            jitter = _duration(c, args[1])
        if jitter < MIN_JITTER and jitter != 0:
            c.err(f"jitter value must be greater or equal to {format_duration(MIN_JITTER)}")
        opts = ReloadOptions(interval, min(jitter, interval / 2))
    return opts


def _duration(c: Controller, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        c.err(str(exc))


class _Config:
    """The one reload of a config; blocks that name it only change its options."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.options = ReloadOptions()
        self.watcher: Watcher | None = None

    async def start(self) -> None:
        runtime = self.instance.runtime
        if runtime is None or runtime.source is None:
            return  # nothing to read again (a config checked, never served)
        self.watcher = Watcher(runtime, runtime.source, self.instance, self.options.period())
        self.watcher.start()

    async def stop(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None


def setup(c: Controller) -> None:
    opts = parse(c)

    def new() -> _Config:
        config = _Config(c.instance)
        c.on_startup(config.start)
        c.on_shutdown(config.stop)
        return config

    config: _Config = c.shared(NAME, new)
    config.options = opts
