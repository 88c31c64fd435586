"""The cursor a plugin's ``setup`` reads its directive with, plus the server block it configures.

:class:`Controller` is the corefile :class:`~dnsd.corefile.Dispenser` (tokens,
``next``/``remaining_args``/``next_block``, positioned errors) with the block's
zones and the calls that register a handler, hooks, HTTP routes and readiness.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dnsd.address import split_addr
from dnsd.corefile import Dispenser, Token
from dnsd.duration import parse_duration

if TYPE_CHECKING:
    from dnsd.instance import Block, Instance
    from dnsd.plugin import Handler

Hook = Callable[[], Awaitable[None]]
HttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Controller(Dispenser):
    """Setup's view of one directive in one server block."""

    def __init__(
        self, directive: str, tokens: Sequence[Token], block: Block, instance: Instance
    ) -> None:
        super().__init__(directive, tokens)
        self.block = block
        self.instance = instance
        self._seen = 0

    def next_once(self) -> bool:
        """``while c.next_once():`` for plugins allowed once per server block.

        Like :meth:`next`, but a second occurrence of the directive is the
        error ``can only be used once per server block``.
        """
        if not self.next():
            return False
        self._seen += 1
        if self._seen > 1:
            self.once_err()
        return True

    def addr_arg(self, default: str) -> str:
        """The optional ``HOST:PORT`` argument of an HTTP plugin (health, ready...), checked."""
        args = self.remaining_args()
        if len(args) > 1:
            self.arg_err()
        addr = args[0] if args else default
        try:
            split_addr(addr)
        except ValueError as exc:
            self.err(str(exc))
        return addr

    def duration_arg(
        self,
        args: Sequence[str],
        *,
        missing: str,
        invalid: str,
        negative: str | None = None,
        extra: str | None = None,
    ) -> float:
        """The one non-negative Go duration in ``args`` (``reload 5s``), in seconds.

        The messages are the plugin's own (CoreDNS's wording differs per plugin); ``{arg}``
        in ``invalid``, ``negative`` and ``extra`` is the offending word.
        """
        if not args:
            self.err(missing)
        if len(args) > 1:
            self.err((extra or missing).format(arg=args[1]))
        try:
            value = parse_duration(args[0])
        except ValueError:
            self.err(invalid.format(arg=args[0]))
        if value < 0:
            self.err((negative or invalid).format(arg=args[0]))
        return value

    @property
    def zones(self) -> list[str]:
        """The block's zones (normalised), in key order, without duplicates."""
        return self.block.zones

    @property
    def server_keys(self) -> list[str]:
        """The block's keys as written."""
        return [t.text for t in self.block.keys]

    @property
    def settings(self) -> dict[str, Any]:
        """Per-block values plugins leave for the server or for each other (bind, timeouts...)."""
        return self.block.settings

    def add_handler(self, handler: Handler) -> None:
        """Put ``handler`` in this block's chain, at its directive's place in ORDER."""
        self.block.handlers.append(handler)

    def after_block_setup(self, check: Callable[[], None]) -> None:
        """Call ``check()`` once every plugin of this block is set up, before its chain is
        compiled: a plugin that needs one set up after it (later in ORDER) finds that handler in
        ``self.block.handlers`` there. A :class:`~dnsd.errors.CorefileError` it raises refuses
        the configuration, as an error of setup would (``-check`` reports it too)."""
        self.block.checks.append(check)

    def add_readiness(self, name: str, ready: Callable[[], bool]) -> None:
        """Report ``ready()`` to the *ready* plugin under ``name``."""
        self.block.readiness.append((name, ready))

    def on_startup(self, hook: Hook) -> None:
        """Run ``hook`` when this config starts serving (also after a reload)."""
        self.instance.startup.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        """Run ``hook`` when this config stops serving (reload or exit)."""
        self.instance.shutdown.append(hook)

    def on_final_shutdown(self, hook: Hook) -> None:
        """Run ``hook`` when the process is about to exit (health's lameduck)."""
        self.instance.final_shutdown.append(hook)

    def http_route(self, addr: str, path: str, handler: HttpHandler) -> None:
        """Serve ``path`` on the process-wide HTTP listener at ``addr`` (``:8080``)."""
        routes = self.instance.http.setdefault(addr, {})
        if path in routes and routes[path] is not handler:
            # The same plugin in several blocks shares one endpoint (CoreDNS: keyed by address).
            return
        routes[path] = handler

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """A process-wide object of this config shared by every block (one health per address)."""
        store = self.instance.shared
        if key not in store:
            store[key] = factory()
        return store[key]

    def path(self, name: str) -> str:
        """``name`` joined to the block's *root* when relative."""
        return name if os.path.isabs(name) else os.path.join(self.block.root, name)
