"""Postern's WireGuard (`postern tunnel`) against Debian's wireguard-go,
both configured with the stock `wg` tool, in network namespaces: bulk TCP
with matching checksums whoever initiates, `wg show` status, roaming,
forced cookies, preshared keys (matching and not), a second crypto thread
(--crypto-threads 1), re-keying past REKEY_AFTER_TIME, and junk that must
change nothing."""
import os
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import netlab  # noqa: E402
import wgpair  # noqa: E402
from wgpair import WgPair  # noqa: E402

LIB = os.path.join(os.path.dirname(__file__), "..", "lib")
INITIATORS = ["postern", "wggo"]


def result_line(text):
    for line in text.splitlines():
        if line.startswith("bytes="):
            return line
    return None


def transfer(lab, pair, nbytes, port=5201, during=None, tool="xfer.py", arg=None):
    """Streams from the initiator to the responder over the tunnel; returns
    (sender line, receiver line). `during()` runs while it is in flight."""
    script = os.path.join(LIB, tool)
    rx = lab.spawn(pair.resp_ns, ["/usr/bin/python3", script, "recv",
                                  pair.resp_in, str(port)], name="recv")
    netlab.wait_until(lambda: "listening" in rx.log(), what="receiver")
    tx = lab.spawn(pair.init_ns, ["/usr/bin/python3", script, "send",
                                  pair.resp_in, str(port), str(arg or nbytes)],
                   name="send")
    if during:
        during()
    netlab.wait_until(lambda: not tx.alive(), timeout=120, interval=0.2, what="sender")
    netlab.wait_until(lambda: not rx.alive(), timeout=30, what="receiver")
    return result_line(tx.log()), result_line(rx.log())


@pytest.mark.parametrize("initiator,outer,threads", [
    ("postern", 4, 0), ("wggo", 4, 0), ("postern", 6, 0), ("wggo", 6, 0),
    # A second thread sealing and opening beside the loop thread.
    ("postern", 4, 1), ("wggo", 4, 1)])
@pytest.mark.serial  # bulk transfer
def test_wg_interop_transfer_and_wg_show(lab, bin, initiator, outer, threads):
    pair = WgPair(lab, bin, initiator=initiator, outer6=outer == 6,
                  postern_args=["--crypto-threads", str(threads)])
    # Its threads (ip netns exec execs: the pid is postern's).
    assert len(os.listdir(f"/proc/{pair.postern.pid}/task")) == 1 + threads
    pair.ping()
    before = pair.dump()
    assert before.public_key == pair.g_pub
    assert before.latest_handshake > 0
    assert abs(before.latest_handshake - time.time()) < 60
    # 200 MB over IPv4; the IPv6 runs check the other socket family.
    size = netlab.scale((200 if outer == 4 else 50) << 20)
    sent, got = transfer(lab, pair, size)
    assert sent is not None and sent == got, (sent, got)
    assert sent.startswith(f"bytes={size} ")
    after = pair.dump()
    # Postern's counters saw the whole stream (plus WireGuard overhead).
    moved = after.tx - before.tx if initiator == "postern" else after.rx - before.rx
    assert moved >= size
    assert after.endpoint == pair.endpoint_str(pair.g_out, wgpair.G_PORT)
    assert wgpair.G_IN + "/32" in after.allowed
    pair.stop_postern()


@pytest.mark.serial  # bulk transfer
@pytest.mark.parametrize("initiator", INITIATORS)
def test_wg_interop_roaming_mid_transfer(lab, bin, initiator):
    pair = WgPair(lab, bin, initiator=initiator)
    pair.ping()
    ns = pair.init_ns
    ifname = pair.p_if if initiator == "postern" else pair.g_if
    old = wgpair.P_OUT if initiator == "postern" else wgpair.G_OUT
    new = "10.210.0.77"
    size = netlab.scale(120 << 20)
    start = pair.dump()

    def move():
        # Let some data flow, then the initiator's address changes.
        netlab.wait_until(lambda: pair.dump().rx + pair.dump().tx >
                          start.rx + start.tx + size // 8, timeout=60,
                          what="transfer under way")
        # (Old first: deleting a primary address flushes its secondaries.)
        ns.run(["ip", "addr", "del", old + "/24", "dev", ifname])
        ns.run(["ip", "addr", "add", new + "/24", "dev", ifname])

    sent, got = transfer(lab, pair, size, during=move)
    assert sent is not None and sent == got, (sent, got)
    if initiator == "wggo":
        # Postern followed the peer to its new address.
        assert pair.dump().endpoint.startswith(new + ":")
    else:
        out = wgpair.wg(pair.g, "show", pair.gname, "endpoints").stdout
        assert new + ":" in out, out
    pair.stop_postern()


@pytest.mark.serial  # bulk transfer
def test_wg_interop_forced_cookie(lab, bin):
    pair = WgPair(lab, bin, initiator="wggo", postern_args=["--force-cookie"])
    # wireguard-go's first initiation gets a cookie reply; its retry
    # (REKEY_TIMEOUT later) carries mac2 and completes the handshake.
    pair.ping(timeout=30)
    log = pair.postern.log()
    assert "under load: cookie reply sent" in log, log
    assert pair.dump().latest_handshake > 0
    sent, got = transfer(lab, pair, netlab.scale(8 << 20))
    # Both ends printed a result (None == None would pass unchecked).
    assert sent is not None and sent == got, (sent, got)
    assert f"bytes={netlab.scale(8 << 20)}" in sent, sent
    pair.stop_postern()


def test_wg_interop_wrong_key_and_garbage_change_nothing(lab, bin):
    pair = WgPair(lab, bin, initiator="postern")
    pair.ping()
    pinged = pair.dump()
    # An intruder next to wireguard-go: one interface whose own key Postern
    # does not know, one that has the wrong key for Postern.
    x = lab.ns("x")
    lab.link(pair.p, "10.212.0.1/24", x, "10.212.0.2/24")
    xname = "wgx" + netlab.short_id(6)
    xp = lab.spawn(x, ["wireguard-go", "-f", xname], name="intruder")
    netlab.wait_until(lambda: os.path.exists(wgpair.sock_path(xname)), what="intruder")
    lab.on_cleanup(lambda: os.path.exists(wgpair.sock_path(xname)) and
                   os.unlink(wgpair.sock_path(xname)))
    xpriv, _ = wgpair.genkey()
    _, wrong = wgpair.genkey()
    kf = os.path.join(lab.tmpdir, "x.key")
    with open(kf, "w") as f:
        f.write(xpriv + "\n")
    ep = f"10.212.0.1:{wgpair.P_PORT}"
    wgpair.wg(x, "set", xname, "private-key", kf,
              "peer", pair.p_pub, "allowed-ips", "10.213.0.1/32", "endpoint", ep,
              "peer", wrong, "allowed-ips", "10.213.0.2/32", "endpoint", ep)
    x.run(["ip", "addr", "add", "10.213.0.9/24", "dev", xname])
    x.run(["ip", "link", "set", xname, "up"])

    # The ping ended with wireguard-go receiving Postern's reply, so its
    # keepalive (32 bytes) follows KEEPALIVE_TIMEOUT later; after it the
    # tunnel is idle and Postern's counters must stay still.
    netlab.wait_until(lambda: pair.dump().rx >= pinged.rx + 32, timeout=30,
                      what="wireguard-go's keepalive")
    before = pair.dump()
    for dst in ("10.213.0.1", "10.213.0.2"):
        x.run(["ping", "-c", "2", "-W", "1", dst], check=False)
    # Random datagrams, some dressed as each message type, at Postern.
    code = (
        "import os,random,socket\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "r=random.Random(7)\n"
        "for i in range(3000):\n"
        "  t=r.choice([b'',b'\\x01\\0\\0\\0',b'\\x02\\0\\0\\0',b'\\x03\\0\\0\\0',b'\\x04\\0\\0\\0'])\n"
        "  n=r.choice([0,1,3,32,63,64,91,92,147,148,149,200,1500,r.randrange(1,1900)])\n"
        "  s.sendto((t+os.urandom(n))[:max(n,0)] if n else t, ('10.212.0.1', %d))\n" % wgpair.P_PORT)
    x.run(["/usr/bin/python3", "-c", code])
    out = wgpair.wg(x, "show", xname, "latest-handshakes").stdout
    assert all(line.split("\t")[1] == "0" for line in out.strip().split("\n")), out
    after = pair.dump()
    assert (after.latest_handshake, after.rx, after.tx, after.endpoint) == \
           (before.latest_handshake, before.rx, before.tx, before.endpoint)
    assert pair.postern.alive()
    # And the real tunnel still works.
    pair.ping()
    pair.stop_postern()
    xp.stop()


@pytest.mark.serial  # bulk transfer
@pytest.mark.parametrize("initiator", INITIATORS)
def test_wg_interop_preshared_key(lab, bin, initiator):
    psk = wgpair.genpsk()
    pair = WgPair(lab, bin, initiator=initiator, psk=psk)
    pair.ping()
    assert pair.dump().psk == psk
    sent, got = transfer(lab, pair, netlab.scale(16 << 20))
    assert sent is not None and sent == got, (sent, got)
    pair.stop_postern()


@pytest.mark.parametrize("initiator", INITIATORS)
def test_wg_interop_preshared_key_mismatch_no_session(lab, bin, initiator):
    """The PSK enters with the response (IKpsk2): with different PSKs the
    initiator cannot open it, so no session ever exists, whoever starts."""
    pair = WgPair(lab, bin, initiator=initiator, psk=wgpair.genpsk(),
                  g_psk=wgpair.genpsk())
    start = pair.dump()
    ping = ["ping", "-c", "1", "-W", "1", pair.resp_in]
    pair.init_ns.run(ping, check=False)
    # wireguard-go logs every initiation it receives and every retry of its
    # own: a second one shows the first attempt failed and was retried.
    marker = ("Received handshake initiation" if initiator == "postern"
              else "Handshake did not complete")
    netlab.wait_until(lambda: pair.wggo.log().count(marker) >= (2 if initiator == "postern" else 1),
                      timeout=30, what="a retried handshake")
    assert pair.init_ns.run(ping, check=False).returncode != 0
    after = pair.dump()
    assert after.latest_handshake == 0
    # Postern took handshake bytes only, no transport data.
    assert after.rx - start.rx < 1000
    assert pair.postern.alive()
    pair.stop_postern()


@pytest.mark.long  # >120 s of real time: make integration-long (docs/testing.md)
def test_wg_interop_rekey_after_time_both_directions(lab, bin):
    pairs = [WgPair(lab, bin, initiator=i, tag=i[0]) for i in INITIATORS]
    for p in pairs:
        p.ping()
    first = [p.dump().latest_handshake for p in pairs]
    seconds = 135  # past REKEY_AFTER_TIME (120 s) plus handshake slack
    procs = []
    for k, p in enumerate(pairs):
        script = os.path.join(LIB, "trickle.py")
        rx = lab.spawn(p.resp_ns, ["/usr/bin/python3", script, "recv", p.resp_in,
                                   str(5300 + k)], name=f"trx{k}")
        netlab.wait_until(lambda: "listening" in rx.log(), what="receiver")
        tx = lab.spawn(p.init_ns, ["/usr/bin/python3", script, "send", p.resp_in,
                                   str(5300 + k), str(seconds)], name=f"ttx{k}")
        procs.append((rx, tx))
    for rx, tx in procs:
        netlab.wait_until(lambda: not tx.alive(), timeout=seconds + 60, interval=1,
                          what="trickle sender")
        netlab.wait_until(lambda: not rx.alive(), timeout=30, what="trickle receiver")
        assert tx.popen.returncode == 0, tx.log()
        s, r = result_line(tx.log()), result_line(rx.log())
        assert s is not None and s == r, (s, r)
    for p, t0 in zip(pairs, first):
        t1 = p.dump().latest_handshake
        assert t1 > t0, (p.initiator, t0, t1)
        assert t1 - t0 >= 100, (p.initiator, t0, t1)
        p.stop_postern()


def test_wg_tunnel_sigint_removes_socket(lab, bin):
    ns = lab.ns("t")
    name = "wgt" + netlab.short_id(6)
    p = lab.spawn(ns, [bin, "tunnel", name], name="postern-tunnel")
    netlab.wait_until(lambda: os.path.exists(wgpair.sock_path(name)), what="socket")
    assert name in wgpair.wg(ns, "show", "interfaces").stdout.split()
    assert p.stop(sig=signal.SIGINT) == 0, p.log()
    assert not os.path.exists(wgpair.sock_path(name))
    r = ns.run(["ip", "link", "show", name], check=False)
    assert r.returncode != 0


def test_wg_tunnel_exits_when_interface_deleted(lab, bin):
    ns = lab.ns("t")
    name = "wgt" + netlab.short_id(6)
    p = lab.spawn(ns, [bin, "tunnel", name], name="postern-tunnel")
    netlab.wait_until(lambda: os.path.exists(wgpair.sock_path(name)), what="socket")
    ns.run(["ip", "link", "del", name])
    assert p.wait_exit() == 0, p.log()
    assert not os.path.exists(wgpair.sock_path(name))
