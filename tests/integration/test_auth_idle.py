"""Idle lifetime of login sessions (issue 12, docs/auth.md "Design:
sessions the workers check alone"): a route cookie carries when it was
last seen; one idle longer than session.idle_timeout is refused, an active
one is re-issued by the worker (a Set-Cookie added next to the upstream's
own) and so outlives the idle limit, while its absolute expiry stays the
one it was minted with.

The idle limit is set to a few seconds and time passes for real: every
wait is a bounded condition (netlab.wait_until), no fixed sleep."""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402
from test_auth_login import HUB, LOGIN, PROTOS, PW_ALICE, cookie_of, fetch, route_cookie  # noqa: E402

IDLE = 12		# seconds; a refresh is due after IDLE // 4
LIFETIME = 3600


@pytest.fixture
def hub(lab):
    h = Hub(lab)
    up = h.upstream(9001, "a")
    h.start()
    for key, val in (("session.idle_timeout", IDLE), ("session.lifetime", LIFETIME)):
        st, _, b = h.api("PUT", f"/api/v1/settings/{key}", {"value": val},
                         headers={"If-Match": "*"})
        assert st == 200, b
    st, _, b = h.api("POST", "/api/v1/routes", {"host": "app.test",
                                                "target": "http://127.0.0.1:9001",
                                                "policy": json.dumps(LOGIN)})
    assert st == 201, b
    st, _, b = h.api("POST", "/api/v1/users", {"name": "alice", "role": "viewer",
                                                "groups": "family", "password": PW_ALICE})
    assert st == 201, b
    netlab.wait_until(lambda: fetch(h, "h1", "app.test", "/")[0] == 401,
                      what="the login route published")
    return h, up


def claims(cookie):
    """(expiry, seen) of a session cookie "NAME=V.UID.EPOCH.EXP.SEEN.SID.MAC"."""
    f = cookie.split("=", 1)[1].split(".")
    assert len(f) == 7, cookie
    return int(f[3]), int(f[4])


def sid(cookie):
    """The login session's id a session cookie carries."""
    return int(cookie.split("=", 1)[1].split(".")[5])


def ours(hd):
    return [v for v in hd.get("set-cookie", []) if v.startswith("__Host-postern_auth=")]


@pytest.mark.parametrize("proto", PROTOS)
def test_idle_refused_active_refreshed(hub, proto):
    h, up = hub
    t_login = int(time.time())
    first, portal, _ = route_cookie(h, proto)
    exp0, seen0 = claims(first)
    # The route cookie ends with the login session it came from: the
    # portal login's time plus the lifetime (docs/auth.md).
    assert t_login <= exp0 - LIFETIME <= seen0
    cur = [first, seen0]
    refreshes = []

    def use():
        """One request with the current cookie, the upstream's two
        Set-Cookie fields in the answer; takes a refreshed cookie."""
        t0 = time.time()
        st, hd, body = fetch(h, proto, "app.test", "/cookies", headers=[f"Cookie: {cur[0]}"])
        t1 = time.time()
        assert st == 200 and body == "cookies", (st, hd)
        # The upstream's own Set-Cookie fields pass untouched, in order.
        mine = ours(hd)
        assert [v for v in hd["set-cookie"] if v not in mine] == \
            ["up_a=1; Path=/", "up_b=2; Path=/; HttpOnly"], hd
        if not mine:
            # Not due yet: once per IDLE // 4 per cookie at most (the
            # hub's clock is ours; it saw the request before t1).
            return
        assert len(mine) == 1, mine
        for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
            assert attr in mine[0]
        new = mine[0].split(";")[0]
        exp, seen = claims(new)
        # The absolute expiry is the one minted at login; only "seen" moves.
        assert exp == exp0 and seen > cur[1] and seen <= int(t1)
        max_age = int([a for a in mine[0].split("; ") if a.startswith("Max-Age=")][0][8:])
        assert 0 < max_age <= exp0 - seen
        refreshes.append(new)
        cur[0], cur[1] = new, seen

    # A fresh cookie is not re-issued on every response.
    use()
    if int(time.time()) - seen0 < IDLE // 4:
        assert not refreshes
    # Kept active, the session outlives the idle limit: the first cookie,
    # never refreshed by its holder, goes idle and is refused.
    def first_idle():
        use()
        st, _, _ = fetch(h, proto, "app.test", "/private", headers=[f"Cookie: {first}"])
        return st == 401
    netlab.wait_until(first_idle, timeout=IDLE * 4, interval=0.5, what="the first cookie idle")
    assert refreshes, "no refresh while active"
    use()
    assert cur[0] != first and claims(cur[0])[0] == exp0
    # ... and the session it belongs to, which the portal cookie names.
    assert sid(cur[0]) == sid(first) == sid(portal) > 0
    st, _, body = fetch(h, proto, "app.test", "/private", headers=[f"Cookie: {cur[0]}"])
    assert st == 200 and body == "a GET /private"
    # A browser with an idle cookie goes back to the portal; the portal's
    # own cookie went idle too (nobody used it), so it asks for the
    # password again instead of passing straight on.
    st, hd, _ = fetch(h, proto, "app.test", "/private",
                      headers=["Accept: text/html", f"Cookie: {first}"])
    assert st == 302 and hd["location"][0].startswith(f"https://{HUB}/login?rd=")
    st, hd, body = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fapp.test%2Fa",
                         headers=[f"Cookie: {portal}"])
    assert st == 200 and 'name="password"' in body, (st, hd)
    assert cookie_of(hd, "__Host-postern_auth") is None


@pytest.mark.parametrize("proto", PROTOS)
def test_portal_cookie_refreshed(hub, proto):
    h, _ = hub
    _, portal, _ = route_cookie(h, proto)
    exp0, seen0 = claims(portal)

    def refreshed():
        st, hd, _ = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fapp.test%2Fa",
                          headers=[f"Cookie: {portal}"])
        assert st == 303, (st, hd)	# still logged in: straight on to the route
        return cookie_of(hd, "__Host-postern_portal")
    new = netlab.wait_until(refreshed, timeout=IDLE * 2, interval=0.5,
                            what="the portal cookie re-issued")
    exp, seen = claims(new)
    assert exp == exp0 and seen >= seen0 + IDLE // 4
    st, hd, _ = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fapp.test%2Fa",
                      headers=[f"Cookie: {new}"])
    assert st == 303


@pytest.mark.parametrize("proto", PROTOS)
def test_forward_auth_answer_refreshes(hub, proto):
    """A proxy in front that calls the forward-auth endpoint gets the
    re-issued cookie on the 200, to copy to its own response."""
    h, _ = hub
    auth, _, _ = route_cookie(h, proto)
    exp0, seen0 = claims(auth)
    fwd = ["X-Forwarded-Method: GET", "X-Forwarded-Proto: https",
           "X-Forwarded-Host: app.test", "X-Forwarded-Uri: /a", f"Cookie: {auth}"]

    def refreshed():
        st, hd, _ = fetch(h, proto, HUB, "/.postern/forward-auth", headers=fwd)
        assert st == 200, (st, hd)
        return ours(hd)
    mine = netlab.wait_until(refreshed, timeout=IDLE * 2, interval=0.5,
                             what="the forward-auth answer re-issuing the cookie")
    exp, seen = claims(mine[0].split(";")[0])
    assert len(mine) == 1 and exp == exp0 and seen >= seen0 + IDLE // 4


def test_idle_timeout_setting_bounds(hub):
    h, _ = hub
    for bad in (4, 0, -1):
        st, _, b = h.api("PUT", "/api/v1/settings/session.idle_timeout", {"value": bad},
                         headers={"If-Match": "*"})
        assert st == 400, (bad, b)
