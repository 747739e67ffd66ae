"""Attacks on a login route that the earlier tests did not try.

Spoofed identity (test_auth_login.py, test_auth_assert.py send the fields
by their own names in the head): the same names spelt with '_' for '-',
which PHP, WSGI and Rack fold into the variable the real field fills
(HTTP_REMOTE_USER); X-Forwarded-* fields the hub does not set itself
(-Prefix, -Port) and X-Real-IP, which an upstream that trusts the hub as
its proxy believes; and every one of them in a chunked body's trailers,
which servers may merge into the request's fields.

Token confusion: the TOTP step's pending token (proof of the password
alone) presented as a route cookie on totp.HUB, a host a wildcard route
covers, or as the portal's cookie; the portal's and a route's cookies
swapped, tampered, or of a deleted user; a one-time code spent after its
session logged out; return addresses with encoded slashes.

Over HTTP/1.1 and HTTP/2 (TLS, ALPN)."""
import json
import os
import re
import ssl
import sys

import h2.events
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))

from frontlab import read_response  # noqa: E402
from h2client import Client  # noqa: E402
from test_auth_assert import hub, received, values  # noqa: E402,F401 (a fixture)
import netlab  # noqa: E402
from test_auth_login import HUB, PROTOS, PW_ALICE, PW_BOB, fetch, form_post, oathtool  # noqa: E402
from test_auth_login import cookie_of, login, logout, route_cookie, start  # noqa: E402
from test_auth_login import hub as login_hub  # noqa: E402,F401 (a fixture)

# A client's copies of what the hub asserts or sets, as a gateway would
# read them. rn.test's policy names the identity Remote-User, -Groups,
# -Email and X-Auth-Jwt.
SPOOFED = [("Remote_User", "mallory"), ("remote_groups", "admins"),
           ("REMOTE_EMAIL", "m@evil.test"), ("X_Auth_Jwt", "forged"),
           ("X_Postern_User", "mallory"), ("x-postern_groups", "admins"),
           ("X_Forwarded_For", "6.6.6.6"), ("X-Forwarded_Host", "evil.test"),
           ("X-Forwarded-Prefix", "/evil"), ("X-Forwarded-Port", "6666"),
           ("X-Real-IP", "6.6.6.6"), ("X_Real_Ip", "6.6.6.6"),
           ("X_Request_Id", "spoofed")]


def folded(name):
    return name.lower().replace("_", "-")


def assert_no_spoof(fields, client_ip="127.0.0.1"):
    """Neither the head nor the trailers the upstream got carry a client's
    copy: the identity is alice's alone, every forwarding field the hub's."""
    names = [folded(k) for k, _ in fields]
    assert not [k for k, _ in fields if "_" in k], fields
    assert values(fields, "remote-user") in ([], ["alice"]), fields
    for k in ("x-forwarded-prefix", "x-forwarded-port", "x-real-ip", "x-postern-user",
              "x-postern-groups"):
        assert k not in names, fields
    assert values(fields, "x-forwarded-for") in ([], [client_ip]), fields
    assert values(fields, "x-forwarded-host") in ([], ["rn.test"]), fields
    assert "mallory" not in repr(fields) and "evil" not in repr(fields), fields


@pytest.mark.parametrize("proto", PROTOS)
def test_identity_and_forwarding_spellings_in_the_head(hub, proto):
    h, up = hub
    auth, _, _ = route_cookie(h, proto, host="rn.test")
    st, _, body = fetch(h, proto, "rn.test", "/x", headers=[
        f"Cookie: {auth}", *[f"{k}: {v}" for k, v in SPOOFED]])
    assert st == 200 and body == "a GET /x"
    got = received(up)
    assert values(got, "remote-user") == ["alice"]
    assert values(got, "remote-groups") == ["family,media"]
    assert values(got, "remote-email") == ["alice@example.org"]
    assert len(values(got, "x-request-id")) == 1
    assert values(got, "x-request-id") != ["spoofed"]
    assert_no_spoof(got)


def tls_h1(h, host):
    s = h.socket()
    s.settimeout(10)
    s.connect(h.https_addr)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx.wrap_socket(s, server_hostname=host)


@pytest.mark.parametrize("proto", PROTOS)
def test_trailers_carry_no_identity_or_credential(hub, proto):
    """A chunked upload's trailers: an application's own field passes
    (HTTP/1.1; HTTP/2 request trailers are not forwarded at all), the
    hub's cookie, an Authorization, the identity and forwarding fields
    in any spelling never do."""
    h, up = hub
    auth, _, _ = route_cookie(h, proto, host="rn.test")
    trailers = [("X-Check", "42"), ("Remote-User", "mallory"), ("X-Postern-User", "mallory"),
                ("X-Auth-Jwt", "forged"), ("X-Forwarded-For", "6.6.6.6"),
                ("Forwarded", "for=6.6.6.6;host=evil.test"), ("Cookie", auth),
                ("Authorization", "Bearer pt_mallory"), *SPOOFED]
    if proto == "h1":
        s = tls_h1(h, "rn.test")
        s.sendall(("POST /t HTTP/1.1\r\nHost: rn.test\r\nCookie: " + auth +
                   "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   "5\r\nhello\r\n0\r\n" +
                   "".join(f"{k}: {v}\r\n" for k, v in trailers) + "\r\n").encode())
        st, _, body, _ = read_response(s)
        s.close()
    else:
        c = Client(h, window=1 << 20, tls=(h.https_addr, "rn.test"))
        sid = c.request("POST", "/t", authority="rn.test", headers=[("cookie", auth)],
                        end_stream=False)
        c.send_data(sid, b"hello")
        c.h2.send_headers(sid, [(k.lower(), v) for k, v in trailers], end_stream=True)
        c.flush()
        c.until(lambda: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid),
                what="the answer")
        resp = c.of(h2.events.ResponseReceived, sid)
        st = int(dict(resp[0].headers)[":status"]) if resp else None
        c.sock.close()
    assert st == 200
    rec = up.records()[-1]
    assert rec["target"] == "/t" and rec["body_len"] == 5
    assert values(received(up), "remote-user") == ["alice"]
    got = [tuple(t.split(": ", 1)) for t in rec["trailers"]]
    assert got == ([("X-Check", "42")] if proto == "h1" else []), got
    assert auth.split("=", 1)[1] not in repr(rec)


@pytest.mark.parametrize("proto", PROTOS)
def test_totp_pending_token_is_no_session(hub, proto):
    """alice has TOTP; her password alone gets the code form and its
    pending token, which must open nothing: not a route on totp.hub.test
    (a wildcard login route *.hub.test covers it), not the portal."""
    h, up = hub
    st, _, b = h.api("POST", "/api/v1/routes", {
        "host": "*.hub.test", "target": "http://127.0.0.1:9001",
        "policy": json.dumps({"auth": "login"})})
    assert st == 201, b
    auth, portal, _ = route_cookie(h, proto)
    st, _, page = fetch(h, proto, HUB, "/totp", headers=[f"Cookie: {portal}"])
    secret = re.search(r'<code id="secret">([A-Z2-7]{32})</code>', page).group(1)
    st, _, body = form_post(h, proto, "/totp", {"code": oathtool(secret)}, portal)
    assert st == 200 and "Authenticator added" in body
    st, _, page = form_post(h, proto, "/login", {"username": "alice", "password": PW_ALICE})
    assert st == 200
    pending = re.search(r'name="pending" value="([^"]+)"', page).group(1)
    netlab.wait_until(lambda: fetch(h, proto, "x.hub.test", "/")[0] == 401,
                      what="the wildcard route published")
    n = up.count()
    for host in ("totp.hub.test", "x.hub.test"):
        st, _, _ = fetch(h, proto, host, "/secret",
                         headers=[f"Cookie: __Host-postern_auth={pending}"])
        assert st == 401, host
    assert up.count() == n
    st, _, page = fetch(h, proto, HUB, "/login",
                        headers=[f"Cookie: __Host-postern_portal={pending}"])
    assert st == 200 and 'name="password"' in page
    # It still is what it is for: with the code, the login completes.
    st, hd, _ = form_post(h, proto, "/login/totp", {
        "pending": pending, "code": oathtool(secret, 30), "rd": "https://x.hub.test/"})
    assert st == 303 and hd["location"][0].startswith(
        "https://x.hub.test/.postern/callback?code="), hd


def tampered(tok):
    """Variants of a valid route token that must each be refused."""
    v, uid, rest = tok.split(".", 2)
    return {
        "truncated": tok[:-1],
        "extended": tok + "A",
        "passkey flag set": "2." + uid + "." + rest,
        "other user": v + "." + str(int(uid) + 1) + "." + rest,
        "quoted": f'"{tok}"',
    }


@pytest.mark.parametrize("proto", PROTOS)
def test_cookies_and_codes_out_of_place(hub, proto):
    """Tokens where they do not belong: the portal's cookie under the route
    cookie's name, a route cookie as the portal's, tampered route tokens,
    a deleted user's cookie; a one-time code spent after its login session
    logged out; return addresses whose path is an encoded //host or \\host
    (they stay paths on the route's host)."""
    h, up = hub
    auth, portal, _ = route_cookie(h, proto)
    tok, ptok = auth.split("=", 1)[1], portal.split("=", 1)[1]
    st, _, _ = fetch(h, proto, "app.test", "/p", headers=[f"Cookie: {auth}"])
    assert st == 200
    n = up.count()
    for name, bad in [("portal token", ptok), *tampered(tok).items()]:
        st, _, _ = fetch(h, proto, "app.test", "/p", headers=[f"Cookie: __Host-postern_auth={bad}"])
        assert st == 401, name
    assert up.count() == n
    st, _, page = fetch(h, proto, HUB, "/login", headers=[f"Cookie: __Host-postern_portal={tok}"])
    assert st == 200 and 'name="password"' in page
    # A code handed out, then its login session logged out: spent for nothing.
    state = start(h, proto, "https://app.test/z")
    st, hd = login(h, proto, "alice", PW_ALICE, rd="https://app.test/z", state=state)
    assert st == 303
    code = hd["location"][0].rsplit("=", 1)[1]
    logout(h, proto, cookie_of(hd, "__Host-postern_portal"))
    st, hd, _ = fetch(h, proto, "app.test", f"/.postern/callback?code={code}",
                      headers=[f"Cookie: __Host-postern_state={state}"])
    assert st == 400 and "set-cookie" not in hd
    # Encoded slashes in the return path are the route's path, never a host.
    for path in ("/%2F%2Fevil.test/", "/%5Cevil.test", "/%2f%2fevil.test"):
        state = start(h, proto, f"https://app.test{path}")
        st, hd = login(h, proto, "alice", PW_ALICE, rd=f"https://app.test{path}", state=state)
        loc = hd["location"][0]
        assert st == 303 and loc.startswith("https://app.test/.postern/callback?code="), loc
        st, hd, _ = fetch(h, proto, "app.test", loc[len("https://app.test"):],
                          headers=[f"Cookie: __Host-postern_state={state}"])
        assert st == 303 and hd["location"] == [path], hd
    # bob's cookie dies with bob.
    bob, _, _ = route_cookie(h, proto, "bob", PW_BOB, host="other.test")
    assert fetch(h, proto, "other.test", "/", headers=[f"Cookie: {bob}"])[0] == 200
    st, _, b = h.api("DELETE", "/api/v1/users/3", headers={"If-Match": "*"})
    assert st in (200, 204), b
    netlab.wait_until(lambda: all(
        fetch(h, proto, "other.test", "/", headers=[f"Cookie: {bob}"])[0] == 401
        for _ in range(4)), what="a deleted user's cookie refused on every worker")


@pytest.mark.parametrize("proto", PROTOS)
def test_repeated_fields_at_the_portal(login_hub, proto):
    """A field the portal and the API decide on, sent twice, is refused:
    with two Origins (the hub's first, an attacker's second, or the other
    way round) no login or logout is taken. Cookie fields are joined
    instead (HTTP/2 crumbs): the portal's cookie in a second field counts."""
    h, _ = login_hub
    form = "username=alice&password=" + PW_ALICE.replace(" ", "+")
    for origins in (["https://hub.test", "https://evil.test"],
                    ["https://evil.test", "https://hub.test"]):
        st, hd, body = fetch(h, proto, HUB, "/login", data=form, headers=[
            "Content-Type: application/x-www-form-urlencoded",
            *[f"Origin: {o}" for o in origins]])
        assert st == 400 and "more than one origin header" in body, (st, body)
        assert "set-cookie" not in hd
    _, portal, _ = route_cookie(h, proto)
    st, hd, _ = fetch(h, proto, HUB, "/logout", data="", headers=[
        f"Cookie: {portal}", "Content-Type: application/x-www-form-urlencoded",
        "Origin: https://hub.test", "Origin: https://evil.test"])
    assert st == 400 and "set-cookie" not in hd
    # Still logged in, and found in a second Cookie field.
    st, hd, _ = fetch(h, proto, HUB, "/login?rd=https%3A%2F%2Fother.test%2Fa",
                      headers=["Cookie: theirs=1", f"Cookie: {portal}"])
    assert st == 303, (st, hd)
    assert hd["location"][0].startswith("https://other.test/.postern/callback?code=")
    # Two credentials for the API: refused before either is tried.
    st, _, _ = fetch(h, proto, HUB, "/api/v1/routes", headers=["Authorization: Bearer x"])
    assert st == 401
    st, _, body = fetch(h, proto, HUB, "/api/v1/routes",
                        headers=["Authorization: Bearer x", "Authorization: Bearer y"])
    assert st == 400 and "more than one authorization header" in body, (st, body)
