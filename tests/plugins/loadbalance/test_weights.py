"""The weight file: its format, its errors, and reloading it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dnsd.plugins.loadbalance.weights import WeightFile, WeightFileError, parse

V4 = bytes([10, 0, 0, 1])
MAPPED = bytes(10) + b"\xff\xff" + V4
V6 = bytes.fromhex("20010db8000000000000000000000001")
WWW = (b"www", b"example", b"com")

GOOD = {
    "comments-and-blanks": (
        "# weights\n\nwww.example.com\n  10.0.0.1   7  \n# end\n",
        {WWW: {V4: 7, MAPPED: 7}},
    ),
    "trailing-dot-and-case": ("WWW.Example.COM.\n10.0.0.1 1\n", {WWW: {V4: 1, MAPPED: 1}}),
    "ipv6": ("www.example.com\n2001:db8::1 255\n", {WWW: {V6: 255}}),
    "ipv4-mapped": ("www.example.com\n::ffff:10.0.0.1 9\n", {WWW: {V4: 9, MAPPED: 9}}),
    "domain-twice-merges": (
        "www.example.com\n10.0.0.1 2\nx.example.com\nwww.example.com\n2001:db8::1 3\n",
        {WWW: {V4: 2, MAPPED: 2, V6: 3}, (b"x", b"example", b"com"): {}},
    ),
    "root": (".\n10.0.0.1 4\n", {(): {V4: 4, MAPPED: 4}}),
    "empty": ("", {}),
}


@pytest.mark.parametrize(("text", "want"), GOOD.values(), ids=GOOD.keys())
def test_parse(text: str, want: object) -> None:
    assert parse(text.encode(), "w") == want


BAD = {
    "ip-as-domain": ("10.0.0.1\n", "w:1: wrong domain name '10.0.0.1' (missing weight value?)"),
    "empty-label": ("a..b\n", "w:1: wrong domain name 'a..b'"),
    "long-label": (f"{'x' * 64}.com\n", f"w:1: wrong domain name '{'x' * 64}.com'"),
    "bad-ip": ("a.com\n10.0.0.256 1\n", "w:2: wrong IP address '10.0.0.256'"),
    "weight-zero": ("a.com\n10.0.0.1 0\n", "w:2: wrong weight value '0' (want 1 to 255)"),
    "weight-too-big": ("a.com\n10.0.0.1 256\n", "w:2: wrong weight value '256' (want 1 to 255)"),
    "weight-not-a-number": ("a.com\n10.0.0.1 x\n", "w:2: wrong weight value 'x' (want 1 to 255)"),
    "weight-negative": ("a.com\n10.0.0.1 -1\n", "w:2: wrong weight value '-1' (want 1 to 255)"),
    "no-domain-yet": ("# x\n10.0.0.1 1\n", "w:2: missing domain name before '10.0.0.1 1'"),
    "three-fields": ("a.com\n10.0.0.1 1 2\n", "w:2: could not parse weight line '10.0.0.1 1 2'"),
}


@pytest.mark.parametrize(("text", "error"), BAD.values(), ids=BAD.keys())
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(WeightFileError) as exc:
        parse(text.encode(), "w")
    assert str(exc.value) == error


def test_check_reloads_changes_and_keeps_old_weights_on_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "weights"
    path.write_text("www.example.com\n10.0.0.1 2\n")
    weights = WeightFile(str(path), 0)
    first = weights.table
    assert first == {WWW: {V4: 2, MAPPED: 2}}
    assert weights.check() is False  # unchanged contents: nothing to do

    path.write_text("www.example.com\n10.0.0.1 5\n")
    with caplog.at_level(logging.INFO, logger="plugin/loadbalance"):
        assert weights.check() is True
    assert weights.table == {WWW: {V4: 5, MAPPED: 5}}
    assert f"Successfully reloaded weight file {path}" in caplog.messages
    good = weights.table

    caplog.clear()
    path.write_text("www.example.com\n10.0.0.1 0\n")
    assert weights.check() is False
    assert weights.table is good
    assert caplog.messages == [
        f"{path}:2: wrong weight value '0' (want 1 to 255); keeping the previous weights"
    ]
    caplog.clear()
    assert weights.check() is False  # the same bad contents are reported once
    assert caplog.messages == []

    path.unlink()
    assert weights.check() is False
    assert weights.table is good
    assert caplog.messages == [f"cannot read weight file {path}: No such file or directory"]


async def test_reload_task_runs_until_stopped(tmp_path: Path) -> None:
    path = tmp_path / "weights"
    path.write_text("www.example.com\n10.0.0.1 2\n")
    weights = WeightFile(str(path), 0.02)
    await weights.start()
    task = weights._task
    assert task is not None and not task.done()
    await weights.stop()
    assert task.done() and weights._task is None


async def test_no_reload_task_when_reload_is_zero(tmp_path: Path) -> None:
    path = tmp_path / "weights"
    path.write_text("")
    weights = WeightFile(str(path), 0)
    await weights.start()
    assert weights._task is None
    await weights.stop()
