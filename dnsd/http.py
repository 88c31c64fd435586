"""The process-wide HTTP listeners of health, ready and prometheus, on the DNS event loop.

They run on the same loop as DNS, so a stuck loop fails ``/health`` (a thread
would keep answering). Listeners are keyed by address (``:8080``); their route
tables are swapped on reload and a listener whose address is unchanged is
never closed, so probes and scrapes survive every reload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from dnsd.address import split_addr
from dnsd.controller import HttpHandler
from dnsd.log import core as log


@dataclass
class _Site:
    addr: str
    runner: web.AppRunner
    routes: dict[str, HttpHandler] = field(default_factory=dict)
    port: int = 0


class HttpManager:
    """Starts, updates and stops the HTTP listeners."""

    def __init__(self, remap: Callable[[str], str] | None = None) -> None:
        self.sites: dict[str, _Site] = {}
        self._pending: dict[str, _Site] = {}
        #: Tests bind every configured address elsewhere (``127.0.0.1:0``); keys stay as written.
        self.remap = remap

    async def prepare(self, wanted: Mapping[str, Mapping[str, HttpHandler]]) -> None:
        """Open the listeners ``wanted`` adds; raise OSError (and open nothing) if one fails."""
        try:
            for addr in wanted:
                if addr not in self.sites and addr not in self._pending:
                    self._pending[addr] = await self._start(addr)
        except Exception:
            await self.abort()
            raise

    async def abort(self) -> None:
        """Close what :meth:`prepare` opened."""
        pending, self._pending = self._pending, {}
        for site in pending.values():
            await site.runner.cleanup()

    async def commit(self, wanted: Mapping[str, Mapping[str, HttpHandler]]) -> None:
        """Make ``wanted`` the served routes; close listeners no longer wanted."""
        self.sites.update(self._pending)
        self._pending = {}
        for addr, site in list(self.sites.items()):
            if addr in wanted:
                site.routes = dict(wanted[addr])
            else:
                del self.sites[addr]
                await site.runner.cleanup()

    async def close(self) -> None:
        """Close every listener."""
        await self.commit({})

    def port(self, addr: str) -> int:
        """The bound port of the listener configured as ``addr`` (for ``:0``)."""
        return self.sites[addr].port

    async def _start(self, addr: str) -> _Site:
        host, port = split_addr(self.remap(addr) if self.remap else addr)
        app = web.Application()
        site_ref: list[_Site] = []

        async def dispatch(request: web.Request) -> web.StreamResponse:
            handler = site_ref[0].routes.get(request.path)
            if handler is None:
                return web.Response(status=404, text="404 page not found\n")
            return await handler(request)

        app.router.add_route("*", "/{tail:.*}", dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        tcp = web.TCPSite(runner, host=host, port=port, reuse_address=True)
        try:
            await tcp.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(exc.errno, f"listen tcp {addr}: {exc.strerror}") from None
        site = _Site(addr=addr, runner=runner)
        server = tcp._server  # aiohttp keeps the asyncio server here
        sockets = getattr(server, "sockets", None) or []
        site.port = int(sockets[0].getsockname()[1]) if sockets else port
        site_ref.append(site)
        log.debug("http listener on %s", addr)
        return site
