"""DNS-01 through RFC 2136 dynamic updates with TSIG, against a real BIND
(Debian's bind9) that pebble queries for the challenge."""
import base64
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import acmelab  # noqa: E402
import netlab  # noqa: E402

SECRET = base64.b64encode(b"postern-rfc2136-test-secret-0123").decode()


def start_named(acme):
    d = acme.dir
    with open(os.path.join(d, "example.com.zone"), "w") as f:
        f.write("$TTL 60\n@ IN SOA ns1.example.com. hostmaster.example.com. "
                "1 3600 600 86400 60\n@ IN NS ns1.example.com.\n"
                f"ns1 IN A {acmelab.CA_IP}\n")
    conf = os.path.join(d, "named.conf")
    with open(conf, "w") as f:
        f.write(f"""options {{ directory "{d}"; listen-on port 53 {{ {acmelab.CA_IP}; }};
  listen-on-v6 {{ none; }}; recursion no; pid-file "{d}/named.pid";
  session-keyfile "{d}/session.key"; dnssec-validation no; }};
controls {{ }};
key "postern-key." {{ algorithm hmac-sha256; secret "{SECRET}"; }};
zone "example.com" {{ type primary; file "{d}/example.com.zone";
  allow-update {{ key "postern-key."; }}; }};
""")
    acme.lab.spawn(acme.ca, ["/usr/sbin/named", "-g", "-c", conf], name="named")
    netlab.wait_until(lambda: acmelab.txt_values(acme, "example.com",
                                                 server=acmelab.CA_IP, port=53) == [],
                      timeout=15, what="named")


@pytest.fixture
def acme(lab, tmp_path):
    a = acmelab.AcmeLab(lab, tmp_path)
    start_named(a)
    a.start(dns_server=f"{acmelab.CA_IP}:53", challtestsrv=False)
    return a


def conf(acme, secret=SECRET):
    p = acme.path("rfc2136.conf")
    with open(p, "w") as f:
        f.write(f"server = {acmelab.CA_IP}:53\nzone = example.com\n"
                f"tsig_name = postern-key\ntsig_secret = {secret}\nttl = 30\n")
    return p


def args(acme, c):
    return ["--challenge", "dns-01", "--dns-provider", "rfc2136", "--dns-conf", c,
            "--dns-check-server", f"{acmelab.CA_IP}:53", "--dns-timeout", "20"]


def test_acme_rfc2136_tsig_issues_wildcard(acme):
    r = acme.issue(["example.com", "*.example.com"], *args(acme, conf(acme)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert acmelab.cert_names(acme.path("cert.pem")) == ["*.example.com", "example.com"]
    v = acmelab.verify_chain(acme.path("cert.pem"), acme.pebble_root(), acme.dir,
                             "x.example.com")
    assert v.returncode == 0, v.stderr
    # The challenge records are gone from the zone afterwards.
    assert acmelab.txt_values(acme, "_acme-challenge.example.com",
                              server=acmelab.CA_IP, port=53) == []


def test_acme_rfc2136_wrong_key_is_refused(acme):
    bad = base64.b64encode(b"another-secret-entirely-000000000").decode()
    r = acme.issue(["www.example.com"], *args(acme, conf(acme, bad)))
    assert r.returncode == 1
    assert "rfc2136: adding _acme-challenge.www.example.com refused: NOTAUTH" in r.stderr
    assert bad not in r.stderr
