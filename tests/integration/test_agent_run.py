"""`postern agent run` against a real WireGuard peer playing the hub.

    hub ns: wireguard-go (100.96.0.1, fd7a:96::1) + heartbeat stand-in on
            100.96.0.1:4181 + the "hub" client (pp2client)
      |  10.77.0.0/24, UDP 51820; the agent finds the hub as hub.test
    agent ns: postern agent run, unprivileged, kernel netstack in a user
            namespace (WireGuard's UDP socket stays in this namespace)
      |  10.78.0.0/24
    lan ns: nginx

The hub's daemon is not built yet; this shows everything the agent does
with a standard WireGuard peer: handshake, streams through the tunnel,
heartbeats inside it, and finding a hub that moved to a new address."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

import agentlab
import netlab
from agentlab import pp2

UID = 65534
GET = "GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"


def wg_keys():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout.strip()
    pub = subprocess.run(["wg", "pubkey"], input=priv, capture_output=True,
                         text=True).stdout.strip()
    return priv, pub


@pytest.fixture(params=["kernel", "lwip", "tun"])
def world(request, lab, bin, tmp_path):
    hub, agent, lan = lab.ns("hub"), lab.ns("agent"), lab.ns("lan")
    lab.link(hub, "10.77.0.1/24", agent, "10.77.0.2/24")
    lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
    agentlab.set_hosts(lab, agent, ["10.77.0.1 hub.test"])
    hub_priv, hub_pub = wg_keys()
    ag_priv, ag_pub = wg_keys()
    wg = "wg" + netlab.short_id(6)
    wgp = lab.spawn(hub, ["wireguard-go", "-f", wg], name="wireguard-go",
                    env={"WG_PROCESS_FOREGROUND": "1"})
    netlab.wait_until(lambda: os.path.exists(f"/var/run/wireguard/{wg}.sock"),
                      what="wireguard-go socket")
    lab.on_cleanup(lambda: os.path.exists(f"/var/run/wireguard/{wg}.sock") and
                   os.unlink(f"/var/run/wireguard/{wg}.sock"))
    keyf = tmp_path / "hub.key"
    keyf.write_text(hub_priv)
    hub.run(["wg", "set", wg, "private-key", str(keyf), "listen-port", "51820",
             "peer", ag_pub, "allowed-ips", "100.96.0.2/32,fd7a:96::2/128"])
    hub.run(["ip", "addr", "add", "100.96.0.1/24", "dev", wg])
    hub.run(["ip", "-6", "addr", "add", "fd7a:96::1/64", "dev", wg, "nodad"])
    hub.run(["ip", "link", "set", wg, "mtu", "1420", "up"])
    hblog = tmp_path / "heartbeats.log"
    hb = lab.spawn(hub, ["/usr/bin/python3", agentlab.HERE + "/stubhub.py", "heartbeat",
                         "100.96.0.1", "4181", str(hblog), "5"], name="heartbeat-hub")
    netlab.wait_until(lambda: "ready" in hb.log(), what="heartbeat stand-in")
    ngx = tmp_path / "nginx"
    ngx.mkdir()
    agentlab.start_nginx(lab, lan, str(ngx), ["10.78.0.2"])
    # pytest's tmp dirs are root-only; the unprivileged agent needs its own.
    home = tempfile.mkdtemp(prefix="postern-agent-")
    os.chmod(home, 0o711)
    lab.on_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))
    state = pathlib.Path(home) / "agent.state"
    state.write_text(f'''name = "nas"
private_key = "{ag_priv}"
hub_url = "https://hub.test"
hub_public_key = "{hub_pub}"
hub_endpoint = "hub.test:51820"
tunnel_ipv4 = "100.96.0.2/24"
tunnel_ipv6 = "fd7a:96::2/64"
hub_tunnel_ipv4 = "100.96.0.1"
hub_tunnel_ipv6 = "fd7a:96::1"
keepalive = 25
''')
    os.chown(state, UID, UID)
    os.chmod(state, 0o600)
    dev = tmp_path / "tun"
    subprocess.run(["mknod", "-m", "666", str(dev), "c", "10", "200"], check=True)
    run = (f"{bin} agent run --state {state} --netstack {request.param} "
           f"--allow 10.78.0.2:80-81 --allow 100.96.0.0/24:4180-4181 "
           f"--allow '[fd7a:96::/64]:4180' --log-level debug")
    if request.param == "tun":
        cmd = f"exec {run}"  # plain TUN: root, in the agent's own namespace
    else:
        cmd = (f"mount --bind {dev} /dev/net/tun && exec setpriv --reuid {UID} "
               f"--regid {UID} --clear-groups --inh-caps=-all --bounding-set=-all {run}")
    p = lab.spawn(agent, ["unshare", "-m", "sh", "-c", cmd], name="agent")
    return {"hub": hub, "agent": agent, "wg": wg, "proc": p, "hblog": hblog,
            "ag_pub": ag_pub, "mode": request.param}


def heartbeats(world):
    return [json.loads(r["body"]) for r in netlab.read_jsonl(world["hblog"])]


def test_agent_run_tunnel_streams_and_heartbeats(world):
    hub, p = world["hub"], world["proc"]
    netlab.wait_until(lambda: heartbeats(world), timeout=30, what="first heartbeat")
    assert "tunnel to the hub is up" in p.log()
    hb = heartbeats(world)[0]
    assert hb["version"] == 1 and hb["netstack"] == world["mode"]
    assert hb["agent_version"]
    # wg on the hub side sees the agent's handshake from its namespace.
    show = hub.run(["wg", "show", world["wg"], "latest-handshakes"]).stdout
    assert world["ag_pub"] in show and not show.strip().endswith("\t0")
    # A hub stream through WireGuard to nginx, v4 and v6 tunnel addresses.
    for addr in ("100.96.0.2:4180", "[fd7a:96::2]:4180"):
        r = pp2(hub, addr, "10.78.0.2:80", "--client", "203.0.113.7:40000", "--send", GET)
        assert r["status_name"] == "ok" and "hello from nginx" in r["head"], (addr, r)
    r = pp2(hub, "100.96.0.2:4180", "10.78.0.1:22")
    assert r["status_name"] == "not_allowed", r
    n = len(heartbeats(world))
    r = pp2(hub, "100.96.0.2:4180", "10.78.0.2:81")  # allowed, nothing listens
    assert r["status_name"] == "refused", r

    # The first heartbeat sent after the refused stream reports it and
    # counts every stream. It may already have gone out by now, so it is
    # looked for among all heartbeats since the stream, not only the next.
    def reporting():
        hbs = heartbeats(world)
        return next((i for i in range(n, len(hbs)) if any(
            "stream to 10.78.0.2:81: refused" in e for e in hbs[i]["errors"])), None)
    netlab.wait_until(lambda: reporting() is not None, timeout=20,
                      what="a heartbeat reporting the refused stream")
    i = reporting()
    last = heartbeats(world)[i]
    assert last["streams"]["total"] >= 3 and last["streams"]["refused"] >= 1, last
    targets = {t["target"]: t for t in last["targets"]}
    assert targets["10.78.0.2:80"]["ok"] is True, last
    assert targets["10.78.0.1:22"]["status"] == "not_allowed", last
    # Delivered errors are not repeated: the heartbeat after it has none.
    netlab.wait_until(lambda: len(heartbeats(world)) > i + 1, timeout=20, what="next heartbeat")
    assert heartbeats(world)[i + 1]["errors"] == [], heartbeats(world)[i + 1]
    # docs/agent.md: the agent's own tunnel addresses are never a target,
    # even inside a range its --allow entries open (a hub looping streams
    # back into the agent).
    for own in ("100.96.0.2:4180", "[fd7a:96::2]:4180"):
        r = pp2(hub, "100.96.0.2:4180", own)
        assert r["status_name"] == "not_allowed", (own, r)


def test_agent_run_finds_a_hub_that_moved(world):
    hub, agent, p = world["hub"], world["agent"], world["proc"]
    netlab.wait_until(lambda: heartbeats(world), timeout=30, what="first heartbeat")
    # The hub's public address changes; its name follows.
    ifn = hub.run(["ip", "-o", "addr", "show", "to", "10.77.0.1"]).stdout.split()[1]
    hub.run(["ip", "addr", "del", "10.77.0.1/24", "dev", ifn])
    hub.run(["ip", "addr", "add", "10.77.0.3/24", "dev", ifn])
    with open(f"/etc/netns/{agent.name}/hosts", "a") as f:
        f.write("10.77.0.3 hub.test\n")
    hosts = open(f"/etc/netns/{agent.name}/hosts").read().replace("10.77.0.1 hub.test\n", "")
    open(f"/etc/netns/{agent.name}/hosts", "w").write(hosts)
    n = len(heartbeats(world))
    netlab.wait_until(lambda: "heartbeat failed" in p.log(), timeout=60,
                      what="a failed heartbeat")
    netlab.wait_until(lambda: "hub reachable again" in p.log(), timeout=90,
                      what="the agent to find the hub again")
    assert len(heartbeats(world)) > n
    ep = hub.run(["wg", "show", world["wg"], "endpoints"]).stdout
    assert "10.77.0.2" in ep
    r = pp2(hub, "100.96.0.2:4180", "10.78.0.2:80", "--send", GET)
    assert r["status_name"] == "ok", r
