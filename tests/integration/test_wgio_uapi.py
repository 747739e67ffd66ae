"""The stock `wg` tool against Postern's UAPI server (tests/tools/uapifake:
the real server in front of an in-memory device): set, setconf, showconf
and show round-trip exactly; rejected requests change nothing."""
import os
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_wgio_tun import tool  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import netlab  # noqa: E402


def wg(*args, check=True, input=None):
    r = subprocess.run(["wg", *args], capture_output=True, text=True, timeout=10,
                       input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"wg {' '.join(args)} -> {r.returncode}: {r.stderr}")
    return r


def genkey():
    priv = wg("genkey").stdout.strip()
    return priv, wg("pubkey", input=priv + "\n").stdout.strip()


@pytest.fixture
def dev(lab, tmp_path):
    name = "wg" + netlab.short_id(6)
    ns = lab.ns("uapi")
    p = lab.spawn(ns, [tool("uapifake"), name], name="uapifake")
    netlab.wait_until(lambda: "ready" in p.log() or not p.alive(), what="uapifake")
    assert p.alive(), p.log()
    yield name, tmp_path, p
    assert p.stop() == 0, p.log()
    assert not os.path.exists(f"/var/run/wireguard/{name}.sock")


def keyfile(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def test_wgio_uapi_socket_mode(dev):
    name, _, _ = dev
    st = os.stat(f"/var/run/wireguard/{name}.sock")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert name in wg("show", "interfaces").stdout.split()


def test_wgio_uapi_set_show_roundtrip(dev):
    name, tmp, _ = dev
    priv, pub = genkey()
    _, p1 = genkey()
    _, p2 = genkey()
    psk = wg("genpsk").stdout.strip()
    wg("set", name, "private-key", keyfile(tmp, "priv", priv), "listen-port", "51820",
       "fwmark", "0x1234",
       "peer", p1, "preshared-key", keyfile(tmp, "psk", psk),
       "endpoint", "[fd00::1]:51820", "persistent-keepalive", "25",
       "allowed-ips", "10.0.0.0/24,fd00:1::/64",
       "peer", p2, "endpoint", "192.0.2.1:1234", "allowed-ips", "10.0.1.2/32")
    conf = wg("showconf", name).stdout
    assert conf == (
        "[Interface]\n"
        "ListenPort = 51820\n"
        "FwMark = 0x1234\n"
        f"PrivateKey = {priv}\n"
        "\n[Peer]\n"
        f"PublicKey = {p1}\n"
        f"PresharedKey = {psk}\n"
        "AllowedIPs = 10.0.0.0/24, fd00:1::/64\n"
        "Endpoint = [fd00::1]:51820\n"
        "PersistentKeepalive = 25\n"
        "\n[Peer]\n"
        f"PublicKey = {p2}\n"
        "AllowedIPs = 10.0.1.2/32\n"
        "Endpoint = 192.0.2.1:1234\n")
    dump = wg("show", name, "dump").stdout.splitlines()
    assert dump[0].split("\t") == [priv, pub, "51820", "0x1234"]
    assert dump[1].split("\t") == [p1, psk, "[fd00::1]:51820", "10.0.0.0/24,fd00:1::/64",
                                   "0", "0", "0", "25"]
    assert dump[2].split("\t") == [p2, "(none)", "192.0.2.1:1234", "10.0.1.2/32",
                                   "0", "0", "0", "off"]
    show = wg("show", name).stdout
    assert f"public key: {pub}" in show and "listening port: 51820" in show
    assert "preshared key: (hidden)" in show and "every 25 seconds" in show

    # Changes: a peer removed, an allowed IP moved, keepalive off.
    wg("set", name, "peer", p2, "remove", "peer", p1, "persistent-keepalive", "off",
       "allowed-ips", "10.9.9.0/24")
    dump = wg("show", name, "dump").stdout.splitlines()
    assert len(dump) == 2
    assert dump[1].split("\t")[3] == "10.9.9.0/24"
    assert dump[1].split("\t")[7] == "off"


def test_wgio_uapi_setconf_showconf(dev):
    name, tmp, _ = dev
    priv, _ = genkey()
    peers = [genkey()[1] for _ in range(3)]
    conf = ("[Interface]\n"
            "ListenPort = 40000\n"
            f"PrivateKey = {priv}\n")
    for i, p in enumerate(peers):
        conf += (f"\n[Peer]\nPublicKey = {p}\n"
                 f"AllowedIPs = 10.{i}.0.0/16, fd0{i}::/48\n"
                 f"Endpoint = 198.51.100.{i + 1}:{5000 + i}\n")
    wg("setconf", name, keyfile(tmp, "conf", conf))
    assert wg("showconf", name).stdout == conf
    # setconf replaces everything: one peer left.
    conf2 = f"[Interface]\nListenPort = 40001\nPrivateKey = {priv}\n\n[Peer]\nPublicKey = {peers[1]}\nAllowedIPs = 10.1.0.0/16\n"
    wg("setconf", name, keyfile(tmp, "conf2", conf2))
    assert wg("showconf", name).stdout == conf2


def test_wgio_uapi_bad_set_changes_nothing(dev):
    name, tmp, _ = dev
    priv, _ = genkey()
    _, p1 = genkey()
    wg("set", name, "private-key", keyfile(tmp, "priv", priv), "listen-port", "51820",
       "peer", p1, "allowed-ips", "10.0.0.0/24", "endpoint", "192.0.2.1:1")
    before = wg("showconf", name).stdout
    # Rejected by the server's parser (port 0 endpoint), after valid keys.
    r = wg("set", name, "listen-port", "4000", "fwmark", "9", "peer", p1,
           "allowed-ips", "10.5.0.0/16", "endpoint", "1.2.3.4:0", check=False)
    assert r.returncode != 0 and "Invalid argument" in r.stderr, r.stderr
    assert wg("showconf", name).stdout == before
    # Rejected by the device (listen_port=1 -> EADDRINUSE in the fake).
    r = wg("set", name, "fwmark", "7", "listen-port", "1", check=False)
    assert r.returncode != 0 and "Address already in use" in r.stderr, r.stderr
    assert wg("showconf", name).stdout == before


def test_wgio_uapi_slow_clients_do_not_block(dev):
    import socket
    name, tmp, _ = dev
    path = f"/var/run/wireguard/{name}.sock"
    # One client stalls mid-request, another floods requests and never
    # reads its answers: wg must still be served.
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.connect(path)
    stalled.sendall(b"set=1\nlisten_port=5")
    flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flood.connect(path)
    flood.setblocking(False)
    sent = 0
    try:
        for _ in range(20000):
            sent += flood.send(b"get=1\n\n" * 64)
    except BlockingIOError:
        pass
    assert sent > 0
    wg("set", name, "listen-port", "4242")
    assert "listening port: 4242" in wg("show", name).stdout
    # Several requests on one connection are answered in order.
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.sendall(b"set=1\nfwmark=5\n\nget=1\n\nset=1\nfwmark=x\n\n")
    want = b"errno=0\n\nlisten_port=4242\nfwmark=5\nerrno=0\n\nerrno=-22\n\n"
    got = b""
    c.settimeout(10)
    while len(got) < len(want):
        chunk = c.recv(4096)
        if not chunk:
            break
        got += chunk
    assert got == want
    # The stalled request completes when its end arrives.
    stalled.sendall(b"5\n\n")
    stalled.settimeout(10)
    assert stalled.recv(100) == b"errno=0\n\n"
    assert "listening port: 55" in wg("show", name).stdout
    for s in (stalled, flood, c):
        s.close()
