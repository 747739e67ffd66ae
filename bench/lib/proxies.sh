# bench/lib/proxies.sh - the lab that bench/proxy.sh and bench/cost.sh
# share (sourced, never run; scripts/bench.sh runs only bench/*.sh).
#
# One network namespace $NS (loopback) and a scratch directory $TMP, both
# removed on exit; one nginx backend (1 worker) on 127.0.0.1:9000 serving
# /small (13 bytes) and /100k (100 KB); a self-signed P-256 certificate
# for bench.test; and the three reverse proxies configured alike (HTTP and
# HTTPS, ALPN h2 + http/1.1, TLS 1.2 and 1.3, upstream keep-alive):
#   postern  postern hub, workers = W
#   haproxy  nbthread W, http-reuse always
#   nginx    worker_processes W, proxy_pass to an upstream{} with
#            keepalive, TLS 1.3 named (Debian's nginx 1.22 leaves it out
#            otherwise, and its TLS 1.2 resumptions skip the key exchange
#            a TLS 1.3 resumption does)
#
# NGINX_PROXY_EXTRA: directives added to nginx's proxying location (the
# zero-window bench turns buffering to temporary files off with it).
#
# The sourcing script sets BENCH_NAME (messages, the namespace's tag) and
# POSTERN (the binary), then calls lab_need and lab_setup; start_proxy /
# stop_proxy run one proxy at a time, proxy_rss measures it.

TAG=$(printf '%.2s' "$BENCH_NAME")$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=$TAG
TMP=$(mktemp -d "/tmp/$TAG.XXXX")

# Every process of a run lives in $NS: ending them all by the namespace's
# pid list also ends nginx workers whose master went first (they would
# keep the ports).
ns_kill() {
    local sig=$1 pids
    pids=$(ip netns pids "$NS" 2>/dev/null)
    [ -n "$pids" ] && kill "$sig" $pids 2>/dev/null
}
lab_cleanup() {
    ns_kill -TERM
    for _ in $(seq 50); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.1; done
    ns_kill -KILL
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap lab_cleanup EXIT INT TERM

# lab_need TOOL... : exits when a tool or the Postern binary is missing.
lab_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "bench/$BENCH_NAME: $t missing (scripts/deps.sh)"; exit 1; }
    done
    [ -x "$POSTERN" ] || { echo "bench/$BENCH_NAME: $POSTERN not built"; exit 1; }
}

nsx() { ip netns exec "$NS" "$@"; }

# wait_port PORT [SECONDS]: until something in $NS accepts on PORT (5 s).
wait_port() {
    local tries=$(( ${2:-5} * 20 ))
    for _ in $(seq $tries); do
        nsx bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench/$BENCH_NAME: port $1 did not open"; return 1
}

# wait_ports_free PORT...: until nothing in $NS listens on them (5 s).
wait_ports_free() {
    local filter="" p
    for p in "$@"; do filter="${filter:+$filter or }sport = :$p"; done
    for _ in $(seq 100); do
        nsx ss -Hltn "$filter" | grep -q . || return 0
        sleep 0.05
    done
    echo "bench/$BENCH_NAME: ports $* still held"; return 1
}

# The namespace, the files, the certificate and the backend.
lab_setup() {
    ip netns add "$NS" || exit 1
    nsx ip link set lo up
    mkdir -p "$TMP/www" "$TMP/certs"
    printf 'hello, world\n' > "$TMP/www/small"
    head -c 102400 /dev/urandom > "$TMP/www/100k"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
        -keyout "$TMP/certs/bench.key" -out "$TMP/certs/bench.crt" 2>/dev/null
    cat "$TMP/certs/bench.crt" "$TMP/certs/bench.key" > "$TMP/bench.pem"
    cat > "$TMP/backend.conf" <<EOC
user root; worker_processes 1; daemon off; pid $TMP/backend.pid;
error_log $TMP/backend.err; worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:9000 backlog=4096; root $TMP/www; } }
EOC
    ip netns exec "$NS" nginx -c "$TMP/backend.conf" -e "$TMP/backend.err" &
    wait_port 9000 || exit 1
}

# proxy_config NAME WORKERS HTTP_PORT HTTPS_PORT: writes NAME's
# configuration into $TMP. NGINX_SINGLE=1 runs nginx as one process
# (master_process off), for tools that must see the process doing the
# work.
proxy_config() {
    local name=$1 w=$2 hp=$3 sp=$4
    case $name in
    postern)
        cat > "$TMP/hub.conf" <<EOC
[hub]
workers = $w
listen_http = "127.0.0.1:$hp"
listen_https = "127.0.0.1:$sp"
routes = $TMP/routes.conf
access_log = off
upstream_keepalive_max = 1024
[tls]
cert_dir = $TMP/certs
EOC
        printf '[route.b]\nhost = *\ntarget = http://127.0.0.1:9000\n' > "$TMP/routes.conf"
        ;;
    haproxy)
        cat > "$TMP/haproxy.cfg" <<EOC
global
  nbthread $w
  maxconn 8000
  tune.ssl.default-dh-param 2048
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend f
  bind 127.0.0.1:$hp
  bind 127.0.0.1:$sp ssl crt $TMP/bench.pem alpn h2,http/1.1
  default_backend b
backend b
  server s1 127.0.0.1:9000
EOC
        ;;
    nginx)
        cat > "$TMP/proxy.conf" <<EOC
${NGINX_SINGLE:+master_process off;}
user root; worker_processes $w; daemon off; pid $TMP/proxy.pid;
error_log $TMP/proxy.err; worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000;
  ssl_certificate $TMP/certs/bench.crt; ssl_certificate_key $TMP/certs/bench.key;
  ssl_session_cache shared:S:10m; ssl_protocols TLSv1.2 TLSv1.3;
  upstream b { server 127.0.0.1:9000; keepalive 256; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$hp backlog=4096; listen 127.0.0.1:$sp ssl http2 backlog=4096;
    location / { proxy_pass http://b; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_buffering on; ${NGINX_PROXY_EXTRA:-} } } }
EOC
        ;;
    esac
}

# proxy_argv NAME: the command line that runs NAME with its configuration.
proxy_argv() {
    case $1 in
    postern) echo "$POSTERN hub -c $TMP/hub.conf" ;;
    haproxy) echo "haproxy -f $TMP/haproxy.cfg -db" ;;
    nginx) echo "nginx -c $TMP/proxy.conf -e $TMP/proxy.err" ;;
    esac
}

HP=8001 SP=8441

# start_proxy NAME WORKERS -> pid in $PROXY_PID; HTTP on $HP, HTTPS on
# $SP (ports of their own per proxy, so a slow exit never collides).
start_proxy() {
    local name=$1 w=$2
    case $name in
    postern) HP=8001 SP=8441 ;;
    haproxy) HP=8002 SP=8442 ;;
    nginx) HP=8003 SP=8443 ;;
    esac
    proxy_config "$name" "$w" $HP $SP
    # shellcheck disable=SC2046
    ip netns exec "$NS" $(proxy_argv "$name") > "$TMP/$name.log" 2>&1 &
    # `ip netns exec` execs the proxy: $! is the proxy (nginx's master).
    PROXY_PID=$!
    wait_port $HP && wait_port $SP || exit 1
    # Warm up pools and caches.
    nsx wrk -t1 -c4 -d1s http://127.0.0.1:$HP/small >/dev/null 2>&1
}

# Stops the proxy and its children (nginx's workers), and waits until its
# ports are free again.
stop_proxy() {
    local kids
    kids=$(pgrep -P "$PROXY_PID")
    kill "$PROXY_PID" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$PROXY_PID" $kids 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    wait_ports_free $HP $SP || exit 1
}

# RSS in KiB of the proxy: its main process and its children (nginx's
# workers).
proxy_rss() {
    local total=0 p
    for p in "$PROXY_PID" $(pgrep -P "$PROXY_PID"); do
        total=$((total + $(awk '/^VmRSS:/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
    done
    echo $total
}

# ratio A B: A / B with two decimals, n/a when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# login_hub WORKERS [LAUNCHER...]: a hub with a store (a login route, a
# user, the portal's cookie), not the routes file start_proxy uses, HTTPS
# on 127.0.0.1:8444 and its control socket at $TMP/ctl.sock; LAUNCHER
# (e.g. valgrind) runs it. The pid is in $PROXY_PID.
login_hub() {
    local w=$1
    shift
    mkdir -p "$TMP/data"
    cat > "$TMP/login.conf" <<EOC
[hub]
workers = $w
hostname = hub.bench
listen_http = "127.0.0.1:8004"
listen_https = "127.0.0.1:8444"
data_dir = $TMP/data
control_socket = $TMP/ctl.sock
access_log = off
upstream_keepalive_max = 1024
[tls]
cert_dir = $TMP/certs
[wireguard]
enabled = off
EOC
    ip netns exec "$NS" "$@" "$POSTERN" hub -c "$TMP/login.conf" > "$TMP/login.log" 2>&1 &
    PROXY_PID=$!
    HP=8004 SP=8444
    wait_port 8444 120 >/dev/null || exit 1
    for _ in $(seq 600); do [ -S "$TMP/ctl.sock" ] && break; sleep 0.05; done
}

# login_cookie: the route cookie of app.bench through the portal, as a
# browser gets it (user alice, created here).
login_cookie() {
    local sock="--socket $TMP/ctl.sock" loc
    $POSTERN user create alice --role viewer --groups family $sock > /dev/null &&
        echo "the bench's own password" |
        $POSTERN user update 2 --password-stdin $sock > /dev/null ||
        return 1
    loc=$(nsx curl -sk -o /dev/null -D - --resolve hub.bench:8444:127.0.0.1 \
        -H "Origin: https://hub.bench:8444" --data-urlencode username=alice \
        --data-urlencode "password=the bench's own password" \
        --data-urlencode "rd=https://app.bench/small" https://hub.bench:8444/login |
        awk 'tolower($1) == "location:" {print $2}' | tr -d '\r')
    nsx curl -sk -o /dev/null -D - --resolve app.bench:8444:127.0.0.1 "$loc" |
        awk -F'[:;] *' 'tolower($1) == "set-cookie" && $2 ~ /^__Host-postern_auth=/ {print $2}'
}

# login_route: creates app.bench (policy login, to the nginx backend) on
# login_hub's hub and prints its id.
login_route() {
    $POSTERN route create --host app.bench --target http://127.0.0.1:9000 \
        --policy '{"auth":"login"}' --socket "$TMP/ctl.sock" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# login_policy ID POLICY: sets the route's policy and waits until the
# workers apply it (a request without a cookie: 200 public, 401 login).
login_policy() {
    local code want=401
    [ "$2" = '{}' ] && want=200
    $POSTERN route update "$1" --policy "$2" --socket "$TMP/ctl.sock" > /dev/null
    for _ in $(seq 600); do
        code=$(nsx curl -sk -o /dev/null -w '%{http_code}' -H "Host: app.bench" \
            https://127.0.0.1:8444/small)
        [ "$code" = "$want" ] && return 0
        sleep 0.05
    done
    echo "bench/$BENCH_NAME: policy $2 not applied" >&2
    return 1
}
