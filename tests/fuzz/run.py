"""Start one atheris harness as a subprocess and read what it did (shared by the bounded test
run and ``bench/fuzz.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from tests.fuzz import seeds

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

#: Every target, in the order runs go through them.
TARGETS = ("wire", "receive", "corefile", "zonefile", "hosts", "objects", "informer")

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STATS = re.compile(r"cov: (\d+) ft: (\d+) corp: (\d+)/")


@dataclass(frozen=True)
class Outcome:
    target: str
    #: Inputs tried.
    runs: int
    #: Crash inputs saved (libFuzzer stops at the first).
    crashes: list[str]
    #: Edges and features covered in the instrumented dnsd modules, corpus size at the end.
    cov: int
    features: int
    corpus: int
    seconds: float
    returncode: int
    output: str

    @property
    def notes(self) -> str:
        return f"coverage: {self.cov} edges, {self.features} features; corpus {self.corpus}"


def fuzz(
    target: str,
    *,
    runs: int = -1,
    seconds: int = 0,
    crash_dir: str,
    corpus_dir: str | None = None,
    seed: int | None = None,
) -> Outcome:
    """Run ``fuzz_<target>.py`` for ``runs`` inputs and/or ``seconds``; crashes go to
    ``crash_dir``, new inputs to ``corpus_dir`` (a temporary folder when None), which is seeded
    from :mod:`tests.fuzz.seeds` first."""
    os.makedirs(crash_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as tmp:
        corpus = corpus_dir or os.path.join(tmp, "corpus")
        seeds.write(target, corpus)
        prefix = os.path.join(crash_dir, f"{target}-")
        before = set(os.listdir(crash_dir))
        cmd = [
            sys.executable,
            os.path.join(HERE, f"fuzz_{target}.py"),
            f"-runs={runs}",
            f"-artifact_prefix={prefix}",
            "-print_final_stats=0",
            "-timeout=20",
            "-rss_limit_mb=1024",
        ]
        if seconds:
            cmd.append(f"-max_total_time={seconds}")
        if seed is not None:
            cmd.append(f"-seed={seed}")
        cmd.append(corpus)
        env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS="ignore")
        env.pop("DNSD_RELIABILITY_OUT", None)
        import time

        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    done = _DONE.findall(output)
    stats = _STATS.findall(output)
    cov, features, size = map(int, stats[-1]) if stats else (0, 0, 0)
    last_run = re.findall(r"^#(\d+)", output, re.MULTILINE)
    tried = int(done[-1][0]) if done else int(last_run[-1]) if last_run else 0
    crashes = sorted(os.path.join(crash_dir, name) for name in set(os.listdir(crash_dir)) - before)
    return Outcome(target, tried, crashes, cov, features, size, elapsed, proc.returncode, output)
