"""Find the command-line tools the container tests run (installed by the `test` extras)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "containers"
INSTALL = "install the test extras: pip install -e '.[test]' (make deps)"


def tool(name: str, package: str) -> str:
    """Path of the executable ``name`` from the pip package ``package``: in this interpreter's
    scripts folder (a venv's bin), else on PATH. A missing tool fails the test, naming the
    package: the test command installs it, so its absence is a broken setup, not a skip."""
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} (pip package {package}) not found: {INSTALL}")
    return found


def module(name: str, package: str) -> list[str]:
    """``python -m name`` for a tool shipped as a Python module."""
    if importlib.util.find_spec(name) is None:
        pytest.fail(f"module {name} (pip package {package}) not found: {INSTALL}")
    return [sys.executable, "-m", name]
