"""wgpair - a Postern tunnel and a wireguard-go interface in two namespaces.

    pair = WgPair(lab, postern_bin(), initiator="postern")
    pair.ping()                       # across the tunnel, both ways
    pair.dump()                       # `wg show NAME dump` of Postern's side
    WgPair(..., psk=genpsk())         # a preshared key on both sides
    WgPair(..., psk=a, g_psk=b)       # Postern's and wireguard-go's differ

Outer network: namespace P (Postern) 10.210.0.1 <-veth-> namespace G
(wireguard-go) 10.210.0.2. Tunnel: P = 10.211.0.1, G = 10.211.0.2.
With outer6=True the outer network is IPv6 (fd10:210::1 and ::2) instead.
Only the initiator knows the other's endpoint, so it is the one that starts
every handshake; the responder learns the endpoint from the first
authenticated packet (roaming). Interface names are unique per run."""
import os
import subprocess

import netlab

P_OUT, G_OUT = "10.210.0.1", "10.210.0.2"
P_OUT6, G_OUT6 = "fd10:210::1", "fd10:210::2"
P_IN, G_IN = "10.211.0.1", "10.211.0.2"
P_PORT, G_PORT = 51820, 51821


def wg(ns, *args, input=None, check=True):
    cmd = ["wg", *args]
    r = subprocess.run(ns.argv(cmd) if ns else cmd, capture_output=True,
                       text=True, timeout=20, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"wg {' '.join(args)} -> {r.returncode}: {r.stderr}")
    return r


def genkey():
    priv = wg(None, "genkey").stdout.strip()
    return priv, wg(None, "pubkey", input=priv + "\n").stdout.strip()


def genpsk():
    return wg(None, "genpsk").stdout.strip()


def sock_path(name):
    return f"/var/run/wireguard/{name}.sock"


class PeerDump:
    """One peer line of `wg show IFACE dump`."""

    def __init__(self, line):
        f = line.split("\t")
        self.public_key, self.psk, self.endpoint, self.allowed = f[0:4]
        self.latest_handshake = int(f[4])
        self.rx, self.tx = int(f[5]), int(f[6])
        self.keepalive = f[7]


class WgPair:
    def __init__(self, lab, postern_bin, initiator="postern", tag="",
                 postern_args=(), keepalive=None, outer6=False, psk=None,
                 g_psk=None):
        self.lab = lab
        self.initiator = initiator
        self.p = lab.ns("p" + tag)
        self.g = lab.ns("g" + tag)
        if outer6:
            self.p_out, self.g_out = P_OUT6, G_OUT6
            self.p_if, self.g_if = lab.link(self.p, P_OUT6 + "/64", self.g, G_OUT6 + "/64")
        else:
            self.p_out, self.g_out = P_OUT, G_OUT
            self.p_if, self.g_if = lab.link(self.p, P_OUT + "/24", self.g, G_OUT + "/24")
        self.pname = "wgp" + netlab.short_id(6)
        self.gname = "wgg" + netlab.short_id(6)
        self.p_priv, self.p_pub = genkey()
        self.g_priv, self.g_pub = genkey()
        self.tmp = lab.tmpdir
        self.postern = lab.spawn(self.p, [postern_bin, "tunnel", "-f",
                                          *postern_args, self.pname],
                                 name="postern-tunnel")
        self.wggo = lab.spawn(self.g, ["wireguard-go", "-f", self.gname],
                              env={"LOG_LEVEL": "debug"}, name="wireguard-go")
        for proc, name in ((self.postern, self.pname), (self.wggo, self.gname)):
            netlab.wait_until(lambda: os.path.exists(sock_path(name)) or not proc.alive(),
                              what=f"{name} socket")
            assert proc.alive(), proc.log()
        lab.on_cleanup(self._remove_sockets)
        self._configure(keepalive, psk, g_psk if g_psk is not None else psk)

    def _remove_sockets(self):
        for name in (self.pname, self.gname):
            try:
                os.unlink(sock_path(name))
            except FileNotFoundError:
                pass

    def _keyfile(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        return path

    def _configure(self, keepalive, p_psk, g_psk):
        pk = self._keyfile(self.pname + ".key", self.p_priv)
        gk = self._keyfile(self.gname + ".key", self.g_priv)
        p_args = ["set", self.pname, "private-key", pk, "listen-port", str(P_PORT),
                  "peer", self.g_pub, "allowed-ips", G_IN + "/32"]
        g_args = ["set", self.gname, "private-key", gk, "listen-port", str(G_PORT),
                  "peer", self.p_pub, "allowed-ips", P_IN + "/32"]
        if p_psk:
            p_args += ["preshared-key", self._keyfile(self.pname + ".psk", p_psk)]
        if g_psk:
            g_args += ["preshared-key", self._keyfile(self.gname + ".psk", g_psk)]
        if self.initiator == "postern":
            p_args += ["endpoint", self.endpoint_str(self.g_out, G_PORT)]
        else:
            g_args += ["endpoint", self.endpoint_str(self.p_out, P_PORT)]
        if keepalive:
            (p_args if self.initiator == "postern" else g_args).extend(
                ["persistent-keepalive", str(keepalive)])
        wg(self.p, *p_args)
        wg(self.g, *g_args)
        for ns, ifname, addr in ((self.p, self.pname, P_IN), (self.g, self.gname, G_IN)):
            ns.run(["ip", "addr", "add", addr + "/24", "dev", ifname])
            ns.run(["ip", "link", "set", ifname, "up"])

    @staticmethod
    def endpoint_str(addr, port):
        return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"

    @property
    def init_ns(self):
        return self.p if self.initiator == "postern" else self.g

    @property
    def resp_ns(self):
        return self.g if self.initiator == "postern" else self.p

    @property
    def resp_in(self):
        return G_IN if self.initiator == "postern" else P_IN

    def ping(self, count=1, timeout=15):
        """Pings from the initiator (starting the handshake), then back."""
        netlab.wait_until(lambda: self.init_ns.run(
            ["ping", "-c", "1", "-W", "1", self.resp_in], check=False).returncode == 0,
            timeout=timeout, what="ping across the tunnel")
        other = P_IN if self.initiator == "postern" else G_IN
        self.resp_ns.run(["ping", "-c", str(count), "-W", "2", other])

    def dump(self):
        """Postern's view of its one peer, via the stock wg tool."""
        lines = wg(self.p, "show", self.pname, "dump").stdout.strip().split("\n")
        assert len(lines) == 2, lines
        return PeerDump(lines[1])

    def stop_postern(self):
        rc = self.postern.stop()
        assert rc == 0, self.postern.log()
        assert not os.path.exists(sock_path(self.pname))
