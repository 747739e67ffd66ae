"""One instance per data directory, port and state file (issue 14).

A second hub on the same data directory refuses to start (the lock names
the first one) instead of adopting its audit entries; a second hub with
its own data directory refuses a listening address the first one holds
instead of sharing it through SO_REUSEPORT; a second agent on the same
state file refuses; a raw TCP route on a port that is taken is refused
by the API with a field error; a missing [tls] cert_dir is created; an
[acme] section added on SIGHUP is reported as needing a restart."""
import os
import signal
import socket
import stat

import netlab
from controllab import Hub
from frontlab import ns_socket


def second_hub_conf(path, port, data, sock):
    with open(path, "w") as f:
        f.write(f"""[hub]
listen_http = "127.0.0.1:{port}"
hostname = hub.test
control_socket = {sock}
data_dir = {data}
workers = 2

[wireguard]
enabled = off
""")


def exited(p):
    """The refused second instance's exit code (it is expected to exit)."""
    return p.wait_exit(timeout=30)


def test_second_hub_on_the_same_data_dir_refuses(lab):
    h = Hub(lab)
    h.start()
    audit_before = h.cli_json("audit", "list")["items"]
    conf = os.path.join(lab.tmpdir, "second.conf")
    second_hub_conf(conf, 8081, h.data, os.path.join(lab.tmpdir, "second.sock"))
    p = lab.spawn(h.ns, [netlab.postern_bin(), "hub", "-c", conf], name="hub2")
    assert exited(p) != 0
    log = p.log()
    assert "another hub uses data_dir" in log and f"pid {h.proc.pid}" in log, log
    assert "/setup#token=" not in log, log
    # The first hub is untouched: it answers, its audit log grew by nothing.
    assert h.cli_json("audit", "list")["items"] == audit_before
    st, _, _ = h.api("GET", "/api/v1/routes")
    assert st == 200
    # Once the first hub stops, the data directory is free again.
    assert h.stop() == 0
    h.start()
    assert h.proc.alive()


def test_second_hub_on_a_taken_port_refuses(lab):
    h = Hub(lab)
    h.start()
    d = os.path.join(lab.tmpdir, "two")
    os.mkdir(d)
    conf = os.path.join(d, "hub.conf")
    second_hub_conf(conf, h.port, os.path.join(d, "data"), os.path.join(d, "c.sock"))
    p = lab.spawn(h.ns, [netlab.postern_bin(), "hub", "-c", conf], name="hub2")
    assert exited(p) != 0
    log = p.log()
    assert f"cannot listen on 127.0.0.1 port {h.port}" in log, log
    assert "another process listens there" in log, log
    # Every connection still reaches the first hub (none is split off to a
    # hub that is gone or half up).
    for _ in range(12):
        st, _, _ = h.http("GET", "/api/v1/routes")
        assert st == 401
    assert h.proc.alive()


def test_tcp_route_on_a_taken_port_is_refused(lab):
    h = Hub(lab)
    h.start()
    squat = ns_socket(h.ns.name)
    squat.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squat.bind(("127.0.0.1", 9100))
    squat.listen(1)
    try:
        base = {"host": "tcp.test", "target": "tcp://10.9.9.9:22", "redirect_https": False}
        st, _, b = h.api("POST", "/api/v1/routes", {**base, "tcp_listen_port": 9100})
        assert st == 409, b
        assert b["error"]["field"] == "tcp_listen_port", b
        assert "another process listens there" in b["error"]["message"], b
        st, _, b = h.api("POST", "/api/v1/routes", {**base, "tcp_listen_port": h.port})
        assert st == 409 and b["error"]["field"] == "tcp_listen_port", b
        assert "the hub's HTTP listener" in b["error"]["message"], b
        assert h.cli_json("route", "list")["items"] == []
        # A free port is taken, and a second route on it names the first.
        st, _, b = h.api("POST", "/api/v1/routes", {**base, "tcp_listen_port": 9101})
        assert st == 201, b
        st, _, b = h.api("POST", "/api/v1/routes",
                         {**base, "host": "tcp2.test", "tcp_listen_port": 9101})
        assert st == 409 and b["error"]["field"] == "tcp_listen_port", b
        # Moving the route onto the squatted port is refused too; keeping
        # its own port is not.
        rid = h.cli_json("route", "list")["items"][0]["id"]
        st, hd, _ = h.api("GET", f"/api/v1/routes/{rid}")
        st, _, b = h.api("PATCH", f"/api/v1/routes/{rid}", {"tcp_listen_port": 9100},
                         headers={"If-Match": hd["etag"]})
        assert st == 409 and b["error"]["field"] == "tcp_listen_port", b
        st, _, b = h.api("PATCH", f"/api/v1/routes/{rid}", {"hsts_max_age": 5},
                         headers={"If-Match": hd["etag"]})
        assert st == 200, b
    finally:
        squat.close()


def test_missing_cert_dir_is_created(lab):
    h = Hub(lab)
    certs = os.path.join(lab.tmpdir, "certs")
    assert not os.path.exists(certs)
    h.start(settings=f"\n[tls]\ncert_dir = {certs}\nselfsigned_name = hub.test\n")
    st = os.stat(certs)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    assert h.setup_link(), h.proc.log()
    assert h.proc.alive()


def test_second_agent_on_the_same_state_refuses(lab, tmp_path):
    ns = lab.ns("agent")
    state = tmp_path / "agent.state"
    # A hub that never answers: the agent keeps trying, holding its lock.
    state.write_text('''name = "nas"
private_key = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
hub_url = "https://hub.test"
hub_public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
hub_endpoint = "127.0.0.1:51999"
tunnel_ipv4 = "100.96.0.2/24"
tunnel_ipv6 = "fd7a:96::2/64"
hub_tunnel_ipv4 = "100.96.0.1"
hub_tunnel_ipv6 = "fd7a:96::1"
keepalive = 25
''')
    os.chmod(state, 0o600)
    argv = [netlab.postern_bin(), "agent", "run", "--state", str(state),
            "--netstack", "lwip", "--allow", "127.0.0.1:80"]
    a1 = lab.spawn(ns, argv, name="agent1")
    netlab.wait_until(lambda: "running" in a1.log() or not a1.alive(), timeout=30,
                      what="first agent up")
    assert a1.alive(), a1.log()
    a2 = lab.spawn(ns, argv, name="agent2")
    assert exited(a2) != 0
    log = a2.log()
    assert "another agent uses this state file" in log and f"pid {a1.pid}" in log, log
    assert a1.alive()


def test_new_acme_section_on_reload_says_restart(lab):
    h = Hub(lab)
    h.start()
    with open(h.conf_path, "a") as f:
        f.write(f"\n[acme]\ndirectory = https://127.0.0.1:14000/dir\n"
                f"state_dir = {os.path.join(lab.tmpdir, 'acme')}\n")
    h.proc.send_signal(signal.SIGHUP)
    netlab.wait_until(lambda: "a new [acme] section needs a restart" in h.proc.log(),
                      what="reload warning")
    assert h.proc.alive()


def test_tcp_route_bind_failure_is_on_the_route(lab):
    h = Hub(lab)
    h.start()
    st, _, r = h.api("POST", "/api/v1/routes",
                     {"host": "tcp.test", "target": "tcp://10.9.9.9:22",
                      "tcp_listen_port": 9102, "redirect_https": False})
    assert st == 201, r
    # No agent: nothing to serve it with, and the route says so.
    st, _, r = h.api("GET", f"/api/v1/routes/{r['id']}")
    assert r["listen_status"] == {"listening": False,
                                  "error": "not listening: a tcp route needs an agent"}, r
    st, _, a = h.api("POST", "/api/v1/agents", {"name": "nas"})
    st, hd, _ = h.api("GET", f"/api/v1/routes/{r['id']}")
    st, _, r = h.api("PATCH", f"/api/v1/routes/{r['id']}", {"agent_id": a["id"]},
                     headers={"If-Match": hd["etag"]})
    assert st == 200, r
    st, _, r = h.api("GET", f"/api/v1/routes/{r['id']}")
    assert r["listen_status"] == {"listening": True, "error": None}, r
    # Another process takes the port while the hub is down: after the
    # restart the route shows the bind failure, not only the log.
    assert h.stop() == 0
    squat = ns_socket(h.ns.name)
    squat.bind(("127.0.0.1", 9102))
    squat.listen(1)
    try:
        h.start()
        st, _, r = h.api("GET", f"/api/v1/routes/{r['id']}")
        assert r["listen_status"]["listening"] is False, r
        assert "Address already in use" in r["listen_status"]["error"], r
        st, _, lst = h.api("GET", "/api/v1/routes")
        assert lst["items"][0]["listen_status"] == r["listen_status"]
    finally:
        squat.close()
