"""eventlab - a hub with its WireGuard device and a real agent in
namespaces (the layout of test_hub_tunnel.py), a webhook receiver, and
the helpers the events and metrics tests share.

    pub ns:   postern hub (HTTPS 10.77.0.1:8443, metrics 127.0.0.1:9100)
      |  10.77.0.0/24
    agent ns: postern agent run (root, plain TUN netstack)
      |  10.78.0.0/24
    lan ns:   nginx 10.78.0.2:80 (when asked for)"""
import json
import os
import re

import agentlab
import netlab
from controllab import Hub

HUB = "10.77.0.1"
METRICS = 'metrics_listen = "127.0.0.1:9100"\n'


def hub_conf(wg, extra=""):
    return (METRICS + extra + f'listen_https = "{HUB}:8443"\n'
            'upstream_connect_timeout = 2s\nupstream_keepalive_timeout = 1s\n'
            f"[tls]\nselfsigned_name = hub.test\n"
            f'[wireguard]\ninterface = "{wg}"\nendpoint = "{HUB}:51820"\nuapi = on\n')


def tunnel_world(lab, tmp_path, extra="", nginx=False):
    """Starts the hub; returns the world dict (hub, pub, agent, lan, conf)."""
    pub, agent = lab.ns("pub"), lab.ns("agent")
    lab.link(pub, f"{HUB}/24", agent, "10.77.0.2/24")
    agentlab.set_hosts(lab, agent, [f"{HUB} hub.test"])
    lan = None
    if nginx:
        lan = lab.ns("lan")
        lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
        agentlab.start_nginx(lab, lan, str(tmp_path / "nginx"), ["10.78.0.2"])
    wg = "pw" + netlab.short_id(6)
    lab.on_cleanup(lambda: os.path.exists(f"/var/run/wireguard/{wg}.sock") and
                   os.unlink(f"/var/run/wireguard/{wg}.sock"))
    conf = hub_conf(wg, extra)
    h = Hub(lab, ns=pub)
    h.start(settings=conf)
    netlab.wait_until(lambda: "WireGuard on UDP 51820" in h.proc.log(), what="hub tunnel")
    return {"hub": h, "pub": pub, "agent": agent, "lan": lan, "conf": conf, "dir": tmp_path}


def join_agent(lab, world, name, keepalive=None):
    """Creates and joins agent `name`; returns (id, state path). With
    `keepalive`, the agent's persistent keepalive is set to that many
    seconds (a live agent is never quiet for a short grace period)."""
    h = world["hub"]
    out = h.cli("agent", "create", name).stdout
    m = re.search(r"^\s*(postern agent join \S+ \S+.*)$", out, re.M)
    assert m, out
    ident = [a for a in h.cli_json("agent", "list")["items"] if a["name"] == name][0]["id"]
    state = str(world["dir"] / f"{name}.state")
    r = world["agent"].run([netlab.postern_bin(), *m.group(1).split()[1:], "--state", state],
                           check=False)
    assert r.returncode == 0, r.stderr
    if keepalive:
        with open(state) as f:
            text = f.read()
        with open(state, "w") as f:
            f.write(re.sub(r"^keepalive = \d+$", f"keepalive = {keepalive}", text, flags=re.M))
    return ident, state


def run_agent(lab, world, name, state):
    return lab.spawn(world["agent"], [netlab.postern_bin(), "agent", "run", "--state", state,
                                      "--netstack", "tun", "--allow", "10.78.0.2:80"],
                     name=f"agent-{name}")


def setting(h, key, value):
    st, _, b = h.api("PUT", f"/api/v1/settings/{key}", {"value": value},
                     headers={"If-Match": "*"})
    assert st == 200, b


def webhook(h, sink, events):
    setting(h, "webhooks.allow_loopback", 1)
    setting(h, "webhooks.retry_schedule", "0s,100ms,200ms,500ms,1s,1s,1s,1s")
    st, _, b = h.api("POST", "/api/v1/webhooks", {"name": "ops", "url": sink.url("/ev"),
                                                  "events": events})
    assert st == 201, b
    return b


def events(sink):
    """[(type, object, data)] delivered, de-duplicated by webhook-id, in
    audit order."""
    seen = {}
    for hdrs, body in sink.requests("/ev"):
        seen[hdrs["webhook-id"]] = json.loads(body)
    out = sorted(seen.values(), key=lambda e: e["data"]["seq"])
    return [(e["type"], e["data"]["object"], e["data"]) for e in out]


def metrics_text(ns):
    return ns.run(["curl", "-s", "http://127.0.0.1:9100/metrics"], check=False).stdout
