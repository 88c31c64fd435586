"""Reloading one zone: when a changed file is applied, what is logged, what is kept."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from dnsd.plugins.file.source import ZoneFileMissing, ZoneSource
from dnsd.plugins.file.zonefile import ZoneFileError
from dnsd.testing import wait_for

ORIGIN = "example.org."


def zone(serial: int, address: str = "192.0.2.1", extra: str = "") -> str:
    return f"$TTL 60\n@ IN SOA ns hm {serial} 1 1 1 1\nwww IN A {address}\n{extra}"


def address(src: ZoneSource) -> str:
    assert src.zone is not None
    answer = src.zone.lookup((b"www", b"example", b"org"), 1)
    return str(answer.answer[0].rdata)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db.example.org"
    path.write_text(zone(1))
    return path


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="plugin/file")
    return caplog


def loaded(db: Path, **kw: object) -> ZoneSource:
    src = ZoneSource(ORIGIN, str(db), 60.0, **kw)  # type: ignore[arg-type]
    src.load()
    return src


def test_unchanged_file_is_not_read_again(db: Path, logs: pytest.LogCaptureFixture) -> None:
    src = loaded(db)
    first = src.zone
    assert not src.check()
    assert src.zone is first
    assert logs.messages == []


def test_same_serial_is_not_applied(db: Path, logs: pytest.LogCaptureFixture) -> None:
    src = loaded(db)
    db.write_text(zone(1, "192.0.2.2"))
    assert not src.check()
    assert address(src) == "192.0.2.1"
    assert logs.messages == []


def test_new_serial_is_applied_and_logged(db: Path, logs: pytest.LogCaptureFixture) -> None:
    src = loaded(db)
    calls: list[int] = []
    src.on_change(lambda: calls.append(1))
    db.write_text(zone(2024010102, "192.0.2.2"))
    assert src.check()
    assert address(src) == "192.0.2.2"
    assert calls == [1]
    assert logs.messages == [
        f'Successfully reloaded zone "example.org." in "{db}" with 2024010102 SOA serial'
    ]


def test_lower_serial_is_applied_too(db: Path) -> None:
    """CoreDNS reloads when the serial differs, not only when it grew."""
    db.write_text(zone(5))
    src = loaded(db)
    db.write_text(zone(4, "192.0.2.4"))
    assert src.check()
    assert address(src) == "192.0.2.4"


def test_bad_file_keeps_the_old_zone(db: Path, logs: pytest.LogCaptureFixture) -> None:
    src = loaded(db)
    db.write_text(zone(2, "192.0.2"))
    assert not src.check()
    assert not src.check()  # the same failure is logged once
    assert address(src) == "192.0.2.1"
    assert [(r.levelname, r.getMessage()) for r in logs.records] == [
        ("ERROR", f'Parsing zone "example.org.": {db}:3: Text input is malformed.')
    ]
    db.write_text(zone(3, "192.0.2.3"))
    assert src.check()
    assert address(src) == "192.0.2.3"


def test_removed_file_keeps_the_old_zone(db: Path, logs: pytest.LogCaptureFixture) -> None:
    src = loaded(db)
    db.unlink()
    assert not src.check()
    assert not src.check()
    assert address(src) == "192.0.2.1"
    assert logs.messages == [
        f'Failed to open zone "example.org." in "{db}": open {db}: no such file or directory'
    ]


def test_missing_at_start_then_created(tmp_path: Path, logs: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "later"
    src = ZoneSource(ORIGIN, str(db), 60.0)
    with pytest.raises(ZoneFileMissing):
        src.load()
    assert src.zone is None
    db.write_text(zone(9))
    assert src.check()
    assert address(src) == "192.0.2.1"
    assert logs.messages[-1].endswith("with 9 SOA serial")


def test_bad_zone_at_start_is_an_error(db: Path) -> None:
    db.write_text("garbage\n")
    with pytest.raises(ZoneFileError) as exc:
        loaded(db)
    assert not isinstance(exc.value, ZoneFileMissing)


def test_included_file_changes_are_seen(db: Path) -> None:
    inc = db.parent / "hosts.inc"
    inc.write_text("mail IN A 192.0.2.25\n")
    db.write_text(zone(1, extra="$INCLUDE hosts.inc\n"))
    src = loaded(db)
    inc.write_text("mail IN A 192.0.2.26\n")
    assert not src.check()  # read again (its hash changed), but the serial did not change
    db.write_text(zone(2, extra="$INCLUDE hosts.inc\n"))
    assert src.check()
    assert src.zone is not None
    mail = src.zone.lookup((b"mail", b"example", b"org"), 1)
    assert str(mail.answer[0].rdata) == "192.0.2.26"


def test_reload_by_mtime_ignores_the_serial(db: Path) -> None:
    src = loaded(db, by_mtime=True)
    db.write_text(zone(1, "192.0.2.2"))
    stat = db.stat()
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))
    assert src.check()
    assert address(src) == "192.0.2.2"
    assert not src.check()


async def test_the_loop_reloads_every_interval(db: Path) -> None:
    src = ZoneSource(ORIGIN, str(db), 0.05)
    src.load()
    await src.start()
    try:
        db.write_text(zone(2, "192.0.2.2"))
        await wait_for(lambda: address(src) == "192.0.2.2")
    finally:
        await src.stop()
    db.write_text(zone(3, "192.0.2.3"))
    assert src.check()  # stopped: only explicit looks now


async def test_wake_looks_at_once(db: Path) -> None:
    src = ZoneSource(ORIGIN, str(db), 3600.0)
    src.load()
    await src.start()
    try:
        db.write_text(zone(2, "192.0.2.2"))
        src.wake()
        await wait_for(lambda: address(src) == "192.0.2.2")
    finally:
        await src.stop()


async def test_no_loop_when_reload_is_off(db: Path) -> None:
    src = ZoneSource(ORIGIN, str(db), 0.0)
    src.load()
    await src.start()
    assert src._task is None
    await src.stop()
