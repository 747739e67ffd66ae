#!/bin/sh
# The agent's stream relay vs HAProxy as a plain TCP relay (the do-it-
# yourself reference), side by side in one run: single-stream download
# throughput from nginx and the relay's CPU-seconds per GiB.
# Ends with: ratio_vs_haproxy=R (throughput, Postern / HAProxy).
#   BENCH_MB   size of each download (default 1024)
#   BENCH_RUNS alternating runs per relay (default 3)
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/agent.sh: needs root (namespaces)" >&2; exit 1; }
make -s all >/dev/null
exec /usr/bin/python3 bench/agent_relay.py
