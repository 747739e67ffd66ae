"""The admin API through the hub's own listener (Host = the hub's name):
browser sessions with CSRF and Origin checks, bearer tokens and their
scope, optimistic concurrency, strict validation, throttled logins, and
that only the hub's name reaches the API."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402

ORIGIN = {"Origin": "https://hub.test"}


def test_sessions_csrf_and_origin(lab):
    h = Hub(lab)
    h.start()
    h.set_password(1, "a long admin password")
    cookie, csrf = h.login("admin", "a long admin password")
    # The cookie's flags.
    st, hdrs, _ = h.http("POST", "/api/v1/session",
                         {"username": "admin", "password": "a long admin password"}, headers=ORIGIN)
    flags = hdrs["set-cookie"]
    assert "HttpOnly" in flags and "Secure" in flags and "SameSite=Strict" in flags
    sess = {"Cookie": cookie}
    st, _, b = h.http("GET", "/api/v1/session", headers=sess)
    assert st == 200 and b["csrf_token"] == csrf and b["actor"] == "user:admin"
    body = {"host": "s.test", "target": "http://127.0.0.1:9"}
    # CSRF: no token, a wrong token, no Origin, another Origin: all 403.
    for extra in ({**ORIGIN}, {**ORIGIN, "X-CSRF-Token": "nope"}, {"X-CSRF-Token": csrf},
                  {"Origin": "https://evil.test", "X-CSRF-Token": csrf}):
        st, _, b = h.http("POST", "/api/v1/routes", body, headers={**sess, **extra})
        assert st == 403 and b["error"]["code"] == "csrf", (extra, b)
    assert h.cli_json("route", "list")["items"] == []
    st, hdrs, b = h.http("POST", "/api/v1/routes", body,
                         headers={**sess, **ORIGIN, "X-CSRF-Token": csrf})
    assert st == 201
    # Logout ends the session.
    st, _, _ = h.http("DELETE", "/api/v1/session", headers={**sess, **ORIGIN, "X-CSRF-Token": csrf})
    assert st == 204
    assert h.http("GET", "/api/v1/routes", headers=sess)[0] == 401


def test_tokens_scope_and_unauthenticated(lab):
    h = Hub(lab)
    h.start()
    read, write = h.token("read"), h.token("write")
    assert h.http("GET", "/api/v1/routes")[0] == 401
    assert h.http("GET", "/api/v1/routes", headers={"Authorization": "Bearer pt_x"})[0] == 401
    st, _, b = h.http("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {read}"})
    assert st == 200
    st, _, b = h.http("POST", "/api/v1/routes", {"host": "t.test", "target": "http://a:1"},
                      headers={"Authorization": f"Bearer {read}"})
    assert st == 403 and b["error"]["code"] == "forbidden"
    st, _, b = h.http("POST", "/api/v1/routes", {"host": "t.test", "target": "http://a:1"},
                      headers={"Authorization": f"Bearer {write}"})
    assert st == 201
    # An operator's write token cannot manage users or tokens.
    st, _, u = h.api("POST", "/api/v1/users", {"name": "op", "role": "operator"})
    op = h.token("write", user_id=u["id"])
    assert h.http("GET", "/api/v1/users", headers={"Authorization": f"Bearer {op}"})[0] == 403
    assert h.http("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {op}"})[0] == 200
    # The API lives on the hub's name only: elsewhere /api/ is a route path.
    # (t.test's target does not resolve: the route answers 502, or 404
    # when it was left out; never the API's JSON.)
    st, hdrs, body = h.http("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {read}"},
                            host="t.test")
    assert st in (404, 502) and not hdrs.get("content-type", "").startswith("application/json"), \
        (st, hdrs, body)


def test_if_match_and_validation(lab):
    h = Hub(lab)
    h.start()
    st, hdrs, r = h.api("POST", "/api/v1/routes", {"host": "c.test", "target": "http://a:1"})
    path, etag = f"/api/v1/routes/{r['id']}", hdrs["etag"]
    st, _, b = h.api("PATCH", path, {"hsts_max_age": 60})
    assert st == 428 and b["error"]["code"] == "precondition_required"
    # Two admins read the same version; the second write is refused.
    st, hdrs2, _ = h.api("PATCH", path, {"hsts_max_age": 60}, headers={"If-Match": etag})
    assert st == 200 and hdrs2["etag"] != etag
    st, _, b = h.api("PATCH", path, {"hsts_max_age": 120}, headers={"If-Match": etag})
    assert st == 412 and b["error"]["code"] == "precondition_failed"
    assert h.api("GET", path)[2]["hsts_max_age"] == 60
    # Validation names the field.
    for body, field in (({"host": "c2.test"}, "target"),
                        ({"host": "c2.test", "target": "gopher://a:1"}, "target"),
                        ({"host": "c2.test", "target": "http://a:1", "hsts_max_age": "x"},
                         "hsts_max_age"),
                        ({"host": "c2.test", "target": "http://a:1", "wat": 1}, "wat")):
        st, _, b = h.api("POST", "/api/v1/routes", body)
        assert st == 400 and b["error"]["field"] == field, (body, b)
    st, _, b = h.api("POST", "/api/v1/routes", "{\"host\": ", headers={})
    assert st == 400 and b["error"]["code"] == "invalid_json"
    st, _, b = h.api("POST", "/api/v1/routes", "{}", headers={"Content-Type": "text/plain"})
    assert st == 415


def test_login_throttling_does_not_lock_the_account(lab):
    """Guesses slow down their own address only (growing delays,
    test_control_throttle.py): the account is never locked for others."""
    h = Hub(lab)
    h.start()
    h.set_password(1, "a long admin password")
    for i in range(6):
        st, hdrs, b = h.http("POST", "/api/v1/session", {"username": "admin", "password": f"guess{i}"},
                             headers=ORIGIN)
        assert st == 401 and b["error"]["code"] == "invalid_credentials"
    assert int(hdrs["retry-after"]) == 1     # the sixth failure starts the delays
    failed = [e for e in h.cli_json("audit", "list", "--limit", "500")["items"]
              if e["action"] == "session.login_failed"]
    assert len(failed) == 6 and all(e["source"] == "127.0.0.1" for e in failed)
    # The right password from another address: in at once.
    st, _, b = h.http("POST", "/api/v1/session",
                      {"username": "admin", "password": "a long admin password"},
                      headers=ORIGIN, src="127.0.5.1")
    assert st == 201, b


def test_admin_api_over_https_with_curl_and_the_cli(lab):
    """The real thing: TLS on the hub's listener, curl verifying the
    certificate, a browser-style session and the CLI with a token."""
    import tlslab
    h = Hub(lab)
    ca = tlslab.CA(lab.tmpdir)
    crt, key = ca.issue("hub", ["hub.test"])
    h.start(settings=f'listen_https = "127.0.0.1:8443"\n[cert.hub]\ncert = {crt}\nkey = {key}\n')
    h.wait_port(8443)
    h.set_password(1, "a long admin password")
    base = ["curl", "-sS", "--cacert", ca.crt, "--resolve", "hub.test:8443:127.0.0.1",
            "-w", "\n%{http_code}"]
    url = "https://hub.test:8443/api/v1"

    def curl(*args):
        out = h.ns.run(base + list(args)).stdout
        body, code = out.rsplit("\n", 1)
        return int(code), json.loads(body) if body.strip() else None

    jar = os.path.join(lab.tmpdir, "cookies")
    st, b = curl("-c", jar, "-H", "Origin: https://hub.test:8443", "-H",
                 "Content-Type: application/json", "--data",
                 '{"username":"admin","password":"a long admin password"}', f"{url}/session")
    assert st == 201, b
    csrf = b["csrf_token"]
    st, b = curl("-b", jar, f"{url}/session")
    assert st == 200 and b["actor"] == "user:admin"
    route = '{"host":"tls.test","target":"http://127.0.0.1:9"}'
    st, b = curl("-b", jar, "-H", "Content-Type: application/json", "-H",
                 "Origin: https://hub.test:8443", "--data", route, f"{url}/routes")
    assert st == 403 and b["error"]["code"] == "csrf"
    st, b = curl("-b", jar, "-H", "Content-Type: application/json", "-H",
                 "Origin: https://hub.test:8443", "-H", f"X-CSRF-Token: {csrf}",
                 "--data", route, f"{url}/routes")
    assert st == 201, b
    # The CLI against the remote hub, verifying its certificate.
    tok = h.token("write")
    r = h.ns.run([netlab.postern_bin(), "route", "list", "--hub", "https://hub.test:8443",
                  "--cacert", ca.crt, "--resolve", "hub.test:8443:127.0.0.1"],
                 env={**os.environ, "POSTERN_TOKEN": tok}, check=False)
    assert r.returncode == 0 and "tls.test" in r.stdout, r.stderr
    # Without the CA, the CLI refuses the connection: exit 6 (unreachable).
    r = h.ns.run([netlab.postern_bin(), "route", "list", "--hub", "https://hub.test:8443",
                  "--resolve", "hub.test:8443:127.0.0.1"],
                 env={**os.environ, "POSTERN_TOKEN": tok}, check=False)
    assert r.returncode == 6 and "certificate" in r.stderr.lower()


def test_certificates_from_the_store_are_served_live(lab):
    import tlslab
    h = Hub(lab)
    ca = tlslab.CA(lab.tmpdir)
    crt, key = ca.issue("hub", ["hub.test"])
    site_crt, site_key = ca.issue("site", ["site.test", "*.site.test"])
    h.start(settings=f'listen_https = "127.0.0.1:8443"\n[cert.hub]\ncert = {crt}\nkey = {key}\n')
    h.wait_port(8443)
    addr = ("127.0.0.1", 8443)
    assert tlslab.served(h.ns.name, addr, "site.test") == tlslab.fingerprint(crt)
    cert = h.cli_json("cert", "add", "site", "--cert", site_crt, "--key", site_key)
    assert sorted(cert["names"]) == ["*.site.test", "site.test"]
    # Published with the commit: no reload, no restart.
    netlab.wait_until(lambda: tlslab.served(h.ns.name, addr, "site.test") ==
                      tlslab.fingerprint(site_crt), what="new certificate")
    assert tlslab.served(h.ns.name, addr, "a.site.test") == tlslab.fingerprint(site_crt)
    assert tlslab.served(h.ns.name, addr, "hub.test") == tlslab.fingerprint(crt)
    h.cli("cert", "delete", str(cert["id"]))
    netlab.wait_until(lambda: tlslab.served(h.ns.name, addr, "site.test") ==
                      tlslab.fingerprint(crt), what="certificate gone")
    assert h.proc.alive()
