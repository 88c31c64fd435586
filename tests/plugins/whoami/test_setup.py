"""Setup of whoami: a bare directive, nothing else."""

from __future__ import annotations

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load

CASES = [
    ("bare", ". {\n    whoami\n}\n", None),
    ("twice", ". {\n    whoami\n    whoami\n}\n", None),
    ("argument", ". {\n    whoami x\n}\n",
     "Corefile:2: whoami: wrong argument count or unexpected line ending after 'x'"),
    ("block", ". {\n    whoami {\n        x\n    }\n}\n",
     "Corefile:3: whoami: unknown property 'x'"),
]  # fmt: skip


@pytest.mark.parametrize(("corefile", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_setup(corefile: str, error: str | None) -> None:
    if error is None:
        instance = load(corefile, "Corefile")
        (block,) = instance.blocks
        assert [h.name for h in block.handlers] == ["whoami"]  # one handler, however often
        return
    with pytest.raises(CorefileError) as exc:
        load(corefile, "Corefile")
    assert str(exc.value) == error
