#!/bin/bash
# bench/wg_micro.sh - instructions per packet of the WireGuard data path,
# counted by callgrind (deterministic: independent of the machine's load),
# plus the thread CPU time per packet of a plain run (noisy on a busy
# machine). Each figure is (count(2N) - count(N)) / (N * rounds), so setup
# and the handshake cancel out.
#
# Under valgrind OpenSSL sees no AVX-512 (valgrind hides it) and takes its
# AVX2 code: instruction counts compare the code around the cipher
# faithfully, the cipher itself only roughly; the ns column is the
# machine's real code.
#
#   MICRO_N        packets per round (2000)
#   MICRO_BIN      the program (build/release/bench/wg_micro)
set -u
cd "$(dirname "$0")/.."
N=${MICRO_N:-2000}
BIN=${MICRO_BIN:-$PWD/build/release/bench/wg_micro}
ROUNDS=5
TMP=$(mktemp -d /tmp/wgmicro.XXXX)
trap 'rm -rf "$TMP"' EXIT

[ -n "${MICRO_BIN:-}" ] || make -s "${BIN#$PWD/}" || exit 1
command -v valgrind >/dev/null || { echo "wg_micro.sh: valgrind missing" >&2; exit 1; }

# instr ARGS... -> total instructions of one run
instr() {
    valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$BIN" "$@" \
        >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    awk '/^summary:/{print $2}' "$TMP/cg"
}

# per_op LABEL ARGS-BEFORE-N: instructions per operation
per_op() {
    local label=$1 a b ns; shift
    a=$(instr "$@" "$N"); b=$(instr "$@" $((2 * N)))
    ns=$("$BIN" "$@" 20000)
    awk -v l="$label" -v a="$a" -v b="$b" -v n="$N" -v r="$ROUNDS" -v t="$ns" \
        'BEGIN{printf "  %-26s %8.0f instr/op   | %s\n", l, (b - a) / (n * r), t}'
}

echo "bench/wg_micro.sh: N=$N, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== AEAD, one seal + one open per op"
for size in 64 1420; do
    for impl in wg evp-old sodium; do
        per_op "$impl $size B" aead "$impl" "$size"
    done
done
echo "== device path A -> B on a fake wire (route, seal, wire copy, open, route)"
for size in 64 1420; do
    per_op "device $size B" device "$size"
done
echo "== TUN offload work: a 64,000-byte TSO super-packet cut into 47 segments and coalesced back, per super-packet"
per_op "gso split + coalesce" gso
