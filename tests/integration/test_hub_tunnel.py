"""The hub's half of the tunnel: a real `postern hub` with its embedded
WireGuard device and a real `postern agent` joined through the join flow.

    pub ns:   postern hub (HTTPS 10.77.0.1:8443, self-signed hub.test;
              WireGuard UDP 51820 on interface pwXXXXXX, 100.96.0.1)
      |  10.77.0.0/24
    agent ns: postern agent run (root, plain TUN netstack)
      |  10.78.0.0/24
    lan ns:   nginx 10.78.0.2:80

The client (curl) runs in the hub's namespace against its HTTPS listener.
The CGNAT layout and the end-to-end suite are tests/e2e (another piece)."""
import os
import re
import subprocess

import pytest

import agentlab
import netlab
from controllab import Hub
from frontlab import ns_socket

HUB = "10.77.0.1"


def hub_conf(wg):
    return (f'listen_https = "{HUB}:8443"\n'
            'upstream_connect_timeout = 2s\nupstream_keepalive_timeout = 1s\n'
            f"[tls]\nselfsigned_name = hub.test\n"
            f'[wireguard]\ninterface = "{wg}"\nendpoint = "{HUB}:51820"\nuapi = on\n')


@pytest.fixture
def world(lab, tmp_path):
    pub, agent, lan = lab.ns("pub"), lab.ns("agent"), lab.ns("lan")
    lab.link(pub, f"{HUB}/24", agent, "10.77.0.2/24")
    lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
    agentlab.set_hosts(lab, agent, [f"{HUB} hub.test"])
    agentlab.start_nginx(lab, lan, str(tmp_path / "nginx"), ["10.78.0.2"])
    wg = "pw" + netlab.short_id(6)
    lab.on_cleanup(lambda: os.path.exists(f"/var/run/wireguard/{wg}.sock") and
                   os.unlink(f"/var/run/wireguard/{wg}.sock"))
    h = Hub(lab, ns=pub)
    h.start(settings=hub_conf(wg))
    netlab.wait_until(lambda: "WireGuard on UDP 51820" in h.proc.log(), what="hub tunnel")
    return {"hub": h, "pub": pub, "agent": agent, "lan": lan, "wg": wg, "dir": tmp_path}


def create_agent(world, name):
    """`postern agent create NAME`: returns (id, join command words)."""
    out = world["hub"].cli("agent", "create", name).stdout
    m = re.search(r"^\s*(postern agent join \S+ \S+.*)$", out, re.M)
    assert m, out
    agents = world["hub"].cli_json("agent", "list")
    ident = [a for a in agents["items"] if a["name"] == name][0]["id"]
    return ident, m.group(1).split()


def join_and_run(lab, world, name, allow="10.78.0.2:80"):
    ident, cmd = create_agent(world, name)
    state = str(world["dir"] / f"{name}.state")
    r = world["agent"].run([netlab.postern_bin(), *cmd[1:], "--state", state], check=False)
    assert r.returncode == 0, r.stderr
    p = lab.spawn(world["agent"], [netlab.postern_bin(), "agent", "run", "--state", state,
                                   "--netstack", "tun", "--allow", allow,
                                   "--log-level", "debug"], name=f"agent-{name}")
    return ident, p, state


def agent_json(world, ident):
    st, _, body = world["hub"].api("GET", f"/api/v1/agents/{ident}")
    assert st == 200, body
    return body


def route(world, host, ident, target, **kw):
    st, _, body = world["hub"].api("POST", "/api/v1/routes",
                                   {"host": host, "agent_id": ident, "target": target,
                                    "redirect_https": False, **kw})
    assert st == 201, body
    return body


def get(world, host, path="/", *extra):
    r = world["pub"].run(["curl", "-sk", "-m", "20", "-w", "\n%{http_code}",
                          "--resolve", f"{host}:8443:{HUB}", *extra,
                          f"https://{host}:8443{path}"], check=False)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def test_join_then_https_get_through_the_agent(lab, world):
    h = world["hub"]
    # The join command pins the hub's self-signed certificate.
    _, cmd = create_agent(world, "probe")
    assert "--fingerprint" in cmd
    fp = cmd[cmd.index("--fingerprint") + 1]
    spki = world["pub"].sh(f"echo | openssl s_client -connect {HUB}:8443 -servername hub.test "
                           "2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin "
                           "-outform der | sha256sum").stdout.split()[0]
    assert fp == spki
    ident, p, _ = join_and_run(lab, world, "nas")
    route(world, "app.test", ident, "http://10.78.0.2:80")
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    code, body = get(world, "app.test")
    assert code == 200 and "hello from nginx" in body, (code, body)
    # The hub's device is visible to the stock wg tool, with the agent as
    # its peer (added live, no restart).
    a = agent_json(world, ident)
    show = world["pub"].run(["wg", "show", world["wg"], "peers"]).stdout
    assert a["public_key"] in show
    # Status: endpoint is the agent's address, bytes flowed, version known.
    assert a["endpoint"].startswith("10.77.0.2:"), a
    assert a["rx_bytes"] > 0 and a["tx_bytes"] > 0 and a["last_handshake_at"], a
    # Heartbeats arrive inside the tunnel and are kept with target health.
    netlab.wait_until(lambda: (agent_json(world, ident).get("health") or {}).get("targets"),
                      timeout=60, what="a heartbeat reporting targets")
    a = agent_json(world, ident)
    assert a["version"] and a["last_seen_at"], a
    assert any(t["target"] == "10.78.0.2:80" and t["ok"] for t in a["health"]["targets"]), a
    # The CLI shows it.
    out = h.cli("agent", "list").stdout
    assert re.search(r"nas\s+enrolled.*yes\s+10\.77\.0\.2:", out), out
    # Connect is audited.
    log = h.sql("SELECT action, object, after_json FROM audit_log WHERE action LIKE 'tunnel.%'")
    assert f"tunnel.connect|agent:{ident}|" in log and "10.77.0.2" in log, log


def test_agent_offline_gives_a_502_naming_it(lab, world):
    ident, p, _ = join_and_run(lab, world, "garage")
    route(world, "g.test", ident, "http://10.78.0.2:80")
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    assert get(world, "g.test")[0] == 200
    p.stop()
    # (pooled connections to it expire after upstream_keepalive_timeout;
    # a request on one that is dead is replayed after TCP_USER_TIMEOUT)
    code, body = get(world, "g.test", "/", "-H", "Connection: close")
    assert code == 502, (code, body)
    assert 'The agent "garage" is offline.' in body, body
    assert "10.78" not in body and "100.96" not in body
    # A route whose agent never joined answers the same at once.
    st, _, other = world["hub"].api("POST", "/api/v1/agents", {"name": "never"})
    assert st == 201, other
    route(world, "n.test", other["id"], "http://10.78.0.2:80")
    code, body = get(world, "n.test")
    assert code == 502 and 'The agent "never" is offline.' in body, (code, body)


def test_refused_target_is_a_plain_502_and_peers_follow_deletes(lab, world):
    ident, p, _ = join_and_run(lab, world, "lab1")
    route(world, "x.test", ident, "http://10.78.0.2:81")  # not allowed by the agent
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    code, body = get(world, "x.test")
    assert code == 502 and "offline" not in body, (code, body)
    assert "agent lab1: target 10.78.0.2:81: not_allowed" in world["hub"].proc.log()
    # Deleting the agent removes its peer from the live device.
    key = agent_json(world, ident)["public_key"]
    st, _, b = world["hub"].api("DELETE", "/api/v1/routes/" + str(
        world["hub"].cli_json("route", "list")["items"][0]["id"]))
    assert st == 204, b
    st, _, b = world["hub"].api("DELETE", f"/api/v1/agents/{ident}")
    assert st == 204, b
    netlab.wait_until(lambda: key not in world["pub"].run(
        ["wg", "show", world["wg"], "peers"]).stdout, what="peer removed")


def test_raw_tcp_route_through_the_agent(lab, world):
    ident, p, _ = join_and_run(lab, world, "tcpnas", allow="10.78.0.2:80")
    st, _, r = world["hub"].api("POST", "/api/v1/routes",
                                {"host": "tcp.test", "agent_id": ident,
                                 "target": "tcp://10.78.0.2:80", "tcp_listen_port": 9000,
                                 "redirect_https": False})
    assert st == 201, r
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    # Plain HTTP bytes over the raw port: nginx answers through the relay.
    out = world["pub"].run(["curl", "-s", "-m", "20", f"http://{HUB}:9000/"], check=False)
    assert "hello from nginx" in out.stdout, (out.returncode, out.stdout,
                                              world["hub"].proc.log()[-2000:])
    # A download keeps every byte through the relay.
    blob = os.urandom(3 << 20)
    (world["dir"] / "nginx" / "www" / "blob").write_bytes(blob)
    got = world["dir"] / "got"
    out = world["pub"].run(["curl", "-s", "-m", "30", "-o", str(got), f"http://{HUB}:9000/blob"],
                           check=False)
    assert out.returncode == 0 and got.read_bytes() == blob
    # A hub that stops with a relay open closes it and exits cleanly (the
    # ASan pass checks nothing leaks).
    s = ns_socket(world["pub"].name)
    s.settimeout(10)
    s.connect((HUB, 9000))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    # The head and the body may arrive in separate segments: read until the
    # body is there (bounded: 10 s per read, 16 reads, keep-alive keeps it open).
    got_bytes = b""
    for _ in range(16):
        chunk = s.recv(65536)
        got_bytes += chunk
        if not chunk or b"hello from nginx" in got_bytes:
            break
    assert b"hello from nginx" in got_bytes, got_bytes
    assert world["hub"].stop() == 0
    s.close()
    world["hub"].start(settings=hub_conf(world["wg"]))
    # Deleting the route closes the port.
    st, _, b = world["hub"].api("DELETE", f"/api/v1/routes/{r['id']}")
    assert st == 204, b
    netlab.wait_until(lambda: world["pub"].run(
        ["curl", "-s", "-m", "3", f"http://{HUB}:9000/"], check=False).returncode == 7,
        what="port closed")


def test_agentless_wireguard_go_node(lab, world, tmp_path):
    """A standard WireGuard peer (wireguard-go + wg) configured from the
    wg-quick file the hub produces; the hub routes to its tunnel address
    directly (no agent, no stream header)."""
    h, node = world["hub"], lab.ns("node")
    lab.link(world["pub"], "10.79.0.1/24", node, "10.79.0.2/24")
    out = h.cli("agent", "create", "router", "--kind", "wireguard").stdout
    assert out.startswith("# wg-quick configuration") and "PrivateKey = " in out, out
    conf = dict(l.split(" = ", 1) for l in out.splitlines() if " = " in l)
    agents = h.cli_json("agent", "list")["items"]
    a = [x for x in agents if x["name"] == "router"][0]
    assert a["kind"] == "wireguard" and a["status"] == "enrolled"
    assert conf["Address"].split(", ")[0] == a["tunnel_ipv4"] + "/16"
    # The private key is not the hub's to keep: only its public half is.
    pub = subprocess.run(["wg", "pubkey"], input=conf["PrivateKey"], capture_output=True,
                         text=True).stdout.strip()
    assert pub == a["public_key"]
    stored = h.sql("SELECT * FROM agents") + h.sql("SELECT action, after_json FROM audit_log")
    assert conf["PrivateKey"] not in stored and pub in stored
    # The node: wireguard-go, configured with `wg setconf` from the stripped file.
    wgn = "wn" + netlab.short_id(6)
    lab.spawn(node, ["wireguard-go", "-f", wgn], name="wireguard-go",
              env={"WG_PROCESS_FOREGROUND": "1"})
    netlab.wait_until(lambda: os.path.exists(f"/var/run/wireguard/{wgn}.sock"),
                      what="wireguard-go socket")
    lab.on_cleanup(lambda: os.path.exists(f"/var/run/wireguard/{wgn}.sock") and
                   os.unlink(f"/var/run/wireguard/{wgn}.sock"))
    ep = conf["Endpoint"]
    assert ep == f"{HUB}:51820", ep
    node.run(["ip", "route", "add", f"{HUB}/32", "via", "10.79.0.1"])
    stripped = tmp_path / "node.conf"
    stripped.write_text("\n".join(l for l in out.splitlines()
                                  if not l.startswith(("Address", "#"))) + "\n")
    node.run(["wg", "setconf", wgn, str(stripped)])
    node.run(["ip", "addr", "add", conf["Address"].split(", ")[0], "dev", wgn])
    node.run(["ip", "link", "set", wgn, "up"])
    srv = tmp_path / "www"
    srv.mkdir()
    (srv / "index.html").write_text("hello from the node\n")
    lab.spawn(node, ["/usr/bin/python3", "-m", "http.server", "--bind", a["tunnel_ipv4"],
                     "--directory", str(srv), "8080"], name="node-http")
    netlab.wait_until(lambda: node.run(["curl", "-sf", f"http://{a['tunnel_ipv4']}:8080/"],
                                       check=False).returncode == 0, what="node http server")
    route(world, "node.test", a["id"], f"http://{a['tunnel_ipv4']}:8080")
    netlab.wait_until(lambda: agent_json(world, a["id"])["online"], timeout=30,
                      what="node online")
    code, body = get(world, "node.test")
    assert code == 200 and "hello from the node" in body, (code, body)
    assert agent_json(world, a["id"])["endpoint"].startswith("10.79.0.2:")
    # A Postern agent gets no wg-quick file.
    st, _, other = h.api("POST", "/api/v1/agents", {"name": "plain"})
    st, _, b = h.api("POST", f"/api/v1/agents/{other['id']}/wireguard-config")
    assert st == 409, b


def test_restarted_hub_reaches_the_agent_at_its_last_endpoint(lab, world):
    """The hub remembers where each agent was and starts a handshake there
    (and keeps the mapping alive from its side), so after a restart a
    route works again before the agent notices anything."""
    ident, p, _ = join_and_run(lab, world, "cellar")
    route(world, "c.test", ident, "http://10.78.0.2:80")
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    netlab.wait_until(lambda: world["hub"].sql(
        f"SELECT last_endpoint FROM agents WHERE id = {ident}").startswith("10.77.0.2:"),
        what="endpoint recorded")
    h = world["hub"]
    h.restart(settings=hub_conf(world["wg"]))
    # Well under the agent's own retry (its new-handshake timer is 15 s
    # after an unanswered packet, keepalives every 25 s).
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=8,
                      what="agent online again")
    code, body = get(world, "c.test")
    assert code == 200 and "hello from nginx" in body, (code, body)
    assert "heartbeat failed" not in p.log()


def test_route_outside_the_agents_allowlist_is_flagged(lab, world):
    """The agent reports its --allow values in its heartbeat: a route whose
    target lies outside them is flagged when created (a warning in the
    API's answer, printed by the CLI), and the agent's refusal shows on
    the route (its target_status), not only as a bare 502."""
    h = world["hub"]
    ident, p, _ = join_and_run(lab, world, "shed", allow="10.78.0.2:80")
    netlab.wait_until(lambda: (agent_json(world, ident).get("health") or {}).get("allow"),
                      timeout=90, what="a heartbeat reporting the allowlist")
    assert agent_json(world, ident)["health"]["allow"] == ["10.78.0.2:80"]
    r = h.cli("route", "create", "--host", "bad.test", "--target", "http://10.78.0.2:81",
              "--agent", "shed", "--no-redirect-https")
    assert "postern: warning: target 10.78.0.2:81 is outside the allowlist agent shed" \
        in r.stderr, r.stderr
    rid = re.search(r"^id: (\d+)$", r.stdout, re.M).group(1)
    bad = h.cli_json("route", "get", rid)
    assert len(bad["warnings"]) == 1 and bad["target_status"] is None, bad
    good = h.cli("route", "create", "--host", "ok.test", "--target", "http://10.78.0.2:80",
                 "--agent", "shed", "--no-redirect-https")
    assert "warning" not in good.stderr, good.stderr
    netlab.wait_until(lambda: agent_json(world, ident)["online"], timeout=30,
                      what="agent online")
    assert get(world, "ok.test")[0] == 200
    assert get(world, "bad.test")[0] == 502
    # The agent's refusal reaches the route with the next heartbeat.
    netlab.wait_until(lambda: h.cli_json("route", "get", str(bad["id"]))["target_status"]
                      == "not_allowed", timeout=90, what="the refusal on the route")
    bad = h.cli_json("route", "get", str(bad["id"]))
    assert bad["target_status_at"] and any("not_allowed" in w for w in bad["warnings"]), bad
    row = next(line for line in h.cli("route", "list").stdout.splitlines() if "bad.test" in line)
    assert row.split()[-1] == "not_allowed", row
    row = next(line for line in h.cli("route", "list").stdout.splitlines() if "ok.test" in line)
    assert row.split()[-1] == "ok", row
