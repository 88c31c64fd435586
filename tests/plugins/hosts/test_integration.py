"""*hosts* in the real server, with real files changed on disk the ways they are changed in life:
written in place, replaced by a rename, and swapped the way the kubelet updates a ConfigMap
volume; deleted, unreadable and half-written files; a cache in front; metrics; config reloads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.rcode
import pytest
from prometheus_client import REGISTRY

from dnsd import watch
from dnsd.plugins.cache.handler import Cache
from dnsd.plugins.hosts import source as source_module
from dnsd.plugins.hosts.handler import Hosts
from dnsd.testing import TestServer, serve_corefile, wait_for

OLD = "10.0.0.1 a.example.org\n"
NEW = "10.0.0.2 a.example.org\n"


def corefile(path: Path, *options: str, before: str = "") -> str:
    body = "".join(f"        {o}\n" for o in options)
    return f". {{\n{before}    hosts {path} {{\n{body}    }}\n}}\n"


def the_hosts(srv: TestServer) -> Hosts:
    """The hosts handler of the config running now (a reload replaces it)."""
    blocks = srv.runtime.instance.blocks
    (found,) = [h for b in blocks for h in b.handlers if isinstance(h, Hosts)]
    return found


def answer(reply: dns.message.Message) -> list[str]:
    return sorted(str(rr) for rrset in reply.answer for rr in rrset)


async def until(
    srv: TestServer, name: str, want: list[str] | str, qtype: str = "A", timeout: float = 5.0
) -> None:
    """Query ``name`` until the answer is ``want`` (addresses, or an rcode name)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        reply = await srv.query(name, qtype)
        got: list[str] | str = answer(reply) if isinstance(want, list) else ""
        if not isinstance(want, list):
            got = dns.rcode.to_text(reply.rcode())
        if got == want:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{name} {qtype}: {got} != {want}")
        await asyncio.sleep(0.02)


# -- the ways a file changes -----------------------------------------------------------------
def plain(folder: Path, content: str) -> Path:
    path = folder / "hosts"
    path.write_text(content)
    return path


def in_place(path: Path, content: str) -> None:
    with path.open("r+") as f:
        f.truncate()
        f.write(content)


def by_rename(path: Path, content: str) -> None:
    tmp = path.with_name(".hosts.swp")
    tmp.write_text(content)
    os.replace(tmp, path)


def kubelet(folder: Path, content: str) -> Path:
    """A ConfigMap volume: ``hosts -> ..data/hosts``, ``..data -> ..<timestamp>``."""
    ts = folder / "..2026_01_01_00_00_00.000000001"
    ts.mkdir()
    (ts / "hosts").write_text(content)
    os.symlink(ts.name, folder / "..data")
    os.symlink("..data/hosts", folder / "hosts")
    return folder / "hosts"


def kubelet_swap(path: Path, content: str) -> None:
    """The kubelet's AtomicWriter: new timestamped dir, ``..data_tmp``, rename, remove the old."""
    folder = path.parent
    old = os.readlink(folder / "..data")
    ts = folder / f"..2026_01_01_00_00_01.{time.monotonic_ns()}"
    ts.mkdir()
    (ts / "hosts").write_text(content)
    os.symlink(ts.name, folder / "..data_tmp")
    os.rename(folder / "..data_tmp", folder / "..data")
    shutil.rmtree(folder / old)


Change = tuple[Callable[[Path, str], Path], Callable[[Path, str], None]]
CHANGES: dict[str, Change] = {
    "in-place": (plain, in_place),
    "rename": (plain, by_rename),
    "kubelet-symlink-swap": (kubelet, kubelet_swap),
}


@pytest.mark.parametrize("how", CHANGES.values(), ids=CHANGES.keys())
async def test_change_seen_at_once_through_the_folder_watch(tmp_path: Path, how: Change) -> None:
    make, change = how
    path = make(tmp_path, OLD)
    async with serve_corefile(corefile(path, "reload 1h")) as srv:
        source = the_hosts(srv).source
        assert source.watch.running  # with an hour between checks, only the watch can be quick
        await until(srv, "a.example.org", ["10.0.0.1"])
        change(path, NEW)
        await until(srv, "a.example.org", ["10.0.0.2"])
        change(path, OLD)  # and again: the watch survives a swap of what it points to
        await until(srv, "a.example.org", ["10.0.0.1"])


@pytest.mark.parametrize("how", CHANGES.values(), ids=CHANGES.keys())
async def test_change_seen_by_polling_alone(
    tmp_path: Path, how: Change, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "observer_factory", None)  # as if watchdog were not installed
    make, change = how
    path = make(tmp_path, OLD)
    async with serve_corefile(corefile(path, "reload 100ms")) as srv:
        source = the_hosts(srv).source
        assert not source.watch.running
        await until(srv, "a.example.org", ["10.0.0.1"])
        change(path, NEW)
        await until(srv, "a.example.org", ["10.0.0.2"])
        change(path, OLD)
        await until(srv, "a.example.org", ["10.0.0.1"])


# -- files that go away or go wrong ----------------------------------------------------------
async def test_deleted_file_keeps_its_entries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = plain(tmp_path, "10.0.0.1 a.example.org\n10.0.0.1 b.example.org\n")
    text = corefile(path, "10.9.0.1 inline.example.org", "10.9.0.2 b.example.org", "reload 1h")
    async with serve_corefile(text) as srv:
        await until(srv, "a.example.org", ["10.0.0.1"])
        await until(srv, "b.example.org", ["10.9.0.2"])  # inline wins over the file
        with caplog.at_level(logging.WARNING, logger="plugin/hosts"):
            path.unlink()
            await wait_for(lambda: any("File does not exist" in m for m in caplog.messages))
        await until(srv, "a.example.org", ["10.0.0.1"])
        await until(srv, "inline.example.org", ["10.9.0.1"])
        await until(srv, "b.example.org", ["10.9.0.2"])
        reply = await srv.query("1.0.9.10.in-addr.arpa", "PTR")
        assert answer(reply) == ["inline.example.org."]
        path.write_text(NEW)  # restored: used again
        await until(srv, "a.example.org", ["10.0.0.2"])
        await until(srv, "inline.example.org", ["10.9.0.1"])


async def test_missing_file_at_start_serves_inline_and_is_used_once_it_appears(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    text = corefile(path, "10.9.0.1 inline.example.org", "reload 1h")
    with caplog.at_level(logging.WARNING, logger="plugin/hosts"):
        async with serve_corefile(text) as srv:
            assert f"File does not exist: {path}" in caplog.messages
            await until(srv, "inline.example.org", ["10.9.0.1"])
            await until(srv, "a.example.org", "SERVFAIL")
            path.write_text(OLD)
            await until(srv, "a.example.org", ["10.0.0.1"])


async def test_unreadable_file_keeps_the_old_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = kubelet(tmp_path, OLD)
    broken = tmp_path / "broken" / "hosts"
    broken.mkdir(parents=True)  # a directory where the file should be
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        async with serve_corefile(corefile(path, "reload 1h")) as srv:
            await until(srv, "a.example.org", ["10.0.0.1"])
            os.symlink(broken, tmp_path / "hosts.tmp")
            os.replace(tmp_path / "hosts.tmp", path)  # atomically: never missing
            message = f"cannot read {path}: Is a directory; serving the entries read before"
            await wait_for(lambda: message in caplog.messages)
            await until(srv, "a.example.org", ["10.0.0.1"])
            os.symlink("..data/hosts", tmp_path / "hosts.tmp")
            os.replace(tmp_path / "hosts.tmp", path)
            kubelet_swap(path, NEW)
            await until(srv, "a.example.org", ["10.0.0.2"])
    assert caplog.messages.count(message) == 1


async def test_half_written_file_is_never_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A change must stay the same for SETTLE before it is used; make that long enough that this
    # test always writes the second half in time, however slow the machine.
    monkeypatch.setattr(source_module, "SETTLE", 2.0)
    path = plain(tmp_path, "10.0.0.1 a.example.org\n10.0.0.1 b.example.org\n")
    async with serve_corefile(corefile(path, "reload 1h")) as srv:
        source = the_hosts(srv).source
        tables: list[dict[str, tuple[str, ...]]] = []
        source.on_change(lambda: tables.append(dict(source.table.v4)))
        with path.open("w") as f:
            f.write("10.0.0.2 a.example.org\n10.0.0.2 b.exam")
            f.flush()
            await wait_for(lambda: source.pending is not None)  # the watch made it look
            await until(srv, "b.example.org", ["10.0.0.1"])
            f.write("ple.org\n")
        await until(srv, "b.example.org", ["10.0.0.2"], timeout=10.0)
        assert tables == [{"a.example.org.": ("10.0.0.2",), "b.example.org.": ("10.0.0.2",)}]


async def test_bad_lines_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = plain(tmp_path, "10.0.0.1 a.example.org\n10.0.0.256 b.example.org\n")
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        async with serve_corefile(corefile(path)) as srv:
            await until(srv, "a.example.org", ["10.0.0.1"])
            await until(srv, "b.example.org", "SERVFAIL")
    assert caplog.messages == [f"{path}:2: invalid IP address '10.0.0.256'; line skipped"]


# -- with a cache in front, metrics, config reloads ------------------------------------------
async def test_cache_in_front_drops_its_answers_when_the_data_change(tmp_path: Path) -> None:
    path = plain(tmp_path, OLD)
    before = "    cache 3600 {\n        servfail 5m\n    }\n"
    async with serve_corefile(corefile(path, "reload 1h", before=before)) as srv:
        (cache,) = [h for b in srv.instance.blocks for h in b.handlers if isinstance(h, Cache)]
        await until(srv, "a.example.org", ["10.0.0.1"])
        await until(srv, "new.example.org", "SERVFAIL")
        assert cache.size(0) == 1 and cache.size(1) == 1  # both answers held for minutes
        by_rename(path, NEW + "10.0.0.3 new.example.org\n")
        await until(srv, "a.example.org", ["10.0.0.2"])
        await until(srv, "new.example.org", ["10.0.0.3"])
        reply = await srv.query("3.0.0.10.in-addr.arpa", "PTR")
        assert answer(reply) == ["new.example.org."]


def sample(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


async def test_metrics(tmp_path: Path) -> None:
    path = plain(tmp_path, OLD)
    text = corefile(path, "10.9.0.1 inline.example.org", "reload 1h")
    async with serve_corefile(text) as srv:
        source = the_hosts(srv).source
        assert sample("coredns_hosts_entries") == 4  # 2 addresses, 2 PTR names
        first = sample("coredns_hosts_reload_timestamp_seconds")
        assert first is not None and first == source.reloaded
        by_rename(path, OLD + "10.0.0.2 b.example.org c.example.org\n")
        await until(srv, "c.example.org", ["10.0.0.2"])
        assert sample("coredns_hosts_entries") == 8
        again = sample("coredns_hosts_reload_timestamp_seconds")
        assert again is not None and again > first
    assert sample("coredns_hosts_entries") is None  # stopped: no hosts plugin runs


async def test_config_reload_stops_the_old_reloads(tmp_path: Path) -> None:
    first, second = plain(tmp_path, OLD), tmp_path / "second"
    second.write_text(NEW)
    async with serve_corefile(corefile(first, "reload 1h")) as srv:
        old = the_hosts(srv).source
        assert old.running and old.watch.running
        assert await srv.reload(corefile(second, "reload 1h"))
        new = the_hosts(srv).source
        assert new is not old and new.running and new.watch.running
        assert not old.running and not old.watch.running
        await until(srv, "a.example.org", ["10.0.0.2"])
        by_rename(second, "10.0.0.3 a.example.org\n")
        await until(srv, "a.example.org", ["10.0.0.3"])
    assert not new.running and not new.watch.running


async def test_reload_zero_reads_the_file_once(tmp_path: Path) -> None:
    path = plain(tmp_path, OLD)
    async with serve_corefile(corefile(path, "reload 0")) as srv:
        source = the_hosts(srv).source
        assert not source.running and not source.watch.running
        await until(srv, "a.example.org", ["10.0.0.1"])
        assert source.check() is False  # nothing changed, and nothing is polling either
