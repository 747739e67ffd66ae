"""cgnatlab - the real world in namespaces, for end-to-end tests: a client
on the internet, the hub on a public address, and agents in private LANs
behind NAT gateways that masquerade (the CGNAT).

    client 203.0.113.10 --+                       +-- nat1 198.18.1.2 == lan1 192.168.1.0/24
                          +-- inet (router) ------+     (masquerade)       agent + nginx .10
    hub 198.51.100.1 -----+                       +-- nat2 198.18.2.2 == lan2 192.168.1.0/24
                                                         (masquerade)       agent + nginx .10

    w = World(lab, tmp_path)           # client, inet, pub (the hub)
    s = w.site("lan1")                 # a NAT + LAN behind it (nginx on .10)
    w.start_hub()                      # HTTPS on :443, self-signed, a store
    tok = w.create_agent("nas")        # `postern agent create` -> token
    s.join(tok, w.fingerprint())       # `postern agent join` from the LAN
    s.run_agent(allow=["192.168.1.10:80"])
    w.curl("app.test", "/")            # from the client, through it all

The NATs hold no state for inbound traffic: their forward chain passes
WAN -> LAN only for connections the LAN started (conntrack), so nothing
on the internet can reach an agent that did not dial out first, and
`Site.flush_nat()` (`conntrack -F`) loses the mapping as a CGNAT does.
Masquerading picks ports at random (`fully-random`), so a new mapping is
a new source port and the hub must follow the agent's roaming endpoint.
Every address is inside these namespaces; names are unique per run."""
import hashlib
import os
import re
import subprocess

import agentlab
import netlab
from controllab import Hub

HUB_IP = "198.51.100.1"
CLIENT_IP = "203.0.113.10"
HUB_HOST = "hub.test"
LAN_NET = "192.168.1"
BACKEND = f"{LAN_NET}.10"
WG_PORT = 51820


class PublicHub(Hub):
    """The hub on its public address: HTTP :80 and HTTPS :443 on every
    address of its namespace (the test talks to 127.0.0.1 for readiness,
    the client to HUB_IP), a self-signed certificate for hub.test."""

    def __init__(self, lab, ns):
        super().__init__(lab, ns=ns, port=80)
        self.own_https, self.https_addr = True, ("127.0.0.1", 443)
        self.certs = os.path.join(self.dir, "hub-certs")
        os.makedirs(self.certs, mode=0o700, exist_ok=True)
        self.wg = "pe" + netlab.short_id(6)   # the hub's TUN, unique per run

    def write(self, settings="", routes=""):
        with open(self.conf_path, "w") as f:
            f.write(f"""[hub]
listen_http = "0.0.0.0:80"
listen_https = "0.0.0.0:443"
routes = {self.routes_path}
access_log = {self.access_log}
upstream_connect_timeout = 3s
{settings}
[tls]
cert_dir = {self.certs}
selfsigned_name = {HUB_HOST}
""")
        with open(self.routes_path, "w") as f:
            f.write(routes)

    def start(self, settings="", **kw):
        """The hub with its WireGuard device on (controllab turns it off
        unless the settings have a [wireguard] section)."""
        wg = f'\n[wireguard]\ninterface = "{self.wg}"\nendpoint = "{HUB_HOST}:{WG_PORT}"\n'
        return super().start(settings=settings + wg, **kw)

    def cert_path(self):
        return os.path.join(self.certs, f"selfsigned-{HUB_HOST}.crt")

    def agent(self, ident):
        """The agent as the admin API shows it (with the data plane's view:
        online, endpoint, bytes, health)."""
        st, _, body = self.api("GET", f"/api/v1/agents/{ident}")
        assert st == 200, body
        return body

    def audit(self, prefix):
        """(action, object, after_json) of the audit entries whose action
        starts with prefix, oldest first."""
        out = self.sql("SELECT action, object, after_json FROM audit_log WHERE "
                       f"action LIKE '{prefix}%' ORDER BY seq")
        return [tuple(l.split("|", 2)) for l in out.splitlines()]


class Site:
    """A NAT namespace and the LAN behind it (agent and nginx in one
    namespace, the backend on BACKEND)."""

    def __init__(self, world, name, idx):
        self.world, self.name, self.idx = world, name, idx
        lab = world.lab
        self.nat = lab.ns("nat" + name)
        self.lan = lab.ns(name)
        self.wan_ip = f"198.18.{idx}.2"
        _, self.wan_if = lab.link(world.inet, f"198.18.{idx}.1/24", self.nat, f"{self.wan_ip}/24")
        self.lan_if, _ = lab.link(self.nat, f"{LAN_NET}.1/24", self.lan, f"{BACKEND}/24")
        self.nat.run(["ip", "route", "add", "default", "via", f"198.18.{idx}.1"])
        self.lan.run(["ip", "route", "add", "default", "via", f"{LAN_NET}.1"])
        self.nat.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self.nat.run(["nft", "-f", "-"], input=f"""
table ip cgnat {{
    chain post {{ type nat hook postrouting priority srcnat; policy accept;
        oifname "{self.wan_if}" masquerade fully-random; }}
    chain forward_filter {{ type filter hook forward priority filter; policy drop;
        iifname "{self.lan_if}" oifname "{self.wan_if}" accept;
        iifname "{self.wan_if}" ct state established,related accept; }}
}}
""")
        agentlab.set_hosts(lab, self.lan, [f"{HUB_IP} {HUB_HOST}"])
        self.dir = os.path.join(world.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state", "agent.state")
        self.agent = None
        self.nginx = None

    def start_nginx(self, text, big=None, extra_ports=()):
        """nginx on BACKEND: ":80" answers `text` at /, serves `big` at
        /big; each port in extra_ports answers "forbidden port" and logs
        every request to DIR/extra.log (to show none arrived)."""
        d = os.path.join(self.dir, "nginx")
        os.makedirs(os.path.join(d, "www"), exist_ok=True)
        with open(os.path.join(d, "www", "index.html"), "w") as f:
            f.write(text)
        if big:
            os.symlink(big, os.path.join(d, "www", "big"))
        extra = "".join(f"""
    server {{ listen {BACKEND}:{p}; access_log {d}/extra.log;
             location / {{ return 200 "forbidden port\\n"; }} }}""" for p in extra_ports)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off; master_process on; worker_processes 1; user root;
pid {d}/nginx.pid; error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off; sendfile on; client_body_temp_path {d}/tmp;
    keepalive_requests 100000;
    server {{ listen {BACKEND}:80; root {d}/www; }}{extra}
}}
""")
        self.nginx = self.world.lab.spawn(self.lan, ["nginx", "-c", conf, "-p", d],
                                          name=f"nginx-{self.name}")
        netlab.wait_until(lambda: self.lan.run(["curl", "-sf", "-o", "/dev/null",
                                                f"http://{BACKEND}/"], check=False)
                          .returncode == 0, what="nginx up")
        self.nginx_dir = d
        return self.nginx

    def extra_log(self):
        try:
            with open(os.path.join(self.nginx_dir, "extra.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def join(self, command, *extra):
        """Runs the join command the hub printed (`postern agent join URL
        TOKEN --fingerprint FP`) from the LAN, through the NAT."""
        words = command.split()
        assert words[:3] == ["postern", "agent", "join"], command
        argv = [netlab.postern_bin(), *words[1:], "--state", self.state, *extra]
        return self.lan.run(argv, check=False, timeout=60)

    def run_agent(self, allow, netstack="auto"):
        argv = [netlab.postern_bin(), "agent", "run", "--state", self.state,
                "--netstack", netstack]
        for a in allow:
            argv += ["--allow", a]
        self.allow, self.netstack = allow, netstack
        self.agent = self.world.lab.spawn(self.lan, argv, name=f"agent-{self.name}")
        return self.agent

    def restart_agent(self):
        assert self.agent.stop() == 0, self.agent.log()
        return self.run_agent(self.allow, self.netstack)

    def flush_nat(self):
        """Forgets every NAT mapping, as a CGNAT that dropped its state."""
        self.nat.run(["conntrack", "-F"])

    def udp_mappings(self):
        r = self.nat.run(["conntrack", "-L", "-p", "udp"], check=False)
        return [l for l in r.stdout.splitlines() if f"dport={WG_PORT}" in l]


class World:
    def __init__(self, lab, tmp):
        self.lab, self.tmp = lab, str(tmp)
        self.inet = lab.ns("inet")
        self.client = lab.ns("client")
        self.pub = lab.ns("pub")
        lab.link(self.inet, "203.0.113.1/24", self.client, f"{CLIENT_IP}/24")
        lab.link(self.inet, "198.51.100.254/24", self.pub, f"{HUB_IP}/24")
        self.inet.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self.client.run(["ip", "route", "add", "default", "via", "203.0.113.1"])
        self.pub.run(["ip", "route", "add", "default", "via", "198.51.100.254"])
        self.sites = []
        self.hub = PublicHub(lab, self.pub)

    def site(self, name):
        s = Site(self, name, len(self.sites) + 1)
        self.sites.append(s)
        return s

    # ---- the hub ----
    def start_hub(self, settings="", workers=2):
        self.hub_args = {"settings": settings, "workers": workers}
        self.hub.start(**self.hub_args)
        netlab.wait_until(lambda: os.path.exists(self.hub.cert_path()),
                          what="self-signed certificate")
        netlab.wait_until(self.hub_tunnel_ready, what="the hub's WireGuard device")
        return self.hub

    def hub_tunnel_ready(self):
        """The device has recorded its key in the store (joins answer)."""
        st, _, body = self.hub.api("GET", "/api/v1/settings/wireguard.public_key")
        return st == 200 and bool(body.get("value"))

    def restart_hub(self):
        """SIGTERM, then the same configuration and store again."""
        assert self.hub.stop() == 0, self.hub.proc.log()
        return self.start_hub(**self.hub_args)

    def fingerprint(self):
        return agentlab.spki_sha256(self.hub.cert_path())

    def create_agent(self, name, *extra):
        """`postern agent create NAME`: returns (agent id, the join command
        it printed)."""
        text = self.hub.cli("agent", "create", name, *extra).stdout
        m = re.search(r"^\s*(postern agent join \S+ \S+.*)$", text, re.M)
        ident = re.search(r"^id: (\d+)$", text, re.M)
        assert m and ident, text
        return int(ident.group(1)), m.group(1).strip()

    def enroll(self, site, name, allow, netstack="auto"):
        """The real flow for one agent: create on the hub, join from the
        LAN with the printed command, run; returns the agent's id once the
        hub sees it online."""
        ident, command = self.create_agent(name)
        r = site.join(command)
        assert r.returncode == 0, (r.stdout, r.stderr)
        site.run_agent(allow, netstack)
        self.wait_online(ident)
        return ident

    def wait_online(self, ident, timeout=30):
        netlab.wait_until(lambda: self.hub.agent(ident)["online"], timeout=timeout,
                          what=f"agent {ident} online")

    def route(self, host, target, agent_id, *extra):
        """`postern route create` (through the control socket)."""
        return self.hub.cli_json("route", "create", "--host", host, "--target", target,
                                 "--agent", str(agent_id), "--no-redirect-https", *extra)

    # ---- the client ----
    def curl(self, host, path="/", *args, port=443, check=False, timeout=120):
        """curl from the client namespace to https://host/path at the hub."""
        return self.client.run(["curl", "-sS", "-k", "--resolve", f"{host}:{port}:{HUB_IP}",
                                "--max-time", str(timeout), *args,
                                f"https://{host}:{port}{path}"],
                               check=check, timeout=timeout + 10)

    def get(self, host, path="/", *args, timeout=30):
        """(status, body) of a GET from the client."""
        r = self.curl(host, path, "-w", "\n%{http_code}", *args, timeout=timeout)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body


def random_file(path, size):
    """Writes size pseudo-random bytes (an AES-CTR keystream: fast, and a
    checksum over it catches a reordered or repeated block); returns
    their SHA-256."""
    h = hashlib.sha256()
    gen = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-nosalt", "-pass", "pass:e2e",
                            "-pbkdf2", "-in", "/dev/zero"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = gen.stdout.read(min(left, 1 << 20))
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    gen.kill()
    gen.wait()
    return h.hexdigest()
