"""Setup of loadbalance: policies, the weight file, reload and prefer, and every error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.loadbalance.setup import NAME, LoadbalanceOptions, parse
from dnsd.testing import parsed_options

WEIGHTS = os.path.abspath("examples/weights.txt")
CWD = os.getcwd()


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: LoadbalanceOptions | None = None
    error: str | None = None


def block(*lines: str) -> str:
    return ". {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


CASES = {
    "default": SetupCase(block("loadbalance"), want=LoadbalanceOptions()),
    "round-robin": SetupCase(block("loadbalance round_robin"), want=LoadbalanceOptions()),
    "weighted-relative-to-cwd": SetupCase(
        block("loadbalance weighted examples/weights.txt"),
        want=LoadbalanceOptions(policy="weighted", weight_file=WEIGHTS),
    ),
    "weighted-relative-to-root": SetupCase(
        block("root examples", "loadbalance weighted weights.txt"),
        want=LoadbalanceOptions(policy="weighted", weight_file=WEIGHTS),
    ),
    "weighted-absolute": SetupCase(
        block(f"loadbalance weighted {WEIGHTS}"),
        want=LoadbalanceOptions(policy="weighted", weight_file=WEIGHTS),
    ),
    "weighted-reload": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload 10s", "}"),
        want=LoadbalanceOptions(policy="weighted", weight_file=WEIGHTS, reload=10.0),
    ),
    "weighted-reload-off": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload 0s", "}"),
        want=LoadbalanceOptions(policy="weighted", weight_file=WEIGHTS, reload=0.0),
    ),
    "prefer": SetupCase(
        block(
            "loadbalance {", "    prefer 10.0.0.0/8 192.168.1.7/24", "    prefer 2001:db8::/32", "}"
        ),
        want=LoadbalanceOptions(prefer=("10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32")),
    ),
    "weighted-and-prefer": SetupCase(
        block(
            "loadbalance weighted examples/weights.txt {",
            "    reload 1m",
            "    prefer 100.64.1.3/32",
            "}",
        ),
        want=LoadbalanceOptions(
            policy="weighted", weight_file=WEIGHTS, reload=60.0, prefer=("100.64.1.3/32",)
        ),
    ),
    "unknown-policy": SetupCase(
        block("loadbalance random"),
        error="Corefile:2: loadbalance: unknown policy 'random': want round_robin or weighted",
    ),
    "round-robin-argument": SetupCase(
        block("loadbalance round_robin x"),
        error="Corefile:2: loadbalance: unexpected argument 'x' after round_robin",
    ),
    "weighted-no-file": SetupCase(
        block("loadbalance weighted"),
        error="Corefile:2: loadbalance: missing weight file argument",
    ),
    "weighted-two-files": SetupCase(
        block("loadbalance weighted a b"),
        error="Corefile:2: loadbalance: unexpected argument 'b' after the weight file",
    ),
    "weighted-missing-file": SetupCase(
        block("loadbalance weighted nothing-here.txt"),
        error=f"Corefile:2: loadbalance: cannot read weight file {CWD}/nothing-here.txt: "
        "No such file or directory",
    ),
    "reload-with-round-robin": SetupCase(
        block("loadbalance {", "    reload 10s", "}"),
        error="Corefile:3: loadbalance: reload is only valid with the weighted policy",
    ),
    "reload-no-value": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload", "}"),
        error="Corefile:3: loadbalance: reload duration value is missing",
    ),
    "reload-two-values": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload 1s 2s", "}"),
        error="Corefile:3: loadbalance: unexpected argument '2s' after the reload duration",
    ),
    "reload-bad": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload soon", "}"),
        error="Corefile:3: loadbalance: invalid reload duration 'soon'",
    ),
    "reload-negative": SetupCase(
        block("loadbalance weighted examples/weights.txt {", "    reload -1s", "}"),
        error="Corefile:3: loadbalance: invalid reload duration '-1s'",
    ),
    "prefer-nothing": SetupCase(
        block("loadbalance {", "    prefer", "}"),
        error="Corefile:3: loadbalance: wrong argument count or unexpected line ending "
        "after 'prefer'",
    ),
    "prefer-bad-cidr": SetupCase(
        block("loadbalance {", "    prefer 10.0.0.0/8 10.0.0.300/8", "}"),
        error="Corefile:3: loadbalance: invalid CIDR '10.0.0.300/8': want ADDRESS/BITS",
    ),
    "prefer-no-mask": SetupCase(
        block("loadbalance {", "    prefer 10.0.0.1", "}"),
        error="Corefile:3: loadbalance: invalid CIDR '10.0.0.1': want ADDRESS/BITS",
    ),
    "unknown-property": SetupCase(
        block("loadbalance {", "    limit_answers 5", "}"),
        error="Corefile:3: loadbalance: unknown property 'limit_answers'",
    ),
    "twice": SetupCase(
        block("loadbalance", "loadbalance"),
        error="Corefile:3: loadbalance: can only be used once per server block",
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
    (loaded,) = load(case.corefile, "Corefile").blocks
    assert [h.name for h in loaded.handlers] == ["loadbalance"]


BAD_FILES = {
    "ip-as-domain": ("10.0.0.1\n", "1: wrong domain name '10.0.0.1' (missing weight value?)"),
    "weight-zero": ("a.example\n10.0.0.1 0\n", "2: wrong weight value '0' (want 1 to 255)"),
}


@pytest.mark.parametrize(("content", "error"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_weight_file_is_a_positioned_error(content: str, error: str, tmp_path: Path) -> None:
    path = tmp_path / "w.txt"
    path.write_text(content)
    with pytest.raises(CorefileError) as exc:
        load(block(f"loadbalance weighted {path}"), "Corefile")
    assert str(exc.value) == f"Corefile:2: loadbalance: {path}:{error}"


def test_weighted_registers_reload_hooks() -> None:
    instance = load(block("loadbalance weighted examples/weights.txt"), "Corefile")
    assert len(instance.startup) == 1 and len(instance.shutdown) == 1
    assert load(block("loadbalance"), "Corefile").startup == []
