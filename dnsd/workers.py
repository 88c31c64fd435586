"""The supervisor side of *multisocket*: N processes serve every DNS listener.

The process that reads the Corefile is the supervisor. It serves DNS itself
(worker 0) and owns the HTTP listeners (health, ready, metrics); when the
config asks for N > 1 it starts N-1 workers (:mod:`dnsd.worker`), each a
fresh ``python -m dnsd`` (never a fork of this process: forking a running event
loop with threads is unsafe) that binds the same addresses through
SO_REUSEPORT, so the kernel spreads queries and TCP connections over them.

- ``/metrics`` sums the workers' samples into the supervisor's
  (:mod:`dnsd.worker_metrics`), fetched over each worker's private unix socket
  at scrape time; ``/ready`` is 200 only when the supervisor and every worker
  are ready; ``/health`` is the supervisor's own loop.
- A config the supervisor applied (start, SIGUSR1, *reload*) is published to
  the workers, which load that same text; a config that fails here never
  reaches them. When N changes, workers are started or stopped.
- A worker that exits is restarted with back-off and logged
  ``[ERROR] plugin/multisocket: worker N exited ...``; its counters are kept as
  of its last scrape.
- SIGTERM/SIGINT: the supervisor forwards SIGTERM, each process runs its own
  lame duck, and the supervisor waits for them before exiting.

In-process test servers (:func:`dnsd.testing.serve_corefile`) use a plain
:class:`~dnsd.runtime.Runtime`: they serve worker 0 only and start no process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from prometheus_client.exposition import choose_encoder

import dnsd
from dnsd import worker_metrics
from dnsd.config import ConfigSource
from dnsd.controller import HttpHandler
from dnsd.http import HttpManager
from dnsd.instance import Instance
from dnsd.runtime import Runtime
from dnsd.worker import (
    ENV,
    ConfigFile,
    Role,
    WorkerRuntime,
    die_with_parent,
    log,
    socket_path,
    write_config,
)

NAME = "multisocket"
BACKOFF_MIN, BACKOFF_MAX = 0.2, 10.0
#: A worker that ran this long before exiting is restarted after BACKOFF_MIN again.
STABLE = 10.0
FETCH_TIMEOUT = 1.0
RELOAD_TIMEOUT = 30.0
#: How long a stopping worker may take (its lame duck included) before SIGKILL.
STOP_TIMEOUT = 60.0
#: The name ``/ready`` reports for a worker that does not answer.
UNREACHABLE = NAME


def wanted(instance: Instance) -> int:
    """The process count a config asks for: the largest *multisocket* of its blocks, else 1."""
    return max((int(b.settings.get(NAME, 1)) for b in instance.blocks), default=1)


def new_runtime(args: list[str], source: ConfigSource) -> Runtime:
    """The runtime of this process: a worker's when started as one, else the supervisor."""
    role = Role.from_env()
    if role is not None and isinstance(source.read, ConfigFile):
        die_with_parent(role.parent)
        return WorkerRuntime(role, source.read, source)
    runtime = Supervisor(args)
    runtime.source = source
    return runtime


@dataclass(eq=False)
class Slot:
    """Worker INDEX and the task that keeps it running."""

    index: int
    proc: asyncio.subprocess.Process | None = None
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: Its metrics at the last scrape (kept by the merge when it exits).
    last: worker_metrics.Families = field(default_factory=dict)


class Pool:
    """The worker processes of the supervisor."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.folder: str | None = None
        self.slots: dict[int, Slot] = {}
        #: Processes the served config asks for, this one included (set before the first
        #: start's HTTP listeners answer, so /ready cannot say 200 before the workers exist).
        self.expected = 1
        self.generation = 0
        self.merged = worker_metrics.Merged()

    async def apply(self, instance: Instance) -> None:
        """Publish the config now served; start, stop or reload workers to match it."""
        count = self.expected = wanted(instance)
        if count <= 1 and not self.slots:
            return
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="dnsd-workers-")
        self.generation += 1
        write_config(self.folder, instance.text, instance.filename, self.generation)
        loop = asyncio.get_running_loop()
        for index, slot in list(self.slots.items()):
            if index >= count:
                del self.slots[index]
                loop.create_task(self._stop_slot(slot))
            else:
                loop.create_task(self._tell_reload(slot))
        for index in range(1, count):
            if index not in self.slots:
                slot = self.slots[index] = Slot(index)
                slot.task = loop.create_task(self._run(slot), name=f"worker-{index}")

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "dnsd", *self.args]

    def _env(self, index: int) -> dict[str, str]:
        assert self.folder is not None
        env = dict(os.environ)
        env[ENV] = Role(index, self.folder, os.getpid()).env_value()
        # The same code as this process, wherever the worker's cwd puts it on the path.
        root = os.path.dirname(os.path.dirname(os.path.abspath(dnsd.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        return env

    async def _run(self, slot: Slot) -> None:
        loop = asyncio.get_running_loop()
        delay = BACKOFF_MIN
        while not slot.stopping:
            started = loop.time()
            status = await self._run_once(slot)
            if slot.stopping:
                return
            if loop.time() - started > STABLE:
                delay = BACKOFF_MIN
            log.error(
                "worker %d exited (%s), restarting in %gs; its metrics are kept as of the "
                "last scrape",
                slot.index,
                status,
                delay,
            )
            try:
                await asyncio.wait_for(slot.wake.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, BACKOFF_MAX)

    async def _run_once(self, slot: Slot) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command(), env=self._env(slot.index), stdin=asyncio.subprocess.DEVNULL
            )
        except OSError as exc:
            return f"could not start: {exc.strerror or exc}"
        slot.proc = proc
        log.info("worker %d started, pid %d", slot.index, proc.pid)
        code = await proc.wait()
        slot.proc = None
        self.merged.retire(slot.last)
        slot.last = {}
        if code < 0:
            return f"signal {signal.Signals(-code).name}"
        return f"status {code}"

    async def _stop_slot(self, slot: Slot) -> None:
        await self._fetch_metrics(slot)  # the last counts before it goes
        slot.stopping = True
        slot.wake.set()
        _signal(slot, signal.SIGTERM)
        if slot.task is not None:
            await _wait_or_kill([slot])

    async def stop(self) -> None:
        """SIGTERM every worker and wait for them (SIGKILL after STOP_TIMEOUT)."""
        slots = list(self.slots.values())
        self.slots.clear()
        for slot in slots:
            slot.stopping = True
            slot.wake.set()
            _signal(slot, signal.SIGTERM)
        await _wait_or_kill(slots)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    async def _request(
        self, slot: Slot, method: str, path: str, timeout: float
    ) -> tuple[int, str] | None:
        """``(status, body)`` from worker ``slot``'s private socket, None if it does not answer."""
        if slot.proc is None or self.folder is None:
            return None
        connector = aiohttp.UnixConnector(path=socket_path(self.folder, slot.index))
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                async with session.request(
                    method, f"http://worker{path}", timeout=aiohttp.ClientTimeout(total=timeout)
                ) as resp:
                    return resp.status, await resp.text()
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None

    async def _tell_reload(self, slot: Slot) -> None:
        got = await self._request(slot, "POST", "/reload", RELOAD_TIMEOUT)
        if got is not None and got[0] != 200:
            log.error("worker %d: reload failed: %s", slot.index, got[1])
        # No answer: it is starting (it loads the published config) or it exited (restarted).

    async def _fetch_metrics(self, slot: Slot) -> worker_metrics.Families:
        proc = slot.proc
        got = await self._request(slot, "GET", "/metrics", FETCH_TIMEOUT)
        if got is None or got[0] != 200:
            if proc is not None:
                log.warning("worker %d: no metrics now; using its last scrape", slot.index)
            return slot.last
        try:
            families = worker_metrics.parse(got[1])
        except ValueError as exc:
            log.error("worker %d: unreadable metrics: %s", slot.index, exc)
            return slot.last
        if slot.proc is proc:  # not an answer from a worker that has exited since
            slot.last = families
        return families

    async def metrics(self) -> list[worker_metrics.Families]:
        """Every worker's current samples (or its last ones if it does not answer)."""
        return list(await asyncio.gather(*(self._fetch_metrics(s) for s in self.slots.values())))

    async def not_ready(self) -> list[str]:
        """The not-ready names the workers report (UNREACHABLE for one that does not answer)."""
        answers = await asyncio.gather(
            *(self._request(s, "GET", "/ready", FETCH_TIMEOUT) for s in self.slots.values())
        )
        names: set[str] = set()
        for got in answers:
            if got is None:
                names.add(UNREACHABLE)
            elif got[0] != 200:
                names.update(n for n in got[1].split(",") if n)
        return sorted(names)


def _signal(slot: Slot, signum: int) -> None:
    if slot.proc is not None and slot.proc.returncode is None:
        try:
            slot.proc.send_signal(signum)
        except ProcessLookupError:
            pass


async def _wait_or_kill(slots: list[Slot]) -> None:
    tasks = [s.task for s in slots if s.task is not None]
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
    if pending:
        for slot in slots:
            _signal(slot, signal.SIGKILL)
        await asyncio.wait(pending, timeout=5.0)


class SupervisedHttp(HttpManager):
    """The HTTP listeners, with ``/metrics`` and ``/ready`` covering every worker."""

    def __init__(self, pool: Pool) -> None:
        super().__init__()
        self.pool = pool

    async def commit(self, wanted: Mapping[str, Mapping[str, HttpHandler]]) -> None:
        await super().commit(
            {addr: {p: self._wrap(p, h) for p, h in r.items()} for addr, r in wanted.items()}
        )

    def _wrap(self, path: str, handler: HttpHandler) -> HttpHandler:
        pool = self.pool

        async def metrics(request: web.Request) -> web.StreamResponse:
            if not pool.slots and not pool.merged.retired:
                return await handler(request)
            families = pool.merged.view(await pool.metrics())
            encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
            body = encoder(worker_metrics.registry(families))
            resp = web.Response(body=body, headers={"Content-Type": content_type})
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                resp.enable_compression(web.ContentCoding.gzip)
            return resp

        async def ready(request: web.Request) -> web.StreamResponse:
            resp = await handler(request)
            if resp.status != 200 or (pool.expected <= 1 and not pool.slots):
                return resp
            names = await pool.not_ready()
            if len(pool.slots) < pool.expected - 1:  # workers not started yet
                names = sorted({*names, NAME})
            if not names:
                return resp
            return web.Response(status=503, text=",".join(names))

        return {"/metrics": metrics, "/ready": ready}.get(path, handler)


class Supervisor(Runtime):
    """The runtime of the process that read the Corefile: it also runs the workers."""

    def __init__(self, args: list[str]) -> None:
        super().__init__()
        self.pool = Pool(args)
        self.http = SupervisedHttp(self.pool)

    async def _start(self, instance: Instance) -> None:
        if self.instance is None:  # the first start opens /ready before the workers start
            self.pool.expected = wanted(instance)
        await super()._start(instance)
        await self.pool.apply(instance)

    async def stop(self) -> None:
        workers = asyncio.ensure_future(self.pool.stop())
        try:
            await super().stop()
        finally:
            await workers
