#!/bin/sh
# Runs every benchmark bench/*.sh in turn (each prints its own figures,
# Postern next to the reference implementation). Fails if any fails.
set -u
cd "$(dirname "$0")/.."
fail=0
for b in bench/*.sh; do
    [ -f "$b" ] || continue
    echo "==> $b"
    bash "$b" || { echo "==> $b: FAILED"; fail=1; }
done
exit $fail
