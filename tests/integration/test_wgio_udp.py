"""UDP batching: GSO sends and GRO receives between two struct udp
endpoints (tests/tools/udpcheck.c) in a namespace with two loopback addresses.

udpcheck verifies every datagram's size, bytes, order, source and local
address across many batches, that a reply through the received endpoint
leaves from the address the datagram arrived on (sticky source), and that
a reply through an endpoint whose source address was deleted recovers.
Here we also check that the GSO and GRO paths, not the fallbacks, ran; and,
with `nogso` (A's socket without UDP checksums, on which the kernel refuses
UDP_SEGMENT with EINVAL), that the fallback to one datagram per message
carries the same traffic from the same sticky source."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_wgio_tun import parse_stats, tool  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import netlab  # noqa: E402

pytestmark = pytest.mark.serial  # UDP batches counted on arrival


@pytest.mark.parametrize("mode", ["gso", "nogso"])
@pytest.mark.parametrize("fam,a1,a2,plen", [
    ("4", "10.88.0.1", "10.88.0.2", "32"),
    ("6", "fd88::1", "fd88::2", "128"),
])
def test_wgio_udp_gso_gro_sticky(lab, fam, a1, a2, plen, mode):
    ns = lab.ns("u")
    # Both addresses on loopback (no dummy driver on every kernel).
    for a in (a1, a2):
        ns.run(["ip", "addr", "add", f"{a}/{plen}", "dev", "lo"])
    batches = netlab.scale(400)
    r = ns.run([tool("udpcheck"), a1, a2, plen, "lo", str(batches)] +
               ([mode] if mode == "nogso" else []), check=False, timeout=120)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
    st = parse_stats(r.stdout)
    assert st["bulk_ok"] == 1 and st["sticky_ok"] == 1
    assert st["stale_source_recovered"] == 1 and st["stale_source_gso_kept"] == 1
    sent = batches * 128
    # B's replies: one from the sticky source, one and a GSO run of 8 from
    # a stale one.
    assert st["a_rx_datagrams"] == 10
    assert st["a_tx_dropped"] == 0 and st["b_rx_dropped"] == 0
    if mode == "nogso":
        # Refused once, then one datagram per message; nothing lost.
        assert "UDP_SEGMENT refused" in r.stderr, r.stderr
        assert st["a_tx_gso_sends"] == 0 and st["b_rx_datagrams"] == sent, st
        return
    assert st["pending_ok"] == 1
    assert st["b_rx_datagrams"] == sent + 20
    # Runs of equal sizes left as UDP_SEGMENT sends and arrived as GRO
    # batches that were split again.
    assert st["a_tx_gso_sends"] > batches, st
    assert st["b_rx_gro_batches"] > batches, st
