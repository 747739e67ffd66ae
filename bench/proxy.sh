#!/bin/bash
# bench/proxy.sh - the hub's front against HAProxy and nginx as reverse
# proxies, side by side in one run, in front of the same nginx backend.
#
# The lab (bench/lib/proxies.sh): one network namespace, one nginx backend
# (1 worker) serving a small body (/small, 13 bytes) and a 100 KB file
# (/100k), and the three proxies configured alike: HTTP and HTTPS with the
# same self-signed certificate, ALPN h2 + http/1.1, TLS 1.2 and 1.3,
# upstream keep-alive. Each proxy listens on ports of its own.
#
# For W = 1 then 2 (BENCH_WORKERS), alternating proxies within each test:
#   h1-small   wrk, HTTP/1.1 keep-alive, /small
#   h1-100k    wrk, HTTP/1.1 keep-alive, /100k
#   tls-ka     wrk, HTTPS keep-alive, /small
#   tls-new    wrk, HTTPS with a new connection (full handshake) per request
#   h2         h2load over TLS (ALPN h2), 4 clients x 32 streams, /small
#   tls-login  Postern alone: HTTPS keep-alive to a route whose policy is
#              "login", with a valid session cookie (so the session check,
#              the identity fields and the signed assertion run on every
#              request), then the same route made "public", alternating
#              over BENCH_LOGIN_ROUNDS (3) rounds; prints login_vs_public=R,
#              the median of the rounds' ratios (a loaded machine swings a
#              single run by 2x; goal >= 0.9), and the hub's CPU time per
#              request for each policy (user + system, from /proc: steadier
#              than req/s when other work shares the cores) with
#              cpu_public_over_login=R. Only with BENCH_TESTS naming it.
# prints requests/s and p99 latency (h2load: from its request log), then the memory each
# proxy needs per idle TLS connection (BENCH_IDLE connections held open),
# and ends with ratio_vs_haproxy=R1 ratio_vs_nginx=R2 for HTTPS keep-alive
# with one worker.
#
#   BENCH_SECONDS  seconds per run (10)    BENCH_CONNS  wrk connections (64)
#   BENCH_WORKERS  worker counts ("1 2")   BENCH_IDLE   idle TLS conns (1000)
#   BENCH_TESTS    tests to run ("h1-small h1-100k tls-ka tls-new h2")
#   POSTERN_BIN    the binary (build/release/postern)
set -u
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
WORKERS=${BENCH_WORKERS:-"1 2"}
IDLE=${BENCH_IDLE:-1000}
TESTS=${BENCH_TESTS:-"h1-small h1-100k tls-ka tls-new h2"}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
BENCH_NAME=proxy
. bench/lib/proxies.sh
lab_need wrk h2load nginx haproxy openssl

# run_wrk URL [extra wrk args] -> "rps p99"
run_wrk() {
    local url=$1; shift
    nsx wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" "$url" > "$TMP/wrk.out" 2>&1
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")
    local errs
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$TMP/wrk.out" | tr '\n' ' ')
    echo "${rps:-0} ${p99:-?}${errs:+ ($errs)}"
}

# h2load prints no percentiles: p99 comes from its per-request log
# (third column: microseconds until the end of the response).
run_h2load() {
    rm -f "$TMP/h2.reqs"
    nsx h2load -c4 -m32 -t2 -D "$SECS" --log-file="$TMP/h2.reqs" \
        "https://127.0.0.1:$SP/small" > "$TMP/h2.out" 2>&1
    local rps p99 fails
    rps=$(awk '/^finished in/ {print $4}' "$TMP/h2.out")
    p99=$(cut -f3 "$TMP/h2.reqs" 2>/dev/null | sort -n |
          awk '{ v[NR] = $1 } END { if (NR) { i = int(NR * 0.99); if (i < 1) i = 1;
                 printf "%.2fms", v[i] / 1000 } }')
    fails=$(awk '/^requests:/ && $10 != "0" {print $10 " failed"}' "$TMP/h2.out")
    echo "${rps:-0} ${p99:-?}${fails:+ ($fails)}"
}

# Memory per idle TLS connection: the proxy's RSS before and after IDLE
# handshaken connections that then sit idle.
idle_mem() {
    local before after cpid
    before=$(proxy_rss)
    ip netns exec "$NS" python3 - "$IDLE" "$SP" <<'EOP' > "$TMP/idle.out" 2>&1 &
import socket, ssl, sys, time
n = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    conns.append(ctx.wrap_socket(s, server_hostname="bench.test"))
print("open", flush=True)
time.sleep(30)
EOP
    cpid=$!
    for _ in $(seq 600); do grep -q open "$TMP/idle.out" 2>/dev/null && break; sleep 0.05; done
    sleep 0.5
    after=$(proxy_rss)
    kill $cpid 2>/dev/null; wait $cpid 2>/dev/null
    echo $(( (after - before) * 1024 / IDLE ))
}

lab_setup
echo "bench/proxy: backend nginx, wrk -t2 -c$CONNS -d${SECS}s, h2load -c4 -m32; $(nproc) cores"
declare -A R
for w in $WORKERS; do
    for test in ${TESTS//tls-login/}; do
        for p in postern haproxy nginx; do
            start_proxy $p $w
            case $test in
            h1-small) r=$(run_wrk http://127.0.0.1:$HP/small) ;;
            h1-100k) r=$(run_wrk http://127.0.0.1:$HP/100k) ;;
            tls-ka) r=$(run_wrk https://127.0.0.1:$SP/small) ;;
            tls-new) r=$(run_wrk https://127.0.0.1:$SP/small -H "Connection: close") ;;
            h2) r=$(run_h2load) ;;
            esac
            stop_proxy $p
            R[$w,$test,$p]=${r%% *}
            printf 'workers=%s %-9s %-8s req/s=%-10s p99=%s\n' "$w" "$test" "$p" "${r%% *}" "${r#* }"
        done
    done
done
login_bench() {
    local w=${WORKERS%% *} id cookie r rounds=${BENCH_LOGIN_ROUNDS:-3} i lr=0 ratios=
    local t0 t1 kind
    declare -A cpu=([login]=0 [public]=0) reqs=([login]=0 [public]=0)
    login_hub "$w"
    id=$(login_route)
    cookie=$(login_cookie)
    [ -n "$cookie" ] || { echo "tls-login: no session cookie"; stop_proxy postern; return; }
    for i in $(seq "$rounds"); do
        for pol in '{"auth":"login"}' '{}'; do
            login_policy "$id" "$pol"
            kind=$([ "$pol" = '{}' ] && echo public || echo login)
            t0=$(awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat")
            r=$(run_wrk https://127.0.0.1:8444/small -H "Host: app.bench" -H "Cookie: $cookie")
            t1=$(awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat")
            cpu[$kind]=$((cpu[$kind] + t1 - t0))
            reqs[$kind]=$(awk -v a="${reqs[$kind]}" -v b="${r%% *}" -v s="$SECS" \
                'BEGIN { printf "%d", a + b * s }')
            printf 'workers=%s %-9s %-8s req/s=%-10s p99=%s\n' "$w" tls-login \
                "$kind" "${r%% *}" "${r#* }"
            if [ "$pol" = '{}' ]; then ratios="$ratios $(ratio "$lr" "${r%% *}")"
            else lr=${r%% *}; fi
        done
    done
    stop_proxy postern
    echo "login_vs_public=$(echo $ratios | tr ' ' '\n' | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') (rounds:$ratios)"
    local tick per_l per_p
    tick=$(getconf CLK_TCK)
    per_l=$(awk -v c="${cpu[login]}" -v n="${reqs[login]}" -v t="$tick" \
        'BEGIN { if (n) printf "%.1f", c * 1e6 / t / n; else print 0 }')
    per_p=$(awk -v c="${cpu[public]}" -v n="${reqs[public]}" -v t="$tick" \
        'BEGIN { if (n) printf "%.1f", c * 1e6 / t / n; else print 0 }')
    echo "hub CPU per request: login ${per_l} us, public ${per_p} us;" \
         "cpu_public_over_login=$(ratio "$per_p" "$per_l")"
}
case " $TESTS " in *" tls-login "*) login_bench ;; esac

for p in postern haproxy nginx; do
    start_proxy $p 1
    printf 'idle TLS connection memory: %-8s %s bytes/conn (%s conns)\n' "$p" "$(idle_mem)" "$IDLE"
    stop_proxy $p
done
first=${WORKERS%% *}
echo "ratio_vs_haproxy=$(ratio "${R[$first,tls-ka,postern]:-0}" "${R[$first,tls-ka,haproxy]:-0}")" \
     "ratio_vs_nginx=$(ratio "${R[$first,tls-ka,postern]:-0}" "${R[$first,tls-ka,nginx]:-0}")"
