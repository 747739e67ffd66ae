"""The metrics an operator graphs, from a hub with its control plane, a
real agent and a webhook: /metrics parsed with python3-prometheus-client
(so the exposition is valid and each family is one group), every family
of docs/operations.md ("Metrics") present with the labels it documents,
and the number of series fixed while 1,000 clients, each from an address
of its own and asking for a path of its own, send requests. The login
routes of test_auth_login.py show the two denial reasons that need a
session: none, and a user the route's groups do not admit."""
import json
import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

import netlab
import tlslab
from eventlab import METRICS, join_agent, metrics_text, run_agent, tunnel_world, webhook
from frontlab import ns_socket
from test_auth_login import PW_BOB, fetch, hub, route_cookie  # noqa: F401 (hub: a fixture)
from webhook_sink import Sink

pytestmark = pytest.mark.serial     # 1,000 connections from one test

PLAIN = ("127.0.0.1", 8080)
CLIENTS = 1000


def scrape(ns):
    """{(sample name, frozenset(labels)): value} and the family names."""
    samples, fams = {}, []
    for fam in text_string_to_metric_families(metrics_text(ns)):
        fams.append(fam.name)
        for s in fam.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, fams


def labelled(samples, name):
    """The label dicts of sample `name`."""
    return [dict(k[1]) for k in samples if k[0] == name]


def request(ns, src, host, path):
    """One HTTP/1.1 request from source address `src`; returns the status."""
    s = ns_socket(ns.name)
    try:
        s.settimeout(20)
        s.bind((src, 0))
        s.connect(PLAIN)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ", 2)[1])
    finally:
        s.close()


def routes(h, ident):
    for body in ({"host": "app.test", "agent_id": ident, "target": "http://10.78.0.2:80"},
                 {"host": "deny.test", "target": "http://127.0.0.1:9",
                  "policy": json.dumps({"access": {"deny": ["0.0.0.0/0", "::/0"]}})},
                 {"host": "login.test", "target": "http://127.0.0.1:9",
                  "policy": json.dumps({"auth": "login"})}):
        st, _, b = h.api("POST", "/api/v1/routes", {"redirect_https": False, **body})
        assert st == 201, b
    return {r["host"]: r for r in h.cli_json("route", "list")["items"]}


def test_every_family_with_bounded_labels_under_1000_clients(lab, tmp_path):
    world = tunnel_world(lab, tmp_path, nginx=True)     # plain HTTP on PLAIN too
    h, pub = world["hub"], world["pub"]
    sink = Sink(pub.name)
    try:
        webhook(h, sink, "route.*")
        ident, state = join_agent(lab, world, "edge")
        run_agent(lab, world, "edge", state)
        cert, key = tlslab.selfsigned_pem(str(tmp_path), "shop.example", 40, san=False)
        st, _, b = h.api("POST", "/api/v1/certificates",
                         {"name": "shop", "cert_pem": cert, "key_pem": key})
        assert st == 201, b
        by_host = routes(h, ident)
        netlab.wait_until(lambda: h.api("GET", f"/api/v1/agents/{ident}")[2]["online"],
                          timeout=60, what="agent online")
        # One request of each kind, so every series that will exist does.
        assert request(pub, "127.0.0.1", "app.test", "/") == 200
        assert request(pub, "127.0.0.1", "app.test", "/missing") == 404
        assert request(pub, "127.0.0.1", "deny.test", "/") == 403
        assert request(pub, "127.0.0.1", "login.test", "/") == 401
        assert request(pub, "127.0.0.1", "nowhere.test", "/") == 404
        netlab.wait_until(lambda: len(sink.requests("/ev")) >= 3, what="webhook deliveries")

        def settled():
            m, _ = scrape(pub)
            return (m.get(("postern_webhook_outbox_depth", frozenset())) == 0 and
                    ("postern_agent_online", frozenset({("agent", "edge")})) in m and
                    labelled(m, "postern_certificate_expiry_timestamp_seconds"))
        netlab.wait_until(settled, timeout=60, what="agent, certificate and outbox in /metrics")
        m, fams = scrape(pub)
        assert len(fams) == len(set(fams)), fams     # each family one group
        # Per agent.
        edge = frozenset({("agent", "edge")})
        assert m[("postern_agent_online", edge)] == 1
        assert m[("postern_agent_last_handshake_age_seconds", edge)] >= 0
        assert m[("postern_agent_rx_bytes_total", edge)] > 0
        assert m[("postern_agent_tx_bytes_total", edge)] > 0
        assert ("postern_agent_endpoint_changes_total", edge) in m
        # Per route: requests by status class, latency histogram, bytes.
        app = by_host["app.test"].get("name") or f"route-{by_host['app.test']['id']}"
        assert m[("postern_requests_total", frozenset({("route", app), ("code", "2xx")}))] == 1
        assert m[("postern_requests_total", frozenset({("route", app), ("code", "4xx")}))] == 1
        les = {d["le"] for d in labelled(m, "postern_request_duration_seconds_bucket")
               if d["route"] == app}
        assert "+Inf" in les and len(les) >= 10, les
        assert m[("postern_request_duration_seconds_count", frozenset({("route", app)}))] == 2
        assert m[("postern_response_bytes_total", frozenset({("route", app)}))] > 0
        assert ("postern_request_bytes_total", frozenset({("route", app)})) in m
        # Certificates: expiry time per name.
        shop = [d for d in labelled(m, "postern_certificate_expiry_timestamp_seconds")
                if d["name"] == "shop"]
        assert shop == [{"name": "shop", "source": "manual"}], shop
        st, _, c = h.api("GET", "/api/v1/certificates")
        na = [x for x in c["items"] if x["name"] == "shop"][0]["not_after"]
        assert m[("postern_certificate_expiry_timestamp_seconds",
                  frozenset({("name", "shop"), ("source", "manual")}))] == na // 1000
        # Webhooks: deliveries by outcome, outbox depth.
        outcomes = {d["outcome"] for d in labelled(m, "postern_webhook_attempts_total")}
        assert outcomes == {"delivered", "retry", "failed"}, outcomes
        assert m[("postern_webhook_attempts_total", frozenset({("outcome", "delivered")}))] >= 3
        # Access denials by reason.
        reasons = {d["reason"] for d in labelled(m, "postern_access_denied_total")}
        assert reasons == {"cidr_denied", "no_session", "forbidden_user_or_group"}, reasons
        assert m[("postern_access_denied_total", frozenset({("reason", "cidr_denied")}))] == 1
        assert m[("postern_access_denied_total", frozenset({("reason", "no_session")}))] == 1

        # 1,000 clients, each its own address and path: same series.
        before = set(m)
        kinds = [("app.test", 404), ("deny.test", 403), ("login.test", 401),
                 ("nowhere.test", 404)]
        for i in range(CLIENTS):
            host, want = kinds[i % len(kinds)]
            src = f"127.{1 + i // 250}.{i % 250 // 50}.{1 + i % 50}"
            assert request(pub, src, host, f"/c{i}/{os.urandom(4).hex()}") == want
        m2, _ = scrape(pub)
        assert set(m2) == before, (set(m2) ^ before)
        labels = {v for k in m2 for _, v in k[1]}
        assert not any(v.startswith("127.") or v.startswith("/c") for v in labels)
        assert m2[("postern_access_denied_total",
                   frozenset({("reason", "cidr_denied")}))] == 1 + CLIENTS // 4
        assert m2[("postern_requests_total", frozenset({("route", app), ("code", "4xx")}))] \
            == 1 + CLIENTS // 4
    finally:
        sink.close()


def test_denials_by_reason_forbidden_and_no_session(hub):
    """A logged-in user the route's groups do not admit, and a client with
    no session, each counted under its reason."""
    h, up = hub
    h.restart(settings=METRICS)     # the login routes' hub, with /metrics
    netlab.wait_until(lambda: fetch(h, "h1", "other.test", "/")[0] == 401,
                      what="the login routes published")
    auth, _, _ = route_cookie(h, "h1", "bob", PW_BOB)
    st, _, _ = fetch(h, "h1", "app.test", "/private", headers=[f"Cookie: {auth}"])
    assert st == 403 and up.count() == 0
    m, _ = scrape(h.ns)
    why = lambda r: m[("postern_access_denied_total", frozenset({("reason", r)}))]  # noqa: E731
    assert why("forbidden_user_or_group") == 1
    assert why("no_session") >= 1
    assert why("cidr_denied") == 0
