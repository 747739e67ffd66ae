#!/bin/sh
# Installs the Debian packages Postern builds, tests and demos with.
# Idempotent: when every package is already installed it does nothing
# (no apt-get update), so `make demo` and `make test` can call it each time.
set -eu

# Build: compilers, sanitizer and libFuzzer runtimes, pkg-config.
BUILD="build-essential pkg-config clang libclang-rt-14-dev"
# Libraries the binary links (see docs/architecture.md, "Dependencies").
LIBS="libssl-dev libsodium-dev libsqlite3-dev libcurl4-openssl-dev
      libjansson-dev libcjose-dev libnghttp2-dev liblwip-dev libargon2-dev
      libexpat1-dev libldns-dev libqrencode-dev libcbor-dev"
# Real peers and tools the tests and benchmarks talk to.
PEERS="wireguard-go wireguard-tools iproute2 nftables conntrack iptables
       python3 python3-pytest python3-websockets curl nghttp2-client
       nginx-light haproxy iperf3 wrk pebble sqlite3 openssl procps psmisc
       ca-certificates iputils-ping bind9 python3-dnspython
       python3-prometheus-client python3-h2 nodejs oathtool"
# Passkeys in a real browser (tests/integration/test_auth_browser.py):
# Debian's Chromium driven by playwright-core; the passkey tests' software
# authenticator signs with python3-cryptography.
PEERS="$PEERS chromium python3-cryptography"
# Test runner plugins: integration modules run on two workers
# (python3-pytest-xdist) with a per-test time limit (python3-pytest-timeout).
PEERS="$PEERS python3-pytest-xdist python3-pytest-timeout"
# The identity assertion's independent verifier (PyJWT over cryptography:
# JWS EdDSA, JWK OKP).
PEERS="$PEERS python3-jwt python3-cryptography"
# Benchmarks: callgrind's instruction counts (bench/wg_micro.sh).
PEERS="$PEERS valgrind"

# npm packages the tests use as peers (tests/peers/package-lock.json: exact
# versions that run on Node 20), installed with `npm ci` when missing.
npm_peers() {
    dir="$(dirname "$0")/../tests/peers"
    [ -f "$dir/package-lock.json" ] || return 0
    [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
    command -v npm >/dev/null 2>&1 || { echo "deps: npm missing" >&2; return 1; }
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

want="$BUILD $LIBS $PEERS"
missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    npm_peers
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root (or: sudo $0)" >&2
    exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian starts daemons it installs (nginx on :80, haproxy, named); tests
# start their own instances in namespaces. A policy-rc.d that answers 101
# ("action forbidden") is Debian's way to install without starting them,
# so nothing has to be killed afterwards (killing by name would also hit
# processes that are not ours). Ours only if there was none.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    own_policy=1
fi
rc=0
apt-get update -qq || rc=$?
# shellcheck disable=SC2086
[ "$rc" -ne 0 ] || apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ "$own_policy" -eq 0 ] || rm -f "$policy"
if [ "$rc" -ne 0 ]; then
    echo "deps: apt-get failed (exit $rc)" >&2
    exit "$rc"
fi
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable nginx haproxy named >/dev/null 2>&1 || true
fi
npm_peers
exit 0
