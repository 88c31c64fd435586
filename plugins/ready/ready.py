"""The readiness state of one loaded config, served on ``/ready``.

Every block that has *ready* contributes its readiness sources
(``block.readiness``: handlers implementing ``ready()`` and ``c.add_readiness``
callbacks). Every ``/ready`` endpoint of the config reports all of them, as
CoreDNS's endpoints share one list. A reload builds a new :class:`Ready` for
the new config and :mod:`dnsd.http` swaps the route to it, so the endpoint
always reads the blocks of the config being served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from dnsd.log import plugin_logger

if TYPE_CHECKING:
    from dnsd.instance import Block

log = plugin_logger("ready")

UNTIL_READY = "until-ready"
CONTINUOUSLY = "continuously"
MONITOR_TYPES = (UNTIL_READY, CONTINUOUSLY)

OK = "OK"
SHUTTING_DOWN = "Shutting down"


@dataclass
class _Watched:
    block: Block  # its readiness list is read at every request (plugins set up later add to it)
    continuously: bool
    #: Indexes into ``block.readiness`` that reported ready once (``until-ready`` only).
    latched: set[int] = field(default_factory=set)


class Ready:
    """Readiness of the blocks of one config that enabled *ready*."""

    def __init__(self) -> None:
        self._watched: list[_Watched] = []
        self.shutting_down = False

    def add_block(self, block: Block, *, continuously: bool) -> None:
        """Watch ``block``'s readiness sources."""
        self._watched.append(_Watched(block, continuously))

    def not_ready(self) -> list[str]:
        """Sorted names of the sources not ready now (each name once)."""
        names: set[str] = set()
        for watched in self._watched:
            for i, (name, is_ready) in enumerate(watched.block.readiness):
                if i in watched.latched:
                    continue
                if _ask(name, is_ready):
                    if not watched.continuously:
                        watched.latched.add(i)
                else:
                    names.add(name)
        return sorted(names)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """200 ``OK``; 503 with the not-ready plugins; 503 ``Shutting down`` once exiting."""
        if self.shutting_down:
            return web.Response(status=503, text=SHUTTING_DOWN)
        names = self.not_ready()
        if not names:
            return web.Response(text=OK)
        body = ",".join(names)
        log.info('Plugins not ready: "%s"', body)
        return web.Response(status=503, text=body)

    async def final_shutdown(self) -> None:
        """The process is exiting: not ready from now on (health's lame duck may still run)."""
        self.shutting_down = True


def _ask(name: str, is_ready: Callable[[], bool]) -> bool:
    try:
        return bool(is_ready())
    except Exception as exc:  # a broken source is not ready, and says why
        log.warning("readiness check of %s failed: %r", name, exc)
        return False
