"""*file* through the real server: zone files changed on disk, ConfigMap-style symlink swaps, the
cache dropping a reloaded zone's answers, CNAME targets in another zone, fallthrough."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import dns.flags
import dns.rcode
import pytest

from dnsd.plugins.file.handler import File
from dnsd.testing import TestServer, serve_corefile, wait_for


def zone(serial: int, address: str = "192.0.2.1", ttl: int = 3600, extra: str = "") -> str:
    return (
        f"$ORIGIN example.org.\n$TTL {ttl}\n"
        f"@ IN SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n  IN NS ns1\n"
        f"ns1 IN A 192.0.2.53\nwww IN A {address}\n{extra}"
    )


def handler(srv: TestServer, index: int = 0) -> File:
    instance = srv.runtime.instance
    assert instance is not None
    block = instance.blocks[index]
    return next(h for h in block.handlers if isinstance(h, File))


def addresses(reply: Any) -> list[str]:
    return [rr.to_text() for rrset in reply.answer for rr in rrset if rrset.rdtype == 1]


async def answers(
    srv: TestServer, want: list[str], qname: str = "www.example.org", timeout: float = 5.0
) -> None:
    """Ask ``qname`` A until the server answers ``want`` (every 20 ms, for ``timeout`` s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (got := addresses(await srv.query(qname, "A"))) != want:
        if loop.time() > deadline:
            raise AssertionError(f"still {got}, not {want}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_serves_the_zone(tmp_path: Path, tcp: bool) -> None:
    (tmp_path / "db.example.org").write_text(zone(1))
    corefile = f"example.org {{\n    root {tmp_path}\n    file db.example.org\n}}\n"
    async with serve_corefile(corefile) as srv:
        reply = await srv.query("www.example.org", "A", tcp=tcp)
        assert reply.flags & dns.flags.AA
        assert addresses(reply) == ["192.0.2.1"]
        assert [rrset.to_text() for rrset in reply.authority] == [
            "example.org. 3600 IN NS ns1.example.org."
        ]
        reply = await srv.query("nope.example.org", "A", tcp=tcp)
        assert reply.rcode() == dns.rcode.NXDOMAIN
        assert reply.authority[0].ttl == 300


async def test_changed_file_is_served_after_reload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db.example.org"
    db.write_text(zone(1))
    corefile = f"example.org {{\n    file {db} {{\n        reload 50ms\n    }}\n}}\n"
    with caplog.at_level(logging.INFO, logger="plugin/file"):
        async with serve_corefile(corefile) as srv:
            db.write_text(zone(2, "192.0.2.2"))
            await answers(srv, ["192.0.2.2"])
            db.write_text(zone(3, "192.0.2"))  # broken: the last good zone stays
            error = f'Parsing zone "example.org.": {db}:6: Text input is malformed.'
            await wait_for(lambda: error in caplog.messages)
            assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.2"]
            source = handler(srv).sources[0]
            task = source._task
            assert task is not None and not task.done()
        assert task.done()  # shutdown stopped the reloads
    assert f'Successfully reloaded zone "example.org." in "{db}" with 2 SOA serial' in (
        caplog.messages
    )


def atomic_update(folder: Path, files: dict[str, str], generation: int) -> None:
    """What the kubelet does to a ConfigMap volume: a new timestamped folder, a ``..data_tmp``
    symlink to it renamed over ``..data``, the old folder removed."""
    new = folder / f"..2026_01_01_00_00_0{generation}.000000001"
    new.mkdir()
    for name, text in files.items():
        (new / name).write_text(text)
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")
    old = os.readlink(folder / "..data") if (folder / "..data").is_symlink() else None
    tmp = folder / "..data_tmp"
    tmp.symlink_to(new.name)
    os.rename(tmp, folder / "..data")
    if old is not None:
        shutil.rmtree(folder / old)


async def test_configmap_symlink_swaps_are_seen(tmp_path: Path) -> None:
    """reload is an hour: only the folder watch can make the swaps visible this soon."""
    folder = tmp_path / "coredns"
    folder.mkdir()
    atomic_update(folder, {"db.example.org": zone(1)}, 1)
    corefile = (
        f"example.org {{\n    root {folder}\n"
        "    file db.example.org {\n        reload 1h\n    }\n}\n"
    )
    async with serve_corefile(corefile) as srv:
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.1"]
        atomic_update(folder, {"db.example.org": zone(2, "192.0.2.2")}, 2)
        await answers(srv, ["192.0.2.2"])
        atomic_update(folder, {"db.example.org": zone(3, "192.0.2.3")}, 3)
        await answers(srv, ["192.0.2.3"])


async def test_cache_drops_the_answers_of_a_reloaded_zone(tmp_path: Path) -> None:
    db = tmp_path / "db.example.org"
    db.write_text(zone(1))
    corefile = f"example.org {{\n    cache 300\n    file {db} {{\n        reload 50ms\n    }}\n}}\n"
    async with serve_corefile(corefile) as srv:
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.1"]
        assert (await srv.query("new.example.org", "A")).rcode() == dns.rcode.NXDOMAIN
        db.write_text(zone(2, "192.0.2.2", extra="new IN A 192.0.2.9\n"))
        await answers(srv, ["192.0.2.2"])
        assert addresses(await srv.query("new.example.org", "A")) == ["192.0.2.9"]


async def test_cache_is_told_by_the_reload(tmp_path: Path) -> None:
    """Without reloading the cached answer stays; a reload applied by hand drops it at once."""
    db = tmp_path / "db.example.org"
    db.write_text(zone(1))
    corefile = f"example.org {{\n    cache 300\n    file {db} {{\n        reload 0\n    }}\n}}\n"
    async with serve_corefile(corefile) as srv:
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.1"]
        source = handler(srv).sources[0]
        db.write_text(zone(2, "192.0.2.2"))
        new = source.poll()
        assert new is not None
        source.zone = new  # the new zone, but the cache not told
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.1"]
        source.apply(new)  # what a reload does: the cache drops the zone's answers
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.2"]


async def test_cname_target_in_another_zone(tmp_path: Path) -> None:
    (tmp_path / "db.org").write_text(zone(1, extra="ext IN CNAME www.example.net.\n"))
    (tmp_path / "db.net").write_text("$TTL 60\n@ IN SOA ns hm 1 1 1 1 1\nwww IN A 198.51.100.80\n")
    corefile = (
        f"example.org {{\n    file {tmp_path}/db.org\n}}\n"
        f"example.net {{\n    file {tmp_path}/db.net\n}}\n"
    )
    async with serve_corefile(corefile) as srv:
        reply = await srv.query("ext.example.org", "A")
        assert [rrset.to_text() for rrset in reply.answer] == [
            "ext.example.org. 3600 IN CNAME www.example.net.",
            "www.example.net. 60 IN A 198.51.100.80",
        ]
        assert reply.flags & dns.flags.AA


async def test_fallthrough_to_the_next_plugin(tmp_path: Path) -> None:
    (tmp_path / "db").write_text(zone(1))
    corefile = (
        f"example.org {{\n    file {tmp_path}/db {{\n        fallthrough\n    }}\n    whoami\n}}\n"
    )
    async with serve_corefile(corefile) as srv:
        reply = await srv.query("nope.example.org", "A")
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.answer == []
        assert any(rrset.rdtype == 1 for rrset in reply.additional)  # whoami's
        assert addresses(await srv.query("www.example.org", "A")) == ["192.0.2.1"]


async def test_missing_file_is_servfail_until_it_appears(tmp_path: Path) -> None:
    db = tmp_path / "db.example.org"
    corefile = f"example.org {{\n    file {db} {{\n        reload 50ms\n    }}\n}}\n"
    async with serve_corefile(corefile) as srv:
        assert (await srv.query("www.example.org", "A")).rcode() == dns.rcode.SERVFAIL
        db.write_text(zone(1))
        await answers(srv, ["192.0.2.1"])


async def test_corefile_reload_stops_the_old_loops(tmp_path: Path) -> None:
    db = tmp_path / "db.example.org"
    db.write_text(zone(1))
    corefile = f"example.org {{\n    file {db} {{\n        reload 50ms\n    }}\n}}\n"
    async with serve_corefile(corefile) as srv:
        old = handler(srv).sources[0]
        assert old._task is not None
        assert await srv.reload(corefile.replace("50ms", "60ms"))
        assert old._task is None
        new = handler(srv).sources[0]
        assert new is not old and new._task is not None
        db.write_text(zone(2, "192.0.2.2"))
        await answers(srv, ["192.0.2.2"])
