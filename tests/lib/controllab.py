"""controllab - a hub with its control plane (store, admin API, audit), for
the control plane's tests.

    h = Hub(lab)                       # a Front in namespace "front"
    h.start()                          # data_dir + control socket
    h.cli("route", "list")             # the CLI over the control socket
    st, hdrs, body = h.api("GET", "/api/v1/routes")      # raw, unix socket
    st, hdrs, body = h.http("GET", "/api/v1/routes", headers={...})
                                       # the hub's HTTPS listener, Host hub.test
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess

import netlab
from frontlab import Front, ns_socket

HUB_HOST = "hub.test"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


class NsHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address inside a network namespace."""

    def __init__(self, ns_name, host, port, timeout=30, src=None):
        super().__init__(host, port, timeout=timeout)
        self.ns_name = ns_name
        self.src = src

    def connect(self):
        s = ns_socket(self.ns_name)
        s.settimeout(self.timeout)
        if self.src:
            s.bind((self.src, 0))
        s.connect((self.host, self.port))
        self.sock = s


class NsHTTPSConnection(NsHTTPConnection):
    """HTTPS (certificate not checked: the hub's is self-signed in these
    tests) to an address inside a network namespace."""

    def __init__(self, ns_name, host, port, sni, timeout=30, src=None):
        super().__init__(ns_name, host, port, timeout=timeout, src=src)
        self.sni = sni

    def connect(self):
        super().connect()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.sni)


def _exchange(conn, method, path, body, headers):
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    raw = r.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed


class Hub(Front):
    own_https = False   # True: write() adds listen_https itself
    def __init__(self, lab, ns=None, port=8080):
        super().__init__(lab, ns=ns, port=port)
        self.hostname = HUB_HOST
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "control.sock")

    def start(self, settings="", workers=2, env=None, routes=""):
        # The admin API answers over TLS only: unless the test brings its
        # own, an HTTPS listener with a self-signed certificate.
        m = re.search(r'listen_https = "(.+):(\d+)"', settings)
        if m:
            self.https_addr = (m.group(1).strip("[]"), int(m.group(2)))
        elif self.own_https:
            pass        # a subclass's write() configures it (https_addr set)
        else:
            # Port 443 (free in the test's namespace): the hub's public
            # URL, origins and printed links stay https://hub.test.
            self.https_addr = (self.addr[0], 443)
            settings = f'listen_https = "{self.addr[0]}:443"\n' + settings
            if "[tls]" not in settings:
                settings += f"\n[tls]\nselfsigned_name = {self.hostname}\n"
        settings = (f"hostname = {self.hostname}\ncontrol_socket = {self.sock}\n"
                    f"data_dir = {self.data}\n" + settings)
        # The hub's WireGuard device is on by default; the control plane's
        # tests leave it off (its key and endpoint would add audit entries
        # and a secret they count) unless the settings configure it.
        if "[wireguard]" not in settings:
            settings += "\n[wireguard]\nenabled = off\n"
        p = super().start(routes=routes, settings=settings, workers=workers, env=env)
        netlab.wait_until(lambda: os.path.exists(self.sock), what="control socket")
        self.wait_port(self.https_addr[1], self.https_addr[0])
        return p

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    def stop(self, sig=None):
        import signal
        return self.proc.stop(sig=sig or signal.SIGTERM)

    # ---- the CLI ----
    def cli(self, *args, input=None, check=True, env=None, conn=True):
        argv = [netlab.postern_bin(), *args]
        if conn:
            argv += ["--socket", self.sock]
        r = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=60, env={**os.environ, **(env or {})})
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def cli_json(self, *args, **kw):
        return json.loads(self.cli(*args, "--json", **kw).stdout)

    # ---- the API ----
    def api(self, method, path, body=None, headers=None):
        """The admin API over the control socket (as root)."""
        c = UnixHTTPConnection(self.sock)
        try:
            return _exchange(c, method, path, body, headers)
        finally:
            c.close()

    def http(self, method, path, body=None, headers=None, host=None, plain=False, src=None):
        """The admin API over the hub's HTTPS listener, with Host the hub's
        hostname unless `host` is given, from source address `src` (any
        127.x.y.z is local in the namespace); `plain`: its plain-HTTP
        listener instead (which never serves the API)."""
        hdrs = {"Host": host or self.hostname, **(headers or {})}
        if plain:
            c = NsHTTPConnection(self.ns.name, self.addr[0], self.port, src=src)
        else:
            c = NsHTTPSConnection(self.ns.name, *self.https_addr, sni=self.hostname, src=src)
        try:
            return _exchange(c, method, path, body, hdrs)
        finally:
            c.close()

    def create(self, path, *bodies):
        """POSTs each body to the admin API's collection `path` over the
        control socket; each must be created (201). Returns their
        documents."""
        docs = []
        for body in bodies:
            st, _, doc = self.api("POST", path, body)
            assert st == 201, (path, body, doc)
            docs.append(doc)
        return docs

    def curl_https(self, proto, host, path, *args):
        """curl (with `args`) over TLS to the hub's HTTPS listener inside
        the namespace, as `host` (SNI and Host), HTTP/1.1 or HTTP/2 by
        `proto` ("h1", "h2"), the certificate not checked. curl must
        exit 0; returns its result."""
        addr, port = self.https_addr
        r = self.curl("-k", "--http1.1" if proto == "h1" else "--http2", *args,
                      "--connect-to", f"{host}:{port}:{addr}:{port}",
                      f"https://{host}:{port}{path}", check=False)
        assert r.returncode == 0, r.stderr
        return r

    def setup_link(self):
        m = re.search(r"(https://\S+/setup#token=(\S+))", self.proc.log())
        return m.group(2) if m else None

    def set_password(self, user_id, pw):
        self.cli("user", "update", str(user_id), "--password-stdin", input=pw + "\n")

    def login(self, user, pw, origin=f"https://{HUB_HOST}"):
        st, hdrs, body = self.http("POST", "/api/v1/session",
                                   {"username": user, "password": pw},
                                   headers={"Origin": origin})
        assert st == 201, (st, body)
        cookie = hdrs["set-cookie"].split(";")[0]
        return cookie, body["csrf_token"]

    def token(self, scope="write", user_id=None):
        body = {"name": f"t-{scope}", "scope": scope}
        if user_id:
            body["user_id"] = user_id
        st, _, b = self.api("POST", "/api/v1/tokens", body)
        assert st == 201, b
        return b["token"]

    def verify(self, *extra):
        """`postern audit verify --data DIR` (offline, read-only)."""
        return self.cli("audit", "verify", "--data", self.data, *extra,
                        check=False, conn=False)

    def sql(self, statement):
        """The sqlite3 tool on the store, as an attacker would use it."""
        return subprocess.run(["sqlite3", os.path.join(self.data, "postern.db"), statement],
                              capture_output=True, text=True, timeout=30, check=True).stdout
