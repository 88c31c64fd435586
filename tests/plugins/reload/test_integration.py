"""*reload* through the real server: the Corefile changed on disk in every way operators do.

The zone ``example.net`` is the witness: config A serves only ``example.org``
(a query for ``example.net`` is REFUSED), config B serves both. Intervals are
long (30s, no jitter) unless a test is about polling, so a fast change can only
come from the folder hint.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import aiohttp
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.reload import watcher as watcher_module
from dnsd.plugins.reload.watcher import Watcher
from dnsd.testing import TestServer, free_port, serve_corefile, wait_for

RELOAD = "reload 30s 0s"


def corefile(*zones: str, reload: str = RELOAD, extra: str = "") -> str:
    return f"{' '.join(zones)} {{\n    {reload}\n    whoami\n{extra}}}\n"


A = corefile("example.org")
B = corefile("example.org", "example.net")


async def serves_net(srv: TestServer) -> bool:
    reply = await srv.query("a.example.net", "A")
    return bool(reply.rcode() == dns.rcode.NOERROR)


async def wait_serving(srv: TestServer, want: bool, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await serves_net(srv) != want:
        assert loop.time() < deadline, f"example.net served={not want} after {timeout}s"
        await asyncio.sleep(0.02)


def watcher(srv: TestServer) -> Watcher:
    config = srv.runtime.instance.shared["reload"]  # type: ignore[union-attr]
    assert config.watcher is not None
    return config.watcher  # type: ignore[no-any-return]


def failed_total() -> float:
    return REGISTRY.get_sample_value("coredns_reload_failed_total") or 0.0


def write_in_place(path: Path, text: str) -> None:
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(text)


def write_by_rename(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.rename(tmp, path)


class KubeletVolume:
    """A ConfigMap volume as the kubelet's AtomicWriter keeps it."""

    def __init__(self, root: Path, name: str = "Corefile") -> None:
        self.root, self.name, self.n = root, name, 0

    @property
    def path(self) -> Path:
        return self.root / self.name

    def write(self, text: str) -> None:
        self.n += 1
        stamp = self.root / f"..2026_11_25_{self.n:02d}"
        stamp.mkdir()
        (stamp / self.name).write_text(text)
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        tmp = self.root / "..data_tmp"
        os.symlink(stamp.name, tmp)
        os.rename(tmp, data)
        if not self.path.is_symlink():
            os.symlink(f"..data/{self.name}", self.path)
        if old is not None:
            shutil.rmtree(self.root / old)


Writer = Callable[[Path, str], None]


@pytest.mark.parametrize(
    "how", ["in-place", "rename", "kubelet-swap"], ids=["in-place", "rename", "kubelet-swap"]
)
async def test_change_is_seen_at_once_through_the_folder_hint(tmp_path: Path, how: str) -> None:
    volume = KubeletVolume(tmp_path)
    if how == "kubelet-swap":
        volume.write(A)
        path = volume.path
    else:
        path = tmp_path / "Corefile"
        path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        assert not await serves_net(srv)
        loop = asyncio.get_running_loop()
        started = loop.time()
        if how == "in-place":
            write_in_place(path, B)
        elif how == "rename":
            write_by_rename(path, B)
        else:
            volume.write(B)
        await wait_serving(srv, True)
        assert loop.time() - started < 2.0  # the interval is 30s: only the hint is this fast
        # And back again, through the new config's own watcher.
        if how == "kubelet-swap":
            volume.write(A)
        else:
            write_by_rename(path, A)
        await wait_serving(srv, False)


async def test_polling_alone_sees_a_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file events at all (a file system without inotify), the 2s poll applies it."""

    class NoHint:
        def __init__(self, *args: object) -> None:
            pass

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr(watcher_module, "FolderHint", NoHint)
    path = tmp_path / "Corefile"
    path.write_text(corefile("example.org", reload="reload 2s 0s"))
    async with serve_corefile("", conf=str(path)) as srv:
        write_in_place(path, corefile("example.org", "example.net", reload="reload 2s 0s"))
        await asyncio.sleep(0.5)
        assert not await serves_net(srv)  # no hint: nothing yet
        await wait_serving(srv, True, timeout=4.0)


async def test_comments_and_whitespace_do_not_reload(tmp_path: Path) -> None:
    path = tmp_path / "Corefile"
    path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        instance, w = srv.runtime.instance, watcher(srv)
        checks = w.checks
        write_by_rename(path, "# a comment\n\n" + A.replace("    ", "\t"))
        await wait_for(lambda: w.checks > checks, timeout=3.0)
        assert srv.runtime.instance is instance


async def test_imported_file_change_reloads(tmp_path: Path) -> None:
    (tmp_path / "zones.conf").write_text("whoami\n")
    path = tmp_path / "Corefile"
    path.write_text(f"example.org {{\n    {RELOAD}\n    import zones.conf\n}}\n")
    async with serve_corefile("", conf=str(path)) as srv:
        first = srv.runtime.instance
        write_by_rename(tmp_path / "zones.conf", "whoami\nlog\n")
        await wait_for(lambda: srv.runtime.instance is not first, timeout=3.0)
        assert "log" in srv.runtime.instance.blocks[0].plugins  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (corefile("example.org", "example.net", extra="    nosuchplugin\n"), "unknown directive"),
        (corefile("example.org", "example.net").replace("}", ""), "unexpected end of file"),
        (corefile("example.org", "example.net", extra="    whoami\n    bind 192.0.2.99\n"), ""),
    ],
    ids=["setup", "parse", "bind"],
)
async def test_failing_corefile_keeps_the_old_one_and_is_not_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: str, why: str
) -> None:
    path = tmp_path / "Corefile"
    path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        before, instance = failed_total(), srv.runtime.instance
        w = watcher(srv)
        with caplog.at_level(logging.INFO):
            write_by_rename(path, bad)
            await wait_for(lambda: failed_total() == before + 1, timeout=3.0)
            errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
            assert len(errors) == 1 and errors[0].startswith(
                "Corefile changed but reload failed: "
            ), errors
            assert why in errors[0]
            assert caplog.records[-1].name == "plugin/reload"
            assert srv.runtime.instance is instance
            assert not await serves_net(srv)
            assert (await srv.query("a.example.org", "A")).rcode() == dns.rcode.NOERROR
            # Touched but unchanged: checked again, not retried.
            checks = w.checks
            write_by_rename(path, bad)
            await wait_for(lambda: w.checks > checks, timeout=3.0)
            assert failed_total() == before + 1
        # Fixed: applies.
        write_by_rename(path, B)
        await wait_serving(srv, True)


async def test_version_info_and_running_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "Corefile"
    path.write_text(A)
    with caplog.at_level(logging.INFO):
        async with serve_corefile("", conf=str(path)) as srv:
            digest = srv.runtime.instance.digest  # type: ignore[union-attr]
            assert f"Running configuration SHA512 = {digest}" in caplog.messages
            sample = "coredns_reload_version_info"
            assert REGISTRY.get_sample_value(sample, {"hash": "sha512", "value": digest}) == 1
            write_by_rename(path, B)
            await wait_serving(srv, True)
            new = srv.runtime.instance.digest  # type: ignore[union-attr]
            assert new != digest
            assert REGISTRY.get_sample_value(sample, {"hash": "sha512", "value": new}) == 1
            assert REGISTRY.get_sample_value(sample, {"hash": "sha512", "value": digest}) is None
            # Logged once the old config's shutdown hooks are done, after the new one serves.
            await wait_for(lambda: "Reloading complete" in caplog.messages)


async def test_removing_reload_stops_watching(tmp_path: Path) -> None:
    path = tmp_path / "Corefile"
    path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        write_by_rename(path, "example.org example.net {\n    whoami\n}\n")
        await wait_serving(srv, True)
        assert "reload" not in srv.runtime.instance.shared  # type: ignore[union-attr]
        write_by_rename(path, A)
        await asyncio.sleep(0.5)  # a change with no reload: nothing may apply it
        assert await serves_net(srv)


async def get_status(port: int, path: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
            return resp.status


async def test_health_moves_address_and_a_busy_port_keeps_the_old(tmp_path: Path) -> None:
    """CoreDNS loses the listener here (its README's Bugs); dnsd opens the new one first."""
    one, two = free_port(), free_port()
    path = tmp_path / "Corefile"

    def text(port: int, zones: str) -> str:
        return f"{zones} {{\n    {RELOAD}\n    health 127.0.0.1:{port}\n    whoami\n}}\n"

    path.write_text(text(one, "example.org"))
    async with serve_corefile("", conf=str(path), http_any_port=False) as srv:
        assert await get_status(one, "/health") == 200
        write_by_rename(path, text(two, "example.org example.net"))
        await wait_serving(srv, True)
        assert await get_status(two, "/health") == 200
        with pytest.raises(aiohttp.ClientConnectionError):
            await get_status(one, "/health")
        # A busy port: the reload fails and the old config keeps /health on `two`.
        import socket

        with socket.socket() as busy:
            busy.bind(("127.0.0.1", one))
            busy.listen()
            before = failed_total()
            write_by_rename(path, text(one, "example.org"))
            await wait_for(lambda: failed_total() == before + 1, timeout=3.0)
            assert await serves_net(srv)
            assert await get_status(two, "/health") == 200


async def test_no_query_lost_while_the_file_changes_under_load(tmp_path: Path) -> None:
    """A client sends queries the whole time; the Corefile flips 10 times through the hint."""
    path = tmp_path / "Corefile"
    path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        stop = asyncio.Event()
        sent = answered = 0

        async def client() -> None:
            nonlocal sent, answered
            while not stop.is_set():
                sent += 1
                reply = await srv.query("a.example.org", "A", timeout=2.0)
                assert reply.rcode() == dns.rcode.NOERROR
                answered += 1

        tasks = [asyncio.create_task(client()) for _ in range(4)]
        try:
            for n in range(10):
                first = srv.runtime.instance
                write_by_rename(path, B if n % 2 == 0 else A)
                await wait_for(lambda: srv.runtime.instance is not first, timeout=3.0)  # noqa: B023
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        assert sent == answered and answered > 100


async def test_a_deleted_corefile_keeps_the_config_until_it_returns(tmp_path: Path) -> None:
    """A missing file is a swap in progress, not a broken config: nothing fails, nothing stops."""
    path = tmp_path / "Corefile"
    path.write_text(A)
    async with serve_corefile("", conf=str(path)) as srv:
        before, instance, w = failed_total(), srv.runtime.instance, watcher(srv)
        checks = w.checks
        path.unlink()
        await wait_for(lambda: w.checks > checks, timeout=3.0)
        assert srv.runtime.instance is instance and failed_total() == before
        assert (await srv.query("a.example.org", "A")).rcode() == dns.rcode.NOERROR
        path.write_text(B)
        await wait_serving(srv, True)
