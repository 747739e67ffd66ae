"""The identity a login route hands its upstream (issue 12): the signed
assertion (an Ed25519 JWT) checked by an independent JOSE implementation
(PyJWT over Python's `cryptography`) against the keys the hub publishes at
https://HUB/.well-known/jwks.json; identity field names chosen per route
(Remote-User...) with every client copy removed; key rotation; and the
forward-auth endpoint, called the way Traefik and Caddy call it and
through a real nginx auth_request. Each proxied case over HTTP/1.1 and
HTTP/2."""
import base64
import hashlib
import json
import os
import sys
import time

import jwt
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402
from test_auth_login import (  # noqa: E402
    HUB, PROTOS, cookie_of, fetch, one, parse_head, route_cookie)
from test_auth_login import hub as login_hub  # noqa: E402,F401 (a fixture)

RENAMED = {"user": "Remote-User", "groups": "Remote-Groups", "email": "Remote-Email",
           "assertion": "X-Auth-Jwt"}


@pytest.fixture
def hub(login_hub):
    """test_auth_login's hub (app.test for the family group, part.test with
    a protected /admin, other.test; alice and bob) and rn.test, whose
    policy renames the identity fields."""
    h, up = login_hub
    st, _, b = h.api("POST", "/api/v1/routes", {
        "host": "rn.test", "target": "http://127.0.0.1:9001",
        "policy": json.dumps({"auth": "login", "headers": RENAMED})})
    assert st == 201, b
    netlab.wait_until(lambda: fetch(h, "h1", "rn.test", "/")[0] == 401,
                      what="rn.test published")
    return h, up


def jwks(h):
    st, hd, body = fetch(h, "h1", HUB, "/.well-known/jwks.json")
    assert st == 200 and one(hd, "content-type") == "application/jwk-set+json", (st, hd)
    return json.loads(body)["keys"]


def thumbprint(jwk):
    """RFC 7638, computed here, not by the hub."""
    canon = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]},
                       separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canon.encode()).digest()).rstrip(b"=").decode()


def verify(h, token, aud, leeway=0, verify_iat=True):
    """The claims of `token`, verified by PyJWT with the hub's JWKS key
    its header names."""
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {k["kid"]: k for k in jwks(h)}
    assert kid in keys, (kid, keys)
    key = jwt.PyJWK(keys[kid]).key
    return jwt.decode(token, key, algorithms=["EdDSA"], audience=aud,
                      issuer=f"https://{HUB}", leeway=leeway,
                      options={"require": ["exp", "iat", "jti"], "verify_iat": verify_iat})


def received(up):
    rec = up.records()[-1]
    return [(k.lower(), v) for k, v in rec["headers"]]


def values(hdrs, name):
    return [v for k, v in hdrs if k == name.lower()]


def test_jwks_lists_ed25519_keys_with_thumbprint_kids(hub):
    h, _ = hub
    keys = jwks(h)
    assert len(keys) == 1
    k = keys[0]
    assert (k["kty"], k["crv"], k["alg"], k["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert len(base64.urlsafe_b64decode(k["x"] + "=")) == 32
    assert k["kid"] == thumbprint(k)
    # The private half is nowhere in what is published, nor in the store
    # in clear: the secrets table holds only ciphertexts.
    assert "d" not in k
    rows = h.sql("SELECT owner || '/' || name FROM secrets WHERE owner = 'login'")
    assert "login/assert_key" in rows


@pytest.mark.parametrize("proto", PROTOS)
def test_assertion_reaches_the_upstream_and_verifies(hub, proto):
    h, up = hub
    auth, _, _ = route_cookie(h, proto)
    forged = jwt.encode({"sub": "mallory"}, "k" * 32, algorithm="HS256")
    st, _, _ = fetch(h, proto, "app.test", "/private", headers=[
        f"Cookie: {auth}", f"X-Postern-Assertion: {forged}", "X-Postern-User: mallory"])
    assert st == 200
    hdrs = received(up)
    assert values(hdrs, "x-postern-user") == ["alice"]
    tokens = values(hdrs, "x-postern-assertion")
    assert len(tokens) == 1 and tokens[0] != forged
    token = tokens[0]
    now = int(time.time())
    c = verify(h, token, "app.test")
    assert c["sub"] == "alice" and c["email"] == "alice@example.org"
    assert c["groups"] == ["family", "media"]
    assert c["exp"] - c["iat"] == 300 and abs(c["iat"] - now) < 120
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    # Not for another route: the audience is the host it was issued for.
    with pytest.raises(jwt.InvalidAudienceError):
        verify(h, token, "other.test")
    # It expires in minutes: a verifier past exp refuses it.
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(h, token, "app.test", leeway=-(c["exp"] - now + 1), verify_iat=False)
    # A changed claim breaks the signature.
    head, payload, sig = token.split(".")
    evil = dict(c, sub="admin")
    enc = base64.urlsafe_b64encode(json.dumps(evil).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(h, f"{head}.{enc}.{sig}", "app.test")
    # The same user on another login route gets a token for that host.
    auth2, _, _ = route_cookie(h, proto, host="other.test")
    st, _, _ = fetch(h, proto, "other.test", "/", headers=[f"Cookie: {auth2}"])
    assert st == 200
    c2 = verify(h, values(received(up), "x-postern-assertion")[0], "other.test")
    assert c2["aud"] == "other.test" and c2["sub"] == "alice"


@pytest.mark.parametrize("proto", PROTOS)
def test_renamed_identity_fields_and_spoofed_copies(hub, proto):
    h, up = hub
    auth, _, _ = route_cookie(h, proto, host="rn.test")
    st, _, body = fetch(h, proto, "rn.test", "/x", headers=[
        f"Cookie: {auth}", "Remote-User: mallory", "remote-groups: admins",
        "REMOTE-EMAIL: m@evil.test", "X-Auth-Jwt: forged", "X-Postern-User: mallory"])
    assert st == 200 and body == "a GET /x"
    hdrs = received(up)
    assert values(hdrs, "remote-user") == ["alice"]
    assert values(hdrs, "remote-groups") == ["family,media"]
    assert values(hdrs, "remote-email") == ["alice@example.org"]
    assert not [k for k, _ in hdrs if k.startswith("x-postern-")]
    tok = values(hdrs, "x-auth-jwt")
    assert len(tok) == 1 and verify(h, tok[0], "rn.test")["sub"] == "alice"
    # Without a session the request never reaches the upstream, spoofed
    # fields or not.
    n = up.count()
    st, _, _ = fetch(h, proto, "rn.test", "/x", headers=["Remote-User: alice"])
    assert st == 401 and up.count() == n


def test_header_names_are_validated(hub):
    h, _ = hub
    for bad in ({"user": "Cookie"}, {"user": "X-Forwarded-For"}, {"user": "Bad Name"},
                {"user": "Remote-User", "groups": "remote-user"}, {"nick": "X-Nick"},
                {"user": ""}, {"user": 7}):
        pol = {"auth": "login", "headers": bad}
        st, _, b = h.api("POST", "/api/v1/routes", {"host": "bad.test", "target": "http://a:1",
                                                    "policy": json.dumps(pol)})
        assert st == 400 and b["error"]["field"] == "policy", (bad, b)
    st, _, b = h.api("POST", "/api/v1/routes", {"host": "bad.test", "target": "http://a:1",
                                                "policy": json.dumps({"headers": RENAMED})})
    assert st == 400 and b["error"]["field"] == "policy"
    r = h.cli_json("route", "create", "--host", "cli.test", "--target", "http://a:1",
                   "--policy", json.dumps({"auth": "login", "headers": {"user": "X-User"}}))
    assert json.loads(r["policy"])["headers"] == {"user": "X-User"}


def test_key_rotation_keeps_the_previous_key_published(hub):
    h, up = hub
    auth, _, _ = route_cookie(h, "h1")
    assert fetch(h, "h1", "app.test", "/", headers=[f"Cookie: {auth}"])[0] == 200
    old = values(received(up), "x-postern-assertion")[0]
    old_kid = jwt.get_unverified_header(old)["kid"]
    st, _, b = h.api("POST", "/api/v1/login/assertion-key")
    assert st == 201 and b["kid"] != old_kid, b
    keys = jwks(h)
    assert [k["kid"] for k in keys] == [b["kid"], old_kid]
    # New tokens are signed with the new key as soon as the workers have it.

    def new_kid():
        fetch(h, "h1", "app.test", "/", headers=[f"Cookie: {auth}"])
        return jwt.get_unverified_header(values(received(up), "x-postern-assertion")[0])["kid"]
    netlab.wait_until(lambda: new_kid() == b["kid"], what="tokens signed with the new key")
    assert verify(h, values(received(up), "x-postern-assertion")[0], "app.test")["sub"] == "alice"
    # A token signed before the rotation still verifies.
    assert verify(h, old, "app.test")["sub"] == "alice"
    assert "login.assert_key_rotated" in h.sql("SELECT action FROM audit_log")


def test_key_rotation_from_the_cli(hub):
    h, _ = hub
    before = [k["kid"] for k in jwks(h)]
    out = h.cli_json("login", "rotate-assertion-key")
    assert out["kid"] not in before
    assert [k["kid"] for k in jwks(h)] == [out["kid"], before[0]]
    # Without --json: the new kid, readable.
    r = h.cli("login", "rotate-assertion-key")
    assert r.stdout.split() == ["kid:", [k["kid"] for k in jwks(h)][0]], r.stdout
    assert h.sql("SELECT count(*) FROM audit_log"
                 " WHERE action = 'login.assert_key_rotated'").strip() == "2"
    r = h.cli("login", "rotate-assertion-key", "extra", check=False)
    assert r.returncode == 2
    r = h.cli("login", "frob", check=False)
    assert r.returncode == 2 and "no verb 'frob'" in r.stderr


def fwd(h, proto, path, fhost, furi, extra=(), method="GET", fproto="https"):
    """A forward-auth call shaped as Traefik sends it (the client's head
    plus X-Forwarded-*)."""
    headers = [f"X-Forwarded-Method: {method}", f"X-Forwarded-Proto: {fproto}",
               f"X-Forwarded-Host: {fhost}", f"X-Forwarded-Uri: {furi}",
               "X-Forwarded-For: 203.0.113.9", *extra]
    return fetch(h, proto, HUB, path, headers=headers)


@pytest.mark.parametrize("proto", PROTOS)
def test_forward_auth_endpoint(hub, proto):
    h, up = hub
    fa = "/.postern/forward-auth"
    auth, _, _ = route_cookie(h, proto, host="rn.test")
    # A valid session: 200 with the route's identity fields and assertion.
    st, hd, _ = fwd(h, proto, fa, "rn.test", "/private?x=1", [f"Cookie: {auth}"])
    assert st == 200, hd
    assert one(hd, "remote-user") == "alice" and one(hd, "remote-groups") == "family,media"
    assert one(hd, "remote-email") == "alice@example.org"
    assert verify(h, one(hd, "x-auth-jwt"), "rn.test")["sub"] == "alice"
    # A browser without a session: 302 to the portal, back to the URL
    # the proxy described; nginx's variant says 401 with the same Location.
    st, hd, _ = fwd(h, proto, fa, "rn.test", "/private?x=1", ["Accept: text/html"])
    assert st == 302
    loc = "https://hub.test/login?rd=https%3A%2F%2Frn.test%2Fprivate%3Fx%3D1"
    # ...with the login's state, which the proxy passes on as a cookie.
    state = cookie_of(hd, "__Host-postern_state")
    assert state and one(hd, "location") == loc + "&state=" + state.split("=", 1)[1]
    st, hd, _ = fwd(h, proto, "/.postern/auth-request", "rn.test", "/private?x=1",
                    ["Accept: text/html"])
    state = cookie_of(hd, "__Host-postern_state")
    assert st == 401 and one(hd, "location") == loc + "&state=" + state.split("=", 1)[1]
    # Not a browser (or a POST): 401; the cookie of another host: 401.
    assert fwd(h, proto, fa, "rn.test", "/p")[0] == 401
    assert fwd(h, proto, fa, "rn.test", "/p", ["Accept: text/html"], method="POST")[0] == 401
    assert fwd(h, proto, fa, "app.test", "/p", [f"Cookie: {auth}"])[0] == 401
    # Plain HTTP at the proxy: no portal trip (the cookie is Secure).
    assert fwd(h, proto, fa, "rn.test", "/p", ["Accept: text/html"], fproto="http")[0] == 401
    # The described path is normalised before the route lookup.
    for trick in ("/x/../admin", "/%61dmin", "//admin", "/ADMIN", "/admin;x"):
        assert fwd(h, proto, fa, "part.test", trick)[0] == 401, trick
    # An encoded slash the proxy in front may decode (nginx's location
    # matching does) that would take the path under /admin: refused.
    for trick in ("/admin%2F", "/admin%2fx", "/%2Fadmin", "/Admin%5Cx"):
        assert fwd(h, proto, fa, "part.test", trick)[0] == 400, trick
    assert fwd(h, proto, fa, "part.test", "/group%2Fproject")[0] == 200
    # A public route: 200 with empty identity fields (so a proxy that
    # copies them overwrites a client's own).
    st, hd, _ = fwd(h, proto, fa, "part.test", "/open")
    assert st == 200 and one(hd, "x-postern-user") == "" and one(hd, "x-postern-assertion") == ""
    # Malformed or ambiguous descriptions, unknown hosts.
    assert fwd(h, proto, fa, "rn.test", "no-slash")[0] == 400
    assert fwd(h, proto, fa, "rn.test", "/a", ["X-Forwarded-Host: app.test"])[0] == 400
    assert fwd(h, proto, fa, "rn.test, app.test", "/a")[0] == 400
    assert fwd(h, proto, fa, "rn.test", "/a", fproto="gopher")[0] == 400
    assert fwd(h, proto, fa, "nowhere.test", "/a")[0] == 403
    assert fwd(h, proto, fa, HUB, "/api/v1/session")[0] == 403
    assert up.count() == 0


# The server block's locations for frontlab's nginx: auth_request to the
# hub's nginx endpoint, the identity copied onto the proxied request.
NGINX_LOCATIONS = """
    location = /_postern {{
      internal;
      proxy_pass https://{hub_ip}:{hub_port}/.postern/auth-request;
      proxy_ssl_server_name on;
      proxy_ssl_name {hub};
      proxy_set_header Host {hub};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Method $request_method;
      # TLS ends in front of this nginx in the setup the test stands for.
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Uri $request_uri;
    }}
    location @postern_login {{
      add_header Set-Cookie $postern_state;
      if ($postern_location) {{ return 302 $postern_location; }}
      return 401;
    }}
    location / {{
      auth_request /_postern;
      auth_request_set $postern_location $upstream_http_location;
      auth_request_set $postern_state $upstream_http_set_cookie;
      auth_request_set $postern_user $upstream_http_remote_user;
      auth_request_set $postern_groups $upstream_http_remote_groups;
      auth_request_set $postern_email $upstream_http_remote_email;
      auth_request_set $postern_jwt $upstream_http_x_auth_jwt;
      error_page 401 = @postern_login;
      proxy_set_header Remote-User $postern_user;
      proxy_set_header Remote-Groups $postern_groups;
      proxy_set_header Remote-Email $postern_email;
      proxy_set_header X-Auth-Jwt $postern_jwt;
      proxy_pass http://127.0.0.1:9001;
    }}
"""


def test_nginx_auth_request_in_front(hub):
    h, up = hub
    h.nginx(9080, h.dir, extra=NGINX_LOCATIONS.format(
        hub_ip=h.https_addr[0], hub_port=h.https_addr[1], hub=HUB))
    auth, _, _ = route_cookie(h, "h1", host="rn.test")

    def via_nginx(*headers):
        args = []
        for x in ("Host: rn.test", *headers):
            args += ["-H", x]
        r = h.curl("-s", "-D", "-", "-o", "/dev/null", *args, "http://127.0.0.1:9080/private?x=1")
        return parse_head(r.stdout)
    st, _ = via_nginx(f"Cookie: {auth}", "Remote-User: mallory", "X-Auth-Jwt: forged")
    assert st == 200
    hdrs = received(up)
    assert values(hdrs, "remote-user") == ["alice"]
    assert values(hdrs, "remote-groups") == ["family,media"]
    assert verify(h, values(hdrs, "x-auth-jwt")[0], "rn.test")["sub"] == "alice"
    n = up.count()
    st, hd = via_nginx("Accept: text/html", "Remote-User: alice")
    assert st == 302
    state = cookie_of(hd, "__Host-postern_state")
    assert state and one(hd, "location") == \
        "https://hub.test/login?rd=https%3A%2F%2Frn.test%2Fprivate%3Fx%3D1&state=" + \
        state.split("=", 1)[1]
    st, _ = via_nginx("Remote-User: alice")
    assert st == 401 and up.count() == n
