"""Setup of *bufsize*: default 1232, 512..4096, one argument, once per block."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.bufsize import setup
from dnsd.plugins.bufsize.handler import Bufsize
from dnsd.plugins.bufsize.setup import BufsizeOptions, parse
from dnsd.testing import setup_controller


def controller(text: str) -> Controller:
    return setup_controller(text, "bufsize")


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: BufsizeOptions | None = None
    error: str | None = None


RANGE = "SIZE must be an integer between 512 and 4096"

CASES = [
    SetupCase("default", ". {\n    bufsize\n}\n", BufsizeOptions(size=1232)),
    SetupCase("min", ". {\n    bufsize 512\n}\n", BufsizeOptions(size=512)),
    SetupCase("max", ". {\n    bufsize 4096\n}\n", BufsizeOptions(size=4096)),
    SetupCase("typical", ". {\n    bufsize 1400\n}\n", BufsizeOptions(size=1400)),
    SetupCase(
        "too-small", ". {\n    bufsize 511\n}\n", error=f"Corefile:2: bufsize: {RANGE}: '511'"
    ),
    SetupCase(
        "too-large", ". {\n    bufsize 4097\n}\n", error=f"Corefile:2: bufsize: {RANGE}: '4097'"
    ),
    SetupCase("negative", ". {\n    bufsize -1\n}\n", error=f"Corefile:2: bufsize: {RANGE}: '-1'"),
    SetupCase("word", ". {\n    bufsize big\n}\n", error=f"Corefile:2: bufsize: {RANGE}: 'big'"),
    SetupCase(
        "two-args",
        ". {\n    bufsize 512 1232\n}\n",
        error="Corefile:2: bufsize: wrong argument count or unexpected line ending after '1232'",
    ),
    SetupCase(
        "block",
        ". {\n    bufsize 512 {\n        ipv6 1232\n    }\n}\n",
        error="Corefile:3: bufsize: unknown property 'ipv6'",
    ),
    SetupCase(
        "twice",
        ". {\n    bufsize 512\n    bufsize 1232\n}\n",
        error="Corefile:3: bufsize: can only be used once per server block",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase) -> None:
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            parse(c)
        assert str(info.value) == case.error
    else:
        assert parse(c) == case.want


def test_setup_adds_the_handler() -> None:
    c = controller(". {\n    bufsize 1400\n}\n")
    setup(c)
    [handler] = c.block.handlers
    assert isinstance(handler, Bufsize)
    assert handler.size == 1400
