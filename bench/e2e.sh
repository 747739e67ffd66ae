#!/bin/sh
# End to end: Postern (hub -> WireGuard -> agent -> nginx) against the
# do-it-yourself stack (nginx TLS reverse proxy + wireguard-go on both
# ends + the same nginx backend), side by side in one run, in namespaces
# laid out as the real world (client, public hub, NAT, LAN). Prints HTTPS
# keep-alive requests/s, p50/p99 latency and single-stream download
# throughput for each, and ends with ratio_vs_diy=R (keep-alive req/s,
# Postern / DIY). Knobs: see bench/e2e_bench.py (BENCH_SECONDS, BENCH_CONNS,
# BENCH_MB, BENCH_RUNS, BENCH_WORKERS).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/e2e.sh: needs root (namespaces)" >&2; exit 1; }
make -s all >/dev/null
POSTERN_BIN=${POSTERN_BIN:-$PWD/build/release/postern} exec /usr/bin/python3 bench/e2e_bench.py
