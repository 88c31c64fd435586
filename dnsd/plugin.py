"""The plugin contract and the registry of plugins.

A handler answers or passes the query on::

    class Whoami:
        name = "whoami"

        async def serve(self, req: Request, next: Next) -> Reply | None:
            return Reply(req.reply(aa=True))

- return a :class:`~dnsd.reply.Reply` to answer;
- ``return await next(req)`` to pass the query on (fallthrough), or to look at
  or change what the rest of the chain answered (observers such as *log*);
- ``None`` reaching the server means no plugin answered: it replies SERVFAIL,
  as CoreDNS does when the chain ends ("no next plugin found");
- raise :class:`~dnsd.errors.PluginError` for a deliberate failure (SERVFAIL,
  logged by *errors*); any other exception is a bug, counted as a panic.

Plugins are modules with ``NAME`` and ``setup(c: Controller)``. dnsd's own live
in ``dnsd.plugins.<name>``; third-party ones register a module under the
entry-point group ``dnsd.plugins`` (entry point name = directive) and may set
``AFTER = "<plugin>"`` to choose their place in the chain (default: last).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dnsd.errors import ChainError
from dnsd.order import COREDNS_ORDER, ORDER
from dnsd.reply import Reply
from dnsd.request import Request

if TYPE_CHECKING:
    from dnsd.controller import Controller

Next = Callable[[Request], Awaitable["Reply | None"]]
Setup = Callable[["Controller"], None]

ENTRY_POINT_GROUP = "dnsd.plugins"


class Handler(Protocol):
    """What a plugin puts in the chain."""

    name: str

    async def serve(self, req: Request, next: Next) -> Reply | None: ...


@runtime_checkable
class Readiness(Protocol):
    """A handler that reports to the *ready* plugin."""

    def ready(self) -> bool: ...


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin module."""

    name: str
    setup: Setup
    module: ModuleType


class Registry:
    """The plugins dnsd can set up, in chain order; modules are imported on first use."""

    def __init__(self) -> None:
        self._external: dict[str, importlib.metadata.EntryPoint] | None = None
        self._loaded: dict[str, Plugin] = {}
        self._extra: dict[str, ModuleType] = {}

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        if self._external is None:
            eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            self._external = {ep.name: ep for ep in eps if ep.name not in ORDER}
        return self._external

    def add(self, module: ModuleType) -> None:
        """Register a plugin module directly (tests, embedding)."""
        self._extra[module.NAME] = module
        self._loaded.pop(module.NAME, None)

    def remove(self, name: str) -> None:
        """Forget a plugin registered with :meth:`add`."""
        self._extra.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        """Every directive dnsd knows, in chain order."""
        order = list(ORDER)
        for name in [*self._entry_points(), *self._extra]:
            if name in order:
                continue
            after = getattr(self.get(name).module, "AFTER", None)
            if isinstance(after, str) and after in order:
                order.insert(order.index(after) + 1, name)
            else:
                order.append(name)
        return order

    def coredns_only(self) -> Sequence[str]:
        """CoreDNS plugins that dnsd does not have (for a clearer config error)."""
        return [n for n in COREDNS_ORDER if n not in ORDER]

    def get(self, name: str) -> Plugin:
        """The plugin ``name``, imported now if needed. KeyError when unknown."""
        plugin = self._loaded.get(name)
        if plugin is not None:
            return plugin
        if name in self._extra:
            module = self._extra[name]
        elif name in ORDER:
            module = importlib.import_module(f"dnsd.plugins.{name}")
        elif name in self._entry_points():
            module = self._entry_points()[name].load()
        else:
            raise KeyError(name)
        plugin = Plugin(name=name, setup=module.setup, module=module)
        self._loaded[name] = plugin
        return plugin


REGISTRY = Registry()


async def _end(req: Request) -> Reply | None:
    return None


def compile_chain(handlers: Sequence[Handler]) -> Next:
    """Wrap the handlers (already in chain order) into one callable, once per server block."""
    nxt: Next = _end
    for handler in reversed(handlers):
        nxt = _link(handler, nxt)
    return nxt


def _link(handler: Handler, nxt: Next) -> Next:
    serve = handler.serve
    name = handler.name

    async def call(req: Request) -> Reply | None:
        try:
            reply = await serve(req, nxt)
        except ChainError:
            raise
        except Exception as exc:
            raise ChainError(name, exc) from exc
        if reply is not None and reply.plugin is None:
            reply.plugin = name
        return reply

    return call
