#!/bin/sh
# Everything CI runs, in order: the release build with warnings as errors,
# unit tests, integration tests against the real binary, then the same unit
# and integration tests on the ASan+UBSan build, the unit tests that run
# threads under ThreadSanitizer, then every libFuzzer harness for a
# bounded time. Runs all stages, prints a summary, and exits
# non-zero if any stage failed.
#
#   POSTERN_TEST_SCALE  size factor for big transfers in the ASan pass (0.25)
#   FUZZ_SECONDS        per-fuzzer time (20)
#   PYTEST_ARGS         extra pytest arguments (e.g. "-k wg")
#   ITEST_JOBS          pytest-xdist workers per integration stage (2)
#
# Tests marked `long` (minutes of real time) are not run here:
# `make integration-long` (docs/testing.md).
set -u
cd "$(dirname "$0")/.."
J=${JOBS:-$(nproc)}
summary="" failed=0

stage() {
    name=$1; shift
    start=$(date +%s)
    echo "==> $name"
    if "$@"; then res=ok; else res=FAILED; failed=1; fi
    secs=$(( $(date +%s) - start ))
    summary="$summary$(printf '%-28s %-6s %5ss' "$name" "$res" "$secs")
"
    echo "==> $name: $res (${secs}s)"
}

stage "build (release)"       make -j"$J" all unit-build
stage "tree checks"           make check-tree
stage "unit (release)"        make unit
stage "integration (release)" make integration
stage "build (asan)"          make -j"$J" BUILD=asan all unit-build
stage "unit (asan)"           make BUILD=asan unit
stage "integration (asan)"    env POSTERN_TEST_SCALE="${POSTERN_TEST_SCALE:-0.25}" \
                              make BUILD=asan integration
stage "unit (tsan, threads)"  make -j"$J" BUILD=tsan unit-tsan
stage "fuzz"                  make -j"$J" fuzz

echo
echo "==> summary"
printf '%s' "$summary"
if [ $failed -ne 0 ]; then
    echo "make test: FAILED"
    exit 1
fi
echo "make test: all stages passed"
