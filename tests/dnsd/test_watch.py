"""FolderHint: any change in a watched folder wakes the loop; reading a file there does not."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from dnsd.testing import wait_for
from dnsd.watch import FolderHint


async def test_writes_wake_and_reads_do_not(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("10.0.0.1 a\n")
    woken: list[int] = []
    hint = FolderHint([str(tmp_path), str(tmp_path / "missing")], lambda: woken.append(1))
    hint.start()
    try:
        await asyncio.sleep(0.2)  # the observer is running
        for _ in range(20):
            (tmp_path / "hosts").read_text()  # our own polls must not wake us: no busy loop
        await asyncio.sleep(0.3)
        assert woken == []
        tmp = tmp_path / "hosts.tmp"
        tmp.write_text("10.0.0.2 b\n")
        os.rename(tmp, tmp_path / "hosts")
        await wait_for(lambda: bool(woken), timeout=3.0)
    finally:
        await hint.stop()


async def test_no_existing_folder_means_no_observer(tmp_path: Path) -> None:
    hint = FolderHint([str(tmp_path / "nope")], lambda: None)
    assert not hint.start()
    assert not hint.running
    await hint.stop()


def test_watchdogs_stop_race_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("watchdog.observers.inotify")
    with caplog.at_level(logging.INFO):
        logger.error("InotifyEmitter.queue_events() called when the thread is inactive")
        logger.error("some other watchdog error")
    assert caplog.messages == ["some other watchdog error"]
