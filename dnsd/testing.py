"""Helpers for tests: start the real server from a Corefile string.

::

    async with serve_corefile(".:53 {\n whoami\n}\n") as srv:
        reply = await srv.query("example.org", "A")

The server runs the real parser, setup, hooks and listeners on 127.0.0.1 with
UDP and TCP on one ephemeral port, in the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import socket
import types
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from dnsd import corefile
from dnsd.config import ConfigSource
from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.instance import Block, Instance, ListenAddr, load
from dnsd.plugin import REGISTRY, Registry
from dnsd.runtime import Runtime, StartError

OptionsT = TypeVar("OptionsT")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP right now (tiny race; callers retry on bind errors)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError("no free port")


@dataclass
class TestServer:
    """A running server: where it listens and how to reach it."""

    __test__ = False  # not a pytest test class, whatever its name

    runtime: Runtime
    instance: Instance
    host: str
    port: int
    load_options: dict[str, Any]

    def http_port(self, addr: str) -> int:
        """The bound port of the HTTP listener configured as ``addr`` (e.g. ``127.0.0.1:0``)."""
        return self.runtime.http.port(addr)

    def listener_port(self, addr: ListenAddr) -> int:
        return self.runtime.port(addr)

    async def query(
        self, qname: str, qtype: str = "A", *, tcp: bool = False, timeout: float = 2.0, **kw: Any
    ) -> Any:
        """Ask with dnspython (a test dependency); returns a ``dns.message.Message``."""
        import dns.asyncquery
        import dns.message

        q = dns.message.make_query(qname, qtype, **kw)
        if tcp:
            return await dns.asyncquery.tcp(q, self.host, port=self.port, timeout=timeout)
        return await dns.asyncquery.udp(q, self.host, port=self.port, timeout=timeout)

    async def reload(self, text: str) -> bool:
        """Reload with a new Corefile text through the same path as SIGUSR1."""
        return await self.runtime.reload(lambda: self._load(text)) is None

    def _load(self, text: str) -> Instance:
        return load(text, self.instance.filename, **self.load_options)


@asynccontextmanager
async def serve_corefile(
    text: str,
    *,
    host: str = "127.0.0.1",
    registry: Registry = REGISTRY,
    base_dir: str | None = None,
    http_any_port: bool = True,
    force_port: bool = True,
    conf: str | None = None,
) -> AsyncIterator[TestServer]:
    """Start ``text`` on ``host`` and one ephemeral port; stop it afterwards.

    With ``conf``, the server is started from that Corefile on disk instead (pass
    ``text=""``), as ``dnsd -conf PATH`` is: *reload* and :meth:`ConfigSource.read`
    read it again from there.

    With ``http_any_port`` (the default) every HTTP listener (health, ready,
    metrics) binds ``host:0`` instead of its configured address; find it with
    :meth:`TestServer.http_port` under the configured address. ``force_port``
    (the default) serves every key on the ephemeral port, even keys that name
    one (``.:53``); pass False to keep the ports the keys name.
    """
    last: Exception | None = None
    for _ in range(10):
        port = free_port(host)
        options: dict[str, Any] = {
            "dns_port": str(port),
            "default_bind": host,
            "registry": registry,
            "base_dir": base_dir,
            "force_port": force_port,
        }
        source = ConfigSource(_reader(text, conf), options)
        instance = source.read_and_load()
        runtime = Runtime()
        runtime.source = source
        runtime.http.remap = (lambda addr: f"{host}:0") if http_any_port else None
        try:
            await runtime.start(instance)
        except StartError as exc:
            if "in use" not in str(exc):
                raise
            last = exc
            continue
        try:
            yield TestServer(runtime, instance, host, port, options)
        finally:
            await runtime.stop()
        return
    raise OSError(f"could not bind a test server: {last}")


def _reader(text: str, conf: str | None) -> Callable[[], tuple[str, str]]:
    if conf is None:
        return lambda: (text, "Corefile")

    def read() -> tuple[str, str]:
        with open(conf, encoding="utf-8-sig") as f:
            return f.read(), conf

    return read


async def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll ``predicate()`` until true or fail after ``timeout`` seconds (no bare sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


def setup_controller(text: str, directive: str, *, zones: list[str] | None = None) -> Controller:
    """A Controller over ``directive`` in the first server block of ``text``, for setup tests."""
    sb = corefile.parse(text, "Corefile", directives=REGISTRY.names())[0]
    block = Block(keys=sb.keys, addrs=[], zones=zones or ["."], root=os.getcwd())
    return Controller(directive, sb.directives[directive], block, Instance(filename="Corefile"))


def parsed_options(text: str, name: str, parse: Callable[[Controller], OptionsT]) -> list[OptionsT]:
    """What ``parse`` returns for each block of ``text`` that has directive ``name``.

    The whole Corefile is loaded (so positions and errors are real), with the
    plugin's setup replaced by its ``parse``.
    """
    got: list[OptionsT] = []
    module = types.ModuleType(name)
    module.NAME = name  # type: ignore[attr-defined]
    module.setup = lambda c: got.append(parse(c))  # type: ignore[attr-defined]
    registry = Registry()
    registry.add(module)
    load(text, "Corefile", dns_port="1053", registry=registry)
    return got


def check_parse(
    text: str,
    name: str,
    parse: Callable[[Controller], OptionsT],
    *,
    want: OptionsT | None = None,
    error: str | None = None,
) -> None:
    """Assert that ``parse`` gives ``want`` for the one block of ``text`` having ``name``,
    or fails with exactly the positioned message ``error``."""
    if error is not None:
        try:
            parsed_options(text, name, parse)
        except CorefileError as exc:
            assert str(exc) == error, f"{exc} != {error}"
            return
        raise AssertionError(f"no error; wanted {error}")
    assert parsed_options(text, name, parse) == [want]
