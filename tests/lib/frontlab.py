"""frontlab - a hub front with observed upstreams, for the front's tests.

    f = Front(lab)                                   # namespace "front"
    up = f.upstream(9001, "a")                       # observe_upstream.py
    f.start(routes='''[route.a]\\nhost = a.test\\ntarget = http://127.0.0.1:9001\\n''')
    r = f.curl("-H", "Host: a.test", f.url("/x"))   # curl inside the namespace
    s = f.socket(); s.connect(f.addr)                # raw socket inside it
    up.records()                                     # what the upstream saw
"""
import ctypes
import os
import signal
import socket
import threading
import time

import netlab

HERE = os.path.dirname(os.path.abspath(__file__))
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ns_socket(ns_name, family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A socket created inside the named network namespace (the thread that
    creates it enters the namespace; the socket stays there)."""
    out = {}

    def make():
        fd = os.open(f"/var/run/netns/{ns_name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                out["err"] = OSError(ctypes.get_errno(), "setns")
                return
            out["sock"] = socket.socket(family, kind)
        finally:
            os.close(fd)
    t = threading.Thread(target=make)
    t.start()
    t.join()
    if "err" in out:
        raise out["err"]
    return out["sock"]


class Upstream:
    def __init__(self, proc, log, port):
        self.proc, self.log, self.port = proc, log, port

    def records(self):
        return netlab.read_jsonl(self.log)

    def count(self):
        return len(self.records())


class Front:
    def __init__(self, lab, ns=None, port=8080):
        self.lab = lab
        self.ns = ns or lab.ns("front")
        self.dir = lab.tmpdir
        self.port = port
        self.addr = ("127.0.0.1", port)
        self.proc = None
        self.conf_path = os.path.join(self.dir, "hub.conf")
        self.routes_path = os.path.join(self.dir, "routes.conf")
        self.access_log = os.path.join(self.dir, "access.log")

    # ---- peers ----
    def upstream(self, port, tag="up", bind="127.0.0.1"):
        log = os.path.join(self.dir, f"up-{tag}-{port}.jsonl")
        p = self.lab.spawn(self.ns, ["/usr/bin/python3", os.path.join(HERE, "observe_upstream.py"),
                                     str(port), log, tag], env={"BIND": bind}, name=f"up-{tag}")
        self.wait_port(port, bind)
        return Upstream(p, log, port)

    def nginx(self, port, root, extra=""):
        """nginx serving `root` on port (a plain file server)."""
        d = os.path.join(self.dir, f"nginx-{port}")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {root}; {extra} }}
}}
""")
        p = self.lab.spawn(self.ns, ["nginx", "-c", conf, "-e", f"{d}/error.log"], name="nginx")
        self.wait_port(port)
        return p

    # ---- the hub ----
    def write(self, settings="", routes=""):
        with open(self.conf_path, "w") as f:
            f.write(f"""[hub]
listen_http = "127.0.0.1:{self.port}"
routes = {self.routes_path}
access_log = {self.access_log}
{settings}
""")
        with open(self.routes_path, "w") as f:
            f.write(routes)

    def start(self, routes="", settings="", workers=2, env=None):
        self.write(f"workers = {workers}\n" + settings, routes)
        self.proc = self.lab.spawn(self.ns, [netlab.postern_bin(), "hub", "-c", self.conf_path],
                                   env=env, name="hub")
        self.wait_port(self.port, self.addr[0])
        return self.proc

    def reload(self, routes=None, settings=None):
        if routes is not None:
            tmp = self.routes_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(routes)
            os.rename(tmp, self.routes_path)
        before = self.proc.log().count("reloaded:")
        self.proc.send_signal(signal.SIGHUP)
        netlab.wait_until(lambda: self.proc.log().count("reloaded:") > before, what="reload")

    def wait_port(self, port, host="127.0.0.1"):
        def up():
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = ns_socket(self.ns.name, fam)
            try:
                s.settimeout(1)
                s.connect((host, port))
                return True
            finally:
                s.close()
        netlab.wait_until(up, timeout=15, what=f"port {port}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def curl(self, *args, check=True, timeout=120):
        return self.ns.run(["curl", "-sS", *args], check=check, timeout=timeout)

    def socket(self, family=socket.AF_INET):
        return ns_socket(self.ns.name, family)

    def connect(self, timeout=10):
        s = self.socket()
        s.settimeout(timeout)
        s.connect(self.addr)
        return s

    def access_records(self):
        return netlab.read_jsonl(self.access_log)

    # ---- process inspection ----
    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def idle_fd_count(self, ports=None):
        """The hub's descriptors as a baseline, taken once no client
        connection to its listening ports is left on the server side,
        accepted or still in the backlog (ss shows only listeners with
        empty accept queues): a start-up probe or an earlier client the
        hub has not yet closed would otherwise sit in the baseline and
        hide a leaked descriptor later. Connections the hub has closed
        (TIME-WAIT, FIN-WAIT, LAST-ACK: no descriptor) do not count.
        Descriptors that close between the listing and their readlink are
        not counted (docs/testing.md)."""
        d = f"/proc/{self.proc.pid}/fd"

        def quiet():
            for port in ports or [self.port]:
                rows = self.ns.run(["ss", "-tanH", f"( sport = :{port} )"]).stdout
                rows = [r.split() for r in rows.split("\n") if r.strip()]
                if any(r[0] in ("ESTAB", "CLOSE-WAIT", "SYN-RECV") or
                       (r[0] == "LISTEN" and r[1] != "0") for r in rows):
                    return None
            n = 0
            for x in os.listdir(d):
                try:
                    os.readlink(f"{d}/{x}")
                    n += 1
                except FileNotFoundError:
                    pass
            return n
        return netlab.wait_until(quiet, what="the hub without client connections")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def routes(*blocks):
    """Route configuration for Front.start(): one [route.NAME] block per
    (name, host, port) or (name, host, port, {key: value}), its target
    the upstream at http://127.0.0.1:PORT."""
    out = []
    for name, host, port, *more in blocks:
        lines = [f"[route.{name}]", f"host = {host}"]
        lines += [f"{k} = {v}" for k, v in (more[0] if more else {}).items()]
        lines.append(f"target = http://127.0.0.1:{port}")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def recv_all(s, limit=1 << 24):
    """Reads until the peer closes (or the socket times out). Returns
    (bytes, closed)."""
    out = b""
    try:
        while len(out) < limit:
            d = s.recv(65536)
            if not d:
                return out, True
            out += d
    except socket.timeout:
        return out, False
    except ConnectionResetError:
        return out, True
    return out, False


class Prefixed:
    """A stream (anything with recv) whose first read returns bytes already
    taken from it: feeds read_response the rest of a pipelined read."""
    def __init__(self, s, pre):
        self.s, self.pre = s, pre

    def recv(self, n):
        if self.pre:
            d, self.pre = self.pre, b""
            return d
        return self.s.recv(n)


def read_head(s):
    """Reads one HTTP/1.1 response head from s. Returns (status, headers
    dict lower-case, the bytes read past the head)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError(buf)
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest


def read_response(s):
    """Reads one HTTP/1.1 response (Content-Length or chunked) from s.
    Returns (status, headers dict lower-case, body, raw). A 204 or 304
    has no body whatever its fields say (RFC 9110 6.4.1)."""
    status, hdrs, rest = read_head(s)
    if status in (204, 304):
        return status, hdrs, b"", rest
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError
            rest += d
        return status, hdrs, rest[:n], rest[n:]
    if hdrs.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += s.recv(65536)
            line, rest = rest.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + rest:
                    rest += s.recv(65536)
                i = (b"\r\n" + rest).index(b"\r\n\r\n")
                hdrs["_trailers"] = rest[:max(0, i - 2)].decode("latin-1") if i > 0 else ""
                return status, hdrs, body, rest[i + 2:]
            while len(rest) < size + 2:
                rest += s.recv(65536)
            body += rest[:size]
            rest = rest[size + 2:]
    return status, hdrs, rest, b""


def wait_gone(s, timeout=10):
    """True when the peer closes the socket within timeout."""
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False
