"""loop through the real server: the start-up probe, a real two-server loop, and shutdown.

The loop is two dnsd servers relaying to each other with a tiny ``relay``
plugin (A relays every query to B's UDP port, B back to A's), which is what a
pair of *forward* plugins pointed at each other does. ``Runtime.fatal`` is
replaced so the test records the call instead of exiting.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import pytest

from dnsd.controller import Controller
from dnsd.instance import Instance
from dnsd.plugin import REGISTRY, Next
from dnsd.plugins.loop.handler import Loop, exchange
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.runtime import Runtime
from dnsd.testing import TestServer, free_port, serve_corefile, wait_for
from tests.integration.stubs import stub_plugin

#: Where each ``relay NAME`` sends queries: NAME -> UDP port on 127.0.0.1 (read per query).
TARGETS: dict[str, int] = {}


class Relay:
    """Relays the query as it came to another server; no reply when that one is not there."""

    name = "relay"

    def __init__(self, target: str) -> None:
        self.target = target

    async def serve(self, req: Request, next: Next) -> Reply | None:
        port = TARGETS.get(self.target)
        if port is None:
            return Reply.dropped()
        try:
            return Reply(wire=await exchange("127.0.0.1", port, req.wire, 2.0))
        except (OSError, TimeoutError):
            return Reply.dropped()


@contextmanager
def relay_plugin() -> Iterator[None]:
    module = types.ModuleType("relay")

    def setup(c: Controller) -> None:
        while c.next():
            c.add_handler(Relay(c.remaining_args()[0]))

    module.NAME = "relay"  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    REGISTRY.add(module)
    try:
        yield
    finally:
        REGISTRY.remove("relay")
        TARGETS.clear()


@pytest.fixture
def fatal(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Runtime, str]]:
    """Calls of ``Runtime.fatal`` (which would end the process)."""
    calls: list[tuple[Runtime, str]] = []
    monkeypatch.setattr(Runtime, "fatal", lambda self, message: calls.append((self, message)))
    return calls


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter probe timing than CoreDNS's 2 s exchange and 1 s pause."""
    monkeypatch.setattr(Loop, "timeout", 0.3)
    monkeypatch.setattr(Loop, "interval", 0.05)


def loop_of(srv: TestServer, instance: Instance | None = None) -> Loop:
    """The loop handler of ``instance`` (default: the config the server started with)."""
    blocks = (instance or srv.instance).blocks
    return next(h for b in blocks for h in b.handlers if isinstance(h, Loop))


def loop_message(srv: TestServer, port: int | None = None) -> re.Pattern[str]:
    """CoreDNS's fatal message for ``srv``'s probe, from any local port to ``port``."""
    handler = loop_of(srv)
    return re.compile(
        re.escape("plugin/loop: Loop (")
        + r"127\.0\.0\.1:\d+"
        + re.escape(
            f' -> 127.0.0.1:{port or srv.port}) detected for zone ".", see '
            f'https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO {handler.qname}"'
        )
    )


async def test_two_servers_relaying_to_each_other_are_a_loop(
    fatal: list[tuple[Runtime, str]], fast: None
) -> None:
    with relay_plugin():
        async with AsyncExitStack() as stack:
            # B first: its relay target (A) does not exist yet, so its first probes get no reply.
            b = await stack.enter_async_context(serve_corefile(". {\n    loop\n    relay a\n}\n"))
            TARGETS["b"] = b.port
            a = await stack.enter_async_context(serve_corefile(". {\n    loop\n    relay b\n}\n"))
            TARGETS["a"] = a.port
            await wait_for(lambda: len(fatal) == 2, timeout=10.0)
            by_runtime = {runtime: message for runtime, message in fatal}
            assert set(by_runtime) == {a.runtime, b.runtime}
            for srv in (a, b):
                assert loop_message(srv).fullmatch(by_runtime[srv.runtime]), by_runtime
                assert loop_of(srv).seen == 3
            await wait_for(lambda: loop_of(a).disabled and loop_of(b).disabled)
            # Once probing is over the servers relay (and loop) without being stopped again.
            assert len(fatal) == 2


HAS_FORWARD = Path(__file__).resolve().parents[3].joinpath("plugins/forward/setup.py").exists()


@pytest.mark.skipif(not HAS_FORWARD, reason="no forward plugin")
async def test_forward_to_itself(fatal: list[tuple[Runtime, str]]) -> None:
    """CoreDNS's README example: ``forward . 127.0.0.1`` on the server's own port."""
    port = free_port()
    corefile = f".:{port} {{\n    loop\n    forward . 127.0.0.1:{port}\n}}\n"
    async with serve_corefile(corefile, force_port=False) as srv:
        await wait_for(lambda: len(fatal) == 1, timeout=10.0)
        assert fatal[0][0] is srv.runtime
        assert loop_message(srv, port).fullmatch(fatal[0][1]), fatal


@pytest.mark.skipif(not HAS_FORWARD, reason="no forward plugin")
async def test_two_forwards_pointing_at_each_other(fatal: list[tuple[Runtime, str]]) -> None:
    """B, started second, always sees its probe come back; A does too unless its first probe
    reached B before B listened (forward then answers SERVFAIL, which ends A's probing)."""
    pa, pb = free_port(), free_port()
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(
            serve_corefile(
                f".:{pa} {{\n    loop\n    forward . 127.0.0.1:{pb}\n}}\n", force_port=False
            )
        )
        b = await stack.enter_async_context(
            serve_corefile(
                f".:{pb} {{\n    loop\n    forward . 127.0.0.1:{pa}\n}}\n", force_port=False
            )
        )
        await wait_for(lambda: any(runtime is b.runtime for runtime, _ in fatal), timeout=10.0)
        await wait_for(lambda: loop_of(a).disabled and loop_of(b).disabled, timeout=10.0)
        ports = {a.runtime: (a, pa), b.runtime: (b, pb)}
        for runtime, message in fatal:
            srv, port = ports[runtime]
            assert loop_message(srv, port).fullmatch(message), message
        assert len(fatal) == len({runtime for runtime, _ in fatal})  # once per server


NO_LOOP = {
    # name: (host, Corefile, probe address template)
    "answered-by-next": ("127.0.0.1", ". {\n    loop\n    whoami\n}\n", "127.0.0.1:{port}"),
    "servfail-at-end-of-chain": ("127.0.0.1", ". {\n    loop\n}\n", "127.0.0.1:{port}"),
    "zone-block": ("127.0.0.1", "example.org {\n    loop\n    whoami\n}\n", "127.0.0.1:{port}"),
    "ipv6": ("::1", ". {\n    loop\n    whoami\n}\n", "[::1]:{port}"),
}


@pytest.mark.parametrize(("host", "corefile", "addr"), NO_LOOP.values(), ids=NO_LOOP.keys())
async def test_probe_answered_stops_probing(
    host: str, corefile: str, addr: str, fatal: list[tuple[Runtime, str]]
) -> None:
    try:
        ctx = serve_corefile(corefile, host=host)
        srv = await ctx.__aenter__()
    except OSError:
        pytest.skip(f"{host} not available")
    try:
        handler = loop_of(srv)
        await wait_for(lambda: handler.disabled)
        assert handler.seen == 1  # seen once, on its way to the rest of the chain
        assert handler.addr == addr.format(port=srv.port)
        assert handler.task is not None and handler.task.done()
        if handler.zone != ".":
            assert handler.qname.endswith("." + handler.zone)
        reply = await srv.query(handler.qname, "HINFO")  # disabled: no longer counted
        assert handler.seen == 1
        assert reply is not None
    finally:
        await ctx.__aexit__(None, None, None)
    assert fatal == []


async def test_probes_the_first_key_of_its_block(fatal: list[tuple[Runtime, str]]) -> None:
    """Not the first listener that happens to route to the block (CoreDNS: ListenHosts[0]:Port)."""
    shared, own = free_port(), free_port()
    corefile = (
        f".:{shared} {{\n    whoami\n}}\n"
        f"example.org:{own} example.org:{shared} {{\n    loop\n    whoami\n}}\n"
    )
    async with serve_corefile(corefile, force_port=False) as srv:
        handler = loop_of(srv)
        await wait_for(lambda: handler.disabled)
        assert handler.addr == f"127.0.0.1:{own}"
        assert handler.seen == 1
    assert fatal == []


async def test_shutdown_stops_the_probe(fatal: list[tuple[Runtime, str]]) -> None:
    """A probe that never gets a reply keeps going until the server stops."""
    with stub_plugin():
        async with serve_corefile(". {\n    loop\n    stub drop\n}\n") as srv:
            handler = loop_of(srv)
            await wait_for(lambda: handler.seen == 1)
            task = handler.task
            assert task is not None and not task.done() and not handler.disabled
        assert task.done() and handler.task is None
    assert fatal == []


async def test_gives_up_after_the_window(
    monkeypatch: pytest.MonkeyPatch, fatal: list[tuple[Runtime, str]]
) -> None:
    monkeypatch.setattr(Loop, "window", 0.4)
    monkeypatch.setattr(Loop, "timeout", 0.1)
    monkeypatch.setattr(Loop, "interval", 0.02)
    with stub_plugin():
        async with serve_corefile(". {\n    loop\n    stub drop\n}\n") as srv:
            handler = loop_of(srv)
            await wait_for(lambda: handler.disabled, timeout=5.0)
            assert handler.task is not None and handler.task.done()
            assert handler.seen == 0  # every failed exchange reset the count
    assert fatal == []


async def test_reload_probes_again_with_a_new_name(fatal: list[tuple[Runtime, str]]) -> None:
    async with serve_corefile(". {\n    loop\n    whoami\n}\n") as srv:
        old = loop_of(srv)
        await wait_for(lambda: old.disabled)
        assert await srv.reload(". {\n    loop\n    whoami\n    log\n}\n")
        new = loop_of(srv, srv.runtime.instance)
        assert new is not old and new.qname != old.qname
        await wait_for(lambda: new.disabled)
        assert new.seen == 1
    assert fatal == []
