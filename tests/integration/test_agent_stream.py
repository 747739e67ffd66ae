"""The agent's stream acceptor and relay against a real nginx backend.

Topology (all namespaces created here):
    hub (plays the hub: pp2client) --10.77.0.0/24-- agent --10.78.0.0/24-- lan (nginx)
The agent runs `postern agent serve` (the acceptor without the tunnel),
so these tests cover the stream header, allowlist, dialer, TLS, PROXY v2
pass-through and relay; the netstack tests cover the tunnel side."""
import hashlib
import subprocess
import threading

import pytest

import agentlab
import netlab
from agentlab import pp2

AGENT = "10.77.0.2:4180"
AGENT6 = "[fd00:77::2]:4180"


@pytest.fixture
def net(lab, bin, tmp_path):
    hub, agent, lan = lab.ns("hub"), lab.ns("agent"), lab.ns("lan")
    ih, iah = lab.link(hub, "10.77.0.1/24", agent, "10.77.0.2/24")
    ial, il = lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
    for ns, ifn, addr in ((hub, ih, "fd00:77::1/64"), (agent, iah, "fd00:77::2/64"),
                          (agent, ial, "fd00:78::1/64"), (lan, il, "fd00:78::2/64")):
        ns.run(["ip", "-6", "addr", "add", addr, "dev", ifn, "nodad"])
    certs = agentlab.make_ca(str(tmp_path), ["web.lan"], ["10.78.0.2"])
    big = tmp_path / "big.bin"  # written by the test that needs it
    ngx_dir = tmp_path / "nginx"
    ngx_dir.mkdir()
    agentlab.start_nginx(lab, lan, str(ngx_dir), ["10.78.0.2", "[fd00:78::2]"],
                         certs=certs, big=str(big))
    agentlab.set_hosts(lab, agent, [
        "10.78.0.2 web.lan", "fd00:78::2 web6.lan",
        "192.168.77.1 rebind.lan",
        "192.168.77.1 mixed.lan", "10.78.0.2 mixed.lan",
    ])
    lan.run(["nft", "add table inet t; add chain inet t in { type filter hook input "
             "priority 0; }; add rule inet t in tcp dport 82 drop"])
    p = lab.spawn(agent, [bin, "agent", "serve", "--listen", AGENT, "--listen", AGENT6,
                          "--allow", "10.78.0.0/24:80-82,443,8081,8443",
                          "--allow", "[fd00:78::/64]:80",
                          "--allow", "*.lan:80,443,8081",
                          "--allow", "10.79.0.0/16",
                          "--connect-timeout", "1s", "--log-level", "debug"],
                  env={"SSL_CERT_FILE": certs["ca.pem"]}, name="agent")
    netlab.wait_until(lambda: "acceptor ready" in p.log(), what="agent ready")
    return {"hub": hub, "agent": agent, "lan": lan, "proc": p, "big": big, "certs": certs}


def subprocess_rand(path, size):
    """Writes size pseudo-random bytes (an AES-CTR keystream: fast, and a
    checksum over it catches any reordered or repeated block)."""
    with open(path, "wb") as f:
        gen = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-nosalt",
                                "-pass", "pass:p", "-pbkdf2", "-in", "/dev/zero"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        left = size
        while left:
            chunk = gen.stdout.read(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
        gen.kill()
        gen.wait()


GET = "GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"


def test_agent_relays_http_to_nginx_by_address(net):
    r = pp2(net["hub"], AGENT, "10.78.0.2:80", "--send", GET)
    assert r["status_name"] == "ok", r
    assert r["head"].startswith("HTTP/1.1 200"), r
    assert "hello from nginx" in r["head"]


def test_agent_relays_ipv6_and_by_name(net):
    r = pp2(net["hub"], AGENT6, "[fd00:78::2]:80", "--send", GET)
    assert r["status_name"] == "ok" and "hello from nginx" in r["head"], r
    r = pp2(net["hub"], AGENT, "web.lan:80", "--send", GET)
    assert r["status_name"] == "ok" and "hello from nginx" in r["head"], r
    # A name with one disallowed and one allowed address: only the allowed
    # one is dialled.
    r = pp2(net["hub"], AGENT, "mixed.lan:80", "--send", GET)
    assert r["status_name"] == "ok" and "hello from nginx" in r["head"], r


def test_agent_refuses_targets_outside_allowlist(net):
    hub = net["hub"]
    for target in ("10.78.0.2:22", "10.80.0.1:80", "[fd00:78::2]:443",
                   "other.example:80", "web.lan:22"):
        r = pp2(hub, AGENT, target, "--send", GET)
        assert r["status_name"] == "not_allowed", (target, r)
        assert r["bytes"] == 0, r
    # DNS rebinding: an allowed name resolving to a disallowed address.
    r = pp2(hub, AGENT, "rebind.lan:80", "--send", GET)
    assert r["status_name"] == "not_allowed", r
    log = net["proc"].log()
    assert "stream to rebind.lan:80: not_allowed" in log


def test_agent_with_no_allow_reaches_nothing(lab, bin, net):
    """docs/agent.md: with no --allow the agent refuses every target (and
    says so when it starts): by address, by name, v4 and v6, what the
    agent above reaches with its list."""
    p = lab.spawn(net["agent"], [bin, "agent", "serve", "--listen", "10.77.0.2:4190",
                                 "--connect-timeout", "1s"], name="agent-noallow")
    netlab.wait_until(lambda: "acceptor ready" in p.log(), what="agent ready")
    assert "no --allow entries: every target will be refused" in p.log(), p.log()
    for target in ("10.78.0.2:80", "web.lan:80", "[fd00:78::2]:80", "10.78.0.2:443"):
        r = pp2(net["hub"], "10.77.0.2:4190", target, "--send", GET)
        assert r["status_name"] == "not_allowed", (target, r)
    # The same target through the agent with a list: reached.
    assert pp2(net["hub"], AGENT, "10.78.0.2:80", "--send", GET)["status_name"] == "ok"


def test_agent_reports_refused_unreachable_timeout_dns(net):
    hub = net["hub"]
    assert pp2(hub, AGENT, "10.78.0.2:81")["status_name"] == "refused"
    assert pp2(hub, AGENT, "10.79.0.5:80")["status_name"] == "unreachable"
    assert pp2(hub, AGENT, "10.78.0.2:82")["status_name"] == "timeout"
    assert pp2(hub, AGENT, "nosuch.lan:80")["status_name"] == "dns_failed"


def test_agent_rejects_malformed_headers_and_answers_probes(net):
    hub = net["hub"]
    r = pp2(hub, AGENT, None, "--raw-header", (b"GET / HTTP/1.1\r\n\r\n").hex())
    assert r["status_name"] == "protocol_error", r
    # Valid PROXY v2 but an unknown Postern protocol version (2).
    r = pp2(hub, AGENT, "10.78.0.2:80", "--proto-version", "2", "--send", GET)
    assert r["status_name"] == "protocol_error", r
    r = pp2(hub, AGENT, None, "--local")
    assert r["status_name"] == "ok" and r["bytes"] == 0, r


def test_agent_tls_targets_verify_by_default(net):
    hub = net["hub"]
    r = pp2(hub, AGENT, "web.lan:443", "--flags", "tls", "--send", GET)
    assert r["status_name"] == "ok" and "tls hello" in r["head"], r
    r = pp2(hub, AGENT, "10.78.0.2:443", "--flags", "tls", "--send", GET)
    assert r["status_name"] == "ok" and "tls hello" in r["head"], r
    # Self-signed: refused unless the route opted out.
    r = pp2(hub, AGENT, "10.78.0.2:8443", "--flags", "tls", "--send", GET)
    assert r["status_name"] == "tls_failed", r
    r = pp2(hub, AGENT, "10.78.0.2:8443", "--flags", "tls,noverify", "--send", GET)
    assert r["status_name"] == "ok" and "self-signed hello" in r["head"], r
    # A TLS name the certificate does not carry.
    r = pp2(hub, AGENT, "10.78.0.2:443", "--flags", "tls", "--tls-name",
            "other.lan", "--send", GET)
    assert r["status_name"] == "tls_failed", r


def test_agent_tls_targets_need_tls12(lab, net):
    """docs/agent.md: an https target gets TLS 1.2 at least. A server
    that speaks only TLS 1.1 (its ciphers allowed at SECLEVEL=0, so only
    the version can refuse it) is tls_failed even with noverify; the same
    server allowing TLS 1.2 is reached."""
    certs = net["certs"]

    def s_server(version):
        p = lab.spawn(net["lan"], ["openssl", "s_server", "-accept", "10.78.0.2:81",
                                   "-cert", certs["leaf.pem"], "-key", certs["leaf.key"],
                                   version, "-cipher", "DEFAULT@SECLEVEL=0", "-www",
                                   "-naccept", "1"], name=f"s_server{version}")
        netlab.wait_until(lambda: "ACCEPT" in p.log(), what="openssl s_server")
        return p
    old = s_server("-tls1_1")
    r = pp2(net["hub"], AGENT, "10.78.0.2:81", "--flags", "tls,noverify", "--send", GET)
    assert r["status_name"] == "tls_failed", r
    old.stop()
    s_server("-tls1_2")
    r = pp2(net["hub"], AGENT, "10.78.0.2:81", "--flags", "tls,noverify", "--send", GET)
    assert r["status_name"] == "ok" and "HTTP/1.0 200" in r["head"], r


def test_agent_passes_proxy_v2_to_target(net):
    get = "GET /client HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"
    r = pp2(net["hub"], AGENT, "10.78.0.2:8081", "--flags", "proxy",
            "--client", "198.51.100.9:31337", "--send", get)
    assert r["status_name"] == "ok", r
    assert "client=198.51.100.9:31337" in r["head"], r


@pytest.mark.serial  # 1 GiB, RSS
def test_agent_big_download_checksum_and_flat_rss(net):
    """netlab.scale(1 GiB) from nginx through the relay; the checksum
    matches and the agent's peak RSS grows by less than 16 MiB."""
    size = netlab.scale(1 << 30)
    subprocess_rand(str(net["big"]), size)
    pid = net["proc"].pid
    base = agentlab.rss_kib(pid)
    get = "GET /big HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n"
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            peak[0] = max(peak[0], agentlab.rss_kib(pid))
    t = threading.Thread(target=sample)
    t.start()
    try:
        r = pp2(net["hub"], AGENT, "10.78.0.2:80", "--send", get, "--timeout", "300",
                timeout=600)
    finally:
        done.set()
        t.join()
    h = hashlib.sha256()
    with open(net["big"], "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    assert r["status_name"] == "ok", r
    assert r["body_bytes"] == size, r
    assert r["body_sha256"] == h.hexdigest()
    peak[0] = max(peak[0], agentlab.rss_kib(pid, "VmHWM"))
    assert peak[0] - base < 16 * 1024, (base, peak[0])
