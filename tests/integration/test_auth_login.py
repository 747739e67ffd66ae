"""Login in front of routes (issue 12): a route whose policy says
{"auth": "login"} admits only a live route cookie, which a browser gets
from the portal on the hub's host through a one-time code; the upstream
learns who the user is from X-Postern-* fields the client cannot supply.

Every decision is checked over HTTP/1.1 and HTTP/2 (curl, TLS with ALPN,
inside the test's namespace, the hub's HTTPS listener on 443 with a
self-signed certificate)."""
import json
import os
import re
import sys
import urllib.parse

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402

PROTOS = ["h1", "h2"]
HUB = "hub.test"
ORIGIN = f"https://{HUB}"
PW_ALICE = "alice has a long password"
PW_BOB = "bob has a long password too"
LOGIN = {"auth": "login", "groups": ["family"]}


def fetch(h, proto, host, path, headers=(), data=None, method=None):
    """(status, {header: [values]}, body) from curl over TLS to the hub's
    HTTPS listener with Host/:authority `host`, the path sent as is."""
    args = []
    for k in headers:
        args += ["-H", k]
    if data is not None:
        args += ["--data-binary", data]
    if method:
        args += ["-X", method]
    r = h.curl_https(proto, host, path, "--path-as-is", "-D", "-", "-o", "/dev/stderr", *args)
    return (*parse_head(r.stdout), r.stderr)


def parse_head(text):
    """(status, {header: [values]}) of a response head curl printed."""
    lines = text.splitlines()
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return int(lines[0].split()[1]), hdrs


def one(hdrs, name):
    v = hdrs.get(name, [])
    assert len(v) == 1, (name, hdrs)
    return v[0]


def cookie_of(hdrs, name):
    for v in hdrs.get("set-cookie", []):
        if v.startswith(name + "="):
            return v.split(";")[0]
    return None


def viewer(name, pw, groups):
    """The API body of a viewer `name` with a password, `groups` and an
    e-mail address at example.org."""
    return {"name": name, "role": "viewer", "groups": groups, "password": pw,
            "email": f"{name}@example.org"}


def route(host, policy=None, **more):
    """The API body of a route for `host` to the upstream on port 9001,
    with `policy` (JSON-encoded) when given and the `more` fields."""
    body = {"host": host, "target": "http://127.0.0.1:9001", **more}
    if policy is not None:
        body["policy"] = json.dumps(policy)
    return body


def start_hub(lab, routes, users):
    """A hub with upstream "a" on 9001 and the given route and user
    bodies created; returns (hub, upstream)."""
    h = Hub(lab)
    up = h.upstream(9001, "a")
    h.start()
    h.create("/api/v1/routes", *routes)
    h.create("/api/v1/users", *users)
    return h, up


@pytest.fixture
def hub(lab):
    h, up = start_hub(lab, [route("app.test", LOGIN), route("part.test"),
                            route("part.test", {"auth": "login"}, path_prefix="/admin"),
                            route("other.test", {"auth": "login"})],
                      [viewer("alice", PW_ALICE, "family,media"), viewer("bob", PW_BOB, "")])
    netlab.wait_until(lambda: fetch(h, "h1", "other.test", "/")[0] == 401,
                      what="the login routes published")
    return h, up


def start(h, proto, rd):
    """A browser opens `rd` on its login route: the login state the hub
    set there as a cookie and passed to the portal beside rd."""
    u = urllib.parse.urlsplit(rd)
    st, hd, _ = fetch(h, proto, u.hostname, u.path + (f"?{u.query}" if u.query else ""),
                      headers=["Accept: text/html"])
    assert st == 302, (st, hd)
    set_c = [v for v in hd["set-cookie"] if v.startswith("__Host-postern_state=")][0]
    for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=600"):
        assert attr in set_c
    assert "Domain" not in set_c
    state = cookie_of(hd, "__Host-postern_state").split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", state)
    # The hub writes the path's escapes in upper case (%2f -> %2F).
    rd = re.sub(r"%[0-9a-f]{2}", lambda e: e.group(0).upper(), rd)
    assert one(hd, "location") == "https://hub.test/login?rd=" + \
        urllib.parse.quote(rd, safe="") + "&state=" + state
    return state


def login(h, proto, user, pw, rd="https://app.test/private?x=1", state=None):
    """The portal's form post: (status, headers)."""
    form = urllib.parse.urlencode({"username": user, "password": pw, "rd": rd,
                                   **({"state": state} if state else {})})
    st, hd, _ = fetch(h, proto, HUB, "/login", data=form,
                      headers=["Content-Type: application/x-www-form-urlencoded",
                               f"Origin: {ORIGIN}"])
    return st, hd


def route_cookie(h, proto, user="alice", pw=PW_ALICE, host="app.test"):
    """Opens `host`, logs in and trades the code there with the login's
    state cookie: the route cookie and the portal cookie."""
    state = start(h, proto, f"https://{host}/private?x=1")
    st, hd = login(h, proto, user, pw, rd=f"https://{host}/private?x=1", state=state)
    assert st == 303, (st, hd)
    loc = one(hd, "location")
    m = re.fullmatch(rf"https://{re.escape(host)}/\.postern/callback\?code=([A-Za-z0-9_-]{{43}})",
                     loc)
    assert m, loc
    portal = cookie_of(hd, "__Host-postern_portal")
    assert portal
    st, hd2, _ = fetch(h, proto, host, f"/.postern/callback?code={m.group(1)}",
                       headers=[f"Cookie: __Host-postern_state={state}"])
    assert st == 303 and one(hd2, "location") == "/private?x=1", (st, hd2)
    # The state is spent with the code: its cookie is cleared.
    assert [v for v in hd2["set-cookie"] if v.startswith("__Host-postern_state=;")
            and "Max-Age=0" in v]
    set_c = [v for v in hd2["set-cookie"] if v.startswith("__Host-postern_auth=")][0]
    for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attr in set_c
    assert "Domain" not in set_c
    return cookie_of(hd2, "__Host-postern_auth"), portal, m.group(1)


@pytest.mark.parametrize("proto", PROTOS)
def test_unauthenticated_browser_and_api_clients(hub, proto):
    h, up = hub
    # 302 to https://hub.test/login?rd=https%3A%2F%2Fapp.test%2Fprivate%3Fx%3D1
    # &state=..., the state also set as a cookie on app.test.
    start(h, proto, "https://app.test/private?x=1")
    st, hd, _ = fetch(h, proto, "app.test", "/private", headers=["Accept: application/json"])
    assert st == 401 and "www-authenticate" in hd
    # A WebSocket upgrade is no browser navigation either.
    if proto == "h1":
        st, _, _ = fetch(h, proto, "app.test", "/ws", headers=[
            "Accept: text/html", "Connection: Upgrade", "Upgrade: websocket",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
        assert st == 401
    # A forged cookie of the right name is no session.
    st, _, _ = fetch(h, proto, "app.test", "/private",
                     headers=["Cookie: __Host-postern_auth=1.2.3.99999999999." + "A" * 43])
    assert st == 401
    # The public part of a host stays public.
    st, _, body = fetch(h, proto, "part.test", "/open")
    assert st == 200 and body == "a GET /open"
    assert up.count() == 1


@pytest.mark.parametrize("proto", PROTOS)
def test_portal_page_is_strict(hub, proto):
    h, _ = hub
    st, hd, body = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fapp.test%2Fprivate")
    assert st == 200
    assert one(hd, "content-type").startswith("text/html")
    csp = one(hd, "content-security-policy")
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    # One script, a file of the hub's (the passkey button): never inline.
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/passkey.js" defer>']
    assert one(hd, "referrer-policy") == "same-origin"
    assert 'name="rd" value="https://app.test/private"' in body
    assert 'name="viewport"' in body
    st, hd, css = fetch(h, proto, HUB, "/portal.css")
    assert st == 200 and one(hd, "content-type").startswith("text/css") and "body" in css


@pytest.mark.parametrize("proto", PROTOS)
def test_login_code_exchange_and_identity(hub, proto):
    h, up = hub
    auth, _, code = route_cookie(h, proto)
    # The code was spent: a second use is refused.
    st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}")
    assert st == 400 and "set-cookie" not in hd
    # The cookie opens the route; the upstream learns who, never the
    # hub's cookies nor a client's own X-Postern-* or forged identity.
    st, _, body = fetch(h, proto, "app.test", "/private?x=1", headers=[
        f"Cookie: theirs=1; {auth}; __Host-postern_portal=x; __Host-postern_state=y",
        "X-Postern-User: mallory", "X-Postern-Groups: admin", "x-postern-email: m@evil"])
    assert st == 200 and body == "a GET /private?x=1"
    rec = up.records()[-1]
    hdrs = [(k.lower(), v) for k, v in rec["headers"]]
    assert ("x-postern-user", "alice") in hdrs
    assert ("x-postern-groups", "family,media") in hdrs
    assert ("x-postern-email", "alice@example.org") in hdrs
    assert [v for k, v in hdrs if k == "x-postern-user"] == ["alice"]
    assert [v for k, v in hdrs if k == "cookie"] == ["theirs=1"]
    # The cookie is bound to its host: replayed on another login route
    # it is nothing.
    st, _, _ = fetch(h, proto, "other.test", "/", headers=[f"Cookie: {auth}"])
    assert st == 401
    # A code for one host is refused (and spent) on another.
    st, hd = login(h, proto, "alice", PW_ALICE, rd="https://app.test/")
    code2 = one(hd, "location").rsplit("=", 1)[1]
    st, _, _ = fetch(h, proto, "other.test", f"/.postern/callback?code={code2}")
    assert st == 400
    st, _, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code2}")
    assert st == 400
    # The reserved prefix is the hub's on every route host.
    n = up.count()
    st, _, _ = fetch(h, proto, "app.test", "/.postern/other", headers=[f"Cookie: {auth}"])
    assert st == 404 and up.count() == n


@pytest.mark.parametrize("proto", PROTOS)
def test_code_logs_in_only_the_browser_that_started_it(hub, proto):
    """Login CSRF: bob logs in for app.test, keeps the code from the 303
    and has alice's browser open the callback. Without bob's state cookie
    (none, or one of alice's own logins) the code logs nobody in: alice's
    browser is sent back through the route, and the refusal is audited."""
    h, up = hub
    codes = []
    for _ in range(2):
        state = start(h, proto, "https://app.test/")
        st, hd = login(h, proto, "bob", PW_BOB, rd="https://app.test/", state=state)
        assert st == 303, hd
        m = re.fullmatch(r"https://app\.test/\.postern/callback\?code=([A-Za-z0-9_-]{43})",
                         one(hd, "location"))
        assert m, hd
        codes.append((m.group(1), state))
    other = start(h, proto, "https://app.test/private?x=1")    # alice's own login
    for (code, state), cookie in zip(codes, ([], [f"Cookie: __Host-postern_state={other}"])):
        st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                          headers=cookie)
        assert st == 303 and one(hd, "location") == "/", (st, hd)
        assert cookie_of(hd, "__Host-postern_auth") is None, hd
        # Refused is spent: not even bob's own browser can use it now.
        st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                          headers=[f"Cookie: __Host-postern_state={state}"])
        assert st == 400 and cookie_of(hd, "__Host-postern_auth") is None
    bob = h.sql("SELECT id FROM users WHERE name = 'bob'").strip()
    assert h.sql("SELECT count(*) FROM audit_log WHERE action = 'portal.code_refused'"
                 f" AND object = 'user:{bob}'").strip() == "2"
    assert up.count() == 0


@pytest.mark.parametrize("proto", PROTOS)
def test_logins_started_in_two_tabs(hub, proto):
    """One browser opens two pages of app.test before logging in: each
    tab's login gets a state, and the cookie keeps both (newest first,
    at most 3), so finishing either login first works, and finishing it
    leaves the other one pending."""
    h, up = hub

    def open_page(path, jar):
        st, hd, _ = fetch(h, proto, "app.test", path, headers=[
            "Accept: text/html", *([f"Cookie: __Host-postern_state={jar}"] if jar else [])])
        assert st == 302, (st, hd)
        state = re.search(r"&state=([A-Za-z0-9_-]{43})$", one(hd, "location")).group(1)
        return state, cookie_of(hd, "__Host-postern_state").split("=", 1)[1]

    s1, jar = open_page("/one", None)
    s2, jar = open_page("/two", jar)
    assert jar == f"{s2}.{s1}"
    # The older tab logs in first.
    st, hd = login(h, proto, "alice", PW_ALICE, rd="https://app.test/one", state=s1)
    code = one(hd, "location").rsplit("=", 1)[1]
    st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                      headers=[f"Cookie: __Host-postern_state={jar}"])
    assert st == 303 and one(hd, "location") == "/one" and cookie_of(hd, "__Host-postern_auth")
    jar = cookie_of(hd, "__Host-postern_state").split("=", 1)[1]
    assert jar == s2
    # Then the other; its state was the last, so the cookie is cleared.
    st, hd = login(h, proto, "alice", PW_ALICE, rd="https://app.test/two", state=s2)
    code = one(hd, "location").rsplit("=", 1)[1]
    st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                      headers=[f"Cookie: __Host-postern_state={jar}"])
    assert st == 303 and one(hd, "location") == "/two" and cookie_of(hd, "__Host-postern_auth")
    assert [v for v in hd["set-cookie"] if v.startswith("__Host-postern_state=;")
            and "Max-Age=0" in v]
    # Four tabs: the newest three are kept; junk in the cookie is dropped.
    jar = None
    states = []
    for i in range(4):
        s, jar = open_page(f"/t{i}", jar if i != 2 else f"{jar}.junk")
        states.append(s)
    assert jar == ".".join(reversed(states[1:]))
    assert up.count() == 0


# How the callback's path may be spelled: a spelling the front
# normalises to /.postern/callback (slashes, dot segments, escaped
# unreserved characters) is the callback; any other one under the
# reserved prefix, also as a backend that decodes %2F reads it, is the
# hub's 404 and leaves the code unspent. Neither ever reaches the
# upstream.
CALLBACK_SPELLINGS = [
    ("/.postern/%63allback", True), ("//.postern/callback", True),
    ("/a/../.postern/callback", True), ("/%2epostern/callback", True),
    ("/.postern//callback", True), ("/.postern/./callback", True),
    ("/.postern/callback;a", False), ("/.POSTERN/callback", False),
    ("/.postern/callback/", False), ("/.postern/callback%3b", False),
    ("/.postern/Callback", False), ("/.postern%2Fcallback", False),
    ("/%2F.postern/callback", False), ("/.postern%5Ccallback", False),
]


@pytest.mark.parametrize("proto", PROTOS)
def test_callback_path_spellings(hub, proto):
    h, up = hub
    for path, is_callback in CALLBACK_SPELLINGS:
        state = start(h, proto, "https://app.test/private?x=1")
        st, hd = login(h, proto, "alice", PW_ALICE, rd="https://app.test/private?x=1",
                       state=state)
        code = one(hd, "location").rsplit("=", 1)[1]
        cookie = [f"Cookie: __Host-postern_state={state}"]
        st, hd, _ = fetch(h, proto, "app.test", f"{path}?code={code}", headers=cookie)
        if is_callback:
            assert st == 303 and cookie_of(hd, "__Host-postern_auth"), (path, st, hd)
        else:
            assert st == 404 and "set-cookie" not in hd, (path, st, hd)
            # Unspent: the real callback still takes it.
            st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                              headers=cookie)
            assert st == 303 and cookie_of(hd, "__Host-postern_auth"), (path, st, hd)
    assert up.count() == 0


@pytest.mark.parametrize("proto", PROTOS)
def test_groups_and_already_logged_in(hub, proto):
    h, up = hub
    # bob is in no group: logged in, but not admitted to app.test.
    auth, portal, _ = route_cookie(h, proto, "bob", PW_BOB)
    st, _, _ = fetch(h, proto, "app.test", "/private", headers=[f"Cookie: {auth}"])
    assert st == 403 and up.count() == 0
    # With the portal cookie, the next route needs no password: straight
    # on with a fresh code.
    st, hd, _ = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fother.test%2Fa",
                      headers=[f"Cookie: {portal}"])
    assert st == 303
    assert one(hd, "location").startswith("https://other.test/.postern/callback?code=")


def logout(h, proto, portal, everywhere=False):
    """The portal's logout form, from the portal's own page."""
    st, hd, _ = fetch(h, proto, HUB, "/logout", data="scope=everywhere" if everywhere else "",
                      headers=[f"Cookie: {portal}",
                               "Content-Type: application/x-www-form-urlencoded",
                               f"Origin: {ORIGIN}"])
    assert st == 200
    assert any(v.startswith("__Host-postern_portal=;") for v in hd["set-cookie"])


def answers(h, proto, auth, want):
    """Four requests with this route cookie (over the workers) all get
    `want` (200: a live session, 401: refused)."""
    return all(fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])[0] == want
               for _ in range(4))


@pytest.mark.parametrize("proto", PROTOS)
def test_logout_on_one_device_keeps_the_others(hub, proto):
    """Two devices log in (two login sessions: their expiries differ, so
    the second login waits for the clock's next second). Logging out on
    the first ends its portal and route cookies everywhere, also after a
    restart; the second device's stay live until it logs out everywhere."""
    import time
    h, _ = hub
    auth_a, portal_a, _ = route_cookie(h, proto)
    t0 = int(time.time())
    netlab.wait_until(lambda: int(time.time()) > t0, what="the next second")
    auth_b, portal_b, _ = route_cookie(h, proto)
    assert answers(h, proto, auth_a, 200) and answers(h, proto, auth_b, 200)
    logout(h, proto, portal_a)
    netlab.wait_until(lambda: answers(h, proto, auth_a, 401),
                      what="device A's route cookie refused on every worker")
    assert answers(h, proto, auth_b, 200)
    st, _, body = fetch(h, proto, HUB, "/login", headers=[f"Cookie: {portal_a}"])
    assert st == 200 and 'name="password"' in body      # A's portal session is over
    st, _, body = fetch(h, proto, HUB, "/login", headers=[f"Cookie: {portal_b}"])
    assert st == 200 and "You are logged in" in body and "everywhere" in body
    # The logout is kept in the store: a restart does not revive A.
    h.restart()
    netlab.wait_until(lambda: answers(h, proto, auth_b, 200), what="B live after the restart")
    assert answers(h, proto, auth_a, 401)
    logout(h, proto, portal_b, everywhere=True)
    netlab.wait_until(lambda: answers(h, proto, auth_b, 401), what="device B's cookie refused")


@pytest.mark.parametrize("proto", PROTOS)
def test_logout_revokes_every_cookie(hub, proto):
    h, up = hub
    auth, portal, _ = route_cookie(h, proto)
    st, _, _ = fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])
    assert st == 200
    # Logout needs the portal's own form (Origin).
    st, _, _ = fetch(h, proto, HUB, "/logout", data="", headers=[
        f"Cookie: {portal}", "Content-Type: application/x-www-form-urlencoded",
        "Origin: https://evil.test"])
    assert st == 403
    st, hd, _ = fetch(h, proto, HUB, "/logout", data="", headers=[
        f"Cookie: {portal}", "Content-Type: application/x-www-form-urlencoded",
        f"Origin: {ORIGIN}"])
    assert st == 200
    assert any(v.startswith("__Host-postern_portal=;") for v in hd["set-cookie"])
    netlab.wait_until(lambda: all(
        fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])[0] == 401
        for _ in range(4)), what="the route cookie revoked on every worker")
    st, hd, body = fetch(h, proto, HUB, "/login", headers=[f"Cookie: {portal}"])
    assert st == 200 and 'name="password"' in body
    # A disabled user's cookie dies the same way.
    auth, _, _ = route_cookie(h, proto)
    assert fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])[0] == 200
    st, _, b = h.api("PATCH", "/api/v1/users/2", {"disabled": True},
                     headers={"If-Match": "*"})
    assert st == 200, b
    netlab.wait_until(lambda: all(
        fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])[0] == 401
        for _ in range(4)), what="a disabled user's cookie refused")


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("rd", [
    "https://evil.test/",
    "https://app.test.evil.test/",
    "https://app.test@evil.test/",
    "https://app.test//evil.test/",
    "https://app.test/\\evil.test",
    "http://app.test/",
    "//app.test/",
    "https://hub.test/",
    "javascript:alert(1)",
    "https://app.test",
])
def test_no_open_redirect(hub, proto, rd):
    h, _ = hub
    q = urllib.parse.quote(rd, safe="")
    st, hd, body = fetch(h, proto, HUB, f"/login?rd={q}")
    assert st == 400 and "location" not in hd and 'name="rd"' not in body
    st, hd = login(h, proto, "alice", PW_ALICE, rd=rd)
    assert st == 303 and one(hd, "location") == "/login", (rd, hd)


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("path", [
    "/admin", "/admin/x", "/x/../admin", "/%61dmin", "/%2e/admin", "/x/%2e%2e/admin",
    "//admin", "/ADMIN", "/Admin/x", "/admin;x=1", "/admin?q", "/./admin/",
    # Read as /admin/ by a backend that decodes an encoded slash (Go's
    # ServeMux, WSGI's PATH_INFO, nginx's $uri): another route's path.
    "/admin%2F", "/admin%2fx", "/Admin%5Cx", "/%2fadmin",
])
def test_path_tricks_on_a_protected_prefix(hub, proto, path):
    h, up = hub
    st, _, _ = fetch(h, proto, "part.test", path)
    assert st in (400, 401), (path, st)
    assert up.count() == 0


def test_login_flood_is_throttled(hub):
    h, _ = hub
    codes = []
    for i in range(30):
        st, hd = login(h, "h1" if i % 2 else "h2", "alice", f"wrong password {i:04d}")
        codes.append(st)
        if st == 429:
            assert "retry-after" in hd
            break
    assert codes[0] == 401 and codes[-1] == 429, codes
    # Guessing on: a refused attempt does not count, each one after the
    # wait ran out doubles it (1 s, 2 s, 4 s, 8 s). Once the wait is long
    # enough that no loaded machine outlasts it before the next request...
    n = [0]

    def long_wait():
        n[0] += 1
        st, hd = login(h, "h1" if n[0] % 2 else "h2", "alice", f"guess {n[0]:04d}")
        assert st in (401, 429), st
        return st == 429 and int(one(hd, "retry-after")) >= 8
    netlab.wait_until(long_wait, timeout=120, interval=0.2, what="an 8 s wait")
    # ...even the right password waits (no hash computed).
    st, _ = login(h, "h1", "alice", PW_ALICE)
    assert st == 429
    # A wrong form or a foreign origin is refused before any check.
    form = urllib.parse.urlencode({"username": "alice", "password": PW_ALICE})
    st, _, _ = fetch(h, "h1", HUB, "/login", data=form, headers=[
        "Content-Type: application/x-www-form-urlencoded", "Origin: https://evil.test"])
    assert st == 403


def test_policy_is_validated_by_the_shared_parser(hub):
    h, _ = hub
    for bad in ({"auth": "maybe"}, {"groups": ["family"]}, {"auth": "login", "groups": ["Bad!"]},
                {"auth": "login", "users": "alice"}, {"auth": "login", "role": "x"}):
        st, _, b = h.api("POST", "/api/v1/routes", {"host": "bad.test", "target": "http://a:1",
                                                    "policy": json.dumps(bad)})
        assert st == 400 and b["error"]["field"] == "policy", (bad, b)
    st, _, b = h.api("POST", "/api/v1/users", {"name": "carol", "role": "viewer",
                                                "groups": "a,a"})
    assert st == 400 and b["error"]["field"] == "groups"
    st, _, b = h.api("POST", "/api/v1/users", {"name": "carol", "role": "viewer",
                                                "email": "no at sign"})
    assert st == 400 and b["error"]["field"] == "email"
    # The CLI sets groups and policies too, through the same checks.
    r = h.cli_json("user", "create", "dave", "--role", "viewer", "--groups", "family,kids")
    assert r["groups"] == "family,kids"
    r = h.cli_json("route", "create", "--host", "cli.test", "--target", "http://a:1",
                   "--policy", '{"auth":"login","users":["dave"]}')
    assert json.loads(r["policy"]) == {"auth": "login", "users": ["dave"]}
    r = h.cli("route", "create", "--host", "cli2.test", "--target", "http://a:1",
              "--policy", '{"auth":"login","users":["Dave!"]}', check=False)
    assert r.returncode != 0 and "policy" in (r.stdout + r.stderr)


def oathtool(secret, offset=0):
    """The reference implementation's code for now + offset seconds."""
    import subprocess
    import time
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + offset))
    return subprocess.run(["oathtool", "--totp", "-b", secret, "--now", when],
                          capture_output=True, text=True, check=True).stdout.strip()


def form_post(h, proto, path, fields, cookie=None):
    headers = ["Content-Type: application/x-www-form-urlencoded", f"Origin: {ORIGIN}"]
    if cookie:
        headers.append(f"Cookie: {cookie}")
    return fetch(h, proto, HUB, path, data=urllib.parse.urlencode(fields), headers=headers)


@pytest.mark.parametrize("proto", PROTOS)
def test_totp_enrol_login_and_replay(hub, proto):
    h, up = hub
    auth, portal, _ = route_cookie(h, proto)
    st, hd, page = fetch(h, proto, HUB, "/totp", headers=[f"Cookie: {portal}"])
    assert st == 200 and "<svg" in page and "<script" not in page
    secret = re.search(r'<code id="secret">([A-Z2-7]{32})</code>', page).group(1)
    # A wrong first code does not enrol.
    st, _, _ = form_post(h, proto, "/totp", {"code": "000000" if oathtool(secret) != "000000"
                                             else "111111"}, portal)
    assert st == 400
    st, hd, page = fetch(h, proto, HUB, "/totp", headers=[f"Cookie: {portal}"])
    secret = re.search(r'<code id="secret">([A-Z2-7]{32})</code>', page).group(1)
    st, _, body = form_post(h, proto, "/totp", {"code": oathtool(secret)}, portal)
    assert st == 200 and "Authenticator added" in body
    recovery = re.findall(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>", body)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    # Only hashes are kept.
    assert recovery[0] not in h.sql("SELECT hash FROM user_recovery_codes")
    # A new factor ends the sessions it did not protect.
    netlab.wait_until(lambda: fetch(h, proto, "app.test", "/p",
                                    headers=[f"Cookie: {auth}"])[0] == 401,
                      what="old cookie revoked")
    # The password alone is no longer a login: the code form comes next.
    st, hd = login(h, proto, "alice", PW_ALICE)
    assert st == 200 and "set-cookie" not in hd
    _, _, page = form_post(h, proto, "/login", {
        "username": "alice", "password": PW_ALICE, "rd": "https://app.test/private?x=1"})
    pending = re.search(r'name="pending" value="([^"]+)"', page).group(1)
    # A code from two steps ago, and garbage, are refused.
    st, _, _ = form_post(h, proto, "/login/totp", {"pending": pending, "rd": "https://app.test/",
                                                    "code": oathtool(secret, -60)})
    assert st == 401
    # The next step's code is inside the window (the enrolment used this one).
    code = oathtool(secret, 30)
    st, hd, _ = form_post(h, proto, "/login/totp", {
        "pending": pending, "code": code, "rd": "https://app.test/private?x=1"})
    assert st == 303, hd
    assert one(hd, "location").startswith("https://app.test/.postern/callback?code=")
    assert cookie_of(hd, "__Host-postern_portal")
    # Replayed: the same code again is refused, even with a fresh pending token.
    st, _, page = form_post(h, proto, "/login", {"username": "alice", "password": PW_ALICE})
    pending = re.search(r'name="pending" value="([^"]+)"', page).group(1)
    st, _, _ = form_post(h, proto, "/login/totp", {"pending": pending, "code": code})
    assert st == 401
    # A recovery code works once instead of a code (any case, no dashes).
    for expect in (303, 401):
        _, _, page = form_post(h, proto, "/login", {"username": "alice", "password": PW_ALICE})
        pending = re.search(r'name="pending" value="([^"]+)"', page).group(1)
        st, _, _ = form_post(h, proto, "/login/totp", {
            "pending": pending, "code": recovery[3].replace("-", "").upper()})
        assert st == expect
    # A forged pending token is no shortcut past the password.
    st, _, _ = form_post(h, proto, "/login/totp", {"pending": "1.2.3.4." + "A" * 43,
                                                    "code": oathtool(secret, 30)})
    assert st == 400


@pytest.mark.parametrize("proto", PROTOS)
def test_setup_link_opens_a_working_page(hub, proto):
    h, _ = hub
    token = h.setup_link()     # the first start's link, https://hub.test/setup#token=...
    assert token
    st, hd, page = fetch(h, proto, HUB, "/setup")
    assert st == 200 and 'name="token"' in page and 'name="password"' in page
    csp = one(hd, "content-security-policy")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<script src="/setup.js" defer></script>' in page
    assert re.search(r"<script>", page) is None
    st, hd, js = fetch(h, proto, HUB, "/setup.js")
    assert st == 200 and "location.hash" in js and "replaceState" in js
    # Two different passwords, and a foreign origin, are refused.
    st, _, _ = form_post(h, proto, "/setup", {"token": token, "password": "x" * 12,
                                              "password2": "y" * 12})
    assert st == 400
    st, _, _ = fetch(h, proto, HUB, "/setup", data=urllib.parse.urlencode(
        {"token": token, "password": "x" * 12, "password2": "x" * 12}),
        headers=["Content-Type: application/x-www-form-urlencoded", "Origin: https://evil.test"])
    assert st == 403
    pw = "the admin's own new password"
    st, hd, _ = form_post(h, proto, "/setup", {"token": token, "password": pw, "password2": pw})
    assert st == 303 and one(hd, "location") == "/login"
    # The link works once.
    st, _, _ = form_post(h, proto, "/setup", {"token": token, "password": pw, "password2": pw})
    assert st == 401
    # And the password it set logs in on the portal.
    st, hd = login(h, proto, "admin", pw, rd="https://other.test/")
    assert st == 303 and one(hd, "location").startswith("https://other.test/.postern/callback")


def test_admins_must_have_a_second_factor(hub):
    h, _ = hub
    proto = "h1"
    pw = "the admin password is long"
    h.set_password(1, pw)
    origin = {"Origin": ORIGIN}
    # Off by default: the admin API's password login works as before.
    st, _, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": pw},
                      headers=origin)
    assert st == 201, b
    st, _, b = h.api("PUT", "/api/v1/settings/login.admin_second_factor", {"value": 1},
                     headers={"If-Match": "*"})
    assert st in (200, 204), b
    # On: the API refuses the admin until they enrol; a viewer is not affected.
    st, _, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": pw},
                      headers=origin)
    assert st == 403 and b["error"]["code"] == "second_factor_required", b
    st, _, b = h.http("POST", "/api/v1/session", {"username": "bob", "password": PW_BOB},
                      headers=origin)
    assert st == 201, b
    # The portal sends the admin to enrolment, not to a route.
    st, hd = login(h, proto, "admin", pw, rd="https://other.test/")
    assert st == 303 and one(hd, "location") == "/totp"
    portal = cookie_of(hd, "__Host-postern_portal")
    st, hd, _ = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fother.test%2F",
                      headers=[f"Cookie: {portal}"])
    assert st == 303 and one(hd, "location") == "/totp"
    _, _, page = fetch(h, proto, HUB, "/totp", headers=[f"Cookie: {portal}"])
    secret = re.search(r'<code id="secret">([A-Z2-7]{32})</code>', page).group(1)
    st, _, _ = form_post(h, proto, "/totp", {"code": oathtool(secret)}, portal)
    assert st == 200
    # Enrolled: the API takes the code with the password, once.
    st, _, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": pw},
                      headers=origin)
    assert st == 401 and b["error"]["code"] == "code_required", b
    code = oathtool(secret, 30)
    st, _, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": pw,
                                                  "code": code}, headers=origin)
    assert st == 201, b
    st, _, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": pw,
                                                  "code": code}, headers=origin)
    assert st == 401, b
