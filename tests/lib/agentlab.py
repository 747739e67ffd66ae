"""agentlab - pieces the agent's integration tests share: an nginx backend
with plain, TLS and PROXY-protocol listeners, certificates from a test CA,
per-namespace /etc/hosts, the agent under test, and pp2client runs."""
import hashlib
import json
import os
import subprocess
import sys

import netlab

HERE = os.path.dirname(os.path.abspath(__file__))
PP2CLIENT = os.path.join(HERE, "pp2client.py")


def spki_sha256(pem_path):
    """SHA-256 (hex) of a certificate's SubjectPublicKeyInfo: what
    `postern agent join --fingerprint` pins."""
    pub = subprocess.run(["openssl", "x509", "-in", pem_path, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def make_ca(d, names, ips):
    """A test CA (ca.pem) and a leaf (leaf.pem/leaf.key) it signed for
    names/ips, plus a self-signed leaf (self.pem/self.key)."""
    def run(*a):
        subprocess.run(a, check=True, capture_output=True, cwd=d)
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out",
        "ca.pem", "-subj", "/CN=postern test CA", "-days", "2")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj",
        f"/CN={names[0]}")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName={san}\n")
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem",
        "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days",
        "2", "-extfile", "ext.cnf")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "self.key", "-out",
        "self.pem", "-subj", f"/CN={names[0]}", "-days", "2",
        "-addext", f"subjectAltName={san}")
    return {k: os.path.join(d, k) for k in
            ("ca.pem", "leaf.pem", "leaf.key", "self.pem", "self.key")}


def start_nginx(lab, ns, d, addrs, certs=None, big=None):
    """nginx in ns listening on each addr (":80" plain; ":443" with the
    CA-signed leaf; ":8443" self-signed; ":8081" PROXY protocol, answering
    with the client address it was given). /big serves the file big."""
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("hello from nginx\n")
    if big:
        os.symlink(big, os.path.join(d, "www", "big"))
    ls = []
    for a in addrs:
        ls.append(f"listen {a}:80;")
        ls.append(f"listen {a}:8081 proxy_protocol;")
    tls = ""
    if certs:
        l443 = " ".join(f"listen {a}:443 ssl;" for a in addrs)
        l8443 = " ".join(f"listen {a}:8443 ssl;" for a in addrs)
        tls = f"""
    server {{ {l443} ssl_certificate {certs['leaf.pem']};
             ssl_certificate_key {certs['leaf.key']};
             location / {{ return 200 "tls hello\\n"; }} }}
    server {{ {l8443} ssl_certificate {certs['self.pem']};
             ssl_certificate_key {certs['self.key']};
             location / {{ return 200 "self-signed hello\\n"; }} }}"""
    conf = f"""
daemon off; master_process on; worker_processes 1; user root;
pid {d}/nginx.pid; error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off; sendfile on; client_body_temp_path {d}/tmp;
    server {{
        {' '.join(ls)}
        root {d}/www;
        location = /client {{ return 200 "client=$proxy_protocol_addr:$proxy_protocol_port\\n"; }}
    }}{tls}
}}
"""
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = lab.spawn(ns, ["nginx", "-c", path, "-p", d], name="nginx")
    first = addrs[0]
    host = first.strip("[]")
    netlab.wait_until(lambda: ns.run(["curl", "-sf", "-o", "/dev/null",
                                      f"http://{first}:80/"], check=False).returncode == 0,
                      what="nginx up")
    return p


def set_hosts(lab, ns, lines):
    """/etc/hosts as seen by processes `ip netns exec` starts in ns."""
    d = f"/etc/netns/{ns.name}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/hosts", "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n" + "".join(l + "\n" for l in lines))

    def rm():
        os.unlink(f"{d}/hosts")
        os.rmdir(d)
    lab.on_cleanup(rm)


def pp2(ns, agent, target=None, *args, timeout=120):
    """Runs pp2client in ns; returns its JSON answer."""
    argv = [sys.executable, PP2CLIENT, agent] + ([target] if target else []) + list(args)
    r = ns.run(argv, timeout=timeout)
    return json.loads(r.stdout)


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)
