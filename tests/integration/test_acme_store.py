"""The hub's ACME client on the control plane's store: the account key and
the certificates sealed in the store (a restarted hub reuses the account
and serves its certificates without ordering again), certificates ordered
for routes created through the API, the certificate API and CLI (list,
request, renew, revoke at pebble, delete, import) with their audit
entries, and DNS-01 credentials set through the API that never come back
out of it. pebble is the CA (acmelab)."""
import json
import os
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402
from controllab import Hub  # noqa: E402

HUB_NAME = "hub.example.com"
SECRET = "cf-secret-token-5f1c9d"


class StoreHub(Hub):
    """`postern hub` with a data_dir and an [acme] section, in the hub
    namespace of an AcmeLab: controllab's Hub (its CLI and API helpers),
    listening on the hub's lab address with the ACME client on."""

    def __init__(self, acme, extra="", wants=""):
        super().__init__(acme.lab, ns=acme.hub, port=80)
        self.addr = (acmelab.HUB_IP, 80)
        self.own_https, self.https_addr = True, (acmelab.HUB_IP, 443)
        self.hostname = HUB_NAME
        self.acme = acme
        self.data = acme.path("data")
        self.sock = acme.path("control.sock")
        self.state = acme.path("state")
        self.conf_path = acme.path("hub.conf")
        os.makedirs(self.state, exist_ok=True)
        self.acme_conf = f"""[acme]
directory = {acmelab.DIR_URL}
ca_file = {acme.tls_ca}
state_dir = {self.state}
email = ops@example.com
agree_tos = true
{extra or "challenges = http-01"}
{wants}"""

    def write(self, settings="", routes=""):
        with open(self.conf_path, "w") as f:
            f.write(f"""[hub]
listen_http = "{acmelab.HUB_IP}:80"
listen_https = "{acmelab.HUB_IP}:443"
{settings}
{self.acme_conf}""")

    def start(self):
        # A restart: the old socket file would pass Hub.start's wait.
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        super().start(workers=1, env={"POSTERN_LOG_LEVEL": "debug"})
        netlab.wait_until(lambda: "ready:" in self.proc.log(), timeout=20, what="hub ready")

    def certs(self):
        return {c["name"]: c for c in json.loads(self.cli("cert", "list", "--json").stdout)["items"]}

    def cert(self, name):
        return self.certs().get(name)

    def audit(self):
        return json.loads(self.cli("audit", "list", "--limit", "500", "--json").stdout)["items"]

    def actions(self):
        return [e["action"] for e in self.audit()]


def pebble_issued(c):
    return c and c["source"] == "acme" and "Pebble" in c["issuer"] and c["status"] != "revoked"


def served_serial(acme, name):
    """The serial (upper-case hex) served for name, verified against pebble."""
    s = acmelab.served_serial(acme, name)
    return s.split("=")[1].upper() if s else None


@pytest.fixture
def acme(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start()
    return a


def test_acme_store_restart_keeps_account_and_certificates(acme):
    hub = StoreHub(acme, wants='[acme.cert.main]\nnames = "www.example.com"\n')
    hub.start()
    netlab.wait_until(lambda: pebble_issued(hub.cert("main")), timeout=40,
                      what="main issued into the store")
    first = hub.cert("main")
    assert first["names"] == ["www.example.com"] and first["status"] == "valid"
    assert first["acme"] == {}
    netlab.wait_until(lambda: served_serial(acme, "www.example.com") == first["serial"],
                      timeout=20, what="the stored certificate served")
    log = hub.proc.log()
    assert re.search(r"ACME account \S+ \(created\)", log)
    # Nothing in state_dir: the key and the certificate live in the store.
    assert not [f for f in os.listdir(hub.state) if f.endswith((".key", ".crt"))]
    secrets = subprocess.run(["sqlite3", os.path.join(hub.data, "postern.db"),
                              "SELECT owner, name FROM secrets ORDER BY owner"],
                             capture_output=True, text=True, check=True).stdout
    assert "acme|account_key" in secrets and "certificate|key" in secrets
    assert b"BEGIN" not in subprocess.run(["sqlite3", os.path.join(hub.data, "postern.db"),
                                           "SELECT ciphertext FROM secrets"],
                                          capture_output=True).stdout
    acts = hub.actions()
    assert acts.count("acme.account_key") == 1
    assert "certificate.self_signed" in acts and "certificate.issued" in acts
    hub.stop()

    hub.start()
    netlab.wait_until(lambda: served_serial(acme, "www.example.com") == first["serial"],
                      timeout=20, what="the same certificate served after the restart")
    log = hub.proc.log()
    assert "ACME account" not in log or re.search(r"ACME account \S+ \(existing\)", log)
    assert hub.cert("main")["serial"] == first["serial"]
    # A renewal now reuses the same account at pebble (200, not 201).
    assert hub.cli("cert", "renew", str(first["id"])).returncode == 0
    netlab.wait_until(lambda: (lambda c: pebble_issued(c) and c["serial"] != first["serial"])(
        hub.cert("main")), timeout=40, what="renewed after the restart")
    log = hub.proc.log()
    assert re.search(r"ACME account \S+ \(existing\)", log), log
    assert "(created)" not in log
    assert hub.actions().count("acme.account_key") == 1
    assert "certificate.renewed" in hub.actions()


def test_acme_store_request_renew_revoke_delete(acme):
    hub = StoreHub(acme)
    hub.start()
    r = hub.cli("cert", "request", "api.example.com", "--names", "api2.example.com",
                "--key-type", "rsa2048", "--json")
    c = json.loads(r.stdout)
    assert c["name"] == "api-example-com" and c["status"] == "pending"
    assert c["source"] == "self-signed" and c["acme"] == {"key_type": "rsa2048"}
    netlab.wait_until(lambda: pebble_issued(hub.cert("api-example-com")), timeout=40,
                      what="requested certificate issued")
    c = hub.cert("api-example-com")
    assert sorted(c["names"]) == ["api.example.com", "api2.example.com"]
    assert served_serial(acme, "api2.example.com") == c["serial"]
    pem = hub.api("GET", f"/api/v1/certificates/{c['id']}")[2]["cert_pem"]
    k = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem, text=True,
                       capture_output=True).stdout
    assert "Public-Key: (2048 bit)" in k
    table = hub.cli("cert", "list").stdout
    assert re.search(r"api-example-com .*Pebble.* valid +acme", table), table

    st, _, b = hub.api("POST", f"/api/v1/certificates/{c['id']}/renew")
    assert st == 202 and b["id"] == c["id"]
    netlab.wait_until(lambda: (lambda n: pebble_issued(n) and n["serial"] != c["serial"])(
        hub.cert("api-example-com")), timeout=40, what="renewed")
    c = hub.cert("api-example-com")

    assert hub.cli("cert", "revoke", str(c["id"]), "--reason", "4").returncode == 0
    netlab.wait_until(lambda: hub.cert("api-example-com")["status"] == "revoked", timeout=30,
                      what="revoked")
    # pebble itself says so.
    r = acme.hub.run(["curl", "-sf", "--cacert", acme.tls_ca,
                      f"{acmelab.MGMT}/cert-status-by-serial/{c['serial'].lower()}"], check=False)
    assert r.returncode == 0 and json.loads(r.stdout)["Status"] == "Revoked", r.stdout
    # Revoking twice is refused.
    st, _, b = hub.api("POST", f"/api/v1/certificates/{c['id']}/revoke", {})
    assert st == 409 and b["error"]["code"] == "not_revocable"

    assert hub.cli("cert", "delete", str(c["id"])).returncode == 0
    assert hub.cert("api-example-com") is None
    acts = hub.actions()
    for a in ("certificate.request", "certificate.self_signed", "certificate.issued",
              "certificate.renew", "certificate.renewed", "certificate.revoke",
              "certificate.revoked", "certificate.delete"):
        assert a in acts, (a, acts)
    rev = [e for e in hub.audit() if e["action"] == "certificate.revoked"][0]
    assert rev["actor"] == "system" and rev["object"] == f"certificate:{c['id']}"
    assert hub.proc.alive()


def test_acme_store_route_hosts_and_imported_cover(acme):
    hub = StoreHub(acme)
    hub.start()
    # An imported wildcard covers its route: nothing is ordered for it.
    key, crt = acme.path("imp.key"), acme.path("imp.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=*.covered.example.com",
                    "-addext", "subjectAltName=DNS:*.covered.example.com", "-days", "30",
                    "-keyout", key, "-out", crt], capture_output=True, check=True)
    imp = json.loads(hub.cli("cert", "import", "imported", "--cert", crt, "--key", key,
                             "--json").stdout)
    assert imp["source"] == "manual" and imp["acme"] is None and imp["status"] == "valid"
    for host in ("app.example.com", "x.covered.example.com"):
        st, _, b = hub.api("POST", "/api/v1/routes", {"host": host,
                                                     "target": "http://127.0.0.1:9"})
        assert st == 201, b
    # The route's host serves a self-signed stand-in at once, then pebble's.
    netlab.wait_until(lambda: hub.cert("app.example.com") is not None, timeout=10,
                      what="stand-in for the route host")
    netlab.wait_until(lambda: pebble_issued(hub.cert("app.example.com")), timeout=40,
                      what="route host certificate")
    netlab.wait_until(lambda: served_serial(acme, "app.example.com") ==
                      hub.cert("app.example.com")["serial"], timeout=20, what="served")
    assert hub.cert("x.covered.example.com") is None
    assert "route host x.covered.example.com" not in hub.proc.log()
    assert "certificate.import" in hub.actions()


def test_acme_store_api_validation_and_auth(acme):
    hub = StoreHub(acme)
    hub.start()
    cases = [
        ({}, "names"),
        ({"names": []}, "names"),
        ({"names": ["Bad_Name"]}, "names"),
        ({"names": ["a.example.com", "a.example.com"]}, "names"),
        ({"names": ["a.example.com"], "challenge": "carrier-pigeon"}, "challenge"),
        ({"names": ["a.example.com"], "key_type": "dsa"}, "key_type"),
        ({"names": ["*.example.com"]}, "challenge"),
        ({"names": ["a.example.com"], "challenge": "dns-01"}, "dns_provider"),
        ({"names": ["a.example.com"], "dns_provider": "nope"}, "dns_provider"),
        ({"names": ["a.example.com"], "name": "Not OK"}, "name"),
        ({"names": ["a.example.com"], "wat": 1}, "wat"),
    ]
    for body, field in cases:
        st, _, b = hub.api("POST", "/api/v1/certificates/request", body)
        assert st == 400 and b["error"]["field"] == field, (body, st, b)
    # Import: a key that does not match the certificate names the key.
    k1, c1, k2 = acme.path("k1.pem"), acme.path("c1.pem"), acme.path("k2.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=m.example.com",
                    "-days", "2", "-keyout", k1, "-out", c1], capture_output=True, check=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", k2], capture_output=True, check=True)
    cert_pem, key1, key2 = (open(p).read() for p in (c1, k1, k2))
    st, _, b = hub.api("POST", "/api/v1/certificates/import",
                       {"name": "m", "cert_pem": cert_pem, "key_pem": key2})
    assert st == 400 and b["error"]["field"] == "key_pem" and "match" in b["error"]["message"]
    st, _, b = hub.api("POST", "/api/v1/certificates/import",
                       {"name": "m", "cert_pem": "not pem", "key_pem": key1})
    assert st == 400 and b["error"]["field"] == "cert_pem"
    r = hub.cli("cert", "import", "m", "--cert", c1, "--key", k2, check=False)
    assert r.returncode == 2 and "key_pem" in r.stderr
    st, _, m = hub.api("POST", "/api/v1/certificates/import",
                       {"name": "m", "cert_pem": cert_pem, "key_pem": key1})
    assert st == 201 and m["source"] == "manual"
    # An imported certificate is neither renewed nor revoked by the hub.
    st, _, b = hub.api("POST", f"/api/v1/certificates/{m['id']}/renew")
    assert st == 409 and b["error"]["code"] == "not_acme"
    st, _, b = hub.api("POST", f"/api/v1/certificates/{m['id']}/revoke", {"reason": 7})
    assert st == 400 and b["error"]["field"] == "reason"
    st, _, b = hub.api("POST", f"/api/v1/certificates/{m['id']}/revoke", {})
    assert st == 409
    assert hub.api("POST", "/api/v1/certificates/999/renew")[0] == 404
    # DNS providers.
    anyrev = {"If-Match": "*"}
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/nope", {"settings": {"a": "b"}}, anyrev)
    assert st == 404
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/cloudflare", {"settings": {"zone": "x"}})
    assert st == 428
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/cloudflare", {"settings": {"zone": "x"}},
                       anyrev)
    assert st == 400 and b["error"]["field"] == "settings" and "api_token" in b["error"]["message"]
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/cloudflare",
                       {"settings": {"api_token": "t", "colour": "blue"}}, anyrev)
    assert st == 400 and "colour" in b["error"]["message"]
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/cloudflare", {"wat": {}}, anyrev)
    assert st == 400 and b["error"]["field"] == "wat"
    st, _, b = hub.api("PUT", "/api/v1/dns-providers/hetzner", {"settings": {"api_token": "t"}},
                       {"If-Match": '"7"'})
    assert st == 412
    assert hub.api("DELETE", "/api/v1/dns-providers/hetzner")[0] == 404
    # Unauthenticated: every endpoint refuses.
    for method, path, body in (("GET", "/api/v1/certificates", None),
                               ("POST", "/api/v1/certificates/request",
                                {"names": ["u.example.com"]}),
                               ("POST", "/api/v1/certificates/import", {}),
                               ("POST", f"/api/v1/certificates/{m['id']}/renew", None),
                               ("POST", f"/api/v1/certificates/{m['id']}/revoke", {}),
                               ("DELETE", f"/api/v1/certificates/{m['id']}", None),
                               ("GET", "/api/v1/dns-providers", None),
                               ("PUT", "/api/v1/dns-providers/cloudflare",
                                {"settings": {"api_token": "x"}}),
                               ("DELETE", "/api/v1/dns-providers/cloudflare", None)):
        st, _, b = hub.http(method, path, body)
        assert st == 401, (method, path, st, b)
    assert hub.cert("u-example-com") is None and hub.cert("m") is not None


def test_acme_store_dns01_credentials_never_come_back(acme):
    standins = os.path.join(os.path.dirname(__file__), "..", "lib", "dns_standins.py")
    acme.lab.spawn(acme.ca, [sys.executable, standins, "cloudflare", acmelab.CA_IP, "9080",
                             acmelab.CHALL_MGMT, "example.com", SECRET, acme.path("cf.jsonl")],
                   name="standin-cf")
    netlab.wait_until(lambda: acme.hub.run(
        ["curl", "-s", "-o", "/dev/null", f"http://{acmelab.CA_IP}:9080/"],
        check=False).returncode == 0, what="cloudflare stand-in")
    hub = StoreHub(acme, extra=f"challenges = http-01,dns-01\ndns_provider = cloudflare\n"
                               f"dns_check_servers = {acmelab.DNS_SERVER}\n")
    hub.start()
    conf = acme.path("cf.conf")
    with open(conf, "w") as f:
        f.write(f"api_token = {SECRET}\napi_url = http://{acmelab.CA_IP}:9080/client/v4\n")
    r = hub.cli("dns-provider", "set", "cloudflare", "--conf", conf, "--json")
    out = json.loads(r.stdout)
    assert out["set"] is True and out["keys"] == ["api_token", "api_url"] and out["rev"] > 0
    assert set(out) == {"name", "set", "keys", "rev"}
    c = json.loads(hub.cli("cert", "request", "*.example.com", "--challenge", "dns-01",
                           "--json").stdout)
    assert c["name"] == "wildcard-example-com"
    netlab.wait_until(lambda: pebble_issued(hub.cert("wildcard-example-com")), timeout=60,
                      what="wildcard over DNS-01 with stored credentials")
    assert served_serial(acme, "any.example.com") == hub.cert("wildcard-example-com")["serial"]
    # The stand-in saw the stored token: it was used.
    with open(acme.path("cf.jsonl")) as f:
        assert f.read().count("POST") >= 1
    # Never in an API answer, the audit log, the CLI or the hub's log.
    seen = [hub.api("GET", "/api/v1/dns-providers")[2],
            hub.api("GET", "/api/v1/audit?limit=500")[2],
            hub.api("GET", "/api/v1/certificates")[2],
            hub.api("GET", "/api/v1/settings")[2]]
    text = json.dumps(seen) + hub.cli("dns-provider", "list").stdout + hub.proc.log()
    assert SECRET not in text
    assert "dns_provider.set" in hub.actions()
    r = hub.cli("dns-provider", "list").stdout
    assert re.search(r"cloudflare +yes +api_token,api_url", r), r
    assert hub.cli("dns-provider", "delete", "cloudflare").returncode == 0
    assert hub.api("GET", "/api/v1/dns-providers")[2]["items"][0]["set"] is False
    assert "dns_provider.delete" in hub.actions()
