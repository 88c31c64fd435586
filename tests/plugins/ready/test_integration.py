"""*ready* through the real server, with stub plugins that report readiness."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from dnsd.controller import Controller
from dnsd.plugin import REGISTRY, Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.testing import serve_corefile, wait_for

#: Name of a readiness source -> whether it is ready now.
Flags = dict[str, bool]


class ReadyHandler:
    """A chain handler implementing ``ready()`` (found by dnsd.instance, like kubernetes)."""

    name = "readyhandler"

    def __init__(self, flags: Flags) -> None:
        self.flags = flags

    async def serve(self, req: Request, next: Next) -> Reply | None:
        return await next(req)

    def ready(self) -> bool:
        return self.flags.get(self.name, False)


def stub_modules(flags: Flags) -> list[types.ModuleType]:
    """``readysource NAME...`` (``c.add_readiness``) and ``readyhandler`` (a handler)."""

    def readiness(name: str) -> Callable[[], bool]:
        return lambda: flags.get(name, False)

    def source_setup(c: Controller) -> None:
        while c.next():
            for name in c.remaining_args():
                c.add_readiness(name, readiness(name))

    def handler_setup(c: Controller) -> None:
        while c.next():
            c.add_handler(ReadyHandler(flags))

    modules = []
    for name, setup in (("readysource", source_setup), ("readyhandler", handler_setup)):
        module = types.ModuleType(name)
        module.NAME = name  # type: ignore[attr-defined]
        module.setup = setup  # type: ignore[attr-defined]
        modules.append(module)
    return modules


@pytest.fixture
def flags() -> Iterator[Flags]:
    flags: Flags = {}
    modules = stub_modules(flags)
    for module in modules:
        REGISTRY.add(module)
    try:
        yield flags
    finally:
        for module in modules:
            REGISTRY.remove(module.NAME)


async def get(port: int, path: str = "/ready") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
            return resp.status, await resp.text()


@dataclass(frozen=True)
class Step:
    """Set these flags, then expect this answer from /ready."""

    flags: Flags
    status: int
    body: str


@dataclass(frozen=True)
class ReadyCase:
    corefile: str
    steps: list[Step]
    addr: str = ":8181"


CASES = {
    "nothing-reports": ReadyCase(". {\n    ready\n    whoami\n}\n", [Step({}, 200, "OK")]),
    "not-ready-then-ready": ReadyCase(
        ". {\n    ready\n    readysource alpha\n}\n",
        [Step({}, 503, "alpha"), Step({"alpha": True}, 200, "OK")],
    ),
    "names-sorted-and-comma-separated": ReadyCase(
        ". {\n    ready\n    readysource zeta alpha mid\n}\n",
        [
            Step({}, 503, "alpha,mid,zeta"),
            Step({"mid": True}, 503, "alpha,zeta"),
            Step({"alpha": True, "zeta": True}, 200, "OK"),
        ],
    ),
    "handler-implementing-ready": ReadyCase(
        ". {\n    ready\n    readyhandler\n}\n",
        [Step({}, 503, "readyhandler"), Step({"readyhandler": True}, 200, "OK")],
    ),
    "until-ready-latches": ReadyCase(
        ". {\n    ready\n    readysource alpha\n}\n",
        [
            Step({"alpha": True}, 200, "OK"),
            Step({"alpha": False}, 200, "OK"),
        ],
    ),
    "latches-per-plugin": ReadyCase(
        ". {\n    ready\n    readysource alpha beta\n}\n",
        [
            Step({"alpha": True}, 503, "beta"),
            Step({"alpha": False}, 503, "beta"),
            Step({"beta": True}, 200, "OK"),
        ],
    ),
    "continuously-rechecks": ReadyCase(
        ". {\n    ready {\n        monitor continuously\n    }\n    readysource alpha\n}\n",
        [
            Step({"alpha": True}, 200, "OK"),
            Step({"alpha": False}, 503, "alpha"),
            Step({"alpha": True}, 200, "OK"),
        ],
    ),
    "blocks-without-ready-are-ignored": ReadyCase(
        "a.org {\n    ready\n    whoami\n}\nb.org {\n    readysource alpha\n}\n",
        [Step({}, 200, "OK")],
    ),
    "every-block-with-ready-counts": ReadyCase(
        "a.org {\n    ready\n    readysource alpha\n}\n"
        "b.org {\n    ready\n    readysource beta\n}\n",
        [Step({}, 503, "alpha,beta"), Step({"beta": True}, 503, "alpha")],
    ),
    "same-name-in-two-blocks-listed-once": ReadyCase(
        "a.org {\n    ready\n    readysource alpha\n}\n"
        "b.org {\n    ready\n    readysource alpha\n}\n",
        [Step({}, 503, "alpha"), Step({"alpha": True}, 200, "OK")],
    ),
    "given-address": ReadyCase(
        ". {\n    ready localhost:8091\n    readysource alpha\n}\n",
        [Step({}, 503, "alpha")],
        addr="localhost:8091",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_ready(case: ReadyCase, flags: Flags) -> None:
    async with serve_corefile(case.corefile) as srv:
        port = srv.http_port(case.addr)
        for step in case.steps:
            flags.update(step.flags)
            assert await get(port) == (step.status, step.body), step


async def test_not_ready_is_logged(flags: Flags, caplog: pytest.LogCaptureFixture) -> None:
    async with serve_corefile(". {\n    ready\n    readysource beta alpha\n}\n") as srv:
        await get(srv.http_port(":8181"))
    assert 'Plugins not ready: "alpha,beta"' in caplog.messages


async def test_failing_source_is_not_ready(flags: Flags) -> None:
    corefile = ". {\n    ready\n    readysource alpha\n}\n"
    async with serve_corefile(corefile) as srv:

        def broken() -> bool:
            raise RuntimeError("informer gone")

        srv.instance.blocks[0].readiness.append(("broken", broken))
        assert await get(srv.http_port(":8181")) == (503, "alpha,broken")


async def test_every_address_reports_every_block(flags: Flags) -> None:
    corefile = (
        "a.org {\n    ready :8181\n    readysource alpha\n}\n"
        "b.org {\n    ready :8182\n    readysource beta\n}\n"
    )
    async with serve_corefile(corefile) as srv:
        for addr in (":8181", ":8182"):
            assert await get(srv.http_port(addr)) == (503, "alpha,beta")


async def test_reload_reads_the_new_config(flags: Flags) -> None:
    async with serve_corefile(". {\n    ready\n    readysource alpha\n}\n") as srv:
        port = srv.http_port(":8181")
        assert await get(port) == (503, "alpha")
        assert await srv.reload(". {\n    ready\n    readysource beta\n}\n")
        assert srv.http_port(":8181") == port
        assert await get(port) == (503, "beta")
        assert await srv.reload(". {\n    ready\n    whoami\n}\n")
        assert await get(port) == (200, "OK")


async def test_failed_reload_keeps_the_old_state(flags: Flags) -> None:
    async with serve_corefile(". {\n    ready\n    readysource alpha\n}\n") as srv:
        port = srv.http_port(":8181")
        assert not await srv.reload(". {\n    ready\n    ready\n    readysource beta\n}\n")
        assert await get(port) == (503, "alpha")


async def test_shutting_down_during_lameduck(flags: Flags) -> None:
    corefile = ". {\n    health {\n        lameduck 0.5s\n    }\n    ready\n    whoami\n}\n"
    async with serve_corefile(corefile) as srv:
        ready_port, health_port = srv.http_port(":8181"), srv.http_port(":8080")
        assert await get(ready_port) == (200, "OK")
        stopping = asyncio.create_task(srv.runtime.stop())
        await wait_for(lambda: srv.runtime.stopping)
        assert await get(ready_port) == (503, "Shutting down")
        assert await get(health_port, "/health") == (200, "OK")
        assert not stopping.done()
        await stopping
