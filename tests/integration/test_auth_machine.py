"""Machine credentials and bypass rules of login routes (issue 12): route
tokens (Bearer and Basic), share links, and bypass rules (paths, methods,
CIDRs) under path tricks. Every decision is checked over HTTP/1.1 and
HTTP/2 (curl over TLS to the hub's HTTPS listener in the test's
namespace); the upstream records what it received."""
import base64
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402
from test_auth_login import fetch, one, cookie_of  # noqa: E402

PROTOS = ["h1", "h2"]
JELLY = {"auth": "login", "groups": ["family"],
         "bypass": {"paths": ["/health"], "methods": ["OPTIONS"]}}


@pytest.fixture
def hub(lab):
    h = Hub(lab)
    up = h.upstream(9001, "a")
    h.start()
    ids = {}
    for name, body in (("jelly", {"host": "jelly.test", "target": "http://127.0.0.1:9001",
                                  "policy": json.dumps(JELLY)}),
                       ("other", {"host": "other.test", "target": "http://127.0.0.1:9001",
                                  "policy": json.dumps({"auth": "login"})}),
                       ("open", {"host": "open.test", "target": "http://127.0.0.1:9001"})):
        st, _, b = h.api("POST", "/api/v1/routes", body)
        assert st == 201, b
        ids[name] = b["id"]
    netlab.wait_until(lambda: fetch(h, "h1", "other.test", "/")[0] == 401,
                      what="the login routes published")
    return h, up, ids


def new_token(h, route_id, name="phone"):
    r = h.cli_json("route-token", "create", name, "--route", str(route_id))
    assert r["token"].startswith("prt_") and "hash" not in r
    return r


def seen(up):
    rec = up.records()[-1]
    return rec, [(k.lower(), v) for k, v in rec["headers"]]


def basic(user, pw):
    return "Authorization: Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


@pytest.mark.parametrize("proto", PROTOS)
def test_route_token_bearer_basic_and_scope(hub, proto):
    h, up, ids = hub
    tok = new_token(h, ids["jelly"])["token"]
    netlab.wait_until(lambda: fetch(h, proto, "jelly.test", "/items", headers=[
        f"Authorization: Bearer {tok}"])[0] == 200, what="the token published")
    # The consumed Authorization never reaches the upstream, nor an
    # identity the token does not have.
    st, _, body = fetch(h, proto, "jelly.test", "/items?x=1", headers=[
        f"Authorization: Bearer {tok}", "X-Postern-User: mallory"])
    assert st == 200 and body == "a GET /items?x=1"
    rec, hdrs = seen(up)
    assert not [k for k, _ in hdrs if k in ("authorization", "x-postern-user")]
    assert tok not in json.dumps(rec)
    # Basic: the password is the token, the user name anything.
    for user in ("phone", "whoever", ""):
        st, _, _ = fetch(h, proto, "jelly.test", "/dav", headers=[basic(user, tok)])
        assert st == 200
        assert "authorization" not in [k for k, _ in seen(up)[1]]
    # Scheme in any case, extra spaces.
    assert fetch(h, proto, "jelly.test", "/", headers=[f"authorization: bEaReR   {tok}"])[0] == 200
    # On another login route the token is refused, whatever else is sent.
    n = up.count()
    for hdr in (f"Authorization: Bearer {tok}", basic("phone", tok)):
        st, hd, _ = fetch(h, proto, "other.test", "/", headers=[hdr, "Accept: text/html"])
        assert st == 401
        chall = one(hd, "www-authenticate")
        assert 'Bearer realm="postern"' in chall and 'Basic realm="postern"' in chall
    # Unknown, truncated or malformed tokens of ours are refused too.
    for hdr in (f"Authorization: Bearer {tok[:-1]}", "Authorization: Bearer prt_",
                "Authorization: Bearer prt_a b", basic("x", tok + "\x01")):
        assert fetch(h, proto, "jelly.test", "/", headers=[hdr])[0] == 401
    assert up.count() == n
    # On a public route the user's own Authorization (any scheme) passes.
    for hdr in ("Authorization: Bearer theirs", basic("me", "their-password")):
        st, _, _ = fetch(h, proto, "open.test", "/", headers=[hdr])
        assert st == 200
        assert ("authorization", hdr.split(": ", 1)[1]) in seen(up)[1]


@pytest.mark.parametrize("proto", PROTOS)
def test_revoked_token_refused_and_listed_with_last_use(hub, proto):
    h, up, ids = hub
    made = new_token(h, ids["jelly"])
    tok = made["token"]
    hdr = f"Authorization: Bearer {tok}"
    netlab.wait_until(lambda: fetch(h, proto, "jelly.test", "/", headers=[hdr])[0] == 200,
                      what="the token published")
    # Listed with its creator and (batched, a few seconds later) last use;
    # never with its value or hash.
    def listed():
        items = h.cli_json("route-token", "list")["items"]
        return items if items and items[0].get("last_used_at") else None
    items = netlab.wait_until(listed, what="the token's last use recorded")
    assert items[0]["name"] == "phone" and items[0]["route_id"] == ids["jelly"]
    assert items[0]["created_by"] and items[0]["created_at"]
    assert "token" not in items[0] and "hash" not in items[0]
    out = h.cli("route-token", "list").stdout
    assert "phone" in out and tok not in out
    h.cli("route-token", "revoke", str(made["id"]))
    # Refused on every worker (several connections) once the snapshot is
    # installed; the test waits on the condition, not on a clock.
    netlab.wait_until(lambda: all(
        fetch(h, proto, "jelly.test", "/", headers=[hdr])[0] == 401 for _ in range(4)),
        what="the revoked token refused everywhere")
    audit = h.cli_json("audit", "list")
    actions = [e["action"] for e in audit["items"]]
    for a in ("route_token.create", "route_token.first_used", "route_token.delete"):
        assert a in actions, actions
    # No token value in any log or audit line.
    assert tok not in json.dumps(audit)
    assert tok not in h.proc.log()
    with open(h.access_log) as f:
        assert tok not in f.read()


@pytest.mark.parametrize("proto", PROTOS)
def test_share_link_expiry_use_limit_and_revoke(hub, proto):
    h, up, ids = hub
    made = h.cli_json("share-link", "create", "guest", "--route", str(ids["jelly"]),
                      "--expires", "3600", "--max-uses", "1")
    url = made["url"]
    m = re.fullmatch(r"https://jelly\.test/\.postern/share\?k=(psl_[A-Za-z0-9_-]{43})", url)
    assert m, url
    path = url[len("https://jelly.test"):]
    # Not on another route's host.
    assert fetch(h, proto, "other.test", path)[0] == 403
    st, hd, _ = fetch(h, proto, "jelly.test", path)
    assert st == 303 and one(hd, "location") == "/"
    auth = cookie_of(hd, "__Host-postern_auth")
    assert auth
    netlab.wait_until(lambda: fetch(h, proto, "jelly.test", "/movie",
                                    headers=[f"Cookie: {auth}"])[0] == 200,
                      what="the share session admitted")
    rec, hdrs = seen(up)
    assert not [k for k, _ in hdrs if k.startswith("x-postern-") or k == "cookie"]
    # The session is for this route only.
    assert fetch(h, proto, "other.test", "/", headers=[f"Cookie: {auth}"])[0] == 401
    # Used up: a second opening is refused, sets no cookie.
    st, hd, _ = fetch(h, proto, "jelly.test", path)
    assert st == 403 and "set-cookie" not in hd
    # Revoked: the session it gave dies too.
    h.cli("share-link", "revoke", str(made["id"]))
    netlab.wait_until(lambda: all(
        fetch(h, proto, "jelly.test", "/", headers=[f"Cookie: {auth}"])[0] == 401
        for _ in range(4)), what="the revoked link's session refused")
    actions = [e["action"] for e in h.cli_json("audit", "list")["items"]]
    for a in ("share_link.create", "share_link.first_used", "share_link.delete"):
        assert a in actions, actions
    assert m.group(1) not in h.proc.log()
    with open(h.access_log) as f:
        assert m.group(1) not in f.read()


@pytest.mark.parametrize("proto", PROTOS)
def test_expired_share_link_refused(hub, proto):
    h, up, ids = hub
    made = h.cli_json("share-link", "create", "old", "--route", str(ids["jelly"]),
                      "--expires", "3600")
    path = made["url"][len("https://jelly.test"):]
    # Age it in the store, as if an hour had passed.
    h.sql(f"UPDATE share_links SET expires_at = 1000 WHERE id = {made['id']}")
    st, hd, _ = fetch(h, proto, "jelly.test", path)
    assert st == 403 and "set-cookie" not in hd
    # An unknown or missing key is the same refusal.
    assert fetch(h, proto, "jelly.test", "/.postern/share?k=psl_nope")[0] == 403
    assert fetch(h, proto, "jelly.test", "/.postern/share")[0] == 403


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("path,passes", [
    ("/health", True), ("/health/live", True), ("/HEALTH", True), ("/health;x", True),
    ("/health?full=1", True), ("/./health", True), ("/x/../health", True),
    ("/healthz", False), ("/health/../admin", False), ("//health/..//admin", False),
    ("/health/%2e%2e/admin", False), ("/%2e%2e/admin", False), ("//admin", False),
    ("/admin", False), ("/admin/health", False), ("/health%2fx", False),
])
def test_bypass_path_tricks(hub, proto, path, passes):
    h, up, ids = hub
    n = up.count()
    st, _, _ = fetch(h, proto, "jelly.test", path, headers=["Accept: application/json"])
    if passes:
        assert st == 200 and up.count() == n + 1
    else:
        assert st in (400, 401) and up.count() == n
    # "//health" merges to "/health": a bypass, and what is forwarded is
    # the normalised path.
    if path == "/health":
        st, _, _ = fetch(h, proto, "jelly.test", "//health")
        assert st == 200 and seen(up)[0]["target"] == "/health"


@pytest.mark.parametrize("proto", PROTOS)
def test_bypass_methods_and_cidrs(hub, proto):
    h, up, ids = hub
    # OPTIONS (CORS preflight) passes, other methods do not.
    assert fetch(h, proto, "jelly.test", "/api/x", method="OPTIONS")[0] == 200
    assert fetch(h, proto, "jelly.test", "/api/x", method="DELETE")[0] == 401
    # A client range: the test's client is 127.0.0.1.
    pol = {"auth": "login", "bypass": {"cidrs": ["127.0.0.0/8"]}}
    st, _, b = h.api("PATCH", f"/api/v1/routes/{ids['other']}", {"policy": json.dumps(pol)},
                     headers={"If-Match": "*"})
    assert st == 200, b
    netlab.wait_until(lambda: fetch(h, proto, "other.test", "/x")[0] == 200,
                      what="the CIDR bypass published")
    pol["bypass"]["cidrs"] = ["192.0.2.0/24"]
    st, _, b = h.api("PATCH", f"/api/v1/routes/{ids['other']}", {"policy": json.dumps(pol)},
                     headers={"If-Match": "*"})
    assert st == 200, b
    netlab.wait_until(lambda: fetch(h, proto, "other.test", "/x")[0] == 401,
                      what="the CIDR bypass narrowed")
    assert "route.update" in [e["action"] for e in h.cli_json("audit", "list")["items"]]


@pytest.mark.parametrize("proto", PROTOS)
def test_websocket_upgrade_needs_credentials(hub, proto):
    h, up, ids = hub
    if proto == "h1":
        ws = ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        n = up.count()
        st, hd, _ = fetch(h, proto, "jelly.test", "/socket", headers=["Accept: text/html", *ws])
        assert st == 401 and "www-authenticate" in hd and up.count() == n
    else:
        # h2 has no Upgrade; an extended CONNECT is not offered, so a
        # browser's plain navigation is what remains: the portal.
        st, hd, _ = fetch(h, proto, "jelly.test", "/socket", headers=["Accept: text/html"])
        assert st == 302 and one(hd, "location").startswith("https://hub.test/login?rd=")


def test_policy_bypass_is_validated(hub):
    h, up, ids = hub
    for pol, field in (({"bypass": {"paths": ["/x"]}}, "need"),
                       ({"auth": "login", "bypass": {"paths": ["x"]}}, "paths[0]"),
                       ({"auth": "login", "bypass": {"paths": ["/a/../b"]}}, "normal form"),
                       ({"auth": "login", "bypass": {"paths": ["/a;b"]}}, "paths[0]"),
                       ({"auth": "login", "bypass": {"methods": ["get"]}}, "methods[0]"),
                       ({"auth": "login", "bypass": {"cidrs": ["10.0.0.0/33"]}}, "cidrs[0]"),
                       ({"auth": "login", "bypass": {"path": ["/x"]}}, "unknown key")):
        st, _, b = h.api("POST", "/api/v1/routes", {"host": "v.test",
                                                    "target": "http://127.0.0.1:9001",
                                                    "policy": json.dumps(pol)})
        assert st == 400 and field in b["error"]["message"], (pol, b)


def test_docs_worked_example_runs(lab):
    """docs/auth.md's worked example, command by command, on a fresh hub:
    the CLI syntax it shows is the real one, and the route it makes
    behaves as the page says."""
    doc = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "auth.md")
    with open(doc) as f:
        text = f.read()
    block = text.split("## A worked example", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    cmds = [c.split("#")[0].strip() for c in block.replace("\\\n", " ").splitlines()]
    cmds = [c for c in cmds if c]
    assert len(cmds) == 5 and all(c.startswith("postern ") for c in cmds), cmds
    h = Hub(lab)
    up = h.upstream(8096, "j")
    h.start()
    import shlex
    out = {}
    for c in cmds:
        argv = shlex.split(c)[1:]
        argv = [a.replace("http://10.0.0.5:8096", "http://127.0.0.1:8096") for a in argv]
        out[argv[0] + " " + argv[1]] = h.cli_json(*argv)
    tok = out["route-token create"]["token"]
    host = "jellyfin.example.com"
    netlab.wait_until(lambda: fetch(h, "h1", host, "/health")[0] == 200,
                      what="the example route published")
    assert fetch(h, "h2", host, "/HEALTH")[0] == 200
    assert fetch(h, "h1", host, "/healthz")[0] == 401
    assert fetch(h, "h2", host, "/", headers=["Accept: text/html"])[0] == 302
    netlab.wait_until(lambda: fetch(h, "h1", host, "/", headers=[
        f"Authorization: Bearer {tok}"])[0] == 200, what="the phone's token admitted")
    path = out["share-link create"]["url"].split(host, 1)[1]
    assert fetch(h, "h2", host, path)[0] == 303
    assert fetch(h, "h1", host, path)[0] == 403     # --max-uses 1
    assert up.count() >= 3
