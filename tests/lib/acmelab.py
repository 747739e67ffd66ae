"""acmelab - Debian's pebble (ACME CA) and pebble-challtestsrv (its DNS)
inside a lab namespace, plus helpers to run `postern acme` against them.

    ca = AcmeLab(lab)          # namespaces "ca" (10.77.0.1) and "hub" (10.77.0.2)
    ca.start(env={...})        # pebble + challtestsrv, waits for the directory
    r = ca.postern("issue", "-d", "a.example.com", ...)

pebble ships no certificates: a throwaway CA and pebble's HTTPS certificate
are made here with the openssl tool. pebble's own issuing root is fetched
from its management API (/roots/0) for clients that verify issued certs.
"""
import json
import os
import ssl
import subprocess
import urllib.request

import netlab

CA_IP = "10.77.0.1"
HUB_IP = "10.77.0.2"
DIR_URL = f"https://{CA_IP}:14000/dir"
MGMT = f"https://{CA_IP}:15000"
CHALL_MGMT = "http://127.0.0.1:8055"   # inside the ca namespace
DNS_SERVER = f"{CA_IP}:8053"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_tls_ca(d):
    """A CA and a certificate for pebble's HTTPS listeners (IP SAN)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "tls-ca.key", "-out", "tls-ca.pem", "-days", "2",
             "-subj", "/CN=postern test TLS CA", cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "pebble.key", "-out", "pebble.csr", "-subj", "/CN=pebble", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write(f"subjectAltName=IP:{CA_IP},DNS:pebble,DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "pebble.csr", "-CA", "tls-ca.pem", "-CAkey",
             "tls-ca.key", "-CAcreateserial", "-out", "pebble.pem", "-days", "2",
             "-extfile", "san.ext", cwd=d)
    return os.path.join(d, "tls-ca.pem")


class AcmeLab:
    def __init__(self, lab, workdir):
        self.lab = lab
        self.dir = str(workdir)
        self.ca = lab.ns("ca")
        self.hub = lab.ns("hub")
        lab.link(self.ca, f"{CA_IP}/24", self.hub, f"{HUB_IP}/24")
        self.tls_ca = make_tls_ca(self.dir)
        self.pebble = None
        self.challtestsrv = None

    # -- servers -----------------------------------------------------------
    def start(self, env=None, dns_server=DNS_SERVER, eab=None, challtestsrv=True,
              validity=None):
        """Starts challtestsrv (A records point at the hub) and pebble."""
        if challtestsrv:
            self.challtestsrv = self.lab.spawn(self.ca, [
                "pebble-challtestsrv", "-defaultIPv4", HUB_IP, "-defaultIPv6", "",
                "-dns01", f"{CA_IP}:8053", "-management", "127.0.0.1:8055",
                "-http01", "", "-https01", "", "-tlsalpn01", ""],
                name="challtestsrv")
        cfg = {"pebble": {
            "listenAddress": f"{CA_IP}:14000",
            "managementListenAddress": f"{CA_IP}:15000",
            "certificate": os.path.join(self.dir, "pebble.pem"),
            "privateKey": os.path.join(self.dir, "pebble.key"),
            "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "",
            "externalAccountBindingRequired": bool(eab),
        }}
        if eab:
            cfg["pebble"]["externalAccountMACKeys"] = eab
        if validity:   # seconds; short lifetimes make renewal testable
            cfg["pebble"]["certificateValidityPeriod"] = validity
        path = os.path.join(self.dir, "pebble.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        full_env = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
                    "PEBBLE_AUTHZREUSE": "0"}
        full_env.update(env or {})
        self.pebble = self.lab.spawn(self.ca, ["pebble", "-config", path,
                                               "-dnsserver", dns_server],
                                     env=full_env, name="pebble")
        netlab.wait_until(self._dir_up, timeout=20, what="pebble directory")
        if challtestsrv:
            netlab.wait_until(lambda: self.chall("POST", "/clear-txt",
                                                 {"host": "probe.invalid."}) is not None,
                              timeout=10, what="challtestsrv")

    def _dir_up(self):
        r = self.hub.run(["curl", "-sf", "--cacert", self.tls_ca, DIR_URL], check=False)
        return r.returncode == 0 and "newOrder" in r.stdout

    def chall(self, method, path, body=None):
        """Calls challtestsrv's management API from inside the ca namespace."""
        cmd = ["curl", "-sf", "-X", method, CHALL_MGMT + path]
        if body is not None:
            cmd += ["-d", json.dumps(body)]
        r = self.ca.run(cmd, check=False)
        return r.stdout if r.returncode == 0 else None

    def pebble_root(self):
        """PEM of pebble's current issuing root (management API)."""
        r = self.hub.run(["curl", "-sf", "--cacert", self.tls_ca, MGMT + "/roots/0"])
        return r.stdout

    def pebble_intermediate(self):
        r = self.hub.run(["curl", "-sf", "--cacert", self.tls_ca,
                          MGMT + "/intermediates/0"])
        return r.stdout

    # -- the client ----------------------------------------------------------
    def path(self, name):
        return os.path.join(self.dir, name)

    def postern(self, verb, *args, env=None, timeout=180, directory=DIR_URL):
        """Runs `postern acme VERB` in the hub namespace; returns the result."""
        argv = [netlab.postern_bin(), "acme", verb, "--directory", directory,
                "--ca-file", self.tls_ca, *args]
        full_env = dict(os.environ)
        full_env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        full_env.update(env or {})
        r = self.hub.run(argv, check=False, timeout=timeout, env=full_env)
        for m in netlab.SANITIZER_MARKERS:
            assert m not in r.stderr, r.stderr
        return r

    def issue(self, names, *extra, account="account.key", out="cert", env=None):
        args = ["--account-key", self.path(account), "--email", "mailto:ops@example.com",
                "--agree-tos", "--cert-out", self.path(out + ".pem"),
                "--key-out", self.path(out + ".key"), "--poll-timeout", "60"]
        for n in names:
            args += ["-d", n]
        return self.postern("issue", *args, *extra, env=env)


def parse_kv(text):
    """key=value lines (postern acme output) into a dict."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def verify_chain(cert_pem_path, root_pem, workdir, name=None):
    """Verifies an issued chain against pebble's root with openssl verify."""
    root = os.path.join(workdir, "pebble-root.pem")
    with open(root, "w") as f:
        f.write(root_pem)
    with open(cert_pem_path) as f:
        pems = f.read().split("-----END CERTIFICATE-----")
    blocks = [p + "-----END CERTIFICATE-----\n" for p in pems if "BEGIN" in p]
    leaf = os.path.join(workdir, "leaf.pem")
    chain = os.path.join(workdir, "chain.pem")
    with open(leaf, "w") as f:
        f.write(blocks[0])
    with open(chain, "w") as f:
        f.write("".join(blocks[1:]))
    cmd = ["openssl", "verify", "-CAfile", root, "-untrusted", chain]
    if name:
        cmd += ["-verify_hostname", name]
    return subprocess.run(cmd + [leaf], capture_output=True, text=True)


def cert_names(cert_pem_path):
    r = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                        cert_pem_path], capture_output=True, text=True, check=True)
    return sorted(x.strip()[4:] for x in r.stdout.split("\n")[1].split(",")
                  if x.strip().startswith("DNS:"))


def served_serial(acme, name, port=443):
    """"serial=HEX" of the certificate the hub serves for name, verified
    by openssl s_client trusting only pebble's root; None when it fails."""
    import re
    root = acme.path("pebble-root-served.pem")
    with open(root, "w") as f:
        f.write(acme.pebble_root())
    r = acme.hub.run(["openssl", "s_client", "-connect", f"{HUB_IP}:{port}",
                      "-servername", name, "-CAfile", root, "-verify_hostname", name,
                      "-verify_return_error", "-alpn", "http/1.1"],
                     check=False, input="", timeout=20)
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout, re.S)
    if r.returncode != 0 or not m or "Verify return code: 0 (ok)" not in r.stdout:
        return None
    return acme.hub.run(["openssl", "x509", "-noout", "-serial"], input=m.group(0)).stdout.strip()


def txt_values(acme, name, server=CA_IP, port=8053):
    """TXT values challtestsrv (or another server) serves for name, asked
    with dnspython from inside the hub namespace."""
    code = ("import dns.message, dns.query, sys\n"
            "q = dns.message.make_query(sys.argv[1], 'TXT')\n"
            "r = dns.query.udp(q, sys.argv[2], port=int(sys.argv[3]), timeout=3)\n"
            "print('\\n'.join(b''.join(rd.strings).decode() for rr in r.answer for rd in rr))")
    r = acme.hub.run(["/usr/bin/python3", "-c", code, name, server, str(port)])
    return [x for x in r.stdout.split("\n") if x]
