"""Loading a Corefile into an :class:`Instance`: blocks parsed, plugins set up, chains compiled.

An Instance holds no sockets and starts nothing; :mod:`dnsd.runtime` does that,
so ``-check`` and a reload can build one and throw it away. Plugins are set up
in chain order (``root`` first), never in the Corefile's text order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dnsd import corefile
from dnsd.address import ZoneAddr, parse_key
from dnsd.controller import Controller, Hook, HttpHandler
from dnsd.corefile import ServerBlock, Token
from dnsd.errors import CorefileError
from dnsd.fastpath import memo_plugins
from dnsd.plugin import REGISTRY, Handler, Next, Readiness, Registry, compile_chain

#: The Corefile used when none is found: CoreDNS's builtin default.
DEFAULT_COREFILE = ".:{port} {{\n    whoami\n    log\n}}\n"

#: Plugins that let non-IN classes into the chain (CoreDNS's classChaos).
CLASS_ANY_PLUGINS = frozenset({"chaos", "forward"})


@dataclass(frozen=True)
class ListenAddr:
    """Where a listener binds: transport, host ('' = every address) and port."""

    transport: str
    host: str
    port: int

    @property
    def label(self) -> str:
        """CoreDNS's ``server`` metric label: ``dns://:53``, ``dns://127.0.0.1:53``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{host}:{self.port}"


@dataclass(frozen=True)
class TcpLimits:
    """Server-side TCP limits (the *timeouts* plugin changes them)."""

    read: float = 3.0
    write: float = 5.0
    idle: float = 10.0
    max_queries: int = -1
    max_connections: int = 1000
    max_inflight: int = 100


@dataclass
class Block:
    """One server block: its keys, the plugins' settings and its compiled chain."""

    keys: list[Token]
    addrs: list[ZoneAddr]
    zones: list[str]
    root: str
    plugins: list[str] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    readiness: list[tuple[str, Callable[[], bool]]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: Checks run once every plugin of the block is set up (:meth:`Controller.after_block_setup`).
    checks: list[Callable[[], None]] = field(default_factory=list)
    chain: Next | None = None
    #: Plugins whose replies the server may remember (:mod:`dnsd.fastpath`).
    memo_plugins: frozenset[str] = frozenset()

    @property
    def file(self) -> str:
        return self.keys[0].file

    @property
    def line(self) -> int:
        return self.keys[0].line

    @property
    def bind(self) -> list[str]:
        """Addresses from *bind*; empty means every address."""
        return list(self.settings.get("bind", []))

    @property
    def limits(self) -> TcpLimits:
        limits = self.settings.get("timeouts")
        return limits if isinstance(limits, TcpLimits) else TcpLimits()

    @property
    def class_any(self) -> bool:
        return any(p in CLASS_ANY_PLUGINS for p in self.plugins)


@dataclass
class Instance:
    """A loaded Corefile."""

    filename: str
    digest: str = ""
    #: The Corefile text it was loaded from (worker processes load the same text).
    text: str = ""
    #: The Corefile and the imported files it was read from (absolute paths).
    files: frozenset[str] = frozenset()
    blocks: list[Block] = field(default_factory=list)
    routes: dict[ListenAddr, dict[str, Block]] = field(default_factory=dict)
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)
    final_shutdown: list[Hook] = field(default_factory=list)
    http: dict[str, dict[str, HttpHandler]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    #: The Runtime serving this config; set before its start-up hooks run.
    runtime: Any = None

    @property
    def debug(self) -> bool:
        return any(b.settings.get("debug") for b in self.blocks)

    def banner(self) -> list[str]:
        """CoreDNS's start-up lines: one per zone and listener, sorted."""
        lines = set()
        for addr, zones in self.routes.items():
            scheme = "" if addr.transport == "dns" else f"{addr.transport}://"
            for zone in zones:
                on = f" on {addr.host}" if addr.host else ""
                lines.add(f"{scheme}{zone}:{addr.port}{on}")
        return sorted(lines)


def load(
    text: str,
    filename: str,
    *,
    dns_port: str = "53",
    default_bind: str | None = None,
    registry: Registry = REGISTRY,
    base_dir: str | None = None,
    force_port: bool = False,
) -> Instance:
    """Parse and set up a Corefile. Raises :class:`CorefileError`, never anything else.

    ``force_port`` (tests) serves every key on ``dns_port``, whatever port it names.
    """
    names = registry.names()
    blocks = corefile.parse(
        text,
        filename,
        directives=names,
        coredns_directives=registry.coredns_only(),
        base_dir=base_dir,
    )
    instance = Instance(
        filename=filename,
        text=text,
        digest=corefile.digest(blocks),
        files=corefile.files_read(blocks, filename),
    )
    for sb in blocks:
        block = _new_block(sb, dns_port, force_port)
        instance.blocks.append(block)
        _setup_block(instance, block, sb, names, registry)
    _route(instance, default_bind)
    return instance


def _new_block(sb: ServerBlock, dns_port: str, force_port: bool) -> Block:
    addrs: list[ZoneAddr] = []
    for key in sb.keys:
        try:
            parsed = parse_key(key.text, dns_port)
        except ValueError as exc:
            raise CorefileError(str(exc), key.file, key.line) from None
        for za in parsed:
            if za.transport != "dns":
                raise CorefileError(
                    f"{za.transport}:// servers are not supported yet; use dns:// (plain DNS)",
                    key.file,
                    key.line,
                )
        if force_port:
            parsed = [replace(za, port=dns_port) for za in parsed]
        addrs.extend(parsed)
    zones = list(dict.fromkeys(a.zone for a in addrs))
    return Block(keys=sb.keys, addrs=addrs, zones=zones, root=os.getcwd())


def _setup_block(
    instance: Instance, block: Block, sb: ServerBlock, names: list[str], registry: Registry
) -> None:
    present = [n for n in names if n in sb.directives]
    block.plugins = present
    for name in present:
        tokens = sb.directives[name]
        c = Controller(name, tokens, block, instance)
        before = len(block.handlers)
        try:
            registry.get(name).setup(c)
        except CorefileError:
            raise
        except Exception as exc:  # a setup bug or an unexpected value: still positioned
            first = tokens[0]
            raise CorefileError(
                str(exc) or type(exc).__name__, first.file, first.line, name
            ) from exc
        for handler in block.handlers[before:]:
            if isinstance(handler, Readiness):
                block.readiness.append((handler.name, handler.ready))
    for check in block.checks:
        try:
            check()
        except CorefileError:
            raise
        except Exception as exc:  # a check's bug: still positioned, at the block
            raise CorefileError(str(exc) or type(exc).__name__, block.file, block.line) from exc
    block.chain = compile_chain(block.handlers)
    block.memo_plugins = memo_plugins(block.handlers)


def _route(instance: Instance, default_bind: str | None) -> None:
    first_seen: dict[tuple[ListenAddr, str], Block] = {}
    for block in instance.blocks:
        hosts = block.bind or [default_bind or ""]
        for za in block.addrs:
            for host in hosts:
                addr = ListenAddr(za.transport, host, int(za.port))
                table = instance.routes.setdefault(addr, {})
                if za.zone in table:
                    prev = first_seen[(addr, za.zone)]
                    raise CorefileError(
                        f"cannot serve {za} - it is already defined (line {prev.line})",
                        block.file,
                        block.line,
                    )
                table[za.zone] = block
                first_seen[(addr, za.zone)] = block
