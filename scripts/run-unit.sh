#!/bin/sh
# Runs each unit test binary given; prints the totals; fails if any failed.
set -u
pass=0 fail=0 bad=""
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ $rc -ne 0 ] || [ -z "$p" ]; then
        printf '%s\n' "$out"
        echo "unit: $(basename "$t") FAILED (exit $rc)"
        bad="$bad $(basename "$t")"
        fail=$((fail + ${f:-1}))
    else
        echo "unit: $(basename "$t"): $line"
    fi
    pass=$((pass + ${p:-0}))
done
echo "unit total: $pass passed, $fail failed"
[ -z "$bad" ] || { echo "unit: failing:$bad"; exit 1; }
