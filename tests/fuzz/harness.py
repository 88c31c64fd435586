"""Run one target of :mod:`tests.fuzz.targets` under atheris (coverage-guided, libFuzzer).

Each ``fuzz_<target>.py`` calls :func:`main` with the dnsd modules to instrument; everything after
the script name is libFuzzer's command line (``-runs=N``, ``-max_total_time=S``,
``-artifact_prefix=DIR/``, corpus folders). A target raising is a crash: libFuzzer saves the input
as ``crash-<sha1>`` under the artifact prefix and exits non-zero. Reproduce one with
``python tests/fuzz/fuzz_<target>.py CRASH_FILE``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(target: str, modules: list[str]) -> None:
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import atheris

    logging.disable(logging.CRITICAL)  # the targets' skips are logged; keep the output short
    warnings.simplefilter("ignore")
    with atheris.instrument_imports(include=["dnsd"]):
        for module in modules:
            importlib.import_module(module)
    from tests.fuzz import targets

    fn = targets.TARGETS[target]
    atheris.Setup(sys.argv, fn)
    atheris.Fuzz()
