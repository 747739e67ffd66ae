#!/bin/bash
# bench/cost.sh - user-space instructions per proxied request: Postern,
# HAProxy and nginx side by side, each under callgrind, in front of the
# same nginx backend.
#
# Requests per second on a shared 2-core machine move by 10% between runs
# (wrk, the backend and the proxy share the cores; the kernel's loopback
# TCP is most of the cost). An instruction count does not: callgrind
# counts the proxy's own instructions (its code and its libraries, not the
# kernel's), the same to 0.1% from run to run. It is the figure to watch
# when changing the request path.
#
# Each proxy runs with one worker under valgrind --tool=callgrind; after a
# warm-up (BENCH_WARM requests) its counters are zeroed, h2load sends
# exactly BENCH_N requests over 4 keep-alive connections, and the counters
# are dumped. Tests (BENCH_TESTS):
#   h1   HTTP/1.1 keep-alive, /small (13 bytes)
#   tls  HTTPS keep-alive (TLS 1.3, ALPN http/1.1), /small
#   h2   h2 over TLS, 4 connections x 8 streams, /small
# prints instructions per request for each, and ends with the ratios
# haproxy/postern and nginx/postern for each test (above 1: Postern runs
# fewer instructions per request).
#
#   BENCH_N      requests measured (20000)   BENCH_WARM  warm-up (2000)
#   BENCH_TESTS  tests ("h1 tls h2")          POSTERN_BIN the binary
set -u
cd "$(dirname "$0")/.."
N=${BENCH_N:-20000}
WARM=${BENCH_WARM:-2000}
TESTS=${BENCH_TESTS:-"h1 tls h2"}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
TAG=pc$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=$TAG
TMP=$(mktemp -d /tmp/$TAG.XXXX)

cleanup() {
    local pids
    pids=$(ip netns pids "$NS" 2>/dev/null)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    sleep 0.5
    pids=$(ip netns pids "$NS" 2>/dev/null)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

for t in valgrind callgrind_control callgrind_annotate h2load nginx haproxy openssl; do
    command -v $t >/dev/null || { echo "bench/cost: $t missing (scripts/deps.sh)"; exit 1; }
done
[ -x "$POSTERN" ] || { echo "bench/cost: $POSTERN not built"; exit 1; }

nsx() { ip netns exec "$NS" "$@"; }
wait_port() {
    for _ in $(seq 300); do
        nsx bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench/cost: port $1 did not open"; return 1
}

ip netns add "$NS" || exit 1
nsx ip link set lo up
mkdir -p "$TMP/www" "$TMP/certs"
printf 'hello, world\n' > "$TMP/www/small"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
    -keyout "$TMP/certs/bench.key" -out "$TMP/certs/bench.crt" 2>/dev/null
cat "$TMP/certs/bench.crt" "$TMP/certs/bench.key" > "$TMP/bench.pem"
cat > "$TMP/backend.conf" <<EOC
user root; worker_processes 1; daemon off; pid $TMP/backend.pid;
error_log $TMP/backend.err;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:9000; root $TMP/www; } }
EOC
ip netns exec "$NS" nginx -c "$TMP/backend.conf" -e "$TMP/backend.err" &
wait_port 9000 || exit 1

# The three proxies, one worker each, HTTP on 8001 and HTTPS on 8441.
cat > "$TMP/hub.conf" <<EOC
[hub]
workers = 1
listen_http = "127.0.0.1:8001"
listen_https = "127.0.0.1:8441"
routes = $TMP/routes.conf
access_log = off
[tls]
cert_dir = $TMP/certs
EOC
printf '[route.b]\nhost = *\ntarget = http://127.0.0.1:9000\n' > "$TMP/routes.conf"
cat > "$TMP/haproxy.cfg" <<EOC
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend f
  bind 127.0.0.1:8001
  bind 127.0.0.1:8441 ssl crt $TMP/bench.pem alpn h2,http/1.1
  default_backend b
backend b
  server s1 127.0.0.1:9000
EOC
cat > "$TMP/proxy.conf" <<EOC
master_process off; daemon off; worker_processes 1; pid $TMP/proxy.pid;
error_log $TMP/proxy.err;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  ssl_certificate $TMP/certs/bench.crt; ssl_certificate_key $TMP/certs/bench.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  upstream b { server 127.0.0.1:9000; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:8001; listen 127.0.0.1:8441 ssl http2;
    location / { proxy_pass http://b; proxy_http_version 1.1;
      proxy_set_header Connection ""; } } }
EOC

proxy_argv() {
    case $1 in
    postern) echo "$POSTERN hub -c $TMP/hub.conf" ;;
    haproxy) echo "haproxy -f $TMP/haproxy.cfg -db" ;;
    nginx) echo "nginx -c $TMP/proxy.conf -e $TMP/proxy.err" ;;
    esac
}

# load TEST NREQ: h2load with exactly NREQ requests.
load() {
    case $1 in
    h1) nsx h2load --h1 -n "$2" -c 4 http://127.0.0.1:8001/small ;;
    tls) nsx h2load --h1 -n "$2" -c 4 https://127.0.0.1:8441/small ;;
    h2) nsx h2load -n "$2" -c 4 -m 8 https://127.0.0.1:8441/small ;;
    esac
}

# measure PROXY TEST -> instructions per request (empty on failure)
measure() {
    local p=$1 t=$2 vpid out ok ir
    out=$TMP/cg.$p.$t
    # `ip netns exec` execs valgrind, which runs the proxy in its own
    # process: $! is the pid callgrind_control talks to.
    # shellcheck disable=SC2046
    ip netns exec "$NS" valgrind --tool=callgrind --callgrind-out-file="$out.%p" \
        $(proxy_argv "$p") > "$TMP/vg.$p.$t.log" 2>&1 &
    vpid=$!
    wait_port 8441 >/dev/null || { kill $vpid; wait $vpid 2>/dev/null; return; }
    load "$t" "$WARM" > /dev/null 2>&1
    callgrind_control -z "$vpid" > /dev/null 2>&1
    ok=$(load "$t" "$N" | awk '/^requests:/ {print $8}')
    callgrind_control -d "$vpid" > /dev/null 2>&1
    kill $vpid; wait $vpid 2>/dev/null
    # Wait until the ports are free for the next proxy.
    for _ in $(seq 100); do
        nsx ss -Hltn "sport = :8001 or sport = :8441" | grep -q . || break
        sleep 0.1
    done
    [ "$ok" = "$N" ] || { echo "bench/cost: $p $t: $ok of $N succeeded" >&2; return; }
    # The dump after -z holds just the measured requests (.1: the first
    # dump; a process that forked, as nginx does not here, would add more).
    local f
    f=$(ls "$out".*.1 2>/dev/null | head -1)
    [ -n "$f" ] || return
    ir=$(callgrind_annotate "$f" 2>/dev/null |
         awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    [ -n "$ir" ] && echo $((ir / N))
}

echo "bench/cost: user-space instructions per request (callgrind), one worker, $N requests, 4 connections"
declare -A R
for t in $TESTS; do
    for p in postern haproxy nginx; do
        R[$t,$p]=$(measure "$p" "$t")
        printf '%-4s %-8s instructions/request=%s\n' "$t" "$p" "${R[$t,$p]:-failed}"
    done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
line=""
for t in $TESTS; do
    line="$line ${t}_haproxy_over_postern=$(ratio "${R[$t,haproxy]:-0}" "${R[$t,postern]:-0}")"
    line="$line ${t}_nginx_over_postern=$(ratio "${R[$t,nginx]:-0}" "${R[$t,postern]:-0}")"
done
echo "${line# }"
