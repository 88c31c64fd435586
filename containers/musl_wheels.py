"""Which of dnsd's runtime dependencies install on Alpine (musl) without a compiler.

Usage (network to PyPI needed; a few minutes)::

    python containers/musl_wheels.py [--python 3.11] [--arch x86_64 aarch64] [--deps FILE]

1. The dependency set is ``pip freeze`` of a fresh virtualenv into which dnsd (this
   checkout) was installed, dnsd itself left out. ``--deps FILE`` reads ``name==version``
   lines instead (a freeze made earlier).
2. For each package and architecture, ``pip download --only-binary=:all:`` for
   ``musllinux_1_2`` and ``musllinux_1_1`` (both: some projects publish only 1_1, which pip
   on Alpine accepts) and CPython of ``--python``: a musllinux wheel or a pure-Python wheel
   (``py3-none-any``) settles it.
3. Otherwise the sdist is downloaded and built into a wheel with the compiler disabled
   (``CC=false CXX=false``): a ``py3-none-any`` result means it builds without a compiler.

Prints a Markdown table (the one in containers/README.md) and exits 1 if any package needs
a compiler or could not be checked.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = "py3-none-any"


@dataclass(frozen=True)
class Verdict:
    text: str
    ok: bool


def pip(*args: str, python: str = sys.executable, env: dict[str, str] | None = None) -> str:
    """Run pip, return its stdout; CalledProcessError (with stderr) on failure."""
    cmd = [python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
    return done.stdout


def fresh_freeze() -> list[str]:
    """``name==version`` of everything a fresh install of dnsd pulls in, dnsd left out."""
    with tempfile.TemporaryDirectory() as tmp:
        venv.create(tmp, with_pip=True)
        python = str(Path(tmp, "bin", "python"))
        pip("install", "--quiet", str(ROOT), python=python)
        frozen = pip("freeze", "--exclude", "dnsd", python=python)
    return sorted((line for line in frozen.splitlines() if "==" in line), key=str.lower)


def wheel_tag(filename: str) -> str:
    """The ``python-abi-platform`` tag of a wheel file name."""
    parts = filename.removesuffix(".whl").split("-")
    return "-".join(parts[-3:])


def describe(filename: str, arch: str) -> Verdict:
    """What a downloaded wheel says about musl: its musllinux platform, or pure Python."""
    tag = wheel_tag(filename)
    if tag.endswith("-none-any"):
        return Verdict("pure-Python wheel", True)
    platform = tag.split("-")[-1]
    if platform.startswith("musllinux") and platform.endswith(f"_{arch}"):
        return Verdict(f"{platform.removesuffix(f'_{arch}')} wheel", True)
    return Verdict(f"unexpected wheel {tag}", False)


def binary(spec: str, arch: str, python: str, dest: Path) -> Verdict | None:
    """A musllinux or pure wheel for one architecture, or None if there is none."""
    nodot = python.replace(".", "")
    out = dest / arch
    try:
        pip(
            "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--platform", f"musllinux_1_2_{arch}", "--platform", f"musllinux_1_1_{arch}",
            "--python-version", nodot, "--implementation", "cp",
            "--dest", str(out), spec,
        )  # fmt: skip
    except subprocess.CalledProcessError:
        return None
    wheels = [p.name for p in out.glob("*.whl")]  # --no-deps into a folder of its own: one
    return describe(wheels[0], arch) if len(wheels) == 1 else Verdict(f"got {wheels}", False)


def from_sdist(spec: str, dest: Path) -> Verdict:
    """Build the sdist with the compiler disabled; a pure wheel means no compiler needed."""
    sdists = dest / "sdist"
    built = dest / "built"
    env = {**os.environ, "CC": "false", "CXX": "false"}
    try:
        pip("download", "--quiet", "--no-deps", "--no-binary=:all:", "-d", str(sdists), spec)
        pip("wheel", "--quiet", "--no-deps", "-w", str(built), spec, "--no-binary=:all:", env=env)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
        return Verdict(f"needs a compiler or failed to build ({last[0][:60]})", False)
    wheels = [p.name for p in built.glob("*.whl")]
    if wheels and wheel_tag(wheels[0]) == PURE:
        return Verdict("sdist, pure Python (built without a compiler)", True)
    return Verdict(f"sdist builds {wheels[0] if wheels else 'nothing'}", False)


def check(specs: list[str], arches: list[str], python: str) -> tuple[list[str], bool]:
    """Markdown rows and whether every package installs on musl without a compiler."""
    header = "| package | version | " + " | ".join(f"musl {a}" for a in arches) + " |"
    rows = [header, "|---|---|" + "---|" * len(arches)]
    all_ok = True
    for spec in specs:
        name, _, version = spec.partition("==")
        with tempfile.TemporaryDirectory() as tmp:
            verdicts: list[Verdict] = []
            sdist: Verdict | None = None
            for arch in arches:
                found = binary(spec, arch, python, Path(tmp))
                if found is None:
                    sdist = sdist or from_sdist(spec, Path(tmp))
                    found = sdist
                verdicts.append(found)
        all_ok = all_ok and all(v.ok for v in verdicts)
        rows.append(f"| {name} | {version} | " + " | ".join(v.text for v in verdicts) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows, all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python", default="3.11", help="CPython version of the image")
    parser.add_argument("--arch", nargs="+", default=["x86_64", "aarch64"])
    parser.add_argument("--deps", type=Path, help="name==version lines instead of a fresh freeze")
    args = parser.parse_args(argv)
    if args.deps:
        specs = [ln.strip() for ln in args.deps.read_text().splitlines() if "==" in ln]
    else:
        specs = fresh_freeze()
    rows, ok = check(specs, args.arch, args.python)
    pip_version = pip("--version").split()[1]
    today = datetime.date.today().isoformat()
    print(f"Checked {today} for CPython {args.python} with pip {pip_version}:\n")
    print("\n".join(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
