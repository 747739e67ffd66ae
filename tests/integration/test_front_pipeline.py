"""The one request pipeline (src/hub/pipeline.c), each check run over
HTTP/1.1 and over HTTP/2 (h2c with prior knowledge on the plain listeners,
h2 by ALPN over TLS): listener kinds, the hub's own host (admin API over
TLS only, never captured by a route), route precedence, redirects, access
rules, body limit, request-target normalisation and the hub's credentials
never reaching an upstream."""
import os
import sys

import h2.events
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, Prefixed, read_response  # noqa: E402
from h2client import Client  # noqa: E402

HTTPS = ("127.0.0.1", 8443)
METRICS = ("127.0.0.1", 9100)
DENY_ME = '"{\\"access\\":{\\"deny\\":[\\"127.0.0.0/8\\"]}}"'
ALLOW_OTHER = '"{\\"access\\":{\\"allow\\":[\\"10.9.9.0/24\\", \\"2001:db8::/32\\"]}}"'
ALLOW_ME = '"{\\"access\\":{\\"allow\\":[\\"127.0.0.1\\"]}}"'

ROUTES = f"""[route.app]
host = app.test
target = http://127.0.0.1:9001
[route.apppath]
host = app.test
path = /app
strip_prefix = true
target = http://127.0.0.1:9001/v2
[route.any]
host = *
target = http://127.0.0.1:9002
[route.sec]
host = secure.test
target = http://127.0.0.1:9001
redirect_https = true
[route.deny]
host = deny.test
target = http://127.0.0.1:9001
policy = {DENY_ME}
[route.allowother]
host = allowother.test
target = http://127.0.0.1:9001
policy = {ALLOW_OTHER}
[route.allowme]
host = allowme.test
target = http://127.0.0.1:9001
policy = {ALLOW_ME}
"""

PROTOS = ["h1", "h2"]


@pytest.fixture
def hub(lab):
    f = Front(lab)
    a, b = f.upstream(9001, "a"), f.upstream(9002, "b")
    f.start(routes=ROUTES, settings=(
        f'hostname = "hub.test"\nmax_body = 1000\n'
        f'listen_https = "{HTTPS[0]}:{HTTPS[1]}"\n'
        f'metrics_listen = "{METRICS[0]}:{METRICS[1]}"\n'
        '[tls]\nselfsigned_name = app.test\n'))
    f.wait_port(HTTPS[1])
    f.wait_port(METRICS[1])
    return f, a, b


def fetch(f, proto, host, path, port=None, tls=False, headers=(), data=None):
    """(status, {header: value}, body) from curl, over HTTP/1.1 or HTTP/2,
    the path sent as is."""
    port = port or (HTTPS[1] if tls else f.port)
    scheme = "https" if tls else "http"
    args = ["--http1.1"] if proto == "h1" else (["--http2"] if tls else ["--http2-prior-knowledge"])
    for h in headers:
        args += ["-H", h]
    if data is not None:
        args += ["--data-binary", data]
    r = f.curl("-k", "--path-as-is", "-D", "-", "-o", "/dev/stderr", *args,
               "--connect-to", f"{host}:{port}:127.0.0.1:{port}",
               f"{scheme}://{host}:{port}{path}", check=False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            k, v = k.strip().lower(), v.strip()
            # A repeated field shows as one joined value (RFC 9110 s5.3).
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
    return status, hdrs, r.stderr


def raw(f, proto, host, path, headers=(), tls=False):
    """Sends `path` byte for byte (curl would clean it): (status, body) and
    the upstream records are the caller's to check."""
    if proto == "h2":
        c = Client(f, window=1 << 20, tls=(HTTPS, host) if tls else None)
        sid = c.request("GET", path, authority=host, headers=list(headers))
        c.until(lambda: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid),
                what="the answer")
        resp = c.of(h2.events.ResponseReceived, sid)
        return int(dict(resp[0].headers)[":status"]) if resp else None
    s = f.connect()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())
    status, _, _, _ = read_response(s)
    s.close()
    return status


@pytest.mark.parametrize("proto", PROTOS)
def test_metrics_listener_serves_metrics_only(hub, proto):
    f, a, b = hub
    st, _, body = fetch(f, proto, "127.0.0.1", "/metrics", port=METRICS[1])
    assert st == 200 and "postern_" in body
    # A routed host on the metrics port is not proxied (the catch-all
    # route would take it on the public listeners).
    st, _, _ = fetch(f, proto, "app.test", "/x", port=METRICS[1])
    assert st == 404
    assert a.count() == 0 and b.count() == 0


@pytest.mark.parametrize("proto", PROTOS)
def test_hub_host_admin_over_tls_only(hub, proto):
    f, a, b = hub
    # Plain HTTP: the API is refused (never answered), other paths go to
    # https on the hub's HTTPS port, not the plain one.
    st, _, body = fetch(f, proto, "hub.test", "/api/v1/routes",
                        headers=["Authorization: Bearer pt_abcdefgh"])
    assert st == 403 and "HTTPS only" in body
    st, h, _ = fetch(f, proto, "hub.test", "/login?x=1")
    assert st == 308 and h["location"] == "https://hub.test:8443/login?x=1"
    # TLS: the API answers (without a store: 503 or an API error, but
    # from the API, as JSON), other paths are the hub's 404.
    st, h, _ = fetch(f, proto, "hub.test", "/api/v1/routes", tls=True)
    assert h.get("content-type", "").startswith("application/json"), (st, h)
    assert h.get("cache-control") == "no-store", h    # once, not twice
    st, _, _ = fetch(f, proto, "HUB.test", "/anything", tls=True)
    assert st == 404
    # The catch-all route never captured the hub's host.
    assert b.count() == 0 and a.count() == 0


@pytest.mark.parametrize("proto", PROTOS)
def test_route_precedence_and_redirect(hub, proto):
    f, a, b = hub
    st, _, body = fetch(f, proto, "app.test", "/x")
    assert st == 200 and body == "a GET /x"
    st, _, body = fetch(f, proto, "app.test", "/app/y")
    assert st == 200 and body == "a GET /v2/y"
    st, _, body = fetch(f, proto, "other.test", "/z")
    assert st == 200 and body == "b GET /z"
    st, h, _ = fetch(f, proto, "secure.test", "/p?q")
    assert st == 308 and h.get("location") == "https://secure.test:8443/p?q", h
    st, _, body = fetch(f, proto, "secure.test", "/p", tls=True)
    assert st == 200 and body == "a GET /p"


@pytest.mark.parametrize("proto", PROTOS)
def test_access_rules_deny(hub, proto):
    f, a, b = hub
    for host in ("deny.test", "allowother.test"):
        for tls in (False, True):
            st, _, _ = fetch(f, proto, host, "/secret", tls=tls)
            assert st == 403, (host, tls)
    assert a.count() == 0 and b.count() == 0
    st, _, body = fetch(f, proto, "allowme.test", "/ok")
    assert st == 200 and body == "a GET /ok"


@pytest.mark.parametrize("proto", PROTOS)
def test_body_limit(hub, proto):
    f, a, b = hub
    st, _, _ = fetch(f, proto, "app.test", "/up", data="x" * 1001,
                     headers=["Content-Type: application/octet-stream"])
    assert st == 413
    st, _, body = fetch(f, proto, "app.test", "/up", data="x" * 1000,
                        headers=["Content-Type: application/octet-stream"])
    assert st == 200 and body == "a POST /up"
    assert [r["body_len"] for r in a.records()] == [1000]


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("path,status,seen", [
    ("/app/../secret", 200, "/secret"),           # out of /app: app.test's "/" route
    ("/app/%2e%2e/secret", 200, "/secret"),
    ("/app/%2E%2e/%2e/secret", 200, "/secret"),
    ("/app/./y//z", 200, "/v2/y/z"),
    ("//app/y", 200, "/v2/y"),
    ("/APP/y", 200, "/v2/y"),
    ("/app;jsessionid=1/y", 200, "/v2/;jsessionid=1/y"),
    ("/app/%7euser", 200, "/v2/~user"),
    ("/app/a%2Fb", 200, "/v2/a%2Fb"),
    ("/app/..%2Fsecret", 400, None),
    ("/app/..;/secret", 400, None),
    ("/app/..%5csecret", 400, None),
    ("/app\\..\\secret", 400, None),
    ("/frag#x", 400, None),
    ("/a%00b", 400, None),
])
def test_request_targets(hub, proto, path, status, seen):
    """Route matching and what the upstream receives agree: both see the
    normalised path; what a backend could read as a dot segment is 400."""
    f, a, b = hub
    st = raw(f, proto, "app.test", path)
    assert st == status
    got = [r["target"] for r in a.records()] + [r["target"] for r in b.records()]
    assert got == ([seen] if seen else [])


def test_absolute_form_is_normalised(hub):
    """HTTP/1.1 only: HTTP/2's :path is always origin-form."""
    f, a, b = hub
    s = f.connect()
    s.sendall(b"GET http://app.test/app/%2e%2e/x HTTP/1.1\r\nHost: app.test\r\n"
              b"Connection: close\r\n\r\n")
    status, _, body, _ = read_response(s)
    s.close()
    assert status == 200 and [r["target"] for r in a.records()] == ["/x"]


@pytest.mark.parametrize("proto", PROTOS)
def test_hub_credentials_never_reach_upstream(hub, proto):
    f, a, b = hub
    hdrs = [("cookie", "__Host-postern_session=SECRET1; theme=dark"),
            ("cookie", "postern_session=SECRET2; lang=en"),
            ("authorization", "Bearer pt_SECRET3"),
            ("x-postern-user", "admin")]
    if proto == "h1":
        # HTTP/1.1 clients send one Cookie line.
        hdrs = [("Cookie", "__Host-postern_session=SECRET1; theme=dark; "
                           "postern_session=SECRET2; lang=en")] + hdrs[2:]
    assert raw(f, proto, "app.test", "/c", headers=hdrs) == 200
    rec = a.records()[-1]
    names = [k.lower() for k, _ in rec["headers"]]
    cookies = [v for k, v in rec["headers"] if k.lower() == "cookie"]
    assert cookies == ["theme=dark; lang=en"]
    assert "authorization" not in names and "x-postern-user" not in names
    assert "SECRET" not in repr(rec["headers"])
    # An application's own Authorization passes.
    assert raw(f, proto, "app.test", "/c", headers=[("authorization", "Basic dTpw")]) == 200
    assert ["Basic dTpw"] == [v for k, v in a.records()[-1]["headers"]
                              if k.lower() == "authorization"]


def test_h2c_upgrade_is_not_forwarded(hub):
    f, a, b = hub
    s = f.connect()
    s.sendall(b"GET /u HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
              b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
    status, _, body, _ = read_response(s)
    s.close()
    assert status == 200
    names = [k.lower() for k, _ in a.records()[-1]["headers"]]
    assert "upgrade" not in names and "http2-settings" not in names


def test_reason_phrases(hub):
    """Statuses the hub writes itself carry RFC 9110's phrase."""
    f, a, b = hub
    s = f.connect()
    s.sendall(b"GET /x HTTP/1.1\r\nHost: secure.test\r\nConnection: close\r\n\r\n")
    data = b""
    while b"\r\n" not in data:
        data += s.recv(4096)
    s.close()
    assert data.startswith(b"HTTP/1.1 308 Permanent Redirect\r\n")


def test_bad_policy_is_refused(lab):
    """A policy with a bad CIDR keeps the hub from loading the routes."""
    f = Front(lab)
    f.write(routes='[route.x]\nhost = x.test\ntarget = http://127.0.0.1:9001\n'
                   'policy = "{\\"access\\":{\\"allow\\":[\\"10.0.0.0/33\\"]}}"\n')
    r = f.ns.run([netlab.postern_bin(), "hub", "-c", f.conf_path], check=False, timeout=60)
    assert r.returncode != 0 and "not an address or CIDR" in r.stderr


def test_stalled_body_after_100_continue_is_408(lab):
    """Expect: 100-continue, then a body that stops: the documented 408
    (docs/front.md, body_timeout), not a silent close."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes="[route.app]\nhost = app.test\ntarget = http://127.0.0.1:9001\n",
            settings="body_timeout = 1s\n")
    s = f.connect(timeout=30)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n"
              b"Expect: 100-continue\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    s.sendall(b"x" * 10)
    rest = got.split(b"\r\n\r\n", 1)[1]
    status, _, _, _ = read_response(Prefixed(s, rest))
    s.close()
    assert status == 408
    assert a.count() == 0 or a.records()[-1]["body_len"] < 100
