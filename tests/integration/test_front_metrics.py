"""What the front reports about the traffic it carried: the Prometheus
endpoint (parsed with python3-prometheus-client, so the exposition is
valid and every family is one group) and the JSON access log."""
import os
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, read_response, routes  # noqa: E402

ROUTES = routes(("app", "app.test", 9001), ("other", "other.test", 9002),
                ("down", "down.test", 9999))
METRICS = "http://127.0.0.1:9100/metrics"


def scrape(f):
    """{(name, frozenset(labels.items())): value} and the family names in
    the order they appeared (a family split in two shows up twice)."""
    text = f.curl(METRICS).stdout
    samples, fams = {}, []
    for fam in text_string_to_metric_families(text):
        fams.append(fam.name)
        for s in fam.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, fams


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def get(f, host, path, *extra):
    r = f.curl("-H", f"Host: {host}", *extra, "-w", "\n%{http_code} %{size_download}", f.url(path))
    body, tail = r.stdout.rsplit("\n", 1)
    code, size = tail.split()
    return int(code), int(size)


def test_metrics_per_route_counters_and_histograms(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.upstream(9002, "b")
    f.start(routes=ROUTES, workers=2, settings='metrics_listen = "127.0.0.1:9100"\n')
    out_app = 0
    for i in range(3):
        code, size = get(f, "app.test", "/x%d" % i)
        assert code == 200
        out_app += size
    code, size = get(f, "app.test", "/status/404")
    assert code == 404
    out_app += size
    # At least 300 ms upstream: never in the 0.25 s bucket, always counted.
    code, size = get(f, "app.test", "/slow/300")
    assert code == 200
    out_app += size
    body = os.urandom(1000)
    path = os.path.join(lab.tmpdir, "b.bin")
    with open(path, "wb") as fh:
        fh.write(body)
    code, size = get(f, "app.test", "/sum", "--data-binary", f"@{path}")
    assert code == 200 and size == 64
    out_app += size
    assert get(f, "other.test", "/o")[0] == 200
    assert get(f, "down.test", "/")[0] == 502
    assert get(f, "nothing.example", "/")[0] == 404

    m, fams = scrape(f)
    # Each family once: the exposition groups a family's samples.
    assert len(fams) == len(set(fams)), fams
    for fam in ("postern_requests", "postern_request_duration_seconds",
                "postern_request_bytes", "postern_response_bytes",
                "postern_connections_open", "postern_upstream_connect_failures"):
        assert fam in fams, fam
    assert val(m, "postern_requests_total", route="app", code="2xx") == 5
    assert val(m, "postern_requests_total", route="app", code="4xx") == 1
    assert val(m, "postern_requests_total", route="other", code="2xx") == 1
    assert val(m, "postern_requests_total", route="down", code="5xx") == 1
    assert val(m, "postern_requests_total", route="(none)", code="4xx") == 1
    count = val(m, "postern_request_duration_seconds_count", route="app")
    assert count == 6
    assert val(m, "postern_request_duration_seconds_bucket", route="app", le="+Inf") == 6
    assert val(m, "postern_request_duration_seconds_bucket", route="app", le="0.25") <= 5
    assert val(m, "postern_request_duration_seconds_sum", route="app") >= 0.3
    # Buckets are cumulative.
    les = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                 if k[0] == "postern_request_duration_seconds_bucket"
                 and dict(k[1])["route"] == "app")
    assert [v for _, v in les] == sorted(v for _, v in les)
    assert val(m, "postern_request_bytes_total", route="app") == 1000
    assert val(m, "postern_response_bytes_total", route="app") == out_app
    assert val(m, "postern_upstream_connect_failures_total") >= 1
    # Routes that saw nothing have no samples.
    assert not any(dict(k[1]).get("route") == "nope" for k in m)


def test_metrics_reuse_and_retry_counters(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1, settings='metrics_listen = "127.0.0.1:9100"\n')
    s = f.connect()
    for p in (b"/1", b"/2", b"/flaky", b"/after"):
        s.sendall(b"GET " + p + b" HTTP/1.1\r\nHost: app.test\r\n\r\n")
        assert read_response(s)[0] == 200
    m, _ = scrape(f)
    # /2 and /flaky rode the pooled connection, and /after met it dead
    # (reused, then replayed once on a new connection).
    assert val(m, "postern_upstream_reused_total") == 3
    assert val(m, "postern_upstream_retries_total") == 1
    assert val(m, "postern_requests_total", route="app", code="2xx") == 4


def test_access_log_line_fields(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES)
    body = b"x" * 123
    s = f.connect()
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 123\r\n\r\n" + body)
    st, h, got, rest = read_response(s)
    assert st == 200 and got == body
    s.sendall(b"GET /none?z=2 HTTP/1.1\r\nHost: nothing.example\r\n\r\n")
    assert read_response(s)[0] == 404
    netlab.wait_until(lambda: len(f.access_records()) >= 2, what="access log lines")
    a, b = f.access_records()[-2:]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["time"]), a["time"]
    assert a["client"] == "127.0.0.1" and a["host"] == "app.test"
    assert a["method"] == "POST" and a["path"] == "/echo" and a["status"] == 200
    assert a["bytes_in"] == 123 and a["bytes"] == 123
    assert isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0
    assert a["route"] == "app" and a["upstream"] == "127.0.0.1:9001"
    assert re.fullmatch(r"[0-9a-f]{32}", a["request_id"])
    # A request no route takes is logged too, without an upstream.
    assert b["status"] == 404 and b["host"] == "nothing.example" and b["path"] == "/none?z=2"
    assert b["request_id"] != a["request_id"]
