"""TUN offloads: a TCP transfer through two TUNs joined by tunbridge
(tun_read_batch -> tun_write_batch), with TSO/GRO on and forced off.

The checksum across the transfer proves segmentation and coalescing keep
every byte; the counters prove which path ran (super-packets read and
written with offloads on, none with them off)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import netlab  # noqa: E402

pytestmark = pytest.mark.serial  # bulk transfers, packet counts

XFER = os.path.join(os.path.dirname(__file__), "..", "lib", "xfer.py")


def tool(name):
    d = os.environ.get("POSTERN_TOOLS") or os.path.join(
        os.path.dirname(netlab.postern_bin()), "tools")
    path = os.path.join(d, name)
    assert os.access(path, os.X_OK), f"{path} not built (make unit-build)"
    return path


def parse_stats(text):
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and v.strip().lstrip("-").isdigit():
            out[k.strip()] = int(v)
    return out


def bridge(lab, extra):
    a, b = lab.ns("a"), lab.ns("b")
    name = "tb" + netlab.short_id(4)
    p = lab.spawn(a, [tool("tunbridge"), *extra, name, b.name], name="tunbridge")
    netlab.wait_until(lambda: "ready" in p.log() or not p.alive(),
                      what="tunbridge ready")
    assert p.alive(), p.log()
    for ns, v4, v6 in ((a, "10.77.0.1/24", "fd77::1/64"), (b, "10.77.0.2/24", "fd77::2/64")):
        ns.run(["ip", "addr", "add", v4, "dev", name])
        ns.run(["ip", "-6", "addr", "add", v6, "dev", name, "nodad"])
        ns.run(["ip", "link", "set", name, "up"])
    return a, b, p


def transfer(lab, a, b, addr, nbytes):
    rx = lab.spawn(b, ["/usr/bin/python3", XFER, "recv", addr, "5001"], name="xfer-rx")
    netlab.wait_until(lambda: "listening" in rx.log(), what="receiver")
    tx = a.run(["/usr/bin/python3", XFER, "send", addr, "5001", str(nbytes)], timeout=300)
    netlab.wait_until(lambda: "sha256=" in rx.log(), what="receiver done")
    sent = tx.stdout.strip().splitlines()[-1]
    got = [l for l in rx.log().splitlines() if l.startswith("bytes=")][-1]
    assert got == sent
    assert sent.startswith(f"bytes={nbytes} ")


def stop_stats(p):
    assert p.stop() == 0, p.log()
    return parse_stats(p.log())


@pytest.mark.parametrize("addr", ["10.77.0.2", "fd77::2"])
def test_wgio_tun_offload_transfer(lab, addr):
    a, b, p = bridge(lab, [])
    transfer(lab, a, b, addr, netlab.scale(200_000_000))
    st = stop_stats(p)
    assert st["a_offload"] == 1 and st["b_offload"] == 1
    # The sender's kernel handed over TSO super-packets, and the
    # receiver's side was written coalesced ones.
    assert st["a_rx_superpackets"] > 100, st
    assert st["b_tx_superpackets"] > 100, st
    assert st["a_rx_dropped"] == 0
    # Each super-packet carries many segments: far fewer writes than
    # packets on the receiving side.
    assert st["b_tx_packets"] > 10 * st["b_tx_superpackets"] > 0, st


def test_wgio_tun_no_offload_transfer(lab):
    a, b, p = bridge(lab, ["--no-offload"])
    transfer(lab, a, b, "10.77.0.2", netlab.scale(200_000_000))
    st = stop_stats(p)
    assert st["a_offload"] == 0 and st["b_offload"] == 0
    assert st["a_rx_superpackets"] == 0 and st["b_tx_superpackets"] == 0
    assert st["a_rx_packets"] > 100_000 * netlab.scale(200_000_000) / 200_000_000 * 0.9


def test_wgio_tun_pending_segments_resume(lab):
    """Batches with 7 free slots leave most of each super-packet pending
    inside the tun; tun_read_pending() must say so, and the resumed reads
    must deliver every byte in order."""
    a, b, p = bridge(lab, ["--small-batches"])
    transfer(lab, a, b, "10.77.0.2", netlab.scale(50_000_000))
    st = stop_stats(p)
    assert st["a_rx_superpackets"] > 10, st
    assert st["pending_resumes"] > st["a_rx_superpackets"], st


@pytest.mark.parametrize("addr", ["10.77.0.2", "fd77::2"])
def test_wgio_tun_udp_coalesced(lab, addr):
    """UDP datagrams of one flow are written as USO super-packets (where
    the kernel takes them) and arrive intact, each one, in order."""
    a, b, p = bridge(lab, [])
    rx = lab.spawn(b, ["/usr/bin/python3", XFER, "udprecv", addr, "5002"], name="udp-rx")
    netlab.wait_until(lambda: "listening" in rx.log(), what="udp receiver")
    a.run(["/usr/bin/python3", XFER, "udpsend", addr, "5002", "3000", "1200"],
          timeout=120)
    res = netlab.wait_until(lambda: [l for l in rx.log().splitlines()
                                     if l.startswith("datagrams=")], what="udp result")
    got = parse_stats(res[-1].replace(" ", "\n"))
    st = stop_stats(p)
    # The sender waits for each burst's acknowledgement: every datagram
    # arrives (a tunnel that dropped or garbled some is caught).
    assert got["datagrams"] == 3000 and got["intact"] == 3000, got
    assert got["ordered"] == 1, got
    assert st["b_offload"] == 1
    if not _kernel_has_uso():
        pytest.skip("kernel before 6.2: no USO, UDP written one by one")
    assert st["b_tx_superpackets"] > 0, st
    assert st["b_tx_packets"] > st["b_tx_superpackets"], st


def _kernel_has_uso():
    # USO (TUN_F_USO4/6) arrived in Linux 6.2.
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    return (major, minor) >= (6, 2)
