"""`postern agent join` against a stand-in for the hub's join endpoint
(tests/lib/stubhub.py, written from agent_proto.h) over real HTTPS.

The hub side of enrollment (tokens in the store, `postern agent create`)
belongs to the control plane; these tests pin down the agent's half:
the key is made locally and only its public half is sent, the hub's
certificate or pinned key is checked, refusals are clear, and the state
file is private."""
import base64
import json
import os
import stat
import subprocess

import pytest

import agentlab
import netlab

HUB = "10.77.0.1"
TOKEN = "jt_" + "x" * 40


@pytest.fixture
def hub(lab, tmp_path):
    h, a = lab.ns("hub"), lab.ns("agent")
    lab.link(h, f"{HUB}/24", a, "10.77.0.2/24")
    certs = agentlab.make_ca(str(tmp_path), ["hub.test"], [HUB])
    hub_key = subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout.strip()
    hub_pub = subprocess.run(["wg", "pubkey"], input=hub_key, capture_output=True,
                             text=True).stdout.strip()
    answer = {"version": 1, "agent": "nas",
              "tunnel_addresses": ["100.96.0.2/32", "fd7a:96::2/128"],
              "hub_public_key": hub_pub, "hub_endpoint": "hub.test:51820",
              "hub_tunnel_addresses": ["100.96.0.1", "fd7a:96::1"], "keepalive": 25}
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    log = tmp_path / "join.log"
    procs = {}
    for port, cert, key in ((8443, "self.pem", "self.key"), (9443, "leaf.pem", "leaf.key")):
        procs[port] = lab.spawn(h, ["/usr/bin/python3", agentlab.HERE + "/stubhub.py", "join",
                                    HUB, str(port), certs[cert], certs[key], TOKEN,
                                    str(tmp_path / "answer.json"), str(log)], name=f"stubhub{port}")
    for p in procs.values():
        netlab.wait_until(lambda: "ready" in p.log(), what="stub hub")
    return {"ns": a, "certs": certs, "log": log, "answer": answer, "dir": tmp_path}


def join(hub, bin, *args, state=None):
    state = state or str(hub["dir"] / "st" / "agent.state")
    return hub["ns"].run([bin, "agent", "join", *args, "--state", state], check=False), state


def test_agent_join_with_pinned_fingerprint(hub, bin):
    fp = agentlab.spki_sha256(hub["certs"]["self.pem"])
    colons = ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()
    r, state = join(hub, bin, f"https://{HUB}:8443/", TOKEN, "--fingerprint", colons)
    assert r.returncode == 0, r.stderr
    assert "joined the hub as 'nas'" in r.stdout
    st = os.stat(state)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(state)).st_mode) == 0o700
    text = open(state).read()
    fields = dict(l.split(" = ", 1) for l in text.splitlines() if " = " in l)
    priv = fields["private_key"].strip('"')
    assert fields["hub_public_key"].strip('"') == hub["answer"]["hub_public_key"]
    assert fields["hub_endpoint"] == '"hub.test:51820"'
    assert fields["tunnel_ipv4"] == '"100.96.0.2/32"'
    assert fields["hub_tunnel_ipv6"] == '"fd7a:96::1"'
    # The hub got the public half of the key made here, and not the private one.
    reqs = netlab.read_jsonl(hub["log"])
    assert len(reqs) == 1 and reqs[0]["path"] == "/api/v1/agents/join"
    body = json.loads(reqs[0]["body"])
    assert body["version"] == 1 and body["token"] == TOKEN
    pub = subprocess.run(["wg", "pubkey"], input=priv, capture_output=True, text=True).stdout.strip()
    assert body["public_key"] == pub
    assert priv not in reqs[0]["body"]
    assert len(base64.b64decode(priv)) == 32


def test_agent_join_wrong_fingerprint_refused(hub, bin):
    wrong = agentlab.spki_sha256(hub["certs"]["leaf.pem"])  # another key
    r, state = join(hub, bin, f"https://{HUB}:8443", TOKEN, "--fingerprint", wrong)
    assert r.returncode == 5, r.stderr
    assert "does not match --fingerprint" in r.stderr
    assert not os.path.exists(state)
    assert not os.path.exists(hub["log"])  # the token never left


def test_agent_join_untrusted_certificate_refused(hub, bin):
    r, state = join(hub, bin, f"https://{HUB}:8443", TOKEN)
    assert r.returncode == 5, r.stderr
    assert "not trusted" in r.stderr and "--fingerprint" in r.stderr
    assert not os.path.exists(state)


def test_agent_join_verifies_ca_signed_hub_and_refuses_reused_token(hub, bin):
    r, state = join(hub, bin, f"https://{HUB}:9443", TOKEN, "--ca-file", hub["certs"]["ca.pem"])
    assert r.returncode == 0, r.stderr
    # Joining again: refused locally (state exists) ...
    r2, _ = join(hub, bin, f"https://{HUB}:9443", TOKEN, "--ca-file", hub["certs"]["ca.pem"],
                 state=state)
    assert r2.returncode == 4 and "exists" in r2.stderr
    # ... and by the hub when forced: the token was used.
    r3, _ = join(hub, bin, f"https://{HUB}:9443", TOKEN, "--ca-file", hub["certs"]["ca.pem"],
                 "--force", state=state)
    assert r3.returncode == 5, r3.stderr
    assert "token_used" in r3.stderr and "used already" in r3.stderr


def test_agent_join_requires_https(hub, bin):
    r, _ = join(hub, bin, f"http://{HUB}:8443", TOKEN)
    assert r.returncode == 2 and "https://" in r.stderr


def test_agent_join_wipes_the_token_from_its_command_line(hub, bin, lab):
    """docs/agent.md: once the join is done, the token is gone from the
    process's command line (/proc/PID/cmdline, what ps shows). strace holds
    the agent in the mkdir of its state directory, which comes after the
    enrollment, for a few seconds: the token must be absent then. (The
    delay is the probe's window, not a timing assertion: a join that
    never wiped keeps the token until it exits and the wait times out.)"""
    fp = agentlab.spki_sha256(hub["certs"]["self.pem"])
    state = str(hub["dir"] / "wipe" / "agent.state")  # its directory is made after the join
    p = lab.spawn(hub["ns"], ["strace", "-f", "-qq", "-o", "/dev/null",
                              "-e", "trace=mkdir,mkdirat",
                              "-e", "inject=mkdir,mkdirat:delay_enter=4000000",
                              bin, "agent", "join", f"https://{HUB}:8443/", TOKEN,
                              "--fingerprint", fp, "--state", state],
                  # LeakSanitizer cannot run under ptrace (the ASan pass).
                  env={"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"}, name="join-strace")
    seen = {}

    def agent_cmdline():
        for task in os.listdir(f"/proc/{p.pid}/task"):
            try:
                kids = open(f"/proc/{p.pid}/task/{task}/children").read().split()
            except FileNotFoundError:
                continue
            for kid in kids:
                try:
                    cmd = open(f"/proc/{kid}/cmdline", "rb").read()
                except FileNotFoundError:
                    continue
                if b"agent\0join\0" in cmd:
                    return cmd
        return None

    def wiped():
        cmd = agent_cmdline()
        if cmd is None:
            return False
        seen.setdefault("first", cmd)
        return TOKEN.encode() not in cmd and cmd
    cmd = netlab.wait_until(wiped, timeout=30, what="the token gone from the agent's cmdline")
    assert b"--fingerprint" in cmd and b"https://" in cmd, cmd  # only the token went
    assert p.wait_exit(timeout=30) == 0, p.log()
    assert os.path.exists(state)
    assert TOKEN not in open(state).read()
