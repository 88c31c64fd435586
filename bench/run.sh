#!/usr/bin/env bash
# Runs the benchmarks and records them in bench/README.md.
#   bash bench/run.sh [ARGS]              fixed_answer.py, uvloop and asyncio (ARGS go to it)
#   bash bench/run.sh kubernetes [ARGS]   kubernetes.py all: latency, scale, qps (ARGS go to it)
#   bash bench/run.sh cache [ARGS]        cache_forward.py all: hits, kubeadm, slow (root: the
#                                         kubeadm run binds an upstream on 127.53.N.1:53)
#   bash bench/run.sh reload [ARGS]       reload.py: 50 Corefile changes under load (root)
#   bash bench/run.sh all                 the four
set -euo pipefail
cd "$(dirname "$0")/.."
what=fixed
case "${1:-}" in
    kubernetes) what=kubernetes; shift ;;
    cache) what=cache; shift ;;
    reload) what=reload; shift ;;
    all) what=all; shift ;;
esac
if [ "$what" = fixed ] || [ "$what" = all ]; then
    .venv/bin/python bench/fixed_answer.py --loop uvloop "$@"
    .venv/bin/python bench/fixed_answer.py --loop asyncio "$@"
fi
if [ "$what" = kubernetes ] || [ "$what" = all ]; then
    .venv/bin/python bench/kubernetes.py all "$@"
fi
if [ "$what" = cache ] || [ "$what" = all ]; then
    .venv/bin/python bench/cache_forward.py all "$@"
fi
if [ "$what" = reload ] || [ "$what" = all ]; then
    .venv/bin/python bench/reload.py "$@"
fi
