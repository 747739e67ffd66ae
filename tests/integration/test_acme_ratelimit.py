"""Rate limits: a CA answering rateLimited with Retry-After is asked once,
the error and the wait are reported, and the hub schedules its retry no
sooner than the CA said (not its own shorter backoff)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402

STANDIN = os.path.join(os.path.dirname(__file__), "..", "lib", "ratelimit_standin.py")
DIR = f"http://{acmelab.CA_IP}:9095/dir"


@pytest.fixture
def ca(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    log = a.path("ca.log")
    lab.spawn(a.ca, [sys.executable, STANDIN, acmelab.CA_IP, "9095", "3600", log],
              name="ratelimit")
    netlab.wait_until(lambda: a.hub.run(["curl", "-sf", DIR], check=False).returncode == 0,
                      what="stand-in CA")
    a.calog = log
    return a


def posts(ca):
    with open(ca.calog) as f:
        return [ln for ln in f.read().split("\n") if ln.startswith("POST")]


def test_acme_rate_limited_client_reports_and_stops(ca):
    r = ca.postern("issue", "--account-key", ca.path("account.key"), "--agree-tos",
                   "-d", "a.example.com", "--cert-out", ca.path("c.pem"),
                   "--key-out", ca.path("k.pem"), directory=DIR)
    assert r.returncode == 1
    assert "CA refused (rateLimited, HTTP 429): too many new registrations" in r.stderr
    assert "retry after 3600 s" in r.stderr
    assert posts(ca) == ["POST /acct"]      # asked once, not hammered


def test_acme_rate_limited_hub_waits_retry_after(ca):
    state = ca.path("certs")
    conf = ca.path("hub.conf")
    with open(conf, "w") as f:
        f.write(f"""[hub]
listen_http = "{acmelab.HUB_IP}:80"
workers = 1

[acme]
directory = {DIR}
state_dir = {state}
agree_tos = true

[acme.cert.main]
names = "a.example.com"
""")
    hub = ca.lab.spawn(ca.hub, [netlab.postern_bin(), "hub", "-c", conf], name="hub")
    netlab.wait_until(lambda: "certificate main (a.example.com) failed" in hub.log(),
                      timeout=20, what="failure event")
    assert "(attempt 1; next in 3600s)" in hub.log()
    assert posts(ca) == ["POST /acct"]
