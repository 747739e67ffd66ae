#!/bin/bash
# bench/tunnel.sh (also bench/tunnel) - WireGuard tunnel throughput:
# Postern against wireguard-go, alternately in one run, same topology and
# MTU.
#
# Two network namespaces joined by a veth pair (MTU 1500); in each a
# tunnel interface (MTU 1420) run by the implementation under test and
# configured with the stock `wg` tool; iperf3 through the tunnel. Pairs
# (client side <-> server side):
#   wggo-wggo        wireguard-go <-> wireguard-go (the reference)
#   postern-postern  postern tunnel <-> postern tunnel
#   postern-wggo     postern tunnel <-> wireguard-go (interop, mixed)
# (postern0 and postern1 name postern tunnel with --crypto-threads 0 or 1,
# e.g. BENCH_PAIRS="wggo-wggo postern0-postern0 postern1-postern1".)
# Each round measures every pair once, the order turning each round
# (wggo first, then postern first, ...), so a change in the machine's
# background load hits both implementations alike. Per pair: single-stream
# TCP (client -> server, and -R), 4 streams, 64-byte UDP packet rate, and
# the CPU-seconds per GiB (per packet for UDP) the two tunnel processes
# used, all threads. Every round's figure is printed, then the median.
# Then the idle RSS of each implementation with 1,000 peers configured.
# Last line: ratio_vs_wireguard_go=R, the median single-stream TCP
# throughput of postern-postern over wggo-wggo.
#
#   BENCH_SECONDS   seconds per iperf3 run (5)
#   BENCH_ROUNDS    rounds (3)
#   BENCH_PAIRS     which pairs (default all three)
#   BENCH_TUNBRIDGE 1 = also the TUN layer alone (tests/tools/tunbridge)
#   POSTERN_BIN     the binary (build/release/postern)
set -u
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
TOOLS=${POSTERN_TOOLS:-$PWD/build/release/tools}
PAIRS=${BENCH_PAIRS:-"wggo-wggo postern-postern postern-wggo"}
TAG=wb$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NSA=$TAG-a NSB=$TAG-b
TMP=$(mktemp -d /tmp/$TAG.XXXX)
RES=$TMP/results
PIDS=""
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

cleanup() {
    for p in $PIDS; do stop_pid "$p"; done
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

have_postern_tunnel() {
    [ -x "$POSTERN" ] && "$POSTERN" help 2>/dev/null | grep -qw tunnel
}

netns_setup() {
    ip netns add "$NSA" && ip netns add "$NSB" || exit 1
    ip link add "${TAG}va" netns "$NSA" type veth peer name "${TAG}vb" netns "$NSB"
    ip -n "$NSA" addr add 10.199.0.1/24 dev "${TAG}va"
    ip -n "$NSB" addr add 10.199.0.2/24 dev "${TAG}vb"
    for n in "$NSA:${TAG}va" "$NSB:${TAG}vb"; do
        ip -n "${n%%:*}" link set lo up
        ip -n "${n%%:*}" link set "${n#*:}" up
    done
}

# start_tunnel IMPL NS NAME -> pid on stdout; waits for the UAPI socket.
start_tunnel() {
    local impl=$1 ns=$2 name=$3 pid
    case $impl in
        wggo) ip netns exec "$ns" wireguard-go -f "$name" >"$TMP/$name.log" 2>&1 & pid=$! ;;
        postern) ip netns exec "$ns" "$POSTERN" tunnel "$name" >"$TMP/$name.log" 2>&1 & pid=$! ;;
        postern0|postern1)
            ip netns exec "$ns" "$POSTERN" tunnel --crypto-threads "${impl#postern}" \
                "$name" >"$TMP/$name.log" 2>&1 & pid=$! ;;
    esac
    for _ in $(seq 200); do
        [ -S "/var/run/wireguard/$name.sock" ] && break
        sleep 0.05
    done
    if [ ! -S "/var/run/wireguard/$name.sock" ]; then
        echo "bench: $impl did not start:" >&2; cat "$TMP/$name.log" >&2; exit 1
    fi
    echo "$pid"
}

# cpu_ticks PID -> utime+stime in clock ticks (all threads)
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# setup_pair IMPL_A IMPL_B: tunnels up and handshaken; sets PA PB WA WB.
setup_pair() {
    local ka kb pa pb
    WA=wg$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
    WB=wg$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
    PA=$(start_tunnel "$1" "$NSA" "$WA"); PB=$(start_tunnel "$2" "$NSB" "$WB")
    PIDS="$PIDS $PA $PB"
    ka=$(wg genkey); kb=$(wg genkey)
    pa=$(echo "$ka" | wg pubkey); pb=$(echo "$kb" | wg pubkey)
    echo "$ka" >"$TMP/ka"; echo "$kb" >"$TMP/kb"
    wg set "$WA" private-key "$TMP/ka" listen-port 51001 peer "$pb" \
        endpoint 10.199.0.2:51002 allowed-ips 10.200.0.2/32 || exit 1
    wg set "$WB" private-key "$TMP/kb" listen-port 51002 peer "$pa" \
        endpoint 10.199.0.1:51001 allowed-ips 10.200.0.1/32 || exit 1
    ip -n "$NSA" addr add 10.200.0.1/24 dev "$WA"
    ip -n "$NSB" addr add 10.200.0.2/24 dev "$WB"
    ip -n "$NSA" link set "$WA" mtu 1420 up
    ip -n "$NSB" link set "$WB" mtu 1420 up
    for _ in $(seq 100); do
        ip netns exec "$NSA" ping -c1 -W1 10.200.0.2 >/dev/null 2>&1 && return 0
    done
    echo "bench: no handshake between $1 and $2" >&2
    cat "$TMP/$WA.log" "$TMP/$WB.log" >&2
    exit 1
}

# stop_pid PID: the tunnels are not children of this shell (started in
# command substitutions), so wait for them to be gone by polling.
stop_pid() {
    kill "$1" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$1" 2>/dev/null
}

teardown_pair() {
    stop_pid "$PA"; stop_pid "$PB"
    PIDS=""
}

# iperf JSON -> "bits_per_s bytes packets_per_s packets" (receiver side)
iperf_sum() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["end"]
if d["start"]["test_start"]["protocol"] != "UDP":
    s = e["sum_received"]
    print(int(s["bits_per_second"]), int(s["bytes"]), 0, 0)
else:
    s = e["sum"]
    pk = s.get("packets", 0) - s.get("lost_packets", 0)
    secs = max(s["seconds"], 1e-9)
    print(int(pk * 64 * 8 / secs), pk * 64, int(pk / secs), pk)
'
}

# run_iperf ARGS... -> "bits bytes pps packets cpu_seconds"
run_iperf() {
    local srv t0 t1 out
    ip netns exec "$NSB" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!
    for _ in $(seq 100); do
        ip netns exec "$NSB" ss -ltn 2>/dev/null | grep -q ':5201 ' && break
        sleep 0.05
    done
    t0=$(( $(cpu_ticks "$PA") + $(cpu_ticks "$PB") ))
    out=$(ip netns exec "$NSA" iperf3 -c 10.200.0.2 -p 5201 -t "$SECS" -J "$@" | iperf_sum)
    t1=$(( $(cpu_ticks "$PA") + $(cpu_ticks "$PB") ))
    wait "$srv" 2>/dev/null
    [ -n "$out" ] || out="0 0 0 0"
    echo "$out $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}')"
}

# record ROUND PAIR TEST "bits bytes pps packets cpu": one line of $RES
# (value = Gbit/s for TCP, packets/s for UDP; cost = CPU-s/GiB for TCP,
# CPU-us/packet for UDP).
record() {
    local round=$1 pair=$2 test=$3; shift 3
    set -- $1
    awk -v r="$round" -v p="$pair" -v t="$test" -v b="$1" -v n="$2" -v pps="$3" \
        -v pk="$4" -v c="$5" 'BEGIN{
        if (t == "udp64") { v = pps; k = (pk > 0 ? c * 1e6 / pk : 0) }
        else { v = b / 1e9; gib = n / 1073741824; k = (gib > 0 ? c / gib : 0) }
        printf "%s %s %s %.4f %.3f\n", r, p, t, v, k }' >>"$RES"
}

bench_pair() {
    local round=$1 pair=$2
    echo "   round $round: $pair" >&2
    setup_pair "${pair%-*}" "${pair#*-}"
    record "$round" "$pair" tcp1 "$(run_iperf)"
    record "$round" "$pair" tcp1r "$(run_iperf -R)"
    record "$round" "$pair" tcp4 "$(run_iperf -P 4)"
    record "$round" "$pair" udp64 "$(run_iperf -u -l 64 -b 0)"
    teardown_pair
}

# The table: per pair and test, each round's figure and the median.
report() {
    python3 - "$RES" "$ROUNDS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
rounds = int(sys.argv[2])
pairs = list(dict.fromkeys(r[1] for r in rows))
tests = [("tcp1", "tcp 1 stream", "Gbit/s", "CPU-s/GiB"),
         ("tcp1r", "tcp 1 stream reverse", "Gbit/s", "CPU-s/GiB"),
         ("tcp4", "tcp 4 streams", "Gbit/s", "CPU-s/GiB"),
         ("udp64", "udp 64-byte", "pkt/s", "CPU-us/pkt")]
def fmt(v, unit):
    return "%.0f" % v if unit == "pkt/s" else "%.2f" % v
for p in pairs:
    print("== %s" % p)
    for t, label, unit, cunit in tests:
        got = sorted((int(r[0]), float(r[3]), float(r[4]))
                     for r in rows if r[1] == p and r[2] == t)
        if not got:
            continue
        vals = [g[1] for g in got]; costs = [g[2] for g in got]
        print("  %-21s median %9s %-6s %7.2f %-10s rounds: %s" % (
            label, fmt(statistics.median(vals), unit), unit,
            statistics.median(costs), cunit,
            " ".join(fmt(v, unit) for v in vals)))
EOF
}

# median PAIR TEST -> the median value, or nothing
median_of() {
    awk -v p="$1" -v t="$2" '$2 == p && $3 == t {print $4}' "$RES" | sort -g |
        awk '{v[NR] = $1} END{ if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# Idle RSS with 1,000 peers (random public keys, distinct allowed IPs).
bench_rss() {
    local impl=$1 name pid conf
    name=wg$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
    pid=$(start_tunnel "$impl" "$NSA" "$name"); PIDS="$PIDS $pid"
    conf=$TMP/peers.conf
    python3 - "$(wg genkey)" >"$conf" <<'EOF'
import base64, os, sys
print("[Interface]\nPrivateKey = %s\nListenPort = 51010" % sys.argv[1])
for i in range(1000):
    print("[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24, fd10:%x::/64" % (
        base64.b64encode(os.urandom(32)).decode(), 100 + i // 256, i % 256, i))
EOF
    wg setconf "$name" "$conf" || exit 1
    [ "$(wg show "$name" peers | wc -l)" -eq 1000 ] || { echo "bench: peers not set" >&2; exit 1; }
    printf "  %-22s %7d KiB\n" "$impl" "$(awk '/VmRSS/{print $2}' /proc/$pid/status)"
    stop_pid "$pid"; PIDS=""
}

# The TUN layer alone: tunbridge between two namespaces.
bench_tunbridge() {
    local flag=$1 label=$2 pid ns1=$TAG-t1 ns2=$TAG-t2 r
    [ -x "$TOOLS/tunbridge" ] || return 0
    ip netns add "$ns1"; ip netns add "$ns2"
    ip netns exec "$ns1" "$TOOLS/tunbridge" $flag tb0 "$ns2" >"$TMP/tb.log" 2>&1 & pid=$!
    for _ in $(seq 100); do grep -q ready "$TMP/tb.log" && break; sleep 0.05; done
    ip -n "$ns1" addr add 10.201.0.1/24 dev tb0; ip -n "$ns2" addr add 10.201.0.2/24 dev tb0
    for n in $ns1 $ns2; do ip -n "$n" link set lo up; ip -n "$n" link set tb0 up; done
    ip netns exec "$ns2" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & local srv=$!
    sleep 0.3
    r=$(ip netns exec "$ns1" iperf3 -c 10.201.0.2 -p 5201 -t "$SECS" -J | iperf_sum)
    wait "$srv"
    kill "$pid"; wait "$pid"
    ip netns del "$ns1"; ip netns del "$ns2"
    set -- $r
    printf "  %-22s %7.2f Gbit/s\n" "$label" "$(echo "$1" | awk '{print $1/1e9}')"
}

echo "bench/tunnel: ${SECS}s per run, $ROUNDS rounds, MTU 1420 over veth 1500," \
     "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null)," \
     "postern $(git describe --always --dirty 2>/dev/null)"
netns_setup
if ! have_postern_tunnel; then
    echo "bench: 'postern tunnel' is not in this build; measuring wireguard-go only" >&2
    PAIRS=wggo-wggo
fi
: >"$RES"
for round in $(seq "$ROUNDS"); do
    order=$PAIRS
    [ $((round % 2)) -eq 0 ] && order=$(echo "$PAIRS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for pair in $order; do bench_pair "$round" "$pair"; done
done
report
echo "== idle RSS, 1000 peers"
bench_rss wggo
have_postern_tunnel && bench_rss postern
if [ "${BENCH_TUNBRIDGE:-0}" = 1 ]; then
    echo "== TUN layer alone (tunbridge, TCP 1 stream)"
    bench_tunbridge "" "offload on"
    bench_tunbridge --no-offload "offload off"
fi
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
P=$(median_of postern-postern tcp1); G=$(median_of wggo-wggo tcp1)
if [ -n "$P" ] && [ -n "$G" ]; then
    awk -v p="$P" -v g="$G" 'BEGIN{ if (g > 0) printf "ratio_vs_wireguard_go=%.2f\n", p / g; else print "ratio_vs_wireguard_go=unavailable" }'
else
    echo "ratio_vs_wireguard_go=unavailable"
fi
