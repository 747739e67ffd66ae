"""Webhooks: every delivery's Standard Webhooks signature checked by the
reference library from npm (tests/peers), also across a secret rotation;
the generic body carries the audit entry's seq and hashes; Slack, Discord
and ntfy bodies hold the fields those services document; retries follow
the (configured) schedule with the same webhook-id; 3xx fails without
following the redirect; 410 disables the webhook; Retry-After is
honoured; addresses the rules refuse are refused; and a hub SIGKILLed
while deliveries are in flight delivers every event after restarts, none
invented."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402
from webhook_sink import Sink  # noqa: E402

PEERS = os.path.join(os.path.dirname(__file__), "..", "peers")
FAST = "0s,50ms,50ms,50ms"


def verify(items):
    """[(secret, headers, body bytes)] -> [bool], by npm standardwebhooks."""
    doc = [{"secret": s, "body": b.decode(),
            "headers": {k: h[k] for k in ("webhook-id", "webhook-timestamp",
                                         "webhook-signature")}}
           for s, h, b in items]
    r = subprocess.run(["node", "verify_webhooks.js"], cwd=PEERS, input=json.dumps(doc),
                       capture_output=True, text=True, timeout=60, check=True)
    return json.loads(r.stdout)


def setting(h, key, value):
    st, _, b = h.api("PUT", f"/api/v1/settings/{key}", {"value": value},
                     headers={"If-Match": "*"})
    assert st == 200, b


def start(lab, schedule=FAST, loopback=True, settings=""):
    h = Hub(lab)
    h.start(settings=settings)
    if loopback:
        setting(h, "webhooks.allow_loopback", 1)
    setting(h, "webhooks.retry_schedule", schedule)
    return h


def create(h, name, url, **kw):
    st, _, b = h.api("POST", "/api/v1/webhooks", {"name": name, "url": url, **kw})
    assert st == 201, b
    return b


def deliveries(h, wid):
    st, _, b = h.api("GET", f"/api/v1/webhooks/{wid}/deliveries?limit=500")
    assert st == 200, b
    return b["items"]


def audit(h):
    st, _, b = h.api("GET", "/api/v1/audit?limit=500")
    assert st == 200
    return {e["seq"]: e for e in b["items"]}


def route(h, i):
    st, _, b = h.api("POST", "/api/v1/routes", {"host": f"r{i}.test",
                                                "target": "http://127.0.0.1:9"})
    assert st == 201, b


def test_signed_json_rotation_and_filter(lab):
    h = start(lab)
    sink = Sink(h.ns.name)
    try:
        w = create(h, "ops", sink.url("/j"), events="route.* webhook.test")
        secret = w["secret"]
        assert secret.startswith("whsec_")
        # Shown once: not in a get, a list or the audit log.
        st, _, got = h.api("GET", f"/api/v1/webhooks/{w['id']}")
        assert "secret" not in got and secret not in json.dumps(h.api("GET", "/api/v1/webhooks")[2])
        assert secret not in json.dumps(audit(h)) and sink.url("/j") not in json.dumps(audit(h))
        route(h, 1)
        h.api("PUT", "/api/v1/settings/login.lockout", {"value": 60}, headers={"If-Match": "*"})
        netlab.wait_until(lambda: len(sink.requests("/j")) >= 1, what="route.create delivered")
        hdrs, body = sink.requests("/j")[0]
        assert verify([(secret, hdrs, body)]) == [True]
        assert verify([("whsec_" + "A" * 43 + "=", hdrs, body)]) == [False]
        ev = json.loads(body)
        entries = audit(h)
        e = entries[ev["data"]["seq"]]
        assert ev["type"] == "route.create" == e["action"]
        assert ev["data"]["hash"] == e["hash"]
        assert ev["data"]["prev_hash"] == entries[e["seq"] - 1]["hash"]
        assert ev["data"]["id"] == hdrs["webhook-id"] and ev["data"]["actor"] == e["actor"]
        assert hdrs["content-type"] == "application/json"
        # Rotation with an overlap: both signatures, each secret verifies.
        st, _, rot = h.api("POST", f"/api/v1/webhooks/{w['id']}/rotate-secret", {"overlap": 3600})
        assert st == 200 and rot["secret"] != secret
        st, _, _ = h.api("POST", f"/api/v1/webhooks/{w['id']}/test")
        assert st == 202
        netlab.wait_until(lambda: len(sink.requests("/j")) >= 2, what="test delivered")
        hdrs, body = sink.requests("/j")[1]
        assert json.loads(body)["type"] == "webhook.test"
        assert len(hdrs["webhook-signature"].split(" ")) == 2
        assert verify([(secret, hdrs, body), (rot["secret"], hdrs, body)]) == [True, True]
        # Overlap 0: only the new secret signs.
        st, _, rot2 = h.api("POST", f"/api/v1/webhooks/{w['id']}/rotate-secret", {"overlap": 0})
        h.api("POST", f"/api/v1/webhooks/{w['id']}/test")
        netlab.wait_until(lambda: len(sink.requests("/j")) >= 3, what="second test")
        hdrs, body = sink.requests("/j")[2]
        assert verify([(rot["secret"], hdrs, body), (rot2["secret"], hdrs, body)]) == [False, True]
        # The filter: the setting change (setting.*) was not sent.
        types = [json.loads(b)["type"] for _, b in sink.requests("/j")]
        assert types == ["route.create", "webhook.test", "webhook.test"]
        # Disabled: a test send is refused, nothing queued.
        st, hd, _ = h.api("GET", f"/api/v1/webhooks/{w['id']}")
        st, _, _ = h.api("PATCH", f"/api/v1/webhooks/{w['id']}", {"enabled": False},
                         headers={"If-Match": hd["etag"]})
        assert st == 200
        assert h.api("POST", f"/api/v1/webhooks/{w['id']}/test")[0] == 409
        # The CLI: the secret is printed once, at creation.
        out = h.cli("webhook", "create", "cli", "--url", sink.url("/c"), "--format", "slack",
                    "--events", "agent.*").stdout
        assert "whsec_" in out
        assert "whsec_" not in h.cli("webhook", "list").stdout
        assert h.cli("webhook", "create", "bad", "--url", "ftp://x", check=False).returncode == 2
    finally:
        sink.close()


def test_slack_discord_ntfy_bodies(lab):
    h = start(lab)
    sink = Sink(h.ns.name)
    try:
        hooks = {f: create(h, f, sink.url(f"/{f}/alerts" if f == "ntfy" else f"/{f}"),
                           format=f, events="auth.* webhook.test")
                 for f in ("slack", "discord", "ntfy")}
        for w in hooks.values():
            assert h.api("POST", f"/api/v1/webhooks/{w['id']}/test")[0] == 202
        # ntfy publishes JSON to the server's root with the topic inside.
        paths = {"slack": "/slack", "discord": "/discord", "ntfy": "/ntfy/"}
        netlab.wait_until(lambda: all(sink.requests(p) for p in paths.values()),
                          what="three deliveries")
        got = {f: sink.requests(p)[0] for f, p in paths.items()}
        assert verify([(hooks[f]["secret"], *got[f]) for f in paths]) == [True] * 3
        slack = json.loads(got["slack"][1])
        assert isinstance(slack["text"], str) and "webhook.test" in slack["text"]
        assert slack["blocks"][0]["type"] == "section"
        assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
        discord = json.loads(got["discord"][1])
        assert 0 < len(discord["content"]) <= 2000 and len(discord["embeds"]) == 1
        emb = discord["embeds"][0]
        assert emb["title"] == "webhook.test" and len(emb["title"]) <= 256
        assert isinstance(emb["color"], int) and emb["timestamp"].endswith("Z")
        assert all(f["name"] and f["value"] and len(f["value"]) <= 1024 for f in emb["fields"])
        ntfy = json.loads(got["ntfy"][1])
        assert ntfy["topic"] == "alerts" and ntfy["title"] and ntfy["message"]
        assert ntfy["priority"] in range(1, 6) and isinstance(ntfy["tags"], list)
        # A login delay (the brute-force throttle starting on a key) is a
        # warning: higher ntfy priority, a warning tag. Wrong passwords
        # until it starts (attempts during a delay get 429 and count not).
        setting(h, "login.max_failures", 1)

        def guess():
            h.http("POST", "/api/v1/session", {"username": "admin", "password": "wrong"},
                   headers={"Origin": "https://hub.test"})
            return len(sink.requests("/ntfy/")) >= 2
        netlab.wait_until(guess, timeout=30, interval=0.5, what="login delay sent")
        lock = json.loads(sink.requests("/ntfy/")[1][1])
        assert lock["title"].endswith("auth.delayed")
        assert lock["priority"] == 4 and lock["tags"] == ["warning"]
        # A ntfy URL without a topic is refused, naming the field.
        st, _, b = h.api("POST", "/api/v1/webhooks", {"name": "n2", "url": "http://x/",
                                                      "format": "ntfy"})
        assert st == 400 and b["error"]["field"] == "url"
    finally:
        sink.close()


def metrics(h):
    """{(name, outcome label or None): value} from the hub's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families
    text = h.curl("http://127.0.0.1:9100/metrics").stdout
    return {(s.name, s.labels.get("outcome")): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples
            if s.name.startswith("postern_webhook_")}


def test_retries_redirects_gone_and_retry_after(lab):
    h = start(lab, settings='metrics_listen = "127.0.0.1:9100"\n')
    sink = Sink(h.ns.name)
    try:
        sink.plan["/flaky"] = [500, 503, 200]
        sink.plan["/moved"] = [(302, {"Location": sink.url("/target")})]
        sink.plan["/gone"] = [410]
        sink.plan["/busy"] = [(429, {"Retry-After": "2"}), 200]
        sink.plan["/big"] = [(200, {}, b"x" * (1 << 20))]
        ids = {p: create(h, p.strip("/"), sink.url(p), events="webhook.test")["id"]
               for p in ("/flaky", "/moved", "/gone", "/busy", "/big")}
        for wid in ids.values():
            h.api("POST", f"/api/v1/webhooks/{wid}/test")
        # Fails twice, then delivered: three attempts, one webhook-id.
        netlab.wait_until(lambda: deliveries(h, ids["/flaky"])[0]["state"] == "delivered",
                          what="flaky delivered")
        d = deliveries(h, ids["/flaky"])[0]
        assert [a["status"] for a in d["attempt_log"]] == [500, 503, 200]
        assert len({r[0]["webhook-id"] for r in sink.requests("/flaky")}) == 1
        # A long answer is cut, not a failure.
        netlab.wait_until(lambda: deliveries(h, ids["/big"])[0]["state"] == "delivered",
                          what="big answer delivered")
        assert deliveries(h, ids["/big"])[0]["attempts"] == 1
        # 3xx is a failure and is not followed; the schedule has 4 attempts.
        netlab.wait_until(lambda: deliveries(h, ids["/moved"])[0]["state"] == "failed",
                          what="redirect failed")
        d = deliveries(h, ids["/moved"])[0]
        assert [a["status"] for a in d["attempt_log"]] == [302] * 4
        assert sink.requests("/target") == []
        # 410 disables the webhook, with an audit entry.
        netlab.wait_until(lambda: not h.api("GET", f"/api/v1/webhooks/{ids['/gone']}")[2]["enabled"],
                          what="410 disables")
        w = h.api("GET", f"/api/v1/webhooks/{ids['/gone']}")[2]
        assert "410" in w["disabled_reason"]
        assert any(e["action"] == "webhook.disable" and e["object"] == f"webhook:{ids['/gone']}"
                   for e in audit(h).values())
        assert len(sink.requests("/gone")) == 1
        # Retry-After (2 s) outweighs the 50 ms step: the retry is due later.
        netlab.wait_until(lambda: deliveries(h, ids["/busy"])[0]["attempts"] >= 1,
                          what="busy attempted")
        d = deliveries(h, ids["/busy"])[0]
        if d["state"] == "pending":
            assert d["next_at"] - d["attempt_log"][0]["time"] >= 2000
        netlab.wait_until(lambda: deliveries(h, ids["/busy"])[0]["state"] == "delivered",
                          what="busy delivered")
        # Manual redelivery of the failed one: pending again, same id.
        did = deliveries(h, ids["/moved"])[0]["id"]
        sink.plan["/moved"] = [200]
        st, _, _ = h.api("POST", f"/api/v1/webhook-deliveries/{did}/redeliver")
        assert st == 202
        netlab.wait_until(lambda: deliveries(h, ids["/moved"])[0]["state"] == "delivered",
                          what="redelivered")
        assert len({r[0]["webhook-id"] for r in sink.requests("/moved")}) == 1
        # The CLI lists deliveries.
        out = h.cli("webhook", "deliveries", str(ids["/moved"])).stdout
        assert "delivered" in out
        # Metrics: attempts by outcome (flaky 2 retries + 1 delivered, moved
        # 3 retries + 1 failed + 1 delivered, gone 1 failed, busy 1 retry +
        # 1 delivered, big 1 delivered), and an empty outbox.
        netlab.wait_until(lambda: metrics(h).get(("postern_webhook_outbox_depth", None)) == 0
                          and metrics(h).get(("postern_webhook_attempts_total", "delivered")) == 4,
                          what="metrics settle")
        m = metrics(h)
        assert m[("postern_webhook_attempts_total", "failed")] == 2
        assert m[("postern_webhook_attempts_total", "retry")] == 6
    finally:
        sink.close()


def test_address_rules(lab):
    h = start(lab, loopback=False)
    sink = Sink(h.ns.name)
    try:
        cases = {"lo": sink.url("/x"), "meta": "http://169.254.169.254/latest",
                 "name": f"http://localhost:{sink.port}/x", "lan": "http://10.1.2.3:9/x"}
        ids = {k: create(h, k, u, events="webhook.test")["id"] for k, u in cases.items()}
        for wid in ids.values():
            h.api("POST", f"/api/v1/webhooks/{wid}/test")

        def first_error(k):
            d = deliveries(h, ids[k])
            return d and d[0]["attempt_log"] and d[0]["attempt_log"][0]["error"]
        netlab.wait_until(lambda: all(first_error(k) for k in cases), what="attempts")
        assert "address refused: loopback" in first_error("lo")
        assert "address refused: link-local" in first_error("meta")
        assert "address refused: loopback" in first_error("name")
        assert "private address" in first_error("lan")
        assert sink.requests("/x") == []
        # With allow_private the LAN address is tried (and nothing answers).
        st, hd, _ = h.api("GET", f"/api/v1/webhooks/{ids['lan']}")
        h.api("PATCH", f"/api/v1/webhooks/{ids['lan']}", {"allow_private": True},
              headers={"If-Match": hd["etag"]})
        h.api("POST", f"/api/v1/webhooks/{ids['lan']}/test")
        netlab.wait_until(lambda: len(deliveries(h, ids["lan"])) == 2 and
                          deliveries(h, ids["lan"])[0]["attempt_log"], what="lan tried")
        assert "refused" not in deliveries(h, ids["lan"])[0]["attempt_log"][0]["error"]
    finally:
        sink.close()


def test_hub_killed_mid_delivery_resumes(lab):
    rounds, per_round = 5, netlab.scale(40)
    h = start(lab, schedule="0s,100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s")
    sink = Sink(h.ns.name, delay=0.02)
    try:
        w = create(h, "all", sink.url("/all"), events="route.create")
        n = 0
        for _ in range(rounds):
            for _ in range(per_round):
                route(h, n)
                n += 1
            # Killed while deliveries are in flight, then started again.
            netlab.wait_until(lambda: len(sink.requests("/all")) > 0, what="some delivered")
            h.stop(sig=signal.SIGKILL)
            h.start()
        netlab.wait_until(lambda: len({r[0]["webhook-id"] for r in sink.requests("/all")}) == n,
                          timeout=120, what="every event delivered")
        entries = audit(h)
        seen = {}
        for hdrs, body in sink.requests("/all"):
            ev = json.loads(body)
            seen[hdrs["webhook-id"]] = ev
            e = entries[ev["data"]["seq"]]     # none invented: each is a real entry
            assert e["action"] == "route.create" and e["hash"] == ev["data"]["hash"]
        assert len(seen) == n == sum(1 for e in entries.values() if e["action"] == "route.create")
        assert verify([(w["secret"], hdrs, body) for hdrs, body in sink.requests("/all")[:50]]) \
            == [True] * min(50, len(sink.requests("/all")))
        assert h.sql("SELECT count(*) FROM webhook_outbox WHERE state != 'delivered'").strip() == "0"
        assert h.stop() == 0     # SIGTERM is the hub's, not the delivery thread's
        assert h.verify().returncode == 0
    finally:
        sink.close()
