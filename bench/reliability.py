"""The reliability table (issue 7): run the tests marked ``reliability``, write docs/reliability.md.

    python bench/reliability.py [--out docs/reliability.md] [PYTEST ARGS...]
    bash bench/run.sh reliability [ARGS]

Runs ``pytest -m reliability`` with ``DNSD_RELIABILITY_OUT`` naming a scratch file: each fault,
overload, abuse or fuzzing test appends one JSON row per scenario with what it measured
(tests/reliability/__init__.py). Then renders one table per group (scenario, test, sent,
answered, wrong, lost, recovery, notes) with the date, commit and machine, and the outcome of
every test that ran (from pytest's JUnit XML), rows or not. Whatever groups and rows come are
rendered; a test that failed keeps its row, marked. Exits with pytest's status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_ENV = "DNSD_RELIABILITY_OUT"
#: Groups in this order first; any other group follows, alphabetically.
GROUPS = ("faults", "overload", "abuse", "fuzzing")
TITLES = {
    "faults": "Faults",
    "overload": "Overload",
    "abuse": "Hostile input and abuse",
    "fuzzing": "Fuzzing",
}


def git(*args: str) -> str:
    out = subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True)
    return out.stdout.decode(errors="replace").strip()


def commit() -> str:
    """Short HEAD, with -dirty when dnsd's code or its tests differ from it."""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "dnsd", "plugins", "tests")
    return head + ("-dirty" if dirty else "")


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    kernel = platform.release()
    return f"{os.cpu_count()} x {model}, Linux {kernel}, Python {platform.python_version()}"


def outcomes(junit: Path) -> dict[str, str]:
    """pytest node id -> passed / failed / error / skipped, from the JUnit XML."""
    result: dict[str, str] = {}
    if not junit.exists():
        return result
    for case in ET.parse(junit).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        parts = classname.split(".")
        # classname is the module path ("tests.reliability.test_x") plus any class names.
        path, klass = [], []
        for i, part in enumerate(parts):
            if part.startswith("test_") or i == len(parts) - 1:
                path = parts[: i + 1]
                klass = parts[i + 1 :]
                break
        node = "/".join(path) + ".py::" + "::".join([*klass, name])
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                state = {"failure": "failed"}.get(child.tag, child.tag)
        result[node] = state
    return result


def cell(value: Any, unit: str = "") -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        if 0 < value < 0.001 or value == 0:
            return f"< 0.001{unit}" if value else f"0{unit}"
        text = f"{value:.3f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.1f}"
        return text + unit
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict[str, Any]], states: dict[str, str], meta: dict[str, str]) -> str:
    lines = [
        "# dnsd reliability",
        "",
        "Faults, overload and hostile input (issue 7): every test marked `reliability`, with what",
        "it measured. Produced by `python bench/reliability.py` (or `bash bench/run.sh",
        "reliability`) from a real run; each test asserts its own pass condition, the figures are",
        "what it saw. *sent/answered/wrong/lost* count DNS queries (wrong: an unexpected rcode or",
        "record; lost: no answer within the client's timeout; in a flood, the queries offered",
        "beyond what the server can take, dropped by design); *recovery* is the time from the",
        "end of the fault to a correct answer.",
        "",
        f"- Date: {meta['date']}",
        f"- Commit: {meta['commit']}",
        f"- Machine: {meta['machine']}",
        f"- Command: `{meta['command']}`",
    ]
    counts: dict[str, int] = defaultdict(int)
    for state in states.values():
        counts[state] += 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none ran"
    lines += [f"- Tests: {len(states)} ran: {summary}", ""]
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_group[str(row.get("group") or "other")].append(row)
    order = [g for g in GROUPS if g in by_group] + sorted(set(by_group) - set(GROUPS))
    for group in order:
        lines += [f"## {TITLES.get(group, group.capitalize())}", ""]
        lines += [
            "| Scenario | Test | Sent | Answered | Wrong | Lost | Recovery | Notes |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in by_group[group]:
            test = str(row.get("test", ""))
            state = states.get(test, "")
            short = test.split("/")[-1]
            mark = "" if state in ("passed", "") else f" **{state.upper()}**"
            lines.append(
                "| "
                + " | ".join(
                    [
                        cell(row.get("scenario")) + mark,
                        f"`{cell(short)}`",
                        cell(row.get("sent")),
                        cell(row.get("answered")),
                        cell(row.get("wrong")),
                        cell(row.get("lost")),
                        cell(row.get("recovery_s"), " s"),
                        cell(row.get("notes")),
                    ]
                )
                + " |"
            )
        lines.append("")
    lines += ["## Tests run", "", "| Test | Outcome |", "|---|---|"]
    for node in sorted(states):
        lines.append(f"| `{node}` | {states[node]} |")
    lines.append("")
    return "\n".join(lines)


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    rows.sort(key=lambda r: float(r.get("when", 0)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="dnsd-reliability-") as tmp:
        rows_path, junit = Path(tmp) / "rows.jsonl", Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", "reliability", "-q", "-p", "no:cacheprovider"]
        cmd += [f"--junitxml={junit}", *pytest_args]
        env = os.environ | {OUT_ENV: str(rows_path)}
        status = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        rows, states = read_rows(rows_path), outcomes(junit)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": machine(),
        "command": "python bench/reliability.py " + " ".join(pytest_args),
    }
    meta["command"] = meta["command"].rstrip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(rows, states, meta), encoding="utf-8")
    print(f"wrote {args.out} ({len(rows)} rows, {len(states)} tests, pytest exit {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
