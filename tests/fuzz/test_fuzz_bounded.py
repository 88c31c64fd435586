"""The bounded fuzz run of the test command: every atheris harness for a fixed number of inputs.

Each target runs in its own process (libFuzzer exits when done) with a fixed seed, so a run is
repeatable; ``-max_total_time`` caps a slow machine. All together take about 30 s. A crash fails
the test with the input's bytes; the input becomes a regression case in tests/ (see
``test_fuzz_regressions.py``) and the fix goes into dnsd. Longer runs: ``python bench/fuzz.py``.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.fuzz.run import fuzz
from tests.reliability import Figures, record

pytest.importorskip("atheris")

#: Inputs per target, sized for a few seconds each on the CI machine.
RUNS = {
    "wire": 20000,
    "receive": 30000,
    "corefile": 12000,
    "zonefile": 20000,
    "hosts": 50000,
    "objects": 80000,
    "informer": 3000,
}
#: Upper bound per target, in seconds, whatever the machine.
CAP = 6


@pytest.mark.reliability
@pytest.mark.parametrize("target", list(RUNS))
def test_fuzz_bounded(target: str, tmp_path: Path) -> None:
    outcome = fuzz(target, runs=RUNS[target], seconds=CAP, crash_dir=str(tmp_path), seed=1)
    record(
        Figures(
            scenario=f"atheris fuzzing: {target}",
            group="fuzzing",
            sent=outcome.runs,
            wrong=len(outcome.crashes),
            notes=f"{outcome.notes}; {outcome.seconds:.1f} s",
        )
    )
    crashes = {path: base64.b64encode(open(path, "rb").read()).decode() for path in outcome.crashes}
    assert not crashes and outcome.returncode == 0, (
        f"{target}: crash {crashes}\n{outcome.output[-3000:]}"
    )
    assert outcome.runs >= min(RUNS[target], 100), outcome.output[-3000:]
