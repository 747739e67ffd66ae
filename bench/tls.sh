#!/bin/bash
# bench/tls.sh - TLS handshakes per second: Postern's hub against nginx and
# haproxy, side by side in one run, same certificate, same client.
#
# One network namespace; the three servers listen on loopback, each with
# one worker (hub workers = 1, nginx worker_processes 1, haproxy nbthread
# 1), pinned to CPU 0; the load generator (bench/tls_hs.c, compiled here)
# runs on CPU 1. Modes: full and resumed (session tickets) handshakes, for
# TLS 1.3 and TLS 1.2; each server is measured BENCH_ROUNDS times,
# alternating, and the median is reported. The client connects, completes
# the handshake, sends close_notify and closes (no HTTP request), so the
# figures are TLS only.
# Two figures per cell: handshakes/s, and handshakes per CPU-second of the
# server process (utime+stime from /proc, all threads). On a shared,
# loaded machine the rate mostly measures the scheduler's share; the
# per-CPU-second figure is the server's own efficiency, and the ratios
# are computed from it.
# Last line: ratio_vs_nginx_full13=R ... (Postern / reference, per CPU
# second; >1 = Postern spends less CPU per handshake).
#
#   BENCH_SECONDS  seconds per measurement (4)
#   BENCH_ROUNDS   rounds (3)
#   BENCH_CONC     connections in flight (32)
#   BENCH_KEY      ec (P-256, default) or rsa (2048)
#   POSTERN_BIN    the binary (build/release/postern)
#   BENCH_SERVERS  which servers (default "postern nginx haproxy")
set -u
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
CONC=${BENCH_CONC:-32}
KEY=${BENCH_KEY:-ec}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
TAG=tb$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=$TAG
TMP=$(mktemp -d /tmp/$TAG.XXXX)
PIDS=""
SERVERS=${BENCH_SERVERS:-postern nginx haproxy}
NAME=bench.example.com
P_POSTERN=7443 P_NGINX=8443 P_HAPROXY=9443

# Everything the benchmark started runs inside its own namespace: stop
# exactly those processes (`ip netns exec` forks, so $! is not enough).
cleanup() {
    local p
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
    for _ in $(seq 50); do
        [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break
        sleep 0.1
    done
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

die() { echo "bench/tls: $*" >&2; exit 1; }

has() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
has postern && { [ -x "$POSTERN" ] || die "$POSTERN not built (make)"; }
for t in nginx haproxy cc; do
    command -v $t >/dev/null || die "$t missing (scripts/deps.sh)"
done

cc -O2 -o "$TMP/tls_hs" bench/tls_hs.c -lssl -lcrypto || die "cc tls_hs"

if [ "$KEY" = rsa ]; then
    KEYOPT="-newkey rsa:2048"
else
    KEYOPT="-newkey ec -pkeyopt ec_paramgen_curve:P-256"
fi
# shellcheck disable=SC2086
openssl req -x509 $KEYOPT -nodes -keyout "$TMP/bench.key" \
    -out "$TMP/bench.crt" -days 30 -subj "/CN=$NAME" \
    -addext "subjectAltName=DNS:$NAME" 2>/dev/null || die "openssl req"
cat "$TMP/bench.crt" "$TMP/bench.key" > "$TMP/haproxy.pem"

ip netns add "$NS" || die "ip netns add"
ip -n "$NS" link set lo up

# The same TLS policy everywhere: 1.2 + 1.3, ECDHE+AEAD, X25519/P-256,
# server preference, tickets on, no server-side session cache.
CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

cat > "$TMP/hub.conf" <<EOF
[hub]
workers = 1
listen_https = 127.0.0.1:$P_POSTERN
listen_http = 127.0.0.1:7080
access_log = off
[cert.bench]
cert = $TMP/bench.crt
key = $TMP/bench.key
EOF

cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$P_NGINX ssl;
    ssl_certificate $TMP/bench.crt;
    ssl_certificate_key $TMP/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve X25519:prime256v1;
    ssl_session_tickets on;
    ssl_session_cache off;
    location / { return 200 "ok\n"; }
  }
}
EOF

cat > "$TMP/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
  ssl-default-bind-ciphers $CIPHERS
  ssl-default-bind-options ssl-min-ver TLSv1.2 prefer-client-ciphers
defaults
  mode http
  timeout client 10s
  timeout connect 5s
  timeout server 10s
frontend tls
  bind 127.0.0.1:$P_HAPROXY ssl crt $TMP/haproxy.pem alpn h2,http/1.1 curves X25519:P-256
  http-request return status 200 content-type text/plain string "ok"
EOF
# haproxy's "prefer-client-ciphers" would be the opposite of the others:
# remove it (server preference is haproxy's default).
sed -i 's/ prefer-client-ciphers//' "$TMP/haproxy.cfg"

inns() { ip netns exec "$NS" "$@"; }

port_of() {
    case $1 in
        postern) echo $P_POSTERN ;;
        nginx) echo $P_NGINX ;;
        haproxy) echo $P_HAPROXY ;;
    esac
}
declare -A PID
# The process `ip netns exec` forked (taskset execs into the server).
child_of() {
    local c
    for _ in $(seq 50); do
        c=$(pgrep -P "$1" | head -n1)
        [ -n "$c" ] && { echo "$c"; return; }
        sleep 0.1
    done
    echo "$1"
}
if has postern; then
    inns taskset -c 0 "$POSTERN" hub -c "$TMP/hub.conf" >"$TMP/hub.log" 2>&1 &
    PIDS="$PIDS $!"
    PID[postern]=$(child_of $!)
fi
if has nginx; then
    inns taskset -c 0 nginx -c "$TMP/nginx.conf" -p "$TMP" || die "nginx"
fi
if has haproxy; then
    inns taskset -c 0 haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
    PIDS="$PIDS $!"
    PID[haproxy]=$(child_of $!)
fi

# Ready when a handshake completes on every port.
ready() {
    inns "$TMP/tls_hs" 127.0.0.1 "$1" "$NAME" 0.2 1 full 13 >/dev/null 2>&1
}
for s in $SERVERS; do
    port=$(port_of "$s")
    ok=0
    for _ in $(seq 100); do
        if ready "$port"; then ok=1; break; fi
        sleep 0.1
    done
    [ $ok = 1 ] || { cat "$TMP"/*.log "$TMP/nginx.err" 2>/dev/null; die "port $port never answered"; }
done

# nginx's worker (the master only forks it).
has nginx && PID[nginx]=$(pgrep -P "$(cat "$TMP/nginx.pid")" | head -n1)
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure SERVER MODE VERSION -> "handshakes/s handshakes-per-cpu-second"
measure() {
    local pid=${PID[$1]} a b out n secs
    a=$(cpu_ticks "$pid")
    out=$(inns taskset -c 1 "$TMP/tls_hs" 127.0.0.1 "$(port_of "$1")" "$NAME" \
        "$SECS" "$CONC" "$2" "$3")
    b=$(cpu_ticks "$pid")
    n=$(echo "$out" | sed -n 's/.*handshakes=\([0-9]*\).*/\1/p')
    secs=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
    awk -v n="${n:-0}" -v s="${secs:-1}" -v t=$((b - a)) -v hz="$TCK" \
        'BEGIN { printf "%.0f %.0f\n", n / s, (t > 0 ? n * hz / t : 0) }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A R C
MODES="full:13 resume:13 full:12 resume:12"
for round in $(seq "$ROUNDS"); do
    for m in $MODES; do
        for s in $SERVERS; do
            read -r rate percpu <<< "$(measure "$s" "${m%%:*}" "${m#*:}")"
            R[$s:$m]="${R[$s:$m]:-} ${rate:-0}"
            C[$s:$m]="${C[$s:$m]:-} ${percpu:-0}"
        done
    done
    echo "round $round/$ROUNDS done" >&2
done

echo "TLS handshakes: rate/s and per server CPU-second (median of $ROUNDS x ${SECS}s,"
echo "$CONC in flight, key $KEY, one server worker on CPU 0, client on CPU 1; load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-9s %17s %17s %17s %9s %10s\n' mode "postern rate/cpu" "nginx rate/cpu" \
    "haproxy rate/cpu" vs_nginx vs_haproxy
ratios=""
med() { echo "${1:-0}" | median; }
for m in $MODES; do
    label="${m%%:*}${m#*:}"
    line=$(printf '%-9s' "$label")
    for s in postern nginx haproxy; do
        line="$line $(printf '%17s' "$(med "${R[$s:$m]:-}")/$(med "${C[$s:$m]:-}")")"
    done
    p=$(med "${C[postern:$m]:-}")
    rn=$(awk -v a="$p" -v b="$(med "${C[nginx:$m]:-}")" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    rh=$(awk -v a="$p" -v b="$(med "${C[haproxy:$m]:-}")" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    printf '%s %9s %10s\n' "$line" "$rn" "$rh"
    ratios="$ratios ratio_vs_nginx_$label=$rn ratio_vs_haproxy_$label=$rh"
done
echo "${ratios# }"
