"""Events the hub raises by itself, end to end, each seen by a webhook
receiver: a real agent killed -> `agent.offline` exactly once after the
grace period, back -> `agent.online`; a hub restart neither repeats an
announcement nor loses one (an agent that died while the hub was down is
announced offline a grace period after the start). Certificates:
`certificate.expiring` once per threshold, also across a restart. A head
record that does not match the store at start reaches the webhooks
(`audit.head_reset`)."""
import os
import re
import signal

import netlab
import tlslab
from controllab import Hub
from eventlab import (METRICS, events, join_agent, metrics_text, run_agent, setting,
                      tunnel_world, webhook)
from test_webhooks import verify
from webhook_sink import Sink

GRACE = 6       # agent.offline_grace in the test (the minimum is 5)


def count(sink, typ, obj):
    return sum(1 for t, o, _ in events(sink) if t == typ and o == obj)


def audit_count(h, action, obj):
    st, _, b = h.api("GET", "/api/v1/audit?limit=500")
    assert st == 200, b
    return sum(1 for e in b["items"] if e["action"] == action and e["object"] == obj)


def test_agent_offline_once_after_grace_online_when_back_and_restarts(lab, tmp_path):
    world = tunnel_world(lab, tmp_path)
    h, pub, conf = world["hub"], world["pub"], world["conf"]
    sink = Sink(pub.name)
    try:
        w = webhook(h, sink, "agent.online agent.offline")
        setting(h, "agent.offline_grace", GRACE)
        # Keepalives every second: a live agent never goes quiet for the
        # short grace period (the default keepalive, 25 s, suits the
        # default grace of 180 s).
        ident, state = join_agent(lab, world, "a1", keepalive=1)
        obj = f"agent:{ident}"
        p = run_agent(lab, world, "a1", state)
        netlab.wait_until(lambda: count(sink, "agent.online", obj) == 1, timeout=60,
                          what="agent.online delivered")
        # Killed: offline once the grace period has passed.
        p.stop(sig=signal.SIGKILL)
        netlab.wait_until(lambda: count(sink, "agent.offline", obj) == 1, timeout=60,
                          what="agent.offline delivered")
        off = [d for t, o, d in events(sink) if t == "agent.offline"][0]
        assert off["actor"] == "system" and off["severity"] == "warning", off
        # Back: online again; offline was announced exactly once.
        p = run_agent(lab, world, "a1", state)
        netlab.wait_until(lambda: count(sink, "agent.online", obj) == 2, timeout=60,
                          what="second agent.online delivered")
        assert count(sink, "agent.offline", obj) == 1, events(sink)

        # A restart while the agent stays: nothing invented. Once the
        # restarted hub has seen a handshake (the handshake-age gauge has
        # a sample, published by the tick that would announce), the log
        # still has two agent.online entries.
        assert h.stop() == 0
        h.start(settings=conf)

        def handshake_seen():
            return re.search(r'^postern_agent_last_handshake_age_seconds\{agent="a1"\} ',
                             metrics_text(pub), re.M)
        netlab.wait_until(handshake_seen, timeout=60, what="a handshake after the restart")
        assert audit_count(h, "agent.online", obj) == 2
        assert audit_count(h, "agent.offline", obj) == 1

        # The agent dies while the hub is down: announced after the start.
        assert h.stop() == 0
        p.stop(sig=signal.SIGKILL)
        h.start(settings=conf)
        netlab.wait_until(lambda: count(sink, "agent.offline", obj) == 2, timeout=60,
                          what="agent.offline after a restart")
        assert count(sink, "agent.online", obj) == 2
        assert [t for t, _, _ in events(sink)] == ["agent.online", "agent.offline",
                                                    "agent.online", "agent.offline"]
        # Signed like every event (checked by the npm reference library).
        got = sink.requests("/ev")
        assert verify([(w["secret"], hdrs, body) for hdrs, body in got]) == [True] * len(got)
        assert h.verify().returncode == 0
    finally:
        sink.close()


def test_certificate_expiring_once_per_threshold(lab, tmp_path):
    h = Hub(lab)
    h.start(settings=METRICS)
    sink = Sink(h.ns.name)
    try:
        webhook(h, sink, "certificate.expiring")
        cert, key = tlslab.selfsigned_pem(str(tmp_path), "soon.example", 2)
        st, _, b = h.api("POST", "/api/v1/certificates",
                         {"name": "soon", "cert_pem": cert, "key_pem": key})
        assert st == 201, b
        obj = f"certificate:{b['id']}"
        cert, key = tlslab.selfsigned_pem(str(tmp_path), "later.example", 90)
        st, _, b = h.api("POST", "/api/v1/certificates",
                         {"name": "later", "cert_pem": cert, "key_pem": key})
        assert st == 201, b
        # 2 days left: past the default 30d and 7d thresholds, announced
        # once, for the smaller one.
        netlab.wait_until(lambda: count(sink, "certificate.expiring", obj) == 1, timeout=60,
                          what="certificate.expiring delivered")
        d = events(sink)[0][2]["after"]
        assert d["name"] == "soon" and d["threshold_s"] == 7 * 86400, d
        assert 0 < d["seconds_left"] <= 2 * 86400, d
        # A new threshold it has crossed: announced once more.
        setting(h, "certificate.expiring_before", "30d, 7d, 3d, 1d")
        netlab.wait_until(lambda: count(sink, "certificate.expiring", obj) == 2, timeout=60,
                          what="the 3d threshold announced")
        assert events(sink)[1][2]["after"]["threshold_s"] == 3 * 86400
        # Restarted: once the watcher has run (its gauge is back; it
        # announces in the same pass, and the API answers after it on the
        # same thread) nothing was announced again, and the 90-day
        # certificate never was.
        assert h.stop() == 0
        h.start(settings=METRICS)
        netlab.wait_until(lambda: 'postern_certificate_expiry_timestamp_seconds{name="soon"' in
                          metrics_text(h.ns), what="the watcher's first pass")
        assert audit_count(h, "certificate.expiring", obj) == 2
        assert not any(o != obj for t, o, _ in events(sink) if t == "certificate.expiring")
        assert h.verify().returncode == 0
    finally:
        sink.close()


def test_head_record_reset_at_start_reaches_webhooks(lab):
    h = Hub(lab)
    h.start()
    sink = Sink(h.ns.name)
    try:
        webhook(h, sink, "audit.*")
        assert h.stop() == 0
        head = os.path.join(h.data, "audit.head")
        os.unlink(head)     # what an attacker rewinding the log would face
        h.start()
        netlab.wait_until(lambda: any(t == "audit.head_reset" for t, _, _ in events(sink)),
                          timeout=60, what="audit.head_reset delivered")
        d = [d for t, _, d in events(sink) if t == "audit.head_reset"][0]
        assert d["severity"] == "critical" and "missing" in d["after"]["reason"], d
    finally:
        sink.close()
