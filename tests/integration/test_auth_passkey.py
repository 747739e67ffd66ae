"""Passkeys (WebAuthn Level 2) on the portal: registration and login
ceremonies checked by the hub, driven by a software authenticator written
in Python (tests/lib/soft_webauthn.py, python3-cryptography), so every
check can be bent one at a time: origin, RP ID, challenge (wrong, spent,
issued for a registration), flags UP/UV, the signature counter, and a
credential presented for another user. Routes and users that require a
passkey refuse password sessions. Over HTTP/1.1 and HTTP/2."""
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

import netlab  # noqa: E402
from soft_webauthn import UP, UV, Authenticator, b64u  # noqa: E402
from test_auth_login import (  # noqa: E402
    HUB, ORIGIN, PROTOS, PW_ALICE, PW_BOB, cookie_of, fetch, form_post, login, one,
    route, route_cookie, start, start_hub, viewer)


@pytest.fixture
def hub(lab):
    h, up = start_hub(lab, [route("app.test", {"auth": "login"}),
                            route("pk.test", {"auth": "login", "require": "passkey"}),
                            route("first.test", {"auth": "login", "first": "passkey"})],
                      [viewer("alice", PW_ALICE, "family"), viewer("bob", PW_BOB, "family")])
    # The negative cases fail many times from one address: the throttle
    # has its own test below.
    st, _, b = h.api("PUT", "/api/v1/settings/login.max_failures", {"value": 1000},
                     headers={"If-Match": "*"})
    assert st in (200, 204), b
    netlab.wait_until(lambda: fetch(h, "h1", "pk.test", "/")[0] == 401,
                      what="the login routes published")
    return h, up


def post_json(h, proto, path, body=None, cookie=None, origin=ORIGIN):
    headers = ["Content-Type: application/json"]
    if origin:
        headers.append(f"Origin: {origin}")
    if cookie:
        headers.append(f"Cookie: {cookie}")
    st, hd, text = fetch(h, proto, HUB, path, data=json.dumps(body or {}), headers=headers)
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    return st, hd, doc


def portal_of(h, proto, user="alice", pw=PW_ALICE):
    st, hd = login(h, proto, user, pw, rd="https://app.test/")
    assert st == 303, hd
    return cookie_of(hd, "__Host-postern_portal")


def register(h, proto, portal, auth, name="key", **bend):
    st, _, opts = post_json(h, proto, "/passkey/register/options", cookie=portal)
    assert st == 200, opts
    st, _, doc = post_json(h, proto, "/passkey/register",
                           auth.register(opts, ORIGIN, name=name, **bend), cookie=portal)
    return st, doc, opts


def passkey_login(h, proto, auth, rd="", **bend):
    """With rd, the login starts on its route: body["state"] is the state
    cookie the callback wants."""
    state = start(h, proto, rd) if rd else None
    st, _, opts = post_json(h, proto, "/login/passkey/options")
    assert st == 200 and opts["rpId"] == HUB and opts["userVerification"] == "required", opts
    body = auth.assertion(opts, ORIGIN, rd=rd, **bend)
    if state:
        body["state"] = state
    st, hd, doc = post_json(h, proto, "/login/passkey", body)
    return st, hd, doc, body


def trade(h, proto, loc, host, state):
    m = re.fullmatch(rf"https://{re.escape(host)}/\.postern/callback\?code=([A-Za-z0-9_-]{{43}})",
                     loc)
    assert m, loc
    st, hd, _ = fetch(h, proto, host, f"/.postern/callback?code={m.group(1)}",
                      headers=[f"Cookie: __Host-postern_state={state}"])
    assert st == 303, hd
    return cookie_of(hd, "__Host-postern_auth")


@pytest.mark.parametrize("proto", PROTOS)
def test_register_and_log_in_with_each_algorithm(hub, proto):
    h, up = hub
    portal = portal_of(h, proto)
    # Creation options: EdDSA listed first (Chromium takes the first it
    # supports), then ES256 and RS256; attestation none; UV and a
    # discoverable credential required.
    st, _, opts = post_json(h, proto, "/passkey/register/options", cookie=portal)
    assert st == 200
    assert [p["alg"] for p in opts["pubKeyCredParams"]] == [-8, -7, -257]
    assert opts["rp"]["id"] == HUB and opts["attestation"] == "none"
    assert opts["authenticatorSelection"]["userVerification"] == "required"
    assert opts["authenticatorSelection"]["residentKey"] == "required"
    keys = [Authenticator(alg) for alg in (-8, -7, -257)]
    for i, a in enumerate(keys):
        st, doc, o = register(h, proto, portal, a, name=f"key {a.alg}")
        assert st == 201, doc
        # The next options exclude the credentials already registered.
        assert len(o["excludeCredentials"]) == i
    rows = h.sql("SELECT alg, name FROM passkeys ORDER BY id")
    assert "-8|key -8" in rows and "-7|key -7" in rows and "-257|key -257" in rows
    for a in keys:
        st, hd, doc, body = passkey_login(h, proto, a, rd="https://app.test/p?q=1")
        assert st == 200, doc
        assert cookie_of(hd, "__Host-postern_portal").startswith("__Host-postern_portal=2.")
        auth = trade(h, proto, doc["location"], "app.test", body["state"])
        st, _, body = fetch(h, proto, "app.test", "/p?q=1", headers=[f"Cookie: {auth}"])
        assert st == 200 and body == "a GET /p?q=1"
        hdrs = [(k.lower(), v) for k, v in up.records()[-1]["headers"]]
        assert ("x-postern-user", "alice") in hdrs
    assert h.sql("SELECT sign_count FROM passkeys ORDER BY id").split() == ["1", "1", "1"]
    audit = h.sql("SELECT action || ' ' || after_json FROM audit_log")
    assert audit.count("user.passkey_added") == 3
    assert audit.count('portal.login {"factor":"passkey"}') == 3
    # No credential bytes, signature or challenge reach the audit trail.
    assert b64u(keys[0].cred_id) not in audit and opts["challenge"] not in audit


@pytest.mark.parametrize("proto", PROTOS)
def test_assertions_that_must_fail(hub, proto):
    h, _ = hub
    alice, bob = Authenticator(-7), Authenticator(-8)
    assert register(h, proto, portal_of(h, proto), alice)[0] == 201
    assert register(h, proto, portal_of(h, proto, "bob", PW_BOB), bob)[0] == 201
    assert passkey_login(h, proto, alice)[0] == 200
    bad = {
        "wrong origin": {"origin": "https://evil.test"},
        "origin with another port": {"origin": f"{ORIGIN}:8443"},
        "wrong RP ID": {"rp_id": "evil.test"},
        "wrong challenge": {"challenge": b64u(os.urandom(32))},
        "no user verification": {"flags": UP},
        "no user presence": {"flags": UV},
        "a creation, not a get": {"typ": "webauthn.create"},
        "alice's credential with bob's handle": {"user_handle": bob.user_handle},
    }
    for what, bend in bad.items():
        origin = bend.pop("origin", ORIGIN)
        st, _, opts = post_json(h, proto, "/login/passkey/options")
        body = alice.assertion(opts, origin, **bend)
        st, _, doc = post_json(h, proto, "/login/passkey", body)
        assert st == 401, (what, doc)
    # A good assertion replayed: its challenge was spent.
    st, _, _, body = passkey_login(h, proto, alice)
    assert st == 200
    st, _, _ = post_json(h, proto, "/login/passkey", body)
    assert st == 401
    # A lowered or repeated counter is a clone: refused.
    stored = int(h.sql("SELECT sign_count FROM passkeys WHERE user_id = 2").strip())
    for c in (stored - 1, stored):
        assert passkey_login(h, proto, alice, counter=c)[0] == 401
    assert passkey_login(h, proto, alice, counter=stored + 5)[0] == 200
    # A registration's challenge is no login challenge.
    portal = portal_of(h, proto)
    st, _, ropts = post_json(h, proto, "/passkey/register/options", cookie=portal)
    st, _, lopts = post_json(h, proto, "/login/passkey/options")
    st, _, _ = post_json(h, proto, "/login/passkey",
                         alice.assertion(lopts, ORIGIN, challenge=ropts["challenge"]))
    assert st == 401
    # A foreign Origin header on the JSON post itself is refused first.
    st, _, _ = post_json(h, proto, "/login/passkey",
                         alice.assertion(lopts, ORIGIN), origin="https://evil.test")
    assert st == 403
    # The credential is bound to alice: bob cannot register it as his.
    st, doc, _ = register(h, proto, portal_of(h, proto, "bob", PW_BOB), alice)
    assert st == 409, doc
    assert h.sql("SELECT count(*) FROM passkeys").strip() == "2"
    audit = h.sql("SELECT after_json FROM audit_log WHERE action = 'portal.login_failed'")
    assert audit.count('"factor":"passkey"') >= 10


@pytest.mark.parametrize("proto", PROTOS)
def test_registrations_that_must_fail(hub, proto):
    h, _ = hub
    portal = portal_of(h, proto)
    for bend in ({"origin": "https://evil.test"}, {"rp_id": "evil.test"},
                 {"flags": UP | 0x40}, {"typ": "webauthn.get"},
                 {"challenge": b64u(os.urandom(32))}, {"fmt": "packed"}):
        a = Authenticator(-7)
        origin = bend.pop("origin", ORIGIN)
        st, _, opts = post_json(h, proto, "/passkey/register/options", cookie=portal)
        st, _, doc = post_json(h, proto, "/passkey/register",
                               a.register(opts, origin, **bend), cookie=portal)
        assert st == 400, (bend, doc)
    # Without a portal session there is nothing to register to.
    st, _, _ = post_json(h, proto, "/passkey/register/options")
    assert st == 401
    assert h.sql("SELECT count(*) FROM passkeys").strip() == "0"


@pytest.mark.parametrize("proto", PROTOS)
def test_route_and_user_that_require_a_passkey(hub, proto):
    h, up = hub
    a = Authenticator(-8)
    assert register(h, proto, portal_of(h, proto), a)[0] == 201
    # The portal offers only the passkey for pk.test, the passkey first for
    # first.test, the password first elsewhere; the script is a file.
    _, hd, page = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fpk.test%2F")
    assert 'id="pk-login"' in page and 'name="password"' not in page
    assert "script-src 'self'" in one(hd, "content-security-policy")
    assert '<script src="/passkey.js" defer></script>' in page and "<script>" not in page
    _, _, page = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Ffirst.test%2F")
    assert page.index('id="pk-login"') < page.index('name="password"')
    _, _, page = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fapp.test%2F")
    assert page.index('name="password"') < page.index('id="pk-login"')
    st, hd, js = fetch(h, proto, HUB, "/passkey.js")
    assert st == 200 and "navigator.credentials.get" in js
    # A password session gets no code for pk.test.
    st, hd = login(h, proto, "alice", PW_ALICE, rd="https://pk.test/")
    assert st == 200 and "location" not in hd
    portal = cookie_of(hd, "__Host-postern_portal")
    st, hd, page = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fpk.test%2F",
                         headers=[f"Cookie: {portal}"])
    assert st == 200 and "needs a passkey" in page and "location" not in hd
    # A passkey session does.
    st, _, doc, body = passkey_login(h, proto, a, rd="https://pk.test/x")
    assert st == 200, doc
    auth = trade(h, proto, doc["location"], "pk.test", body["state"])
    assert fetch(h, proto, "pk.test", "/x", headers=[f"Cookie: {auth}"])[0] == 200
    # A route that starts to require a passkey drops password sessions.
    pw_auth, _, _ = route_cookie(h, proto, host="app.test")
    assert fetch(h, proto, "app.test", "/", headers=[f"Cookie: {pw_auth}"])[0] == 200
    rid = [r["id"] for r in h.api("GET", "/api/v1/routes")[2]["items"]
           if r["host"] == "app.test"][0]
    st, _, b = h.api("PATCH", f"/api/v1/routes/{rid}",
                     {"policy": json.dumps({"auth": "login", "require": "passkey"})},
                     headers={"If-Match": "*"})
    assert st == 200, b
    netlab.wait_until(lambda: all(
        fetch(h, proto, "app.test", "/", headers=[f"Cookie: {pw_auth}"])[0] == 401
        for _ in range(4)), what="password cookie refused on every worker")
    # A user who requires a passkey: the password is refused on the portal
    # and the API, and their password sessions end.
    st, _, b = h.api("PATCH", "/api/v1/users/3", {"require_passkey": True},
                     headers={"If-Match": "*"})
    assert st == 200 and b["require_passkey"] is True, b
    st, _, page = form_post(h, proto, "/login", {"username": "bob", "password": PW_BOB})
    assert st == 403 and "passkey only" in page
    st, _, b = h.http("POST", "/api/v1/session", {"username": "bob", "password": PW_BOB},
                      headers={"Origin": ORIGIN})
    assert st == 403 and b["error"]["code"] == "passkey_required", b
    audit = h.sql("SELECT after_json FROM audit_log WHERE action LIKE '%login_failed'")
    assert '"reason":"passkey_required"' in audit
    assert PW_BOB not in h.sql("SELECT after_json || before_json FROM audit_log")


@pytest.mark.parametrize("proto", PROTOS)
def test_list_and_remove(hub, proto):
    h, _ = hub
    portal = portal_of(h, proto)
    a, b = Authenticator(-7), Authenticator(-257)
    assert register(h, proto, portal, a, name="phone <1>")[0] == 201
    assert register(h, proto, portal, b, name="laptop")[0] == 201
    st, _, page = fetch(h, proto, HUB, "/passkeys", headers=[f"Cookie: {portal}"])
    assert st == 200 and "phone &lt;1&gt; (ES256)" in page and "laptop (RS256)" in page
    ids = re.findall(r'<li data-id="(\d+)">', page)
    assert len(ids) == 2
    # API: listed for the admin, without key material.
    st, _, doc = h.api("GET", "/api/v1/users/2/passkeys")
    assert st == 200 and [k["name"] for k in doc["items"]] == ["phone <1>", "laptop"]
    assert set(doc["items"][0]) == {"id", "name", "alg", "sign_count", "created_at",
                                    "last_used_at"}
    # Removed on the portal (its own form) ...
    st, _, _ = form_post(h, proto, "/passkeys/remove", {"id": ids[0]}, portal)
    assert st == 303
    assert passkey_login(h, proto, a)[0] == 401
    # ... bob cannot remove alice's ...
    st, _, _ = form_post(h, proto, "/passkeys/remove", {"id": ids[1]},
                         portal_of(h, proto, "bob", PW_BOB))
    assert st == 303 and h.sql("SELECT count(*) FROM passkeys").strip() == "1"
    # ... and by the admin API.
    st, _, _ = h.api("DELETE", f"/api/v1/passkeys/{ids[1]}")
    assert st == 204
    assert passkey_login(h, proto, b)[0] == 401
    st, _, _ = h.api("DELETE", f"/api/v1/passkeys/{ids[1]}")
    assert st == 404
    assert h.sql("SELECT count(*) FROM audit_log WHERE action = 'user.passkey_removed'").strip() == "2"
    # The CLI lists them too.
    r = h.cli_json("user", "passkeys", "2")
    assert r["items"] == []


def test_policy_keys_are_validated(hub):
    h, _ = hub
    for bad in ({"require": "passkey"}, {"auth": "login", "require": "password"},
                {"auth": "login", "first": "sms"}, {"auth": "public", "first": "passkey"}):
        st, _, b = h.api("POST", "/api/v1/routes", {"host": "bad.test", "target": "http://a:1",
                                                    "policy": json.dumps(bad)})
        assert st == 400 and b["error"]["field"] == "policy", (bad, b)


def test_failed_passkey_logins_are_throttled(hub):
    h, _ = hub
    st, _, b = h.api("PUT", "/api/v1/settings/login.max_failures", {"value": 3},
                     headers={"If-Match": "*"})
    assert st in (200, 204), b
    a = Authenticator(-7)
    assert register(h, "h1", portal_of(h, "h1"), a)[0] == 201
    codes = []
    for i in range(20):
        st, hd, _, _ = passkey_login(h, "h2" if i % 2 else "h1", a, rp_id="evil.test")
        codes.append(st)
        if st == 429:
            assert "retry-after" in hd
            break
    assert codes[0] == 401 and codes[-1] == 429, codes
