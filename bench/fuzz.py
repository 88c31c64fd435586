"""Longer fuzzing runs: every atheris harness of tests/fuzz for a fixed time.

    python bench/fuzz.py [--seconds 60] [--only wire corefile ...] [--crashes DIR]
                         [--corpus DIR] [--jobs 1]

Each target (tests/fuzz/fuzz_<target>.py) runs in its own process for ``--seconds``, seeded from
tests/fuzz/seeds.py; crashing inputs are saved in ``--crashes`` (default bench/fuzz-crashes/) as
``<target>-crash-<sha1>``; with ``--corpus DIR`` the inputs that found new coverage are kept in
DIR/<target>/ for the next run. Prints one line per target (inputs tried, crashes, coverage) and
exits 1 when anything crashed. Reproduce a crash with
``python tests/fuzz/fuzz_<target>.py CRASH_FILE``; then add it to
tests/fuzz/test_fuzz_regressions.py and fix dnsd.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fuzz.run import TARGETS, Outcome, fuzz  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="time per target")
    parser.add_argument("--only", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--crashes", default=os.path.join(ROOT, "bench", "fuzz-crashes"))
    parser.add_argument("--corpus", default=None, help="keep each target's corpus here")
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once")
    args = parser.parse_args(argv)

    def one(target: str) -> Outcome:
        corpus = os.path.join(args.corpus, target) if args.corpus else None
        return fuzz(target, seconds=args.seconds, crash_dir=args.crashes, corpus_dir=corpus)

    print(f"{'target':<10} {'inputs':>10} {'crashes':>7} {'exec/s':>8}  coverage")
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for out in pool.map(one, args.only):
            rate = out.runs / out.seconds if out.seconds else 0.0
            print(
                f"{out.target:<10} {out.runs:>10} {len(out.crashes):>7} {rate:>8.0f}  {out.notes}"
            )
            for path in out.crashes:
                print(f"  crash: {path}")
            if out.crashes or out.returncode != 0:
                failed = True
                if not out.crashes:
                    print(out.output[-2000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
