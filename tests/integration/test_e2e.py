"""End to end, laid out as the real world is (tests/lib/cgnatlab.py): a
client on the internet, the hub on a public address, agents in private
LANs behind masquerading NATs (the CGNAT) with nginx next to them. Every
case goes through the real pieces: `postern agent create` on the hub,
`postern agent join --fingerprint` from behind the NAT, `postern agent
run`, and HTTPS from the client to the hub."""
import os

import pytest

import netlab
from cgnatlab import HUB_IP, World


@pytest.fixture
def world(lab, tmp_path):
    w = World(lab, tmp_path)
    w.start_hub()
    return w


def test_e2e_wrong_fingerprint_refuses_join(world):
    """A pinned key that is not the hub's stops the join before the token
    is sent: exit status 5, no state file, no join request at the hub,
    and the token still works afterwards."""
    s = world.site("lan1")
    _, token = world.create_agent("nas")
    wrong = "00" * 32 if world.fingerprint() != "00" * 32 else "11" * 32
    r = s.join(token, wrong)
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert "fingerprint" in (r.stdout + r.stderr).lower()
    assert not os.path.exists(s.state)
    assert token not in r.stdout + r.stderr
    joins = [x for x in world.hub.access_records() if "agents/join" in str(x)]
    assert joins == []
    # The NAT carried the attempt (the hub is reachable from the LAN).
    assert any(f"dst={HUB_IP}" in l for l in
               s.nat.run(["conntrack", "-L"], check=False).stdout.splitlines())
