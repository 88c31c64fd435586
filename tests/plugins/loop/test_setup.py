"""Setup of loop: a bare directive, once per block; the probe zone is the first key's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.loop.handler import Loop
from dnsd.plugins.loop.setup import NAME, LoopOptions, parse
from dnsd.testing import parsed_options


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: LoopOptions | None = None
    error: str | None = None


CASES = {
    "bare": SetupCase(". {\n    loop\n}\n", want=LoopOptions(zone=".")),
    "zone": SetupCase("Example.ORG:1053 {\n    loop\n}\n", want=LoopOptions(zone="example.org.")),
    "first-key": SetupCase(
        "example.org example.net {\n    loop\n}\n", want=LoopOptions(zone="example.org.")
    ),
    "reverse-cidr": SetupCase(
        "10.0.0.0/8 {\n    loop\n}\n", want=LoopOptions(zone="10.in-addr.arpa.")
    ),
    "argument": SetupCase(
        ". {\n    loop 5\n}\n",
        error="Corefile:2: loop: wrong argument count or unexpected line ending after '5'",
    ),
    "block": SetupCase(
        ". {\n    loop {\n        x\n    }\n}\n", error="Corefile:3: loop: unknown property 'x'"
    ),
    "twice": SetupCase(
        ". {\n    loop\n    loop\n}\n",
        error="Corefile:3: loop: can only be used once per server block",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_setup(case: SetupCase) -> None:
    if case.error is not None:
        with pytest.raises(CorefileError) as exc:
            load(case.corefile, "Corefile")
        assert str(exc.value) == case.error
        return
    assert parsed_options(case.corefile, NAME, parse) == [case.want]
    instance = load(case.corefile, "Corefile")
    (block,) = instance.blocks
    (handler,) = block.handlers
    assert isinstance(handler, Loop)
    assert len(instance.startup) == 1 and len(instance.shutdown) == 1
    assert case.want is not None
    first, second, *zone = handler.qname.split(".", 2)
    assert first.isdigit() and second.isdigit()
    assert zone == ([""] if case.want.zone == "." else [case.want.zone])
