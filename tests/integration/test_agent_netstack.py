"""The agent's netstacks, fed with packets the way the WireGuard device
will feed them, by an unprivileged agent.

The "hub" side is a TUN (owned by the agent's uid) in the agent's
namespace with 100.96.0.1/24 and fd7a:96::1/64: what the kernel routes
into it, the agent reads (`postern agent serve --packet-tun`) and hands to
its netstack as tunnel packets, and the netstack's packets are written
back. A client in that namespace connecting to the agent's tunnel address
100.96.0.2:4180 therefore reaches the netstack only through those
packets. The agent dials nginx in a "lan" namespace from its own namespace.

The agent runs as uid 65534 with no capabilities. /dev/net/tun is made
world-accessible (as udev does on a stock Debian system) in a private
mount namespace only, so the host's device is left alone."""
import hashlib
import os
import subprocess

import pytest

import agentlab
import netlab
from agentlab import pp2

pytestmark = pytest.mark.serial  # a 64 MiB relay per test

UID = 65534
AGENT4 = "100.96.0.2:4180"
AGENT6 = "[fd7a:96::2]:4180"
GET = "GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"


def start_agent(lab, bin, tmp_path, mode):
    agent, lan = lab.ns("agent"), lab.ns("lan")
    lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
    tun = "tb" + netlab.short_id(6)
    agent.run(["ip", "tuntap", "add", "dev", tun, "mode", "tun", "user", str(UID)])
    agent.run(["ip", "link", "set", tun, "mtu", "1420", "up"])
    agent.run(["ip", "addr", "add", "100.96.0.1/24", "dev", tun])
    agent.run(["ip", "-6", "addr", "add", "fd7a:96::1/64", "dev", tun, "nodad"])
    ngx = tmp_path / "nginx"
    ngx.mkdir()
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.write(os.urandom(netlab.scale(64 << 20)))
    agentlab.start_nginx(lab, lan, str(ngx), ["10.78.0.2"], big=str(big))
    dev = tmp_path / "tun"
    subprocess.run(["mknod", "-m", "666", str(dev), "c", "10", "200"], check=True)
    cmd = (f"mount --bind {dev} /dev/net/tun && exec setpriv --reuid {UID} "
           f"--regid {UID} --clear-groups --inh-caps=-all --bounding-set=-all "
           f"{bin} agent serve --packet-tun {tun} --netstack {mode} "
           f"--address 100.96.0.2/24 --address fd7a:96::2/64 "
           f"--allow 10.78.0.2:80 --log-level debug")
    p = lab.spawn(agent, ["unshare", "-m", "sh", "-c", cmd], name="agent")
    netlab.wait_until(lambda: "acceptor ready" in p.log() or not p.alive(),
                      what="agent ready")
    assert p.alive(), p.log()
    return agent, p, big


def agent_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[2])  # effective


def check_relay(agent_ns, big):
    for addr in (AGENT4, AGENT6):
        # The target is IPv4; a v6 client is shown to it as mapped/none.
        r = pp2(agent_ns, addr, "10.78.0.2:80", "--client", "203.0.113.7:40000",
                "--send", GET)
        assert r["status_name"] == "ok", (addr, r)
        assert "hello from nginx" in r["head"], r
    r = pp2(agent_ns, AGENT4, "10.78.0.2:22")
    assert r["status_name"] == "not_allowed", r
    get = "GET /big HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"
    r = pp2(agent_ns, AGENT4, "10.78.0.2:80", "--send", get, timeout=300)
    assert r["status_name"] == "ok", r
    assert r["body_bytes"] == os.path.getsize(big)
    assert r["body_sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()


def test_agent_netstack_kernel_in_userns_unprivileged(lab, bin, tmp_path):
    agent_ns, p, big = start_agent(lab, bin, tmp_path, "kernel")
    assert agent_uid(p.pid) == UID
    assert "kernel TCP behind a TUN in a private user+network namespace" in p.log()
    check_relay(agent_ns, big)
    # The tunnel address lives only in the private namespace: the agent's
    # own namespace does not have it.
    assert "100.96.0.2" not in agent_ns.run(["ip", "addr"]).stdout


def test_agent_netstack_lwip_unprivileged(lab, bin, tmp_path):
    agent_ns, p, big = start_agent(lab, bin, tmp_path, "lwip")
    assert agent_uid(p.pid) == UID
    assert "netstack lwip: userspace TCP" in p.log()
    check_relay(agent_ns, big)


def test_agent_netstack_auto_prefers_kernel(lab, bin, tmp_path):
    agent_ns, p, big = start_agent(lab, bin, tmp_path, "auto")
    assert "private user+network namespace" in p.log()
    r = pp2(agent_ns, AGENT4, "10.78.0.2:80", "--send", GET)
    assert r["status_name"] == "ok", r
