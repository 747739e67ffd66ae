"""DNS-01 through each provider's stand-in API, validated by pebble for real.

pebble (the CA) asks pebble-challtestsrv for _acme-challenge TXT records;
the stand-ins write what the client sent through each provider's API into
challtestsrv. See tests/lib/dns_standins.py for the checks on requests."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402

STANDINS = os.path.join(os.path.dirname(__file__), "..", "lib", "dns_standins.py")
API_PORT = 9080

PROVIDERS = {
    # name: (secret given to the stand-in, conf lines for postern, api path)
    "cloudflare": ("cf-token-0123456789", "api_token = {s}\n", "/client/v4"),
    "hetzner": ("hz-token-abcdef", "api_token = {s}\n", "/api/v1"),
    "digitalocean": ("do-token-xyz", "api_token = {s}\n", "/v2"),
    "route53": ("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "access_key_id = AKIDEXAMPLE\n"
                "secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n", ""),
}


@pytest.fixture
def acme(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start()
    return a


def standin(acme, provider, zone="example.com"):
    secret, _, _ = PROVIDERS[provider]
    log = acme.path(f"{provider}-requests.jsonl")
    acme.lab.spawn(acme.ca, [sys.executable, STANDINS, provider, acmelab.CA_IP,
                             str(API_PORT), acmelab.CHALL_MGMT, zone, secret, log],
                   name=f"standin-{provider}")
    netlab.wait_until(lambda: acme.hub.run(
        ["curl", "-s", "-o", "/dev/null", f"http://{acmelab.CA_IP}:{API_PORT}/"],
        check=False).returncode == 0, timeout=10, what=f"{provider} stand-in")
    return log


def conf(acme, provider, secret=None, extra=""):
    s, lines, path = PROVIDERS[provider]
    lines = lines.format(s=s)
    if secret is not None:
        lines = lines.replace(s.split(":")[-1], secret)
    text = lines + f"api_url = http://{acmelab.CA_IP}:{API_PORT}{path}\n" + extra
    p = acme.path(f"{provider}.conf")
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, 0o600)
    return p


def requests(log):
    """What the client sent (the readiness probe on "/" left out)."""
    with open(log) as f:
        return [q for q in map(json.loads, f) if q["path"] != "/"]


def dns01_args(provider, conf_path):
    return ["--challenge", "dns-01", "--dns-provider", provider, "--dns-conf", conf_path,
            "--dns-check-server", acmelab.DNS_SERVER, "--dns-timeout", "30"]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_acme_dns01_provider_issues(acme, provider):
    log = standin(acme, provider)
    r = acme.issue(["www.example.com"], *dns01_args(provider, conf(acme, provider)))
    assert r.returncode == 0, r.stdout + r.stderr
    out = acmelab.parse_kv(r.stdout)
    assert out["names"] == "www.example.com"
    v = acmelab.verify_chain(acme.path("cert.pem"), acme.pebble_root(), acme.dir,
                             "www.example.com")
    assert v.returncode == 0, v.stdout + v.stderr
    reqs = requests(log)
    # Only the zone walk's "no such zone" (www.example.com) may be refused.
    assert [q for q in reqs if "error" in q and
            not (q["method"] == "GET" and q["status"] == 404)] == [], reqs
    methods = [q["method"] for q in reqs]
    assert "POST" in methods
    # The challenge record was removed afterwards (DELETE, or a Route 53
    # DELETE change batch).
    if provider == "route53":
        assert any("<Action>DELETE</Action>" in q["body"] for q in reqs), reqs
        assert any(q["path"].startswith("/2013-04-01/change/") for q in reqs)
    else:
        assert "DELETE" in methods, reqs
    assert acmelab.txt_values(acme, "_acme-challenge.www.example.com") == []


@pytest.mark.parametrize("provider,expect", [
    ("cloudflare", "cloudflare: zone lookup failed (HTTP 403): Invalid access token"),
    ("hetzner", "hetzner: zone lookup failed (HTTP 401): Invalid authentication credentials"),
    ("digitalocean", "digitalocean: zone lookup failed (HTTP 401): Unauthorized: "
                     "Unable to authenticate you"),
    ("route53", "route53: zone lookup failed (HTTP 403): SignatureDoesNotMatch"),
])
def test_acme_dns01_provider_error_is_clear(acme, provider, expect):
    standin(acme, provider)
    r = acme.issue(["www.example.com"],
                   *dns01_args(provider, conf(acme, provider, secret="wrong-secret")))
    assert r.returncode == 1, r.stdout + r.stderr
    assert expect in r.stderr
    assert "wrong-secret" not in r.stderr


def test_acme_dns01_wildcard_and_apex(acme):
    standin(acme, "cloudflare")
    r = acme.issue(["example.com", "*.example.com"],
                   *dns01_args("cloudflare", conf(acme, "cloudflare")))
    assert r.returncode == 0, r.stdout + r.stderr
    assert acmelab.cert_names(acme.path("cert.pem")) == ["*.example.com", "example.com"]
    v = acmelab.verify_chain(acme.path("cert.pem"), acme.pebble_root(), acme.dir,
                             "anything.example.com")
    assert v.returncode == 0, v.stdout + v.stderr


def test_acme_dns01_record_not_visible_fails_cleanly(acme):
    """A provider that accepts the record but whose servers never serve it:
    the client must not ask the CA to validate, and must say why."""
    standin(acme, "cloudflare")
    r = acme.issue(["www.example.com"],
                   *dns01_args("cloudflare", conf(acme, "cloudflare"))[:-4],
                   "--dns-check-server", f"{acmelab.HUB_IP}:5399", "--dns-timeout", "3")
    assert r.returncode == 1
    assert "TXT _acme-challenge.www.example.com not visible after 3s" in r.stderr
