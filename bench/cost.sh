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
# The lab is bench/proxy.sh's (bench/lib/proxies.sh), the same backend
# and the same proxy configurations, with nginx as one process. Each proxy
# runs with one worker under valgrind --tool=callgrind; after a
# warm-up (BENCH_WARM requests) its counters are zeroed, h2load sends
# exactly BENCH_N requests over 4 keep-alive connections, and the counters
# are dumped. Tests (BENCH_TESTS):
#   h1   HTTP/1.1 keep-alive, /small (13 bytes)
#   tls  HTTPS keep-alive (TLS 1.3, ALPN http/1.1), /small
#   h2   h2 over TLS, 4 connections x 8 streams, /small
# prints instructions per request for each, and ends with the ratios
# haproxy/postern and nginx/postern for each test (above 1: Postern runs
# fewer instructions per request).
#   login  Postern alone (only with BENCH_TESTS naming it): HTTPS
#        keep-alive to a route with a `login` policy and a valid session
#        cookie, then the same route `public`, in one hub under callgrind;
#        prints login_cost_ratio = public/login instructions per request
#        (docs/auth.md: the goal is 0.9 or more). Unlike the others this
#        one depends on wall time: the identity assertion is re-signed
#        every 30 s, so run it on a quiet machine.
#
#   BENCH_N      requests measured (20000)   BENCH_WARM  warm-up (2000)
#   BENCH_TESTS  tests ("h1 tls h2")          POSTERN_BIN the binary
set -u
cd "$(dirname "$0")/.."
N=${BENCH_N:-20000}
WARM=${BENCH_WARM:-2000}
TESTS=${BENCH_TESTS:-"h1 tls h2"}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
BENCH_NAME=cost
. bench/lib/proxies.sh
lab_need valgrind callgrind_control callgrind_annotate h2load nginx haproxy openssl
lab_setup
# nginx as one process: callgrind must see the process that does the work.
NGINX_SINGLE=1

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
    proxy_config "$p" 1 8001 8441
    # shellcheck disable=SC2046
    ip netns exec "$NS" valgrind --tool=callgrind --callgrind-out-file="$out.%p" \
        $(proxy_argv "$p") > "$TMP/vg.$p.$t.log" 2>&1 &
    vpid=$!
    wait_port 8441 30 >/dev/null || { kill $vpid; wait $vpid 2>/dev/null; return; }
    load "$t" "$WARM" > /dev/null 2>&1
    callgrind_control -z "$vpid" > /dev/null 2>&1
    ok=$(load "$t" "$N" | awk '/^requests:/ {print $8}')
    callgrind_control -d "$vpid" > /dev/null 2>&1
    kill $vpid; wait $vpid 2>/dev/null
    wait_ports_free 8001 8441 >&2
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
for t in ${TESTS//login/}; do
    for p in postern haproxy nginx; do
        R[$t,$p]=$(measure "$p" "$t")
        printf '%-4s %-8s instructions/request=%s\n' "$t" "$p" "${R[$t,$p]:-failed}"
    done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
line=""
for t in ${TESTS//login/}; do
    line="$line ${t}_haproxy_over_postern=$(ratio "${R[$t,haproxy]:-0}" "${R[$t,postern]:-0}")"
    line="$line ${t}_nginx_over_postern=$(ratio "${R[$t,nginx]:-0}" "${R[$t,postern]:-0}")"
done
echo "${line# }"

# login: one hub under callgrind; the counters are zeroed and dumped
# around each policy's N requests (dumps .1 and .2).
login_cost() {
    local id cookie out=$TMP/cg.login pol k=0 f ir
    declare -A L
    login_hub 1 valgrind --tool=callgrind --callgrind-out-file="$out.%p"
    id=$(login_route) && cookie=$(login_cookie)
    [ -n "$cookie" ] || { echo "login: no session cookie"; stop_proxy; return; }
    for pol in '{"auth":"login"}' '{}'; do
        login_policy "$id" "$pol" || break
        nsx h2load --h1 -n "$WARM" -c 4 -H "Cookie: $cookie" -H ":authority: app.bench" \
            https://127.0.0.1:8444/small > /dev/null 2>&1
        callgrind_control -z "$PROXY_PID" > /dev/null 2>&1
        ok=$(nsx h2load --h1 -n "$N" -c 4 -H "Cookie: $cookie" -H ":authority: app.bench" \
            https://127.0.0.1:8444/small | awk '/^requests:/ {print $8}')
        callgrind_control -d "$PROXY_PID" > /dev/null 2>&1
        k=$((k + 1))
        [ "$ok" = "$N" ] || { echo "login: $pol: $ok of $N succeeded"; break; }
        f=$(ls "$out".*."$k" 2>/dev/null | head -1)
        ir=$([ -n "$f" ] && callgrind_annotate "$f" 2>/dev/null |
             awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
        L[$pol]=$(( ${ir:-0} / N ))
        printf 'login %-18s instructions/request=%s\n' "$pol" "${L[$pol]}"
    done
    stop_proxy
    echo "login_cost_ratio=$(ratio "${L['{}']:-0}" "${L['{"auth":"login"}']:-0}")"
}
case " $TESTS " in *" login "*) login_cost ;; esac
