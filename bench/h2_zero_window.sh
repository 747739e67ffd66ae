#!/bin/bash
# bench/h2_zero_window.sh - the HTTP/2 zero-window attack (issue 10)
# against Postern, HAProxy and nginx in one run, in front of the same
# nginx backend (bench/lib/proxies.sh).
#
# The attack (bench/h2_zero_window.py): CONNS TLS connections with ALPN
# h2 from 127.0.0.1, each announcing SETTINGS_INITIAL_WINDOW_SIZE = 0 and
# opening STREAMS streams for a 10 MB file, held open HOLD seconds and
# never given a window. Meanwhile another client, from 127.0.0.2, fetches
# /small over HTTPS (a new connection each time, curl) PROBES times.
# For each proxy it prints: RSS before, at the peak of the attack and
# after it (its processes together), the peak of its connections to the
# backend, the other client's median and worst latency before and
# during the attack, and what the attacker saw (response heads, refused
# streams); then the ratios of Postern's figures to the others'.
#
# nginx runs with proxy_max_temp_file_size 0: with its default it would
# spool every stalled response to temporary files (up to 1 GB each).
#
#   BENCH_H2Z_CONNS    attacking connections (40)
#   BENCH_H2Z_STREAMS  streams per connection (128)
#   BENCH_H2Z_HOLD     seconds the attack holds (20; under send_timeout)
#   BENCH_H2Z_PROBES   the other client's requests per phase (20)
#   BENCH_WORKERS      workers/threads/processes per proxy (2)
#   POSTERN_BIN        the binary (build/release/postern)
set -u
cd "$(dirname "$0")/.."
CONNS=${BENCH_H2Z_CONNS:-40}
STREAMS=${BENCH_H2Z_STREAMS:-128}
HOLD=${BENCH_H2Z_HOLD:-20}
PROBES=${BENCH_H2Z_PROBES:-20}
W=${BENCH_WORKERS:-2}
POSTERN=${POSTERN_BIN:-$PWD/build/release/postern}
BENCH_NAME=h2_zero_window
NGINX_PROXY_EXTRA="proxy_max_temp_file_size 0;"
. bench/lib/proxies.sh
lab_need nginx haproxy openssl curl wrk

# The backend's established connections from the proxy.
backend_conns() {
    nsx ss -Htn state established '( dport = :9000 )' | wc -l
}

# probe N -> "median_ms worst_ms failures": the other client's requests.
probe() {
    local i t fails=0
    : > "$TMP/lat"
    for i in $(seq "$1"); do
        t=$(nsx curl -sk --interface 127.0.0.2 -o /dev/null -m 10 \
            -w '%{http_code} %{time_total}' "https://127.0.0.1:$SP/small")
        if [ "${t%% *}" = 200 ]; then echo "${t#* }" >> "$TMP/lat"; else fails=$((fails + 1)); fi
    done
    sort -n "$TMP/lat" | awk -v f=$fails '{ v[NR] = $1 * 1000 }
        END { if (NR) printf "%.1f %.1f %d", v[int((NR + 1) / 2)], v[NR], f;
              else printf "n/a n/a %d", f }'
}

# attack NAME: one proxy under the attack; fills R[NAME,...].
attack() {
    local name=$1 base peak=0 up=0 rss n apid lat
    start_proxy "$name" "$W"
    R[$name,idle]=$(probe "$PROBES")
    base=$(proxy_rss)
    nsx /usr/bin/python3 bench/h2_zero_window.py 127.0.0.1 "$SP" "$CONNS" "$STREAMS" \
        /10m "$HOLD" > "$TMP/attack.out" 2>&1 &
    apid=$!
    for _ in $(seq 1200); do grep -q ready "$TMP/attack.out" && break; sleep 0.05; done
    # Let the proxy take in what it will, sampling as it goes.
    for _ in $(seq 20); do
        rss=$(proxy_rss); n=$(backend_conns)
        [ "$rss" -gt "$peak" ] && peak=$rss
        [ "$n" -gt "$up" ] && up=$n
        sleep 0.25
    done
    lat=$(probe "$PROBES")
    rss=$(proxy_rss); n=$(backend_conns)
    [ "$rss" -gt "$peak" ] && peak=$rss
    [ "$n" -gt "$up" ] && up=$n
    wait $apid
    # After the burst: what the proxy keeps once the attack is gone.
    for _ in $(seq 40); do [ "$(backend_conns)" -le 4 ] && break; sleep 0.25; done
    sleep 2
    R[$name,base]=$base R[$name,peak]=$peak R[$name,after]=$(proxy_rss)
    R[$name,up]=$up R[$name,busy]=$lat
    R[$name,seen]=$(tail -1 "$TMP/attack.out")
    stop_proxy "$name"
}

lab_setup
head -c 10000000 /dev/urandom > "$TMP/www/10m"
echo "bench/h2_zero_window: $CONNS conns x $STREAMS streams, window 0, /10m over TLS h2," \
     "held ${HOLD}s; other client from 127.0.0.2; $W workers; $(nproc) cores"
declare -A R
for p in postern haproxy nginx; do
    attack $p
    read -r im iw _ <<< "${R[$p,idle]}"
    read -r bm bw bf <<< "${R[$p,busy]}"
    printf '%-8s rss_MB base=%-6s peak=%-7s after=%-6s backend_conns=%-5s' "$p" \
        $((R[$p,base] / 1024)) $((R[$p,peak] / 1024)) $((R[$p,after] / 1024)) "${R[$p,up]}"
    printf ' other_client_ms idle=%s/%s attack=%s/%s failed=%s  attacker: %s\n' \
        "$im" "$iw" "$bm" "$bw" "$bf" "${R[$p,seen]}"
done
delta() { echo $(( R[$1,peak] - R[$1,base] )); }
med() { set -- ${R[$1,busy]}; echo "$1"; }
echo "rss_growth_MB postern=$(( $(delta postern) / 1024 )) haproxy=$(( $(delta haproxy) / 1024 ))" \
     "nginx=$(( $(delta nginx) / 1024 ))"
echo "ratio_rss_growth_vs_haproxy=$(ratio "$(delta postern)" "$(delta haproxy)")" \
     "ratio_rss_growth_vs_nginx=$(ratio "$(delta postern)" "$(delta nginx)")"
echo "ratio_other_latency_vs_haproxy=$(ratio "$(med postern)" "$(med haproxy)")" \
     "ratio_other_latency_vs_nginx=$(ratio "$(med postern)" "$(med nginx)")"
