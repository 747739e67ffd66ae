"""The pipeline's "agent offline" step (src/hub/pipeline.c) over HTTP/1.1
and HTTP/2 alike: a route through an agent that never connected answers
502 with a page naming the agent, and nothing is sent anywhere; the step
comes before the body limit, so an oversized body gets the same 502."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from controllab import Hub  # noqa: E402
from netlab import wait_until  # noqa: E402

PROTOS = ["h1", "h2"]


@pytest.fixture
def hub(lab):
    h = Hub(lab)
    h.start(settings="max_body = 1000\n")
    b, = h.create("/api/v1/agents", {"name": "nas"})
    agent = b["id"] if isinstance(b, dict) else None
    assert agent, b
    h.create("/api/v1/routes", {"host": "nas.test", "agent_id": agent,
                                "target": "http://192.168.1.10:8080"})
    return h


def fetch(h, proto, data=None):
    args = ["--data-binary", data] if data is not None else []
    r = h.curl_https(proto, "nas.test", "/", "-s", "-o", "/dev/stderr", "-w", "%{http_code}",
                     *args)
    return int(r.stdout), r.stderr


@pytest.mark.parametrize("proto", PROTOS)
def test_offline_agent_is_502_naming_it(hub, proto):
    wait_until(lambda: fetch(hub, proto)[0] == 502, what="the agent route published")
    st, body = fetch(hub, proto)
    assert st == 502 and 'The agent "nas" is offline.' in body, (st, body)
    st, body = fetch(hub, proto, data="x" * 5000)
    assert st == 502 and 'The agent "nas" is offline.' in body, (st, body)
