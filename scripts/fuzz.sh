#!/bin/sh
# Runs each libFuzzer binary given for FUZZ_SECONDS (default 20) from its
# corpus fuzz/corpus/<name>/ (copied to build/fuzz/corpus/<name>/ to run).
# Two at a time on this 2-core machine. Fails if any fuzzer finds a crash,
# leak or timeout; the reproducer is left in build/fuzz/artifacts/.
#
# After a clean run the inputs that reached new coverage are merged back
# into fuzz/corpus/<name>/ (libFuzzer -merge=1), so the corpus grows from
# run to run on one checkout (FUZZ_MERGE=0: leave it alone). CI's clone
# throws them away; `make fuzz-corpus` runs longer, merges, shrinks each
# corpus to the inputs that matter and lists what to commit.
#   FUZZ_MINIMIZE=1  rewrite each corpus as its minimal covering subset
set -u
secs=${FUZZ_SECONDS:-20}
merge=${FUZZ_MERGE:-1}
minimize=${FUZZ_MINIMIZE:-0}
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
        [ "$merge" = 1 ] || return 0
        if ! merge_into "$bin" "$name" "$seeds" "$work"; then
            tail -n 40 "build/fuzz/$name.log"
            echo "fuzz: $name corpus merge FAILED (see build/fuzz/$name.log)"
            return 1
        fi
    else
        tail -n 40 "build/fuzz/$name.log"
        echo "fuzz: $name FAILED (see build/fuzz/$name.log)"
        return 1
    fi
}
# Adds to $seeds the inputs of $work that reach coverage $seeds does not
# (or, with FUZZ_MINIMIZE=1, rewrites $seeds as its hand-written seeds,
# the ones not named by libFuzzer's 40-hex SHA-1, plus the fewest found
# inputs that cover what they add).
merge_into() {
    bin=$1 name=$2 seeds=$3 work=$4
    before=$(ls "$seeds" | wc -l)
    if [ "$minimize" = 1 ]; then
        min=build/fuzz/min/$name
        rm -rf "$min"; mkdir -p "$min"
        for f in "$seeds"/*; do
            basename "$f" | grep -Eqx '[0-9a-f]{40}' || cp "$f" "$min"/
        done
        "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$min" "$seeds" "$work" \
            >> "build/fuzz/$name.log" 2>&1 || return 1
        [ -n "$(ls -A "$min")" ] || return 1
        rm -f "$seeds"/*; cp "$min"/* "$seeds"/
    else
        "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$seeds" "$work" \
            >> "build/fuzz/$name.log" 2>&1 || return 1
    fi
    echo "fuzz: $name corpus $before -> $(ls "$seeds" | wc -l) inputs"
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
