"""Setup of *root*: absolute and relative paths, a missing folder warns, a file fails."""

from __future__ import annotations

import logging
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugin import REGISTRY
from dnsd.plugins.root import setup
from dnsd.plugins.root.setup import RootOptions, parse
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "root")


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str  # {tmp} is the test's temporary folder, holding a folder "zones" and a file "db"
    want: str | None = None  # the root, {tmp} substituted
    error: str | None = None
    warning: str | None = None


CASES = [
    SetupCase("absolute", ". {{\n    root {tmp}/zones\n}}\n", want="{tmp}/zones"),
    SetupCase("relative-to-cwd", ". {{\n    root zones\n}}\n", want="{tmp}/zones"),
    SetupCase("dot", ". {{\n    root .\n}}\n", want="{tmp}"),
    SetupCase("normalised", ". {{\n    root ./zones/../zones/\n}}\n", want="{tmp}/zones"),
    SetupCase(
        "missing-warns",
        ". {{\n    root {tmp}/later\n}}\n",
        want="{tmp}/later",
        warning="Root path does not exist: {tmp}/later",
    ),
    SetupCase(
        "a-file",
        ". {{\n    root {tmp}/db\n}}\n",
        error="Corefile:2: root: root path '{tmp}/db' is not a directory",
    ),
    SetupCase(
        "under-a-file",
        ". {{\n    root {tmp}/db/x\n}}\n",
        error="Corefile:2: root: unable to access root path '{tmp}/db/x': [Errno 20] Not a"
        " directory: '{tmp}/db/x'",
    ),
    SetupCase(
        "no-path",
        ". {{\n    root\n}}\n",
        error="Corefile:2: root: wrong argument count or unexpected line ending after 'root'",
    ),
    SetupCase(
        "two-paths",
        ". {{\n    root a b\n}}\n",
        error="Corefile:2: root: wrong argument count or unexpected line ending after 'b'",
    ),
    SetupCase(
        "block",
        ". {{\n    root zones {{\n        x\n    }}\n}}\n",
        error="Corefile:3: root: unknown property 'x'",
    ),
    SetupCase(
        "block-instead-of-path",
        ". {{\n    root {{\n        {tmp}\n    }}\n}}\n",
        error="Corefile:2: root: wrong argument count or unexpected line ending after 'root'",
    ),
    SetupCase(
        "twice",
        ". {{\n    root a\n    root b\n}}\n",
        error="Corefile:3: root: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(
    case: SetupCase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "zones").mkdir()
    (tmp_path / "db").write_text("")
    monkeypatch.chdir(tmp_path)
    tmp = str(tmp_path)
    c = controller(case.corefile.format(tmp=tmp))
    with caplog.at_level(logging.WARNING, logger="plugin/root"):
        if case.error is not None:
            with pytest.raises(CorefileError) as info:
                parse(c)
            assert str(info.value) == case.error.format(tmp=tmp)
            return
        assert case.want is not None
        assert parse(c) == RootOptions(path=case.want.format(tmp=tmp))
    warnings = [r.getMessage() for r in caplog.records if r.name == "plugin/root"]
    assert warnings == ([case.warning.format(tmp=tmp)] if case.warning else [])


def test_setup_sets_the_block_root_used_by_path(tmp_path: Path) -> None:
    c = controller(f". {{\n    root {tmp_path}\n}}\n")
    setup(c)
    assert c.block.root == str(tmp_path)
    assert c.path("db.example.org") == str(tmp_path / "db.example.org")
    assert c.path("/etc/hosts") == "/etc/hosts"


def test_root_is_set_up_before_plugins_written_above_it(tmp_path: Path) -> None:
    """The chain order, not the text order: a plugin above *root* still sees its folder."""
    probe = types.ModuleType("pathprobe")

    def probe_setup(c: Controller) -> None:
        while c.next():
            c.settings["probe"] = c.path("db")

    probe.NAME = "pathprobe"  # type: ignore[attr-defined]
    probe.setup = probe_setup  # type: ignore[attr-defined]
    REGISTRY.add(probe)
    try:
        instance = load(f".:1053 {{\n    pathprobe\n    root {tmp_path}\n}}\n", "Corefile")
    finally:
        REGISTRY.remove("pathprobe")
    assert instance.blocks[0].root == str(tmp_path)
    assert instance.blocks[0].settings["probe"] == str(tmp_path / "db")
