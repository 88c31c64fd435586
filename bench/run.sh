#!/usr/bin/env bash
# Runs the benchmarks and records them in bench/README.md.
#   bash bench/run.sh [ARGS]              fixed_answer.py, uvloop and asyncio (ARGS go to it)
#   bash bench/run.sh kubernetes [ARGS]   kubernetes.py all: latency, scale, qps (ARGS go to it)
#   bash bench/run.sh cache [ARGS]        cache_forward.py all: hits, kubeadm, slow (root: the
#                                         kubeadm run binds an upstream on 127.53.N.1:53)
#   bash bench/run.sh reload [ARGS]       reload.py: 50 Corefile changes under load (root)
#   bash bench/run.sh suite [ARGS]        suite.py: every server, workload and mode in one table,
#                                         scale and start-up, issue 6's targets (root: apt-get,
#                                         a cgroup CPU cap, an upstream on 127.53.N.1:53);
#                                         --quick for a smoke test, --only WORKLOAD/SERVER
#   bash bench/run.sh reliability [ARGS] reliability.py: every test marked reliability, written to
#                                         docs/reliability.md (ARGS go to pytest)
#   bash bench/run.sh all                 the four before suite (not suite)
# PYTHON (default .venv/bin/python) runs the scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
what=fixed
py="${PYTHON:-.venv/bin/python}"
case "${1:-}" in
    suite) shift; exec "$py" bench/suite.py "$@" ;;
    reliability) shift; exec "$py" bench/reliability.py "$@" ;;
    kubernetes) what=kubernetes; shift ;;
    cache) what=cache; shift ;;
    reload) what=reload; shift ;;
    all) what=all; shift ;;
esac
if [ "$what" = fixed ] || [ "$what" = all ]; then
    "$py" bench/fixed_answer.py --loop uvloop "$@"
    "$py" bench/fixed_answer.py --loop asyncio "$@"
fi
if [ "$what" = kubernetes ] || [ "$what" = all ]; then
    "$py" bench/kubernetes.py all "$@"
fi
if [ "$what" = cache ] || [ "$what" = all ]; then
    "$py" bench/cache_forward.py all "$@"
fi
if [ "$what" = reload ] || [ "$what" = all ]; then
    "$py" bench/reload.py "$@"
fi
