#!/bin/bash
# bench/wg.sh - WireGuard tunnel throughput: Postern against wireguard-go,
# side by side in one run, same topology and MTU.
#
# Two network namespaces joined by a veth pair (MTU 1500); in each a
# tunnel interface (MTU 1420) run by the implementation under test and
# configured with the stock `wg` tool; iperf3 through the tunnel. Pairs
# (client side <-> server side):
#   wggo-wggo        wireguard-go <-> wireguard-go (the reference)
#   postern-postern  postern tunnel <-> postern tunnel
#   postern-wggo     postern tunnel <-> wireguard-go (interop, mixed)
# For each: single-stream TCP both directions, 4 streams, 64-byte UDP
# packet rate, and the CPU-seconds per GiB the two tunnel processes used.
# Then the idle RSS of each implementation with 1,000 peers configured.
# Last line: ratio_vs_wireguard_go=R (single-stream TCP, client->server).
# Also: the TUN layer alone (tests/tools/tunbridge), offloads on and off.
#
#   BENCH_SECONDS  seconds per iperf3 run (5)
#   POSTERN_BIN    the binary (build/release/postern)
#   BENCH_PAIRS    which pairs (default all three)
set -u
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-5}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
TOOLS=${POSTERN_TOOLS:-$PWD/build/release/tools}
PAIRS=${BENCH_PAIRS:-"wggo-wggo postern-postern postern-wggo"}
TAG=wb$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NSA=$TAG-a NSB=$TAG-b
TMP=$(mktemp -d /tmp/$TAG.XXXX)
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
    esac
    for _ in $(seq 100); do
        [ -S "/var/run/wireguard/$name.sock" ] && break
        sleep 0.05
    done
    if [ ! -S "/var/run/wireguard/$name.sock" ]; then
        echo "bench: $impl did not start:" >&2; cat "$TMP/$name.log" >&2; exit 1
    fi
    echo "$pid"
}

# cpu_ticks PID -> utime+stime in clock ticks
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

# iperf JSON -> "bits bytes" of the receiver (TCP) or "pps" (UDP)
iperf_sum() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["end"]
if d["start"]["test_start"]["protocol"] != "UDP":
    s = e["sum_received"]
    print(int(s["bits_per_second"]), int(s["bytes"]))
else:
    s = e["sum"]
    pk = s.get("packets", 0) - s.get("lost_packets", 0)
    print(int(pk / max(s["seconds"], 1e-9)), int(s["bytes"]))
'
}

# run_iperf ARGS... -> "value bytes cpu_seconds"
run_iperf() {
    local srv t0 t1 out
    ip netns exec "$NSB" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!
    sleep 0.3
    t0=$(( $(cpu_ticks "$PA") + $(cpu_ticks "$PB") ))
    out=$(ip netns exec "$NSA" iperf3 -c 10.200.0.2 -p 5201 -t "$SECS" -J "$@" | iperf_sum)
    t1=$(( $(cpu_ticks "$PA") + $(cpu_ticks "$PB") ))
    wait "$srv" 2>/dev/null
    echo "$out $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}')"
}

# report LABEL "bits bytes cpu"
report_tcp() {
    awk -v l="$1" -v b="$2" -v n="$3" -v c="$4" 'BEGIN{
        gib = n / 1073741824; printf "  %-22s %7.2f Gbit/s  %6.2f CPU-s/GiB\n", l, b / 1e9, (gib > 0 ? c / gib : 0) }'
}

bench_pair() {
    local pair=$1 r
    echo "== $pair"
    setup_pair "${pair%-*}" "${pair#*-}"
    r=$(run_iperf); set -- $r; report_tcp "tcp 1 stream" "$1" "$2" "$3"
    eval "TCP1_${pair//-/_}=$1"
    r=$(run_iperf -R); set -- $r; report_tcp "tcp 1 stream reverse" "$1" "$2" "$3"
    r=$(run_iperf -P 4); set -- $r; report_tcp "tcp 4 streams" "$1" "$2" "$3"
    r=$(run_iperf -u -l 64 -b 0); set -- $r
    printf "  %-22s %7.0f kpps\n" "udp 64-byte" "$(echo "$1" | awk '{print $1/1000}')"
    teardown_pair
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
    sleep 1
    printf "  %-22s %7d KiB\n" "$impl" "$(awk '/VmRSS/{print $2}' /proc/$pid/status)"
    stop_pid "$pid"
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

echo "bench/wg.sh: ${SECS}s per run, MTU 1420 over veth 1500, $(nproc) CPUs"
netns_setup
if ! have_postern_tunnel; then
    echo "bench: 'postern tunnel' is not in this build; measuring wireguard-go only" >&2
    PAIRS=wggo-wggo
fi
for pair in $PAIRS; do bench_pair "$pair"; done
echo "== idle RSS, 1000 peers"
bench_rss wggo
have_postern_tunnel && bench_rss postern
echo "== TUN layer alone (tunbridge, TCP 1 stream)"
bench_tunbridge "" "offload on"
bench_tunbridge --no-offload "offload off"
if [ -n "${TCP1_postern_postern:-}" ] && [ -n "${TCP1_wggo_wggo:-}" ]; then
    awk -v p="$TCP1_postern_postern" -v g="$TCP1_wggo_wggo" \
        'BEGIN{printf "ratio_vs_wireguard_go=%.2f\n", p / g}'
else
    echo "ratio_vs_wireguard_go=unavailable"
fi
