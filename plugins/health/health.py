"""The ``/health`` endpoint of one address: answers, probes itself, delays the final shutdown.

``/health`` is served by aiohttp on the DNS event loop (:mod:`dnsd.http`), so a
loop too busy to answer DNS also fails the probe, which is what a liveness
check is for. A thread-based server would keep saying OK while DNS starves.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from dnsd.duration import format_duration
from dnsd.log import plugin_logger
from dnsd.plugins.health.overloaded import probe_forever

if TYPE_CHECKING:
    from dnsd.instance import Instance

log = plugin_logger("health")

OK = "OK"


class Health:
    """One health endpoint, shared by every block of a config that names its address."""

    def __init__(self, addr: str, instance: Instance) -> None:
        self.addr = addr
        self.lameduck = 0.0
        self._instance = instance
        self._probe: asyncio.Task[None] | None = None
        self._lameduck_done = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Always 200 ``OK`` while the process serves (during the lame duck too)."""
        return web.Response(text=OK)

    async def start(self) -> None:
        """Start the once-a-second self-probe (CoreDNS's ``overloaded``).

        Not in a *multisocket* worker: ``/health`` is the supervisor's, probed there.
        """
        if self._probe is None and getattr(self._instance.runtime, "serves_http", True):
            self._probe = asyncio.get_running_loop().create_task(
                probe_forever(self._instance.runtime, self.addr)
            )

    async def stop(self) -> None:
        """Stop the self-probe (reload or exit); the listener itself is kept by dnsd.http."""
        probe, self._probe = self._probe, None
        if probe is not None:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)

    async def final_shutdown(self) -> None:
        """Keep serving DNS and ``/health`` for ``lameduck`` seconds before the process stops."""
        if self._lameduck_done or self.lameduck <= 0:
            return
        self._lameduck_done = True
        log.info("Going into lameduck mode for %s", format_duration(self.lameduck))
        await asyncio.sleep(self.lameduck)
