"""containers/musl_wheels.py's reading of wheel names (its pip calls need PyPI, so they are run
by hand and recorded in containers/README.md)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.containers.tools import CONTAINERS


def load() -> ModuleType:
    if "musl_wheels" not in sys.modules:
        path = CONTAINERS / "musl_wheels.py"
        spec = importlib.util.spec_from_file_location("musl_wheels", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["musl_wheels"] = mod  # dataclasses look their module up there
        spec.loader.exec_module(mod)
    return sys.modules["musl_wheels"]


CASES = [
    ("uvloop-0.23.0-cp311-cp311-musllinux_1_2_x86_64.whl", "x86_64", "musllinux_1_2 wheel"),
    ("pydantic_core-2.50.5-cp311-cp311-musllinux_1_1_aarch64.whl", "aarch64", "musllinux_1_1 wheel"),  # noqa: E501
    ("dnslib-0.9.26-py3-none-any.whl", "x86_64", "pure-Python wheel"),
]  # fmt: skip
WRONG = [
    ("watchdog-7.1.0-py3-none-manylinux2014_x86_64.whl", "x86_64"),
    ("multidict-7.2.1-cp311-cp311-musllinux_1_2_aarch64.whl", "x86_64"),
]


@pytest.mark.parametrize(("filename", "arch", "text"), CASES)
def test_describe_accepts(filename: str, arch: str, text: str) -> None:
    verdict = load().describe(filename, arch)
    assert (verdict.text, verdict.ok) == (text, True)


@pytest.mark.parametrize(("filename", "arch"), WRONG)
def test_describe_rejects(filename: str, arch: str) -> None:
    verdict = load().describe(filename, arch)
    tag = "-".join(filename.removesuffix(".whl").split("-")[-3:])
    assert (verdict.text, verdict.ok) == (f"unexpected wheel {tag}", False)
