"""What a new user's trial tripped over in the admin CLI (issue 14), each
checked against the real binary and, where the hub is needed, a real hub
over its control socket (tests/lib/controllab.py)."""
import hashlib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
import tlslab  # noqa: E402
from controllab import Hub  # noqa: E402
from cryptography import x509  # noqa: E402


def run(*args):
    return subprocess.run([netlab.postern_bin(), *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def command_table():
    """{command: [verbs]} as `postern --help` prints the CLI's own table."""
    r = run("--help")
    assert r.returncode == 0, r.stderr
    table, last = {}, None
    for line in r.stdout.splitlines():
        v = re.match(r"^\s+verbs: (.+)$", line)
        c = re.match(r"^  ([a-z][a-z-]*)\s", line)
        if v and last:
            table[last] = v.group(1).split()
        elif c:
            last = c.group(1)
            table[last] = []
    return table


def test_help_on_every_command_and_verb():
    table = command_table()
    # The table has what the trial used, and every admin noun has verbs.
    assert {"agent", "route", "cert", "user", "token", "audit"} <= set(table)
    assert {"create", "get", "list", "delete", "join", "run"} <= set(table["agent"])
    checked = 0
    for cmd, verbs in table.items():
        r = run(cmd, "--help")
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        assert r.stdout.startswith("usage: postern"), (cmd, r.stdout)
        for verb in verbs:
            for flag in ("--help", "-h"):
                r = run(cmd, verb, flag)
                assert r.returncode == 0, (cmd, verb, flag, r.stderr)
                assert "unknown option" not in r.stderr + r.stdout, (cmd, verb)
                assert f"postern {cmd}" in r.stdout and verb in r.stdout, (cmd, verb, r.stdout)
                checked += 1
    assert checked > 2 * 40
    # A verb's help is that verb's usage, first on its line.
    out = run("agent", "create", "--help").stdout
    assert out.startswith("usage: postern agent create NAME"), out
    assert "wireguard-config" not in out.splitlines()[0]
    out = run("route", "create", "--help", "--host", "x").stdout
    assert out.startswith("usage: postern route create "), out
    # A verb the noun does not have is a usage error, not a help page.
    r = run("route", "frobnicate", "--help")
    assert r.returncode == 2 and "no verb 'frobnicate'" in r.stderr


def agent_id(h, name):
    return next(a["id"] for a in h.cli_json("agent", "list")["items"] if a["name"] == name)


def test_connection_options_names_join_first_health_table(lab):
    h = Hub(lab)
    h.start()
    # Connection options before the noun, as well as after the verb.
    r = h.cli("--socket", h.sock, "agent", "create", "nas", conn=False)
    lines = r.stdout.splitlines()
    # The join command leads: the first line says where to run it, the
    # command follows at once; the details come after.
    assert lines[0] == "on the agent's machine, run:", r.stdout
    assert re.match(r"^  postern agent join https://hub\.test pj_\S+", lines[1]), r.stdout
    assert lines.index("name: nas") > 1 and re.search(r"^id: \d+$", r.stdout, re.M), r.stdout
    assert len(lines) < 10, r.stdout
    listed = json.loads(h.cli("--json", "--socket", h.sock, "agent", "list", conn=False).stdout)
    assert [a["name"] for a in listed["items"]] == ["nas"]
    r = h.cli("--socket", "/nonexistent/control.sock", "route", "list", conn=False, check=False)
    assert r.returncode == 6                    # the option before the noun is the one used
    r = h.cli("--socket", conn=False, check=False)
    assert r.returncode == 2

    nas = agent_id(h, "nas")
    h.cli("agent", "create", "pi")
    # --agent NAME as well as an ID; NAME in the agent's own verbs.
    route = h.cli_json("route", "create", "--host", "app.test", "--target",
                       "http://192.168.1.10:8080", "--agent", "nas")
    assert route["agent_id"] == nas
    assert h.cli_json("route", "update", str(route["id"]), "--agent", "pi")["agent_id"] == \
        agent_id(h, "pi")
    assert h.cli_json("route", "update", str(route["id"]), "--agent", str(nas))["agent_id"] == nas
    r = h.cli("route", "create", "--host", "b.test", "--target", "http://a:1", "--agent",
              "nosuch", check=False)
    assert r.returncode == 3 and "no agent 'nosuch'" in r.stderr, r.stderr
    assert [x["agent_id"] for x in h.cli_json("route", "list")["items"]] == [nas]
    assert h.cli_json("agent", "get", "nas")["id"] == nas
    assert h.cli("agent", "token", "nas").stdout.startswith("on the agent's machine, run:")
    assert h.cli("agent", "get", "nosuch", check=False).returncode == 3

    # agent get: health as a table (the API's JSON with --json).
    out = h.cli("agent", "get", "nas").stdout
    assert out.startswith(f"agent nas: id {nas}, kind agent, status pending"), out
    head = next(line for line in out.splitlines() if line.startswith("ONLINE"))
    assert head.split() == ["ONLINE", "LAST", "HANDSHAKE", "ENDPOINT", "RX", "BYTES", "TX",
                            "BYTES", "VERSION", "LAST", "SEEN"], out
    row = out.splitlines()[out.splitlines().index(head) + 1].split()
    assert row[:2] == ["no", "-"], out           # never connected: offline, no handshake
    assert "{" not in out, out                  # no JSON blob
    js = h.cli_json("agent", "get", "nas")
    assert js["online"] is False and "rx_bytes" in js and "health" in js

    # Deleting an agent that a route uses is refused and names the route.
    r = h.cli("agent", "delete", "nas", check=False)
    assert r.returncode == 4, r.stderr
    assert f"route {route['id']} (app.test/)" in r.stderr, r.stderr
    assert agent_id(h, "nas") == nas
    h.cli("route", "delete", str(route["id"]))
    h.cli("agent", "delete", "nas")
    assert "nas" not in [a["name"] for a in h.cli_json("agent", "list")["items"]]


def test_tcp_route_needs_no_host(lab):
    h = Hub(lab)
    h.start()
    h.cli("agent", "create", "db")
    r = h.cli_json("route", "create", "--target", "tcp://192.168.1.20:5432",
                   "--tcp-port", "15432", "--agent", "db")
    assert r["host"] == "tcp:15432" and r["tcp_listen_port"] == 15432
    # An http route still needs one, and says so.
    r = h.cli("route", "create", "--target", "http://192.168.1.20:80", check=False)
    assert r.returncode == 2 and "host: is required" in r.stderr, r.stderr


def test_route_ids_are_never_reused(lab):
    """`route:N` in the audit log always means one route: a deleted route's
    ID is not handed out again, not even across a restart."""
    h = Hub(lab)
    h.start()
    first = h.cli_json("route", "create", "--host", "a.test", "--target", "http://127.0.0.1:1")
    h.cli("route", "delete", str(first["id"]))
    second = h.cli_json("route", "create", "--host", "a.test", "--target", "http://127.0.0.1:1")
    assert second["id"] > first["id"]
    h.cli("route", "delete", str(second["id"]))
    h.restart()
    third = h.cli_json("route", "create", "--host", "a.test", "--target", "http://127.0.0.1:1")
    assert third["id"] > second["id"]
    audited = [e for e in h.cli_json("audit", "list")["items"] if e["object"].startswith("route:")]
    creates = [e["object"] for e in audited if e["action"] == "route.create"]
    assert creates == [f"route:{r['id']}" for r in (first, second, third)]
    assert len(set(creates)) == 3


def served(h, sni):
    """(SHA-256 of the certificate the hub serves for `sni`, its SAN names)."""
    t = tlslab.connect(h.ns.name, h.https_addr, sni)
    try:
        der = t.getpeercert(binary_form=True)
    finally:
        t.close()
    cert = x509.load_der_x509_certificate(der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return hashlib.sha256(der).hexdigest(), san.get_values_for_type(x509.DNSName)


def test_each_route_host_gets_its_own_self_signed_certificate(lab):
    """Without ACME, a browser's warning names the host it asked for: the
    certificate for a route's host is a self-signed one for that host,
    made once (the same one on every handshake and after other route
    changes), and the hub's own name keeps its certificate."""
    h = Hub(lab)
    h.start()
    hub_fp, hub_names = served(h, "hub.test")
    assert hub_names == ["hub.test"]
    h.cli("route", "create", "--host", "app.test", "--target", "http://127.0.0.1:1")
    netlab.wait_until(lambda: served(h, "app.test")[1] == ["app.test"],
                      what="app.test's own certificate")
    app_fp = served(h, "app.test")[0]
    assert app_fp != hub_fp
    assert [served(h, "app.test")[0] for _ in range(3)] == [app_fp] * 3
    h.cli("route", "create", "--host", "web.test", "--target", "http://127.0.0.1:1")
    netlab.wait_until(lambda: served(h, "web.test")[1] == ["web.test"],
                      what="web.test's own certificate")
    assert served(h, "app.test")[0] == app_fp        # kept, not made again
    assert served(h, "hub.test")[0] == hub_fp
    # A name no route has still gets the hub's default certificate.
    assert served(h, "other.test")[0] == hub_fp
    assert h.proc.log().count("self-signed certificate for route host app.test") == 1
