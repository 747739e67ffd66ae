"""Renewal timing: ARI (RFC 9773) against a stand-in renewalInfo endpoint,
and the two-thirds-of-lifetime fallback when the CA has no ARI."""
import base64
import datetime
import json
import os
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402

ARI = os.path.join(os.path.dirname(__file__), "..", "lib", "ari_standin.py")
HTTP = ["--challenge", "http-01", "--http-listen", f"{acmelab.HUB_IP}:80"]


@pytest.fixture
def issued(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start()
    r = a.issue(["renew.example.com"], *HTTP)
    assert r.returncode == 0, r.stderr
    return a


def expected_cert_id(pem_path):
    """RFC 9773 s4.1 certID computed with the openssl tool, independently."""
    t = subprocess.run(["openssl", "x509", "-noout", "-text", "-serial", "-in", pem_path],
                       capture_output=True, text=True, check=True).stdout
    aki = re.search(r"Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)", t).group(1)
    ser = re.search(r"serial=([0-9A-F]+)", t).group(1)
    serial = bytes.fromhex(ser if len(ser) % 2 == 0 else "0" + ser)
    if serial[0] & 0x80:
        serial = b"\x00" + serial

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return b64(bytes.fromhex(aki.replace(":", ""))) + "." + b64(serial)


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def ari(acme, window):
    wf, log = acme.path("window.json"), acme.path("ari.log")
    with open(wf, "w") as f:
        json.dump(window, f)
    if not getattr(acme, "ari_started", False):
        acme.lab.spawn(acme.ca, [sys.executable, ARI, acmelab.CA_IP, "9090", wf, log],
                       name="ari")
        netlab.wait_until(lambda: acme.hub.run(
            ["curl", "-sf", f"http://{acmelab.CA_IP}:9090/dir"], check=False).returncode
            == 0, what="ARI stand-in")
        acme.ari_started = True
    r = acme.postern("renewal-info", "--cert", acme.path("cert.pem"),
                     directory=f"http://{acmelab.CA_IP}:9090/dir")
    assert r.returncode == 0, r.stderr
    return acmelab.parse_kv(r.stdout), open(log).read().split()


def test_acme_ari_window_moves_renewal_time(issued):
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    w1 = (now + 10 * 86400, now + 11 * 86400)
    out, asked = ari(issued, {"start": iso(w1[0]), "end": iso(w1[1]), "retry_after": 3600})
    assert out["source"] == "ari"
    assert w1[0] <= int(out["renew_at"]) < w1[1]
    assert out["renew_now"] == "0"
    assert out["retry_after"] == "3600"
    assert asked[-1] == expected_cert_id(issued.path("cert.pem")) == out["cert_id"]
    # The CA moves the window: the renewal time follows it.
    w2 = (now + 30 * 86400, now + 31 * 86400)
    out2, _ = ari(issued, {"start": iso(w2[0]), "end": iso(w2[1])})
    assert w2[0] <= int(out2["renew_at"]) < w2[1]


def test_acme_ari_past_window_renews_now(issued):
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    out, _ = ari(issued, {"start": iso(now - 7200), "end": iso(now - 3600)})
    assert out["renew_now"] == "1"
    assert int(out["renew_at"]) == int(out["now"])
    # Renewing now: a new order that names the old certificate.
    r = issued.issue(["renew.example.com"], *HTTP, "--renew", issued.path("cert.pem"),
                     out="cert2")
    assert r.returncode == 0, r.stderr
    assert acmelab.parse_kv(r.stdout)["serial"] != \
        acmelab.parse_kv(issued.postern("cert-info", "--cert",
                                        issued.path("cert.pem")).stdout)["serial"]


def test_acme_no_ari_falls_back_to_two_thirds(issued):
    """pebble 2.4 offers no renewalInfo: two thirds of the lifetime."""
    r = issued.postern("renewal-info", "--cert", issued.path("cert.pem"))
    assert r.returncode == 0, r.stderr
    out = acmelab.parse_kv(r.stdout)
    info = acmelab.parse_kv(issued.postern("cert-info", "--cert",
                                           issued.path("cert.pem")).stdout)
    nb, na = int(info["not_before"]), int(info["not_after"])
    assert out["source"] == "lifetime"
    assert int(out["renew_at"]) == nb + (na - nb) // 3 * 2
