"""The hosts data kept up to date: when a read is applied, what is kept, what is logged.

Checks are driven by hand (``check()``) with a fake clock, so every step is deterministic; the
reload loop and the folder watch are tested through the real server in test_integration.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.hosts import source as source_module
from dnsd.plugins.hosts.source import MAX_UNSTABLE, SETTLE, HostsSource

INLINE = ("192.0.2.1 inline.example",)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def settle(self) -> None:
        """Let a changed content stay the same long enough to be used."""
        self.now += SETTLE


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(path: Path, clock: Clock, **kw: object) -> HostsSource:
    return HostsSource(str(path), (".",), INLINE, clock=clock, **kw)  # type: ignore[arg-type]


def names(src: HostsSource) -> dict[str, tuple[str, ...]]:
    return {**src.table.v4, **src.table.v6}


def test_first_read_is_applied_at_once(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    assert names(src) == {"inline.example.": ("192.0.2.1",)}  # inline entries from the start
    calls: list[int] = []
    src.on_change(lambda: calls.append(1))
    assert src.check() is True
    assert names(src) == {"inline.example.": ("192.0.2.1",), "a.example.": ("10.0.0.1",)}
    assert calls == [1]
    assert src.reloaded > 0
    assert src.check() is False  # same content: nothing happens
    assert calls == [1]


def test_missing_at_start_serves_inline_then_file_when_it_appears(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    src = make(path, clock)
    with caplog.at_level(logging.WARNING, logger="plugin/hosts"):
        assert src.check() is True
        assert src.check() is False
    assert caplog.messages == [f"File does not exist: {path}"]  # once
    assert names(src) == {"inline.example.": ("192.0.2.1",)}
    path.write_text("10.0.0.1 a.example\n")
    assert src.check() is False  # a change waits to be seen unchanged a moment later
    clock.settle()
    assert src.check() is True
    assert "a.example." in names(src)


def test_half_written_file_is_never_served(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n10.0.0.2 b.example\n")
    src = make(path, clock)
    src.check()
    seen: list[dict[str, tuple[str, ...]]] = []
    src.on_change(lambda: seen.append(names(src)))
    with path.open("w") as f:  # rewritten in place, caught half-way
        f.write("10.0.0.1 a.example\n10.0.0.3 b.exa")
        f.flush()
        assert src.check() is False
        assert src.pending is not None
        assert names(src)["b.example."] == ("10.0.0.2",)
        f.write("mple\n")
    clock.settle()
    assert src.check() is False  # the content moved on: wait again
    assert names(src)["b.example."] == ("10.0.0.2",)
    clock.now += SETTLE / 2
    assert src.check() is False  # unchanged, but not for long enough yet
    clock.now += SETTLE / 2
    assert src.check() is True
    assert seen == [
        {
            "inline.example.": ("192.0.2.1",),
            "a.example.": ("10.0.0.1",),
            "b.example.": ("10.0.0.3",),
        }
    ]
    assert src.pending is None


def test_truncated_file_waits_like_any_change(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    path.write_text("")  # the moment between truncate and write
    assert src.check() is False
    assert "a.example." in names(src)
    path.write_text("10.0.0.1 a.example\n")  # back as it was: nothing to do
    assert src.check() is False
    assert src.pending is None


def test_reads_close_together_do_not_settle_a_change(tmp_path: Path, clock: Clock) -> None:
    """Many events in a burst wake many checks: the content must stay, not just be read twice."""
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    path.write_text("10.0.0.2 a.ex")
    for _ in range(5):
        assert src.check() is False
        clock.now += SETTLE / 10
    assert names(src)["a.example."] == ("10.0.0.1",)
    path.write_text("10.0.0.2 a.example\n")
    assert src.check() is False
    clock.settle()
    assert src.check() is True
    assert names(src)["a.example."] == ("10.0.0.2",)


def test_settle_is_at_most_the_reload_interval(tmp_path: Path, clock: Clock) -> None:
    assert make(tmp_path / "h", clock, reload=0.05).settle == 0.05
    assert make(tmp_path / "h", clock, reload=5.0).settle == SETTLE
    assert make(tmp_path / "h", clock, reload=0.0).settle == SETTLE


def test_file_that_keeps_changing_is_applied_after_a_while(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    for i in range(3):
        path.write_text(f"10.0.1.{i} a.example\n")
        assert src.check() is False
        clock.now += MAX_UNSTABLE / 3 - 0.01
    path.write_text("10.0.2.1 a.example\n")
    clock.now += 0.1
    assert src.check() is True
    assert names(src)["a.example."] == ("10.0.2.1",)


def test_deleted_file_keeps_its_entries(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="plugin/hosts"):
        for _ in range(3):
            assert src.check() is False
            clock.settle()
    assert names(src) == {"inline.example.": ("192.0.2.1",), "a.example.": ("10.0.0.1",)}
    warned = [m for m in caplog.messages if m.startswith("File does not exist")]
    assert warned == [f"File does not exist: {path}; serving the entries read before"]
    path.write_text("10.0.0.4 a.example\n")
    src.check()
    clock.settle()
    assert src.check() is True
    assert names(src)["a.example."] == ("10.0.0.4",)


def test_unreadable_file_keeps_the_data_and_logs_once(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    before = src.table
    path.unlink()
    path.mkdir()  # something that cannot be read as a file
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        for _ in range(3):
            assert src.check() is False
    assert src.table is before
    assert caplog.messages == [
        f"cannot read {path}: Is a directory; serving the entries read before"
    ]
    path.rmdir()
    path.write_text("10.0.0.5 a.example\n")
    src.check()
    clock.settle()
    assert src.check() is True
    assert names(src)["a.example."] == ("10.0.0.5",)


def test_too_large_file_is_refused(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(source_module, "MAX_SIZE", 1 << 20)
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    src.check()
    path.write_bytes(b"#" * ((1 << 20) + 1))
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        assert src.check() is False
    assert caplog.messages == [
        f"cannot read {path}: larger than 1 MiB; serving the entries read before"
    ]
    assert "a.example." in names(src)


def test_bad_lines_are_logged_once_per_content(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    lines = ["10.0.0.1 a.example"] + [f"10.0.0.{i}.9 bad{i}" for i in range(12)]
    path.write_text("\n".join(lines) + "\n")
    src = make(path, clock)
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        src.check()
        src.check()
        src.check()
    want = [f"{path}:{i + 2}: invalid IP address '10.0.0.{i}.9'; line skipped" for i in range(10)]
    assert caplog.messages == [*want, f"{path}: 2 more lines skipped"]
    assert names(src)["a.example."] == ("10.0.0.1",)  # the rest of the file is used


def test_a_failing_listener_is_logged_and_the_others_still_run(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock)
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    src.on_change(broken)
    stop = src.on_change(lambda: calls.append("second"))
    with caplog.at_level(logging.ERROR, logger="plugin/hosts"):
        assert src.check() is True
    assert caplog.messages == ["data change listener failed: boom"]
    assert calls == ["second"]
    stop()
    path.write_text("10.0.0.2 a.example\n")
    src.check()
    clock.settle()
    assert src.check() is True
    assert calls == ["second"]  # unsubscribed


def sample(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


async def test_start_stop_and_metrics(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example b.example\n")
    src = make(path, clock, reload=3600.0)
    assert sample("coredns_hosts_entries") is None
    await src.start()
    try:
        assert src.running and src.watch.running
        # inline: 1 address + 1 PTR name; file: 2 addresses + 2 PTR names.
        assert sample("coredns_hosts_entries") == 6
        assert sample("coredns_hosts_reload_timestamp_seconds") == src.reloaded
    finally:
        await src.stop()
    assert not src.running and not src.watch.running
    assert sample("coredns_hosts_entries") is None


async def test_reload_zero_reads_once_and_watches_nothing(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 a.example\n")
    src = make(path, clock, reload=0.0)
    await src.start()
    try:
        assert "a.example." in names(src)
        assert not src.running and not src.watch.running
    finally:
        await src.stop()
