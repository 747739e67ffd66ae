"""The hub obtains and renews its own certificates: `postern hub` with an
[acme] section, pebble as the CA, HTTP-01 answered by the hub's own front
on :80, certificates per configured name set and per uncovered route host,
renewal at two thirds of a short (pebble-configured) lifetime, failures
that back off and show in the metrics."""
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402

METRICS = f"http://{acmelab.HUB_IP}:9100/metrics"


def hub_conf(acme, routes, extra="", https=False):
    state = acme.path("certs")
    os.makedirs(state, exist_ok=True)
    rpath, cpath = acme.path("routes.conf"), acme.path("hub.conf")
    with open(rpath, "w") as f:
        f.write(routes)
    with open(cpath, "w") as f:
        f.write(f"""[hub]
listen_http = "{acmelab.HUB_IP}:80"
{f'listen_https = "{acmelab.HUB_IP}:443"' if https else ""}
metrics_listen = "{acmelab.HUB_IP}:9100"
routes = {rpath}
workers = 1

[acme]
directory = {acmelab.DIR_URL}
ca_file = {acme.tls_ca}
state_dir = {state}
email = ops@example.com
agree_tos = true
{extra or "challenges = http-01"}
[acme.cert.main]
names = "hub.example.com www.example.com"
""")
    return cpath, state


def start_hub(acme, routes, extra="", https=False):
    cpath, state = hub_conf(acme, routes, extra, https)
    p = acme.lab.spawn(acme.hub, [netlab.postern_bin(), "hub", "-c", cpath],
                       env={"POSTERN_LOG_LEVEL": "debug"}, name="hub")
    return p, state


def metric(acme, name):
    r = acme.hub.run(["curl", "-sf", METRICS], check=False)
    m = re.search(r"^" + re.escape(name) + r" (\d+)$", r.stdout, re.M)
    return int(m.group(1)) if m else None


def serial(path):
    r = os.popen(f"openssl x509 -noout -serial -in {path}").read()
    return r.strip()


def issued_by_pebble(acme, path, name):
    if not os.path.exists(path):
        return False
    return acmelab.verify_chain(path, acme.pebble_root(), acme.dir, name).returncode == 0


ROUTES = """[route.app]
host = app.example.com
target = http://127.0.0.1:9001

[route.www]
host = www.example.com
target = http://127.0.0.1:9001
"""


@pytest.fixture
def acme(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start(validity=30)
    return a


def test_acme_hub_issues_and_renews(acme):
    hub, state = start_hub(acme, ROUTES)
    main, app = os.path.join(state, "main.crt"), os.path.join(state, "app.example.com.crt")
    netlab.wait_until(lambda: issued_by_pebble(acme, main, "www.example.com") and
                      issued_by_pebble(acme, app, "app.example.com"),
                      timeout=30, what="certificates from pebble")
    log = hub.log()
    assert "certificate main: self-signed until the CA's arrives" in log
    assert "route host app.example.com has no certificate: ordering one" in log
    # www.example.com is covered by "main": no certificate of its own.
    assert not os.path.exists(os.path.join(state, "www.example.com.crt"))
    assert acmelab.cert_names(main) == ["hub.example.com", "www.example.com"]
    assert oct(os.stat(os.path.join(state, "main.key")).st_mode & 0o777) == "0o600"
    # The ACME code never logs a token; the access log (JSON lines) shows
    # the requests pebble made, as for any request.
    own = "\n".join(ln for ln in log.splitlines() if not ln.startswith("{"))
    assert "http-01" in own and "/.well-known/acme-challenge/" not in own
    netlab.wait_until(lambda: metric(acme, 'postern_acme_events_total{event="issued"}') == 2,
                      timeout=10, what="issued metric")
    # A 30 s lifetime: renewal at two thirds (about 20 s after issuance).
    first = serial(main)
    netlab.wait_until(lambda: issued_by_pebble(acme, main, "www.example.com") and
                      serial(main) != first, timeout=60, what="renewed certificate")
    # The hub writes the file first and logs and counts the renewal after
    # it: wait for those too, not just for the new serial.
    netlab.wait_until(lambda: "certificate main (hub.example.com,www.example.com) renewed"
                      in hub.log(), timeout=30, what="the renewal logged")
    netlab.wait_until(lambda: metric(acme, 'postern_acme_events_total{event="renewed"}') >= 1,
                      timeout=30, what="renewed metric")
    assert metric(acme, 'postern_acme_events_total{event="expiring"}') >= 1
    assert "stored; reloading the TLS certificates" in hub.log()


def test_acme_hub_failure_backs_off_and_counts(acme):
    """bad.example.com resolves to a host with nothing on :80: pebble
    marks the challenge invalid; the hub reports it, counts it, keeps the
    self-signed stand-in and schedules a retry minutes later."""
    assert acme.chall("POST", "/add-a", {"host": "bad.example.com.",
                                         "addresses": [acmelab.CA_IP]}) is not None
    routes = ROUTES + "\n[route.bad]\nhost = bad.example.com\ntarget = http://127.0.0.1:9001\n"
    hub, state = start_hub(acme, routes)
    netlab.wait_until(lambda: "certificate bad.example.com (bad.example.com) failed" in hub.log(),
                      timeout=30, what="failure event")
    log = hub.log()
    assert "http-01 for bad.example.com is invalid" in log
    assert "(attempt 1; next in 300s)" in log
    netlab.wait_until(lambda: metric(acme, 'postern_acme_events_total{event="failed"}') == 1,
                      timeout=10, what="failed metric")
    r = acme.hub.run(["curl", "-sf", METRICS]).stdout
    assert 'postern_acme_certificate_failures{cert="bad.example.com"} 1' in r
    bad = os.path.join(state, "bad.example.com.crt")
    assert os.path.exists(bad) and not issued_by_pebble(acme, bad, "bad.example.com")
    # The other certificates were not held up by the failing one.
    netlab.wait_until(lambda: issued_by_pebble(acme, os.path.join(state, "main.crt"),
                                               "hub.example.com"), timeout=30, what="main")


def test_acme_hub_http01_only_answers_known_tokens(acme):
    hub, state = start_hub(acme, ROUTES)
    netlab.wait_until(lambda: "ready:" in hub.log(), timeout=10, what="hub ready")
    r = acme.hub.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "-H", "Host: app.example.com",
                      f"http://{acmelab.HUB_IP}/.well-known/acme-challenge/unknown-token"],
                     check=False)
    assert r.stdout == "404"


def test_acme_hub_config_errors(acme, bin):
    cpath, _ = hub_conf(acme, ROUTES, "challenges = dns-01\n")
    r = acme.hub.run([bin, "hub", "-c", cpath], check=False, timeout=10)
    assert r.returncode != 0
    assert "[acme] dns-01 needs dns_provider" in r.stderr


def served(acme, name):
    return acmelab.served_serial(acme, name)


def test_acme_hub_tls_alpn_and_live_swap(acme):
    """TLS-ALPN-01 answered on the hub's own :443; the certificate is then
    served there, verified against pebble's root, and its renewal replaces
    it in the running hub (same process, no restart)."""
    hub, state = start_hub(acme, ROUTES, "challenges = tls-alpn-01", https=True)
    first = netlab.wait_until(lambda: served(acme, "www.example.com"), timeout=30,
                              what="pebble certificate served on :443")
    assert "answering tls-alpn-01" in hub.log()
    assert served(acme, "app.example.com")      # the route host's own certificate
    pid = hub.pid
    second = netlab.wait_until(lambda: (lambda s: s if s and s != first else None)(
        served(acme, "www.example.com")), timeout=60, what="renewed certificate served")
    assert second != first
    assert hub.alive() and hub.pid == pid
    assert "renewed" in hub.log()


def test_acme_hub_wildcard_dns01_covers_route(acme):
    """[acme.cert.wild] *.example.com over DNS-01 (Cloudflare stand-in):
    the route on app.example.com gets no certificate of its own and is
    served the wildcard, verified against pebble's root."""
    standins = os.path.join(os.path.dirname(__file__), "..", "lib", "dns_standins.py")
    log = acme.path("cf.jsonl")
    acme.lab.spawn(acme.ca, [sys.executable, standins, "cloudflare", acmelab.CA_IP, "9080",
                             acmelab.CHALL_MGMT, "example.com", "cf-token", log],
                   name="standin-cf")
    netlab.wait_until(lambda: acme.hub.run(
        ["curl", "-s", "-o", "/dev/null", f"http://{acmelab.CA_IP}:9080/"],
        check=False).returncode == 0, what="cloudflare stand-in")
    dns_conf = acme.path("cf.conf")
    with open(dns_conf, "w") as f:
        f.write(f"api_token = cf-token\napi_url = http://{acmelab.CA_IP}:9080/client/v4\n")
    routes = "[route.app]\nhost = app.example.com\ntarget = http://127.0.0.1:9001\n"
    extra = (f"challenges = dns-01\ndns_provider = cloudflare\ndns_conf = {dns_conf}\n"
             f"dns_check_servers = {acmelab.DNS_SERVER}\n\n"
             "[acme.cert.wild]\nnames = \"*.example.com\"\n")
    hub, state = start_hub(acme, routes, extra, https=True)
    netlab.wait_until(lambda: served(acme, "app.example.com"), timeout=40,
                      what="wildcard served for app.example.com")
    assert acmelab.cert_names(os.path.join(state, "wild.crt")) == ["*.example.com"]
    assert not os.path.exists(os.path.join(state, "app.example.com.crt"))
    assert "answering dns-01" in hub.log()
