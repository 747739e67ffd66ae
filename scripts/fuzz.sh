#!/bin/sh
# Runs each libFuzzer binary given for FUZZ_SECONDS (default 20) from its
# seed corpus fuzz/corpus/<name>/ (copied, so the repo is not touched).
# Two at a time on this 2-core machine. Fails if any fuzzer finds a crash,
# leak or timeout; the reproducer is left in build/fuzz/artifacts/.
set -u
secs=${FUZZ_SECONDS:-20}
art=build/fuzz/artifacts
mkdir -p "$art"
run_one() {
    bin=$1; name=$(basename "$bin")
    seeds=fuzz/corpus/$name
    work=build/fuzz/corpus/$name
    if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
        echo "fuzz: $name has no seed corpus in $seeds" >&2
        return 1
    fi
    rm -rf "$work"; mkdir -p "$work"; cp "$seeds"/* "$work"/
    dict=""; [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/$name-" $dict \
        "$work" > "build/fuzz/$name.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
        echo "fuzz: $name ok (${runs:-?} runs in ${secs}s)"
    else
        tail -n 40 "build/fuzz/$name.log"
        echo "fuzz: $name FAILED (see build/fuzz/$name.log)"
        return 1
    fi
}
fail=0 pids=""
for bin in "$@"; do
    run_one "$bin" & pids="$pids $!"
    # Keep two running at once.
    set -- $pids
    if [ $# -ge 2 ]; then
        wait "$1" || fail=1
        shift; pids="$*"
    fi
done
for p in $pids; do wait "$p" || fail=1; done
exit $fail
