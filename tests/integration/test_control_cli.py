"""The control plane in the real hub: first start, the CLI over the control
socket (tables, --json, exit codes), and routes created through the CLI
and the API served at once, with a load loop running and no request
failing while the route table changes underneath it."""
import grp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
import tlslab  # noqa: E402
from controllab import Hub, NsHTTPConnection  # noqa: E402
from frontlab import read_response  # noqa: E402


def get(h, host, path="/"):
    c = NsHTTPConnection(h.ns.name, "127.0.0.1", h.port, timeout=10)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


class Load(threading.Thread):
    """Keep-alive GETs on one route until stopped; records every outcome."""

    def __init__(self, h, host):
        super().__init__(daemon=True)
        self.h, self.host = h, host
        self.stop_ev = threading.Event()
        self.ok = 0
        self.bad = []

    def run(self):
        c = NsHTTPConnection(self.h.ns.name, "127.0.0.1", self.h.port, timeout=10)
        while not self.stop_ev.is_set():
            try:
                c.request("GET", "/load", headers={"Host": self.host})
                r = c.getresponse()
                body = r.read()
                if r.status == 200 and body.startswith(b"steady GET /load"):
                    self.ok += 1
                else:
                    self.bad.append((r.status, body[:80]))
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.bad.append(repr(e))
                c.close()
                c = NsHTTPConnection(self.h.ns.name, "127.0.0.1", self.h.port, timeout=10)
        c.close()

    def finish(self):
        self.stop_ev.set()
        self.join(30)


def test_first_start_creates_admin_with_setup_link(lab):
    h = Hub(lab)
    h.start()
    token = h.setup_link()
    assert token and token.startswith("ps_")
    assert "https://hub.test/setup#token=" in h.proc.log()
    # The setup link sets the password once, over the hub's listener.
    st, _, _ = h.http("POST", "/api/v1/setup", {"token": token, "password": "a long admin password"},
                      headers={"Origin": "https://hub.test"})
    assert st == 204
    st, _, _ = h.http("POST", "/api/v1/setup", {"token": token, "password": "a long admin password"})
    assert st == 401
    h.login("admin", "a long admin password")
    # The data directory is private; the keys are 0600 beside the store.
    assert oct(os.stat(h.data).st_mode & 0o777) == "0o700"
    for f in ("postern.db", "secret.key", "audit.key", "audit.head"):
        assert oct(os.stat(os.path.join(h.data, f)).st_mode & 0o777) == "0o600", f
    # The control socket: root only, or the postern group when there is one.
    try:
        grp.getgrnam("postern")
        want = 0o660
    except KeyError:
        want = 0o600
    assert os.stat(h.sock).st_mode & 0o777 == want
    # A second start does not create another admin or print a link.
    h.restart()
    assert h.setup_link() is None or h.proc.log().count("first start") == 0
    out = h.cli("user", "list").stdout
    assert out.splitlines()[0].split() == ["ID", "NAME", "ROLE", "GROUPS", "DISABLED",
                                          "PASSWORD"]
    assert len(out.splitlines()) == 2


def test_cli_tables_json_and_exit_codes(lab):
    h = Hub(lab)
    ca = tlslab.CA(os.path.join(lab.tmpdir))
    crt, key = ca.issue("hub", ["hub.test"])
    h.start(settings=f'listen_https = "127.0.0.1:443"\n[cert.hub]\ncert = {crt}\nkey = {key}\n')
    r = h.cli("agent", "create", "nas")
    assert "postern agent join https://hub.test pj_" in r.stdout
    both = h.cli_json("agent", "create", "pi")
    assert both["agent"]["name"] == "pi" and both["join"]["token"].startswith("pj_")
    agent = h.cli_json("agent", "list")["items"][0]
    assert agent["name"] == "nas" and agent["status"] == "pending"
    r = h.cli("route", "create", "--host", "app.test", "--target", "http://127.0.0.1:9001",
              "--agent", str(agent["id"]), "--no-redirect-https")
    rid = int(dict(line.split(": ", 1) for line in r.stdout.splitlines())["id"])
    lines = h.cli("route", "list").stdout.splitlines()
    assert lines[0].split() == ["ID", "HOST", "PATH", "TARGET", "AGENT", "STATUS"]
    assert lines[1].split() == [str(rid), "app.test", "/", "http://127.0.0.1:9001", str(agent["id"]),
                                "-"]
    # update goes through the ETag the CLI reads first.
    assert h.cli_json("route", "update", str(rid), "--hsts", "600")["hsts_max_age"] == 600
    # Exit codes scripts rely on (src/cli/cmd.h).
    assert h.cli("route", "get", "999", check=False).returncode == 3        # not found
    r = h.cli("route", "create", "--host", "app.test", "--target", "http://x:1", check=False)
    assert r.returncode == 4 and "already in use" in r.stderr               # conflict
    assert h.cli("route", "update", str(rid), "--hsts", "1", "--if-match", '"1"',
                 check=False).returncode == 4                               # stale ETag
    r = h.cli("route", "create", "--host", "Bad Host", "--target", "http://x:1", check=False)
    assert r.returncode == 2 and "host:" in r.stderr                        # validation
    assert h.cli("route", "frobnicate", check=False).returncode == 2        # usage
    assert h.cli("agent", "delete", str(agent["id"]), check=False).returncode == 4  # in use
    r = h.cli("route", "list", "--socket", "/nonexistent", check=False, conn=False)
    assert r.returncode == 6                                                # unreachable
    # Remote hub with a token: read scope cannot write (auth = 5).
    tok = h.token("read")
    # (over TLS: the hub never serves its API on plain HTTP)
    remote = [netlab.postern_bin(), "route", "--hub", "https://hub.test",
              "--cacert", ca.crt, "--resolve", "hub.test:443:127.0.0.1"]
    r = h.ns.run([netlab.postern_bin(), "route", "list", "--hub", f"http://hub.test:{h.port}",
                  "--resolve", f"hub.test:{h.port}:127.0.0.1"], check=False,
                 env={**os.environ, "POSTERN_TOKEN": tok})
    assert r.returncode != 0 and "403" in r.stderr and "app.test" not in r.stdout
    env = {**os.environ, "POSTERN_TOKEN": tok}
    r = h.ns.run(remote[:2] + ["list"] + remote[2:], check=False, env=env)
    assert r.returncode == 0 and "app.test" in r.stdout, r.stderr
    r = h.ns.run(remote[:2] + ["delete", str(rid)] + remote[2:], check=False, env=env)
    assert r.returncode == 5 and "read scope" in r.stderr                   # auth
    env["POSTERN_TOKEN"] = "pt_not-a-token"
    r = h.ns.run(remote[:2] + ["list"] + remote[2:], check=False, env=env)
    assert r.returncode == 5
    # --token on the command line works the same as the variable.
    r = h.ns.run(remote[:2] + ["list", "--json", "--token", tok] + remote[2:], check=False)
    assert r.returncode == 0 and json.loads(r.stdout)["items"][0]["host"] == "app.test", r.stderr
    # Tokens are shown once: create prints it, get does not.
    created = h.cli_json("token", "create", "ci", "--scope", "write")
    assert created["token"].startswith("pt_")
    shown = h.cli_json("token", "get", str(created["id"]))
    assert "token" not in shown and created["token"] not in json.dumps(shown)
    assert h.cli("token", "revoke", str(created["id"])).returncode == 0
    # Users: create, a one-time setup link, a role change, delete.
    bob = h.cli_json("user", "create", "bob", "--role", "viewer")
    assert bob["role"] == "viewer" and bob["has_password"] is False
    link = h.cli_json("user", "setup-link", str(bob["id"]))["link"]
    assert link.startswith("https://hub.test/setup#token=ps_")
    assert h.cli_json("user", "update", str(bob["id"]), "--role", "operator")["role"] == "operator"
    assert h.cli("user", "create", "bob", "--role", "viewer", check=False).returncode == 4
    assert h.cli("user", "create", "eve", "--role", "root", check=False).returncode == 2
    assert h.cli("user", "delete", str(bob["id"])).returncode == 0
    assert h.cli("user", "get", str(bob["id"]), check=False).returncode == 3
    assert h.cli("user", "delete", "1", check=False).returncode == 4     # the last admin
    # Settings.
    assert h.cli_json("settings", "set", "login.max_failures", "7")["value"] == 7
    assert h.cli("settings", "set", "login.max_failures", "0", check=False).returncode == 2
    assert h.cli_json("settings", "reset", "login.max_failures")["value"] == 5


def test_agent_ttl_is_a_bounded_number_checked_first(lab):
    """--ttl goes through the one bounded number parser: anything but plain
    digits in the API's range is a usage error naming the range, given
    before the agent is created (atoll made "abc" a 0 and "3600x" a 3600)."""
    h = Hub(lab)
    h.start()
    for bad in ("abc", "3600x", "-60", "+60", " 60", "0x3c", "59", "2592001",
                "99999999999999999999999"):
        r = h.cli("agent", "create", "nas", "--ttl", bad, check=False)
        assert r.returncode == 2, (bad, r.returncode, r.stdout, r.stderr)
        assert "--ttl must be a number from 60 to 2592000" in r.stderr, (bad, r.stderr)
        assert r.stdout == "", bad
    assert h.cli_json("agent", "list")["items"] == []
    both = h.cli_json("agent", "create", "nas", "--ttl", "3600")
    aid = both["agent"]["id"]
    r = h.cli("agent", "token", str(aid), "--ttl", "1e3", check=False)
    assert r.returncode == 2 and "--ttl must be a number" in r.stderr
    assert h.cli("agent", "token", str(aid), "--ttl", "2592000").returncode == 0
    st, _, toks = h.api("GET", f"/api/v1/agents/{aid}/join-tokens")
    assert st == 200
    lifetimes = [t["expires_at"] - t["created_at"] for t in toks["items"]]
    assert len(lifetimes) == 2
    assert abs(lifetimes[0] - 3600 * 1000) < 1000, lifetimes
    assert abs(lifetimes[1] - 2592000 * 1000) < 1000, lifetimes


def test_control_socket_checks_peer_credentials(lab):
    """The socket's file mode is not the only gate: a process that can
    connect but is neither root nor in the postern group is refused by the
    API (SO_PEERCRED), and the CLI says so with exit code 5."""
    h = Hub(lab)
    h.start()
    h.cli("route", "create", "--host", "app.test", "--target", "http://127.0.0.1:9")
    os.chmod(h.sock, 0o666)
    # A hard link in a directory anyone can search: only the socket's own
    # mode stands between "nobody" and the hub now.
    pub = tempfile.mkdtemp(prefix="postern-sock-")
    try:
        os.chmod(pub, 0o755)
        link = os.path.join(pub, "control.sock")
        os.link(h.sock, link)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  netlab.postern_bin(), "route", "list", "--socket", link]
        r = subprocess.run(nobody, capture_output=True, text=True, timeout=60)
        assert r.returncode == 5, (r.returncode, r.stdout, r.stderr)
        assert "app.test" not in r.stdout
        r = subprocess.run(nobody[4:], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "app.test" in r.stdout, r.stderr
    finally:
        shutil.rmtree(pub)


def test_route_from_cli_and_api_served_at_once_under_load(lab):
    h = Hub(lab)
    h.upstream(9001, "steady")
    new_up = h.upstream(9002, "new")
    h.start()
    h.cli("route", "create", "--host", "steady.test", "--target", "http://127.0.0.1:9001",
          "--no-redirect-https")
    netlab.wait_until(lambda: get(h, "steady.test")[0] == 200, what="steady route")
    assert get(h, "new.test")[0] == 404
    load = Load(h, "steady.test")
    load.start()
    netlab.wait_until(lambda: load.ok > 20, what="load running")
    # Through the CLI: served once the command returns (the time it took is
    # printed, not bounded: a timing assertion would measure the machine's load).
    t0 = time.monotonic()
    new_route = h.cli_json("route", "create", "--host", "new.test", "--target",
                           "http://127.0.0.1:9002", "--no-redirect-https")
    netlab.wait_until(lambda: get(h, "new.test") == (200, "new GET /"), interval=0.01,
                      what="route from the CLI served")
    cli_ms = (time.monotonic() - t0) * 1000
    # Through the API: a new route, then its update and deletion.
    t0 = time.monotonic()
    st, hdrs, body = h.api("POST", "/api/v1/routes", {"host": "api.test", "redirect_https": False,
                                                      "target": "http://127.0.0.1:9002/base"})
    assert st == 201, body
    netlab.wait_until(lambda: get(h, "api.test", "/x") == (200, "new GET /base/x"),
                      interval=0.01, what="route from the API served")
    api_ms = (time.monotonic() - t0) * 1000
    path = f"/api/v1/routes/{body['id']}"
    st, _, _ = h.api("PATCH", path, {"target": "http://127.0.0.1:9001"},
                     headers={"If-Match": hdrs["etag"]})
    assert st == 200
    netlab.wait_until(lambda: get(h, "api.test", "/x") == (200, "steady GET /x"),
                      interval=0.01, what="updated route served")
    for i in range(20):   # churn the table while the load runs
        st, _, b = h.api("POST", "/api/v1/routes", {"host": f"churn{i}.test",
                                                    "target": "http://127.0.0.1:9002"})
        assert st == 201
        assert h.api("DELETE", f"/api/v1/routes/{b['id']}")[0] == 204
    assert h.api("DELETE", path)[0] == 204
    netlab.wait_until(lambda: get(h, "api.test")[0] == 404, interval=0.01,
                      what="deleted route gone")
    # A request in flight when its route is deleted finishes on the old
    # snapshot; the next one sees the new table.
    slow = h.connect(timeout=20)
    slow.sendall(b"GET /slow/1500 HTTP/1.1\r\nHost: new.test\r\n\r\n")
    netlab.wait_until(lambda: any(r["target"] == "/slow/1500" for r in new_up.records()),
                      what="slow request at the upstream")
    h.cli("route", "delete", str(new_route["id"]))
    netlab.wait_until(lambda: get(h, "new.test")[0] == 404, interval=0.01,
                      what="route deleted through the CLI gone")
    st, _, body, _ = read_response(slow)
    slow.close()
    assert st == 200 and body == b"slow"
    load.finish()
    print(f"route served {cli_ms:.1f} ms after the CLI, {api_ms:.1f} ms after the API; "
          f"{load.ok} load requests")
    assert load.bad == [], load.bad[:5]
    assert load.ok > 20
    # No restart happened: one process, and every change was published.
    assert h.proc.alive()
    assert h.proc.log().count("published") >= 45
