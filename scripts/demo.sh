#!/bin/sh
# The standalone tunnel demo (until the hub + agent demo replaces it):
# Postern's WireGuard (`postern tunnel`) in one network namespace,
# Debian's wireguard-go in another, both configured with the stock `wg`
# tool; then a ping and an HTTP fetch through the tunnel. Everything it
# creates (namespaces, interfaces, processes, sockets) is removed on exit
# or Ctrl-C. Needs root (network namespaces).
set -eu
cd "$(dirname "$0")/.."
BIN=${POSTERN_BIN:-build/release/postern}
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root for network namespaces (try: sudo make demo)" >&2
    exit 1
fi
[ -x "$BIN" ] || { echo "demo: $BIN not built (run make)" >&2; exit 1; }

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
A=pdemo-$id-postern B=pdemo-$id-wggo
IFA=wgp$id IFB=wgg$id
TMP=$(mktemp -d /tmp/postern-demo.XXXXXX)
pids=""

cleanup() {
    trap - EXIT INT TERM
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
    rm -f "/var/run/wireguard/$IFA.sock" "/var/run/wireguard/$IFB.sock"
    rm -rf "$TMP"
    echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }
ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }
wait_for() { # wait_for SECONDS CMD... : polls until CMD succeeds
    n=$(( $1 * 10 )); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1
    done
}

step "two network namespaces joined by a veth pair (192.168.77.1 <-> .2)"
ip netns add "$A"; ip netns add "$B"
ip link add "va$id" netns "$A" type veth peer name "vb$id" netns "$B"
ina ip addr add 192.168.77.1/24 dev "va$id"; ina ip link set "va$id" up; ina ip link set lo up
inb ip addr add 192.168.77.2/24 dev "vb$id"; inb ip link set "vb$id" up; inb ip link set lo up

step "postern tunnel $IFA (in $A) and wireguard-go $IFB (in $B)"
ina "$BIN" tunnel -f "$IFA" >"$TMP/postern.log" 2>&1 & pids="$pids $!"
inb wireguard-go -f "$IFB" >"$TMP/wggo.log" 2>&1 & pids="$pids $!"
wait_for 10 test -S "/var/run/wireguard/$IFA.sock"
wait_for 10 test -S "/var/run/wireguard/$IFB.sock"

step "keys and configuration with the stock wg tool"
umask 077
wg genkey >"$TMP/a.key"; wg pubkey <"$TMP/a.key" >"$TMP/a.pub"
wg genkey >"$TMP/b.key"; wg pubkey <"$TMP/b.key" >"$TMP/b.pub"
ina wg set "$IFA" private-key "$TMP/a.key" listen-port 51820 \
    peer "$(cat "$TMP/b.pub")" allowed-ips 10.77.0.2/32 endpoint 192.168.77.2:51821
inb wg set "$IFB" private-key "$TMP/b.key" listen-port 51821 \
    peer "$(cat "$TMP/a.pub")" allowed-ips 10.77.0.1/32
ina ip addr add 10.77.0.1/24 dev "$IFA"; ina ip link set "$IFA" up
inb ip addr add 10.77.0.2/24 dev "$IFB"; inb ip link set "$IFB" up
echo "postern side: 10.77.0.1   wireguard-go side: 10.77.0.2"

step "a web server on the wireguard-go side, on its tunnel address only"
mkdir "$TMP/www"
echo "hello from behind the tunnel ($(date -u +%H:%M:%S))" >"$TMP/www/index.html"
inb python3 -m http.server 8080 --bind 10.77.0.2 --directory "$TMP/www" \
    >"$TMP/http.log" 2>&1 & pids="$pids $!"
wait_for 10 inb python3 -c "import socket; socket.create_connection(('10.77.0.2', 8080), 1)"

step "ping through the tunnel (Postern initiates the handshake)"
ina ping -c 3 -W 2 10.77.0.2

step "HTTP fetch through the tunnel"
ina curl -sS --max-time 10 http://10.77.0.2:8080/

step "wg show $IFA (Postern's device, read by the stock wg tool)"
ina wg show "$IFA"

step "what postern logged"
cat "$TMP/postern.log"
printf '\ndemo: OK - ping and HTTP went through Postern <-> wireguard-go\n'
