#!/usr/bin/env bash
# Runs the benchmarks and records them in bench/README.md.
#   bash bench/run.sh [ARGS]              fixed_answer.py, uvloop and asyncio (ARGS go to it)
#   bash bench/run.sh kubernetes [ARGS]   kubernetes.py all: latency, scale, qps (ARGS go to it)
#   bash bench/run.sh all                 both
set -euo pipefail
cd "$(dirname "$0")/.."
what=fixed
case "${1:-}" in
    kubernetes) what=kubernetes; shift ;;
    all) what=all; shift ;;
esac
if [ "$what" != kubernetes ]; then
    .venv/bin/python bench/fixed_answer.py --loop uvloop "$@"
    .venv/bin/python bench/fixed_answer.py --loop asyncio "$@"
fi
if [ "$what" != fixed ]; then
    .venv/bin/python bench/kubernetes.py all "$@"
fi
