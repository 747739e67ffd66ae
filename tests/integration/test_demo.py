"""`make demo` (scripts/demo.sh), run as a newcomer would, but inside a
namespace this test creates (the demo binds loopback only, so it behaves
the same there as on a machine's own loopback): it must print a URL
that serves the sample page through hub -> WireGuard -> agent, an admin
login that works, and stop cleanly with `demo.sh stop`."""
import json
import os
import re
import subprocess

import netlab

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_demo_serves_the_printed_url_and_stops(lab, tmp_path):
    ns = lab.ns("demo")
    var = str(tmp_path / "var")
    env = {"DEMO_VAR": var}
    demo = lab.spawn(ns, ["sh", os.path.join(REPO, "scripts", "demo.sh")], env=env,
                     name="demo")
    netlab.wait_until(lambda: "demo: ready" in demo.log() or not demo.alive(),
                      timeout=120, what="the demo ready")
    out = demo.log()
    assert demo.alive(), out
    url = re.search(r"open\s+(https://\S+)", out).group(1)
    host, port = re.match(r"https://([^:/]+):(\d+)/", url).groups()
    r = ns.run(["curl", "-sSk", "--resolve", f"{host}:{port}:127.0.0.1", url])
    assert "Hello from behind the tunnel" in r.stdout
    # It came through the agent: the hub's agent record shows the tunnel up.
    sock = os.path.join(var, "control.sock")
    agents = json.loads(subprocess.run([netlab.postern_bin(), "agent", "list", "--json",
                                        "--socket", sock], capture_output=True,
                                       text=True, check=True).stdout)
    assert [(a["status"], a["online"]) for a in agents["items"]] == [("enrolled", True)], agents
    # The printed admin login works.
    pw = re.search(r"user admin, password (\S+)", out).group(1)
    body = json.dumps({"username": "admin", "password": pw})
    r = ns.run(["curl", "-sSk", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                "Content-Type: application/json", "-H", f"Origin: https://localhost:{port}",
                "--data", body, f"https://localhost:{port}/api/v1/session"])
    assert r.stdout == "201", r
    # `make demo-stop` ends it; everything it started is gone.
    r = subprocess.run(["sh", os.path.join(REPO, "scripts", "demo.sh"), "stop"],
                       env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    netlab.wait_until(lambda: not demo.alive(), timeout=20, what="the demo stopped")
    assert "demo: stopped" in demo.log()
    left = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True, text=True)
    assert left.stdout.strip() == "", left.stdout
    links = ns.run(["ip", "-o", "link"]).stdout
    assert "pdemo" not in links, links
    assert not os.path.exists(sock)
