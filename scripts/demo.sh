#!/bin/sh
# `make demo`: a hub, an agent joined through the real join flow, and a
# sample web service, on this machine's loopback; then the URL to open.
#
#   scripts/demo.sh          run it (Ctrl-C stops it and removes everything)
#   scripts/demo.sh stop     stop a demo running elsewhere (make demo-stop)
#
# What it starts, all bound to 127.0.0.1 (ports below are the defaults):
#   the hub: HTTPS :4443 (a self-signed certificate for localhost), HTTP
#     :4480, WireGuard UDP :51899, its store (SQLite) in ./var/demo/data,
#     its tunnel interface pdemoXXXX (removed when the hub stops)
#   a sample service: python3 -m http.server on 127.0.0.1:8099
#   the agent: `postern agent create` on the hub, `postern agent join
#     https://localhost:4443 TOKEN --fingerprint SHA256` with the hub's
#     pinned key, `postern agent run --allow 127.0.0.1:8099` (its tunnel
#     end lives in a private user+network namespace)
#   a route: https://app.localhost:4443/ -> the agent -> 127.0.0.1:8099
# Needs root (the hub's TUN interface). It runs as well inside a network
# namespace (`ip netns exec NS scripts/demo.sh`; the tests do that).
# Environment: POSTERN_BIN, DEMO_VAR (./var/demo), DEMO_HTTPS_PORT,
# DEMO_HTTP_PORT, DEMO_WG_PORT, DEMO_APP_PORT.
set -eu
cd "$(dirname "$0")/.."
BIN=${POSTERN_BIN:-$PWD/build/release/postern}
VAR=${DEMO_VAR:-$PWD/var/demo}
HTTPS_PORT=${DEMO_HTTPS_PORT:-4443}
HTTP_PORT=${DEMO_HTTP_PORT:-4480}
WG_PORT=${DEMO_WG_PORT:-51899}
APP_PORT=${DEMO_APP_PORT:-8099}
SOCK=$VAR/control.sock
HUB_URL=https://localhost:$HTTPS_PORT
APP_HOST=app.localhost
APP_URL=https://$APP_HOST:$HTTPS_PORT/

running_pid() { # the pid of a demo running with this VAR, if any
    [ -f "$VAR/demo.pid" ] || return 1
    p=$(cat "$VAR/demo.pid")
    kill -0 "$p" 2>/dev/null && echo "$p"
}

if [ "${1:-}" = stop ]; then
    p=$(running_pid) || { echo "demo: not running"; exit 0; }
    kill -TERM "$p"
    # The demo removes its pid file once everything it started is gone.
    n=300
    while [ -f "$VAR/demo.pid" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    [ -f "$VAR/demo.pid" ] && { echo "demo: $p did not stop" >&2; exit 1; }
    echo "demo: stopped"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root for the hub's tunnel interface (try: sudo make demo)" >&2
    exit 1
fi
[ -x "$BIN" ] || { echo "demo: $BIN not built (run make)" >&2; exit 1; }
if p=$(running_pid); then
    echo "demo: already running (pid $p); stop it with: make demo-stop" >&2
    exit 1
fi

pids=""
cleanup() {
    trap - EXIT INT TERM
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -f "$VAR/demo.pid" "$SOCK"
    echo "demo: stopped; everything it started is gone (logs and store: $VAR)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '==> %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
wait_for() { # wait_for SECONDS CMD... : polls until CMD succeeds
    n=$(( $1 * 10 )); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1
    done
}
cli() { "$BIN" "$@" --socket "$SOCK"; }
fetch() { curl -sfk --max-time 5 --resolve "$APP_HOST:$HTTPS_PORT:127.0.0.1" "$APP_URL"; }

rm -rf "$VAR"
mkdir -p "$VAR/www" "$VAR/agent"
chmod 700 "$VAR"
echo $$ >"$VAR/demo.pid"
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')

step "hub: https://localhost:$HTTPS_PORT, store in $VAR/data"
mkdir -m 700 "$VAR/certs"
cat >"$VAR/hub.conf" <<EOF
[hub]
workers = 2
listen_http = "127.0.0.1:$HTTP_PORT"
listen_https = "127.0.0.1:$HTTPS_PORT"
hostname = localhost
data_dir = $VAR/data
control_socket = $SOCK
access_log = $VAR/access.log
[tls]
cert_dir = $VAR/certs
selfsigned_name = localhost
[wireguard]
listen_port = $WG_PORT
interface = pdemo$id
endpoint = 127.0.0.1:$WG_PORT
EOF
"$BIN" hub -c "$VAR/hub.conf" >"$VAR/hub.log" 2>&1 & pids="$pids $!"
hub_pid=$!
wait_for 20 test -S "$SOCK" || { cat "$VAR/hub.log"; die "the hub did not start"; }
wait_for 20 test -s "$VAR/certs/selfsigned-localhost.crt" || die "no certificate"
wait_for 20 curl -sk "https://127.0.0.1:$HTTPS_PORT/" || die "the hub does not answer"

step "admin login"
PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PASSWORD" | cli user update 1 --password-stdin >/dev/null

step "a sample service on 127.0.0.1:$APP_PORT (python3 -m http.server)"
cat >"$VAR/www/index.html" <<EOF
<!doctype html><title>Postern demo</title>
<h1>Hello from behind the tunnel</h1>
<p>This page is served by python3 -m http.server on 127.0.0.1:$APP_PORT.
You reached it through the hub (HTTPS), WireGuard and the agent.</p>
EOF
python3 -m http.server "$APP_PORT" --bind 127.0.0.1 --directory "$VAR/www" \
    >"$VAR/app.log" 2>&1 & pids="$pids $!"
wait_for 10 curl -sf "http://127.0.0.1:$APP_PORT/" || die "the sample service did not start"

step "postern agent create demo"
cli agent create demo | tee "$VAR/agent-create.txt"
# Run the command the hub printed: postern agent join URL TOKEN
# --fingerprint SHA256 (the pin of its self-signed certificate's key).
JOIN=$(awk '/on the agent.s machine, run:/ { getline; print; exit }' "$VAR/agent-create.txt")
AGENT_ID=$(awk '$1 == "id:" { print $2; exit }' "$VAR/agent-create.txt")
set -- $JOIN
[ $# -ge 5 ] && [ "$1 $2 $3" = "postern agent join" ] && [ -n "$AGENT_ID" ] ||
    die "could not read the join command"
shift
case " $* " in
*" --fingerprint "*) ;;
*) die "the join command pins no fingerprint" ;;
esac

step "postern agent join (the command above, run where the agent lives)"
"$BIN" "$@" --state "$VAR/agent/agent.state"

step "postern agent run --allow 127.0.0.1:$APP_PORT"
"$BIN" agent run --state "$VAR/agent/agent.state" --allow "127.0.0.1:$APP_PORT" \
    >"$VAR/agent.log" 2>&1 & pids="$pids $!"

step "route $APP_HOST -> agent demo -> http://127.0.0.1:$APP_PORT"
cli route create --host "$APP_HOST" --target "http://127.0.0.1:$APP_PORT" --agent "$AGENT_ID" >/dev/null
wait_for 60 fetch || { tail -20 "$VAR/hub.log" "$VAR/agent.log"; die "the route does not answer"; }

cat <<EOF

  Postern demo is running.

  open        $APP_URL
              (a self-signed certificate: accept the browser's warning;
               from a shell: curl -k --resolve $APP_HOST:$HTTPS_PORT:127.0.0.1 $APP_URL)
  admin       user admin, password $PASSWORD
              API $HUB_URL/api/v1, CLI: $BIN agent list --socket $SOCK
  logs        $VAR/hub.log $VAR/agent.log
  stop        Ctrl-C here, or: make demo-stop

EOF
echo "demo: ready"
wait "$hub_pid" || true
die "the hub exited; see $VAR/hub.log"
