"""The ACME client against Debian's pebble: HTTP-01 and TLS-ALPN-01 (the
standalone responders answering from the challenge store), multi-name and
RSA certificates, External Account Binding, pebble's deliberate nonce
rejections, invalid challenges, revocation and account deactivation."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402

HTTP = ["--challenge", "http-01", "--http-listen", f"{acmelab.HUB_IP}:80"]
ALPN = ["--challenge", "tls-alpn-01", "--alpn-listen", f"{acmelab.HUB_IP}:443"]


@pytest.fixture
def acme(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start()
    return a


def assert_issued(acme, r, names, key_alg="id-ecPublicKey"):
    assert r.returncode == 0, r.stdout + r.stderr
    assert acmelab.cert_names(acme.path("cert.pem")) == sorted(names)
    v = acmelab.verify_chain(acme.path("cert.pem"), acme.pebble_root(), acme.dir,
                             names[0])
    assert v.returncode == 0, v.stdout + v.stderr
    t = acme.hub.run(["openssl", "x509", "-noout", "-text", "-in",
                      acme.path("cert.pem")]).stdout
    assert key_alg in t
    # The key written belongs to the certificate.
    m1 = acme.hub.run(["openssl", "x509", "-noout", "-pubkey", "-in",
                       acme.path("cert.pem")]).stdout
    m2 = acme.hub.run(["openssl", "pkey", "-pubout", "-in", acme.path("cert.key")]).stdout
    assert m1 == m2
    assert oct(os.stat(acme.path("cert.key")).st_mode & 0o777) == "0o600"


def test_acme_http01_issues(acme):
    r = acme.issue(["app.example.com"], *HTTP)
    assert_issued(acme, r, ["app.example.com"])
    assert "app.example.com: answering http-01" in r.stderr


def test_acme_tlsalpn01_issues(acme):
    r = acme.issue(["secure.example.com"], *ALPN)
    assert_issued(acme, r, ["secure.example.com"])
    assert "answering tls-alpn-01" in r.stderr


def test_acme_multi_name_rsa(acme):
    names = ["a.example.com", "b.example.com", "c.example.org"]
    r = acme.issue(names, *HTTP, "--key-type", "rsa3072")
    assert_issued(acme, r, names, key_alg="Public-Key: (3072 bit)")


def test_acme_rsa_account_key_rs256(acme):
    r = acme.issue(["rsa.example.com"], *HTTP, "--account-key-type", "rsa2048",
                   "--key-type", "rsa2048")
    assert_issued(acme, r, ["rsa.example.com"], key_alg="Public-Key: (2048 bit)")
    t = acme.hub.run(["openssl", "pkey", "-text", "-noout", "-in",
                      acme.path("account.key")]).stdout
    assert "Private-Key: (2048 bit" in t


def test_acme_existing_account_is_reused(acme):
    r1 = acme.issue(["one.example.com"], *HTTP)
    r2 = acme.issue(["two.example.com"], *HTTP, out="cert2")
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    acct = [ln.split("ACME account ")[1].split() for r in (r1, r2)
            for ln in r.stderr.splitlines() if "ACME account " in ln]
    assert len(acct) == 2 and acct[0][0] == acct[1][0]
    assert acct[0][1] == "(created)" and acct[1][1] == "(existing)"   # 201, then 200


def test_acme_invalid_challenge_fails_cleanly(acme):
    """Nobody answers on :80 (no responder): pebble marks the challenge
    invalid; the client says so and stops (no hang, exit 1)."""
    r = acme.issue(["nobody.example.com"], "--challenge", "http-01")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "http-01 for nobody.example.com is invalid:" in r.stderr
    assert not os.path.exists(acme.path("cert.pem"))


def test_acme_wildcard_needs_dns01(acme):
    r = acme.issue(["*.example.com"], *HTTP)
    assert r.returncode == 1
    assert "no configured challenge type fits *.example.com (wildcards need dns-01)" \
        in r.stderr


def test_acme_revoke_and_deactivate(acme):
    r = acme.issue(["rev.example.com"], *HTTP)
    assert r.returncode == 0, r.stderr
    args = ["--account-key", acme.path("account.key"), "--cert", acme.path("cert.pem")]
    r = acme.postern("revoke", *args, "--reason", "4")
    assert r.returncode == 0 and "revoked" in r.stdout, r.stderr
    r = acme.postern("revoke", *args)
    assert r.returncode == 1
    assert "alreadyRevoked" in r.stderr
    r = acme.postern("deactivate", "--account-key", acme.path("account.key"))
    assert r.returncode == 0, r.stderr
    r = acme.issue(["after.example.com"], *HTTP)
    assert r.returncode == 1
    assert "unauthorized" in r.stderr or "deactivated" in r.stderr


def test_acme_bad_names_are_refused_before_the_ca(acme):
    r = acme.issue(["Bad_Name.example.com"], *HTTP)
    assert r.returncode == 1
    assert "not a DNS name: Bad_Name.example.com" in r.stderr


@pytest.fixture
def acme_nonce(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start(env={"PEBBLE_WFE_NONCEREJECT": "25"})
    return a


def test_acme_bad_nonces_are_retried(acme_nonce):
    """pebble rejects 25% of valid nonces with badNonce; every order still
    completes, and the client counted its retries."""
    retries = 0
    for i in range(3):
        r = acme_nonce.issue([f"n{i}.example.com"], *HTTP, out=f"n{i}")
        assert r.returncode == 0, r.stdout + r.stderr
        retries += int(acmelab.parse_kv(r.stdout)["bad_nonce_retries"])
    assert retries > 0


EAB = {"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}


@pytest.fixture
def acme_eab(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    a.start(eab=EAB)
    return a


def test_acme_external_account_binding(acme_eab):
    r = acme_eab.issue(["eab.example.com"], *HTTP)
    assert r.returncode == 1
    assert "the CA requires External Account Binding" in r.stderr
    keyf = acme_eab.path("eab.key")
    with open(keyf, "w") as f:
        f.write("AAAA" + EAB["kid-1"][4:] + "\n")   # wrong MAC key
    r = acme_eab.issue(["eab.example.com"], *HTTP, "--eab-kid", "kid-1",
                       "--eab-hmac-key-file", keyf)
    assert r.returncode == 1
    assert "CA refused" in r.stderr
    with open(keyf, "w") as f:
        f.write(EAB["kid-1"] + "\n")
    r = acme_eab.issue(["eab.example.com"], *HTTP, "--eab-kid", "kid-1",
                       "--eab-hmac-key-file", keyf, account="account2.key")
    assert r.returncode == 0, r.stdout + r.stderr
    assert EAB["kid-1"] not in r.stderr + r.stdout
