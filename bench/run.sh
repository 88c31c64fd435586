#!/usr/bin/env bash
# Runs the benchmarks and records them in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python bench/fixed_answer.py --loop uvloop "$@"
.venv/bin/python bench/fixed_answer.py --loop asyncio "$@"
