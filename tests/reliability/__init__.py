"""Figures of the reliability tests (issue 7), gathered into docs/reliability.md.

A fault, overload or abuse test calls :func:`record` with what it measured. Nothing is written
unless ``DNSD_RELIABILITY_OUT`` names a file: ``python bench/reliability.py`` sets it, runs the
tests marked ``reliability`` and renders the table from the lines they appended (one JSON object
each). The tests assert their own pass/fail conditions; the figures are what they saw.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field

OUT_ENV = "DNSD_RELIABILITY_OUT"


@dataclass(frozen=True)
class Figures:
    #: The table's row: what was done, in a few words ("API server stopped for 3 s under load").
    scenario: str
    #: Group in the table: "faults", "overload", "abuse", "fuzzing".
    group: str
    sent: int | None = None
    answered: int | None = None
    #: Answers that were wrong (unexpected rcode or records).
    wrong: int | None = None
    #: Queries that got no answer within the client's timeout.
    lost: int | None = None
    #: Seconds from the end of the fault to correct answers again (None: not applicable).
    recovery_s: float | None = None
    #: Anything else measured, as "name: value" text (RSS growth, refusals, ...).
    notes: str = ""
    #: The pytest node id, filled in by :func:`record`.
    test: str = ""
    when: float = field(default_factory=time.time)


def record(figures: Figures) -> None:
    """Append ``figures`` (with the current test's id) to the file named by DNSD_RELIABILITY_OUT."""
    path = os.environ.get(OUT_ENV)
    if not path:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    row = asdict(figures) | {"test": figures.test or test}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
