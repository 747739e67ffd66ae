"""End to end, laid out as the real world is (tests/lib/cgnatlab.py): a
client on the internet, the hub on a public address, agents in private
LANs behind masquerading NATs (the CGNAT) with nginx next to them. Every
case goes through the real pieces: `postern agent create` on the hub,
the join command it printed (with the pinned key) run from behind the
NAT, `postern agent run`, and HTTPS from the client to the hub."""
import hashlib
import json
import os
import stat
import threading

import pytest

import agentlab
import netlab
from cgnatlab import BACKEND, HUB_HOST, HUB_IP, World, random_file

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")
ALLOW = f"{BACKEND}:80"


@pytest.fixture
def world(lab, tmp_path):
    w = World(lab, tmp_path)
    w.lan1 = w.site("lan1")
    w.lan1.start_nginx("hello from lan1\n", big=str(tmp_path / "big.bin"),
                       extra_ports=[8080])
    w.start_hub()
    return w


def enroll_nas(w, allow=(ALLOW,), netstack="auto"):
    ident = w.enroll(w.lan1, "nas", list(allow), netstack)
    w.route("app.test", f"http://{BACKEND}:80", ident)
    return ident


def wait_get(w, host, want, timeout=30, path="/"):
    """Polls GET host/path from the client until the body contains want."""
    return netlab.wait_until(lambda: want in w.get(host, path, timeout=10)[1],
                             timeout=timeout, what=f"{host}{path} answering {want!r}")


def test_e2e_join_through_cgnat_then_https_get(world):
    w = world
    ident = enroll_nas(w)
    code, body = w.get("app.test")
    assert (code, body) == (200, "hello from lan1\n")
    # The join pinned the hub's key and left a private state file.
    assert stat.S_IMODE(os.stat(w.lan1.state).st_mode) == 0o600
    assert w.fingerprint() in open(w.lan1.state).read()
    # The hub reaches the agent only through the NAT's mapping: its
    # endpoint is the NAT's public address, not the LAN's.
    a = w.hub.agent(ident)
    assert a["endpoint"].startswith(w.lan1.wan_ip + ":"), a
    assert w.lan1.udp_mappings(), "no UDP mapping in the NAT"
    # Nothing from the internet reaches the LAN directly.
    r = w.client.run(["curl", "-sS", "--max-time", "2", f"http://{w.lan1.wan_ip}/"],
                     check=False)
    assert r.returncode != 0


def test_e2e_post_with_body(world, lab):
    w = world
    lab.spawn(w.lan1.lan, ["/usr/bin/python3", os.path.join(LIB, "observe_upstream.py"),
                           "9000", os.path.join(w.tmp, "up.jsonl"), "lan"],
              env={"BIND": BACKEND}, name="upstream")
    ident = w.enroll(w.lan1, "nas", [f"{BACKEND}:9000"])
    w.route("post.test", f"http://{BACKEND}:9000", ident)
    body = os.urandom(3 << 20)
    path = os.path.join(w.tmp, "post.bin")
    with open(path, "wb") as f:
        f.write(body)
    code, answer = w.get("post.test", "/sum", "--data-binary", f"@{path}",
                         "-H", "Content-Type: application/octet-stream")
    assert code == 200 and hashlib.sha256(body).hexdigest() in answer, (code, answer)
    rec = netlab.read_jsonl(os.path.join(w.tmp, "up.jsonl"))
    assert rec[-1]["method"] == "POST" and rec[-1]["body_len"] == len(body), rec[-1]


def test_e2e_websocket_echo(world, lab):
    w = world
    lab.spawn(w.lan1.lan, ["/usr/bin/python3", os.path.join(LIB, "ws_echo.py"), "9001"],
              env={"BIND": BACKEND}, name="ws-echo")
    netlab.wait_until(lambda: w.lan1.lan.run(["curl", "-s", f"http://{BACKEND}:9001/"],
                                             check=False).returncode == 0, what="ws echo")
    ident = w.enroll(w.lan1, "nas", [f"{BACKEND}:9001"])
    w.route("ws.test", f"http://{BACKEND}:9001", ident)
    r = w.client.run(["/usr/bin/python3", os.path.join(LIB, "ws_client.py"),
                      "wss://ws.test/", f"{HUB_IP}:443", "12"], timeout=120)
    out = json.loads(r.stdout)
    assert out == {"ok": 12, "greeting": "hello from upstream", "big": True}, out


@pytest.mark.serial  # bulk transfer
def test_e2e_big_download_checksum(world):
    """netlab.scale(1 GiB) from nginx in the LAN to the client."""
    w = world
    size = netlab.scale(1 << 30)
    want = random_file(os.path.join(w.tmp, "big.bin"), size)
    enroll_nas(w)
    r = w.client.sh(f"curl -sSk --max-time 600 --resolve app.test:443:{HUB_IP} "
                    "https://app.test/big | sha256sum", timeout=660)
    assert r.stdout.split()[0] == want


@pytest.mark.serial  # bulk transfer
def test_e2e_raw_tcp_route(world, lab):
    """A public port on the hub forwarded to a plain TCP service in the LAN."""
    w = world
    size = netlab.scale(64 << 20)
    recv = lab.spawn(w.lan1.lan, ["/usr/bin/python3", os.path.join(LIB, "xfer.py"), "recv",
                                  BACKEND, "5000"], name="xfer-recv")
    netlab.wait_until(lambda: "listening" in recv.log(), what="xfer listening")
    ident = w.enroll(w.lan1, "nas", [f"{BACKEND}:5000"])
    w.route("tcp.test", f"tcp://{BACKEND}:5000", ident, "--tcp-port", "7000")
    # Not probed with a connection: xfer's receiver takes exactly one.
    netlab.wait_until(lambda: ":7000 " in w.pub.run(["ss", "-Hltn"]).stdout,
                      what="the hub listening on 7000")
    sent = w.client.run(["/usr/bin/python3", os.path.join(LIB, "xfer.py"), "send",
                         HUB_IP, "7000", str(size)], timeout=300).stdout
    netlab.wait_until(lambda: "sha256=" in recv.log(), timeout=60, what="xfer received")
    got = [l for l in recv.log().splitlines() if "sha256=" in l][0]
    assert got.strip() == sent.strip() and f"bytes={size}" in got, (sent, got)


@pytest.mark.serial  # bulk transfer
def test_e2e_nat_mapping_reset_mid_session(world):
    """conntrack -F in the NAT during a download: the agent's next packets
    get a new mapping (a new public port), the hub follows it, the download
    completes intact, and the change is audited."""
    w = world
    size = 48 << 20
    want = random_file(os.path.join(w.tmp, "big.bin"), size)
    ident = enroll_nas(w)
    before = w.hub.agent(ident)["endpoint"]
    out = os.path.join(w.tmp, "dl.bin")
    result = {}

    def download():
        result["r"] = w.curl("app.test", "/big", "-o", out, "--limit-rate", "6M", timeout=120)
    t = threading.Thread(target=download)
    t.start()
    netlab.wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > 8 << 20,
                      timeout=60, what="download under way")
    w.lan1.flush_nat()
    assert os.path.getsize(out) < size  # mid-session
    t.join(180)
    assert result["r"].returncode == 0, result["r"].stderr
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == want
    after = w.hub.agent(ident)["endpoint"]
    assert after.startswith(w.lan1.wan_ip + ":") and after != before, (before, after)
    assert any(a == "tunnel.endpoint_change" and o == f"agent:{ident}"
               for a, o, _ in w.hub.audit("tunnel.")), w.hub.audit("tunnel.")
    # And an idle flush: the next request still gets through.
    w.lan1.flush_nat()
    wait_get(w, "app.test", "hello from lan1", timeout=60)


def test_e2e_hub_restart_agent_untouched(world):
    w = world
    enroll_nas(w)
    agent_pid = w.lan1.agent.pid
    assert w.get("app.test")[0] == 200
    w.restart_hub()
    wait_get(w, "app.test", "hello from lan1", timeout=30)
    assert w.lan1.agent.alive() and w.lan1.agent.pid == agent_pid


def test_e2e_agent_restart(world):
    w = world
    ident = enroll_nas(w)
    assert w.get("app.test")[0] == 200
    w.lan1.restart_agent()
    wait_get(w, "app.test", "hello from lan1", timeout=30)
    assert w.hub.agent(ident)["online"]


def test_e2e_second_agent_overlapping_lan(world):
    """Two LANs with the same 192.168.1.0/24 and the same backend address,
    behind two NATs: each route reaches its own agent's LAN."""
    w = world
    lan2 = w.site("lan2")
    lan2.start_nginx("hello from lan2\n")
    one = enroll_nas(w)
    two = w.enroll(lan2, "cabin", [ALLOW])
    w.route("two.test", f"http://{BACKEND}:80", two)
    for _ in range(3):
        assert w.get("app.test") == (200, "hello from lan1\n")
        assert w.get("two.test") == (200, "hello from lan2\n")
    assert w.hub.agent(one)["endpoint"].startswith(w.lan1.wan_ip + ":")
    assert w.hub.agent(two)["endpoint"].startswith(lan2.wan_ip + ":")


def test_e2e_target_outside_allowlist_refused(world):
    w = world
    ident = enroll_nas(w)
    w.route("x.test", f"http://{BACKEND}:8080", ident)   # the agent allows :80 only
    code, body = w.get("x.test")
    assert code == 502 and "offline" not in body, (code, body)
    assert w.lan1.extra_log() == ""          # nothing reached the forbidden port
    assert "not_allowed" in w.hub.proc.log()
    assert w.get("app.test")[0] == 200       # the allowed one still works


def test_e2e_wrong_fingerprint_refuses_join(world):
    """A pinned key that is not the hub's stops the join before the token
    is sent: exit status 5, no state file, no join request at the hub,
    and the token still works afterwards."""
    w = world
    _, command = w.create_agent("nas")
    words = command.split()
    fp = words[words.index("--fingerprint") + 1]
    assert fp.replace(":", "").lower() == w.fingerprint()
    wrong = " ".join(words[:words.index("--fingerprint") + 1] + ["00" * 32])
    r = w.lan1.join(wrong)
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert "fingerprint" in (r.stdout + r.stderr).lower()
    assert not os.path.exists(w.lan1.state)
    assert words[4] not in r.stdout + r.stderr       # the token
    assert [x for x in w.hub.access_records() if "agents/join" in str(x)] == []
    r = w.lan1.join(command)
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_e2e_agent_offline_gives_502(world):
    w = world
    enroll_nas(w)
    assert w.get("app.test")[0] == 200
    w.lan1.agent.stop()
    code, body = w.get("app.test", "/", "-H", "Connection: close")
    assert code == 502, (code, body)
    assert 'The agent "nas" is offline.' in body, body
    assert BACKEND not in body and "100.96" not in body


def test_e2e_wireguard_go_agentless_node(world, lab):
    """A standard WireGuard peer behind the CGNAT (wireguard-go set up from
    the wg-quick file `postern agent create --kind wireguard` printed)
    dials out; the hub routes to a service on its tunnel address."""
    w = world
    out = w.hub.cli("agent", "create", "router", "--kind", "wireguard").stdout
    conf = dict(l.split(" = ", 1) for l in out.splitlines() if " = " in l)
    assert conf["Endpoint"] == f"{HUB_HOST}:51820", out
    addr = conf["Address"].split(", ")[0]
    ip = addr.split("/")[0]
    node = w.site("lan2")
    wgn = "wn" + netlab.short_id(6)
    lab.spawn(node.lan, ["wireguard-go", "-f", wgn], name="wireguard-go",
              env={"WG_PROCESS_FOREGROUND": "1"})
    sock = f"/var/run/wireguard/{wgn}.sock"
    lab.on_cleanup(lambda: os.path.exists(sock) and os.unlink(sock))
    netlab.wait_until(lambda: os.path.exists(sock), what="wireguard-go socket")
    path = os.path.join(w.tmp, "node.conf")   # wg setconf takes no Address
    with open(path, "w") as f:
        f.write("\n".join(l for l in out.splitlines()
                          if not l.startswith(("Address", "#"))) + "\n")
    node.lan.run(["wg", "setconf", wgn, path])
    node.lan.run(["ip", "addr", "add", addr, "dev", wgn])
    node.lan.run(["ip", "link", "set", wgn, "up"])
    www = os.path.join(w.tmp, "node-www")
    os.makedirs(www)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("hello from the node\n")
    lab.spawn(node.lan, ["/usr/bin/python3", "-m", "http.server", "--bind", ip,
                         "--directory", www, "8080"], name="node-http")
    ident = [a for a in w.hub.cli_json("agent", "list")["items"] if a["name"] == "router"][0]["id"]
    w.route("node.test", f"http://{ip}:8080", ident)
    w.wait_online(ident)
    wait_get(w, "node.test", "hello from the node")
    assert w.hub.agent(ident)["endpoint"].startswith(node.wan_ip + ":")


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_e2e_https_target_needs_tls12(world, lab, http):
    """docs/agent.md: an https:// target through the hub is reached over
    TLS 1.2 or later; one that speaks only TLS 1.1 is the agent's
    tls_failed, a 502 at the client. Both routes skip verification (the
    servers' leaf is self-signed), so only the version can refuse one;
    their ciphers are allowed at SECLEVEL=0 for the same reason. The
    client talks HTTP/1.1 or HTTP/2 to the hub."""
    w = world
    certs = agentlab.make_ca(w.tmp, ["web.lan"], [BACKEND])

    def s_server(port, version):
        p = lab.spawn(w.lan1.lan, ["openssl", "s_server", "-accept", f"{BACKEND}:{port}",
                                   "-cert", certs["self.pem"], "-key", certs["self.key"],
                                   version, "-cipher", "DEFAULT@SECLEVEL=0", "-www"],
                      name=f"s_server{version}")
        netlab.wait_until(lambda: "ACCEPT" in p.log(), what="openssl s_server")
    s_server(8441, "-tls1_1")
    s_server(8442, "-tls1_2")
    ident = w.enroll(w.lan1, "nas", [f"{BACKEND}:8441", f"{BACKEND}:8442"])
    w.route("old.test", f"https://{BACKEND}:8441", ident, "--no-tls-verify")
    w.route("new.test", f"https://{BACKEND}:8442", ident, "--no-tls-verify")
    r = w.curl("new.test", "/", http, "-w", "\n%{http_version} %{http_code}", timeout=30)
    body, _, tail = r.stdout.rpartition("\n")
    assert tail == ("2 200" if http == "--http2" else "1.1 200"), (tail, r.stderr)
    assert "Protocol  : TLSv1.2" in body, body    # s_server -www: the session it served
    code, body = w.get("old.test", "/", http)
    assert code == 502, (code, body)
    netlab.wait_until(lambda: "tls_failed" in w.hub.proc.log(), what="the agent's tls_failed")
