"""The Debian package in a throw-away root (issue 14).

The root is this machine's own file system under a copy-on-write overlay
in private namespaces (tests/lib/debbox.py): dpkg installs into it, never
into the machine. It shows:
`make deb`'s package installs (user and group postern, file modes), the
binary runs, `postern hub init` writes a config the hub accepts, the hub
runs as the packaged unit runs it (its ExecStart as user postern with only
the unit's two ambient capabilities, no new privileges) on ports 80 and
443 with its TUN interface, the setup link it printed sets the admin's
password through the setup API; with systemd present (a stand-in
`systemctl` that runs the unit the same way) `hub init` enables and
starts it and prints a working setup link; purge removes what install
created.
systemd itself cannot run here (no systemd as PID 1), so the unit's
hardening beyond user and capabilities is covered by `systemd-analyze
security` in docs/operations.md, not by this test."""
import re
import shlex

import pytest

import netlab
from debbox import Box, build_deb, unit_service

pytestmark = pytest.mark.serial


def post_hub(box, path, body):
    """POSTs the JSON `body` to the hub in the box at https://hub.test`path`
    (port 443 on loopback, Origin the hub's); returns the status curl
    printed."""
    return box.sh("curl -sk -o /dev/null -w '%{http_code}' --resolve hub.test:443:127.0.0.1 "
                  "-H 'Origin: https://hub.test' -H 'Content-Type: application/json' "
                  f"--data '{body}' https://hub.test{path}").stdout


def test_package_installs_runs_the_hub_and_purges(lab, bin):
    box = Box(lab, lab.ns("box"), build_deb(lab, bin))
    assert box.sh("getent passwd postern", check=False).returncode != 0, "postern user on host?"
    r = box.sh("dpkg -i /tmp/postern.deb")
    assert "Setting up postern" in r.stdout, r.stdout
    # The user, the group, the modes.
    out = box.sh("getent passwd postern; getent group postern").stdout
    assert re.search(r"^postern:x:\d+:\d+:.*:/var/lib/postern:/usr/sbin/nologin$", out, re.M), out
    modes = box.sh("stat -c '%n %U:%G %a' /usr/bin/postern /etc/postern/hub.conf "
                   "/var/lib/postern /lib/systemd/system/postern-hub.service "
                   "/lib/systemd/system/postern-agent.service").stdout.split("\n")
    assert modes[:5] == ["/usr/bin/postern root:root 755",
                         "/etc/postern/hub.conf root:postern 640",
                         "/var/lib/postern postern:postern 700",
                         "/lib/systemd/system/postern-hub.service root:root 644",
                         "/lib/systemd/system/postern-agent.service root:root 644"], modes
    assert box.sh("postern --version").stdout.startswith("postern ")
    # hub init: a config the hub accepts; without systemd it says how to start.
    r = box.sh("postern hub init --hostname hub.test --no-acme")
    assert "wrote /etc/postern/hub.conf" in r.stdout
    assert "postern hub -c /etc/postern/hub.conf" in r.stdout
    assert "TCP 80" in r.stdout and "TCP 443" in r.stdout and "UDP 51820" in r.stdout
    assert box.sh("stat -c '%U:%G %a' /etc/postern/hub.conf").stdout.strip() == \
        "root:postern 640"
    r = box.sh("postern hub init --hostname hub.test --no-acme", check=False)
    assert r.returncode == 4 and "--force" in r.stderr
    # The unit's runtime directory, then its ExecStart as the unit runs it.
    svc = unit_service("postern-hub.service")
    assert svc["RuntimeDirectory"] == "postern" and svc["User"] == "postern"
    box.sh("install -d -m 0750 -o postern -g postern /run/postern")
    hub = box.spawn(box.as_unit("postern-hub.service"), name="hub")
    netlab.wait_until(lambda: "/setup#token=" in hub.log() or not hub.alive(),
                      timeout=60, what="setup link")
    assert hub.alive(), hub.log()
    netlab.wait_until(lambda: box.sh("test -S /run/postern/control.sock",
                                     check=False).returncode == 0, what="control socket")
    log = hub.log()
    assert "tunnel" in log and "cannot" not in log, log
    m = re.search(r"https://hub\.test/setup#token=(\S+)", log)
    assert m, log
    # The setup link's token sets the admin's password on :443 (once the
    # workers listen there: the link is printed before they start).
    box.wait_https()
    body = '{"token":"%s","password":"correct horse battery staple"}' % m.group(1)
    assert post_hub(box, "/api/v1/setup", body) == "204"
    assert post_hub(box, "/api/v1/session", '{"username":"admin","password":'
                    '"correct horse battery staple"}') == "201"
    # Port 80 answers too (bound without root: the capability).
    r = box.sh("curl -s -o /dev/null -w '%{http_code}' -H 'Host: hub.test' http://127.0.0.1/")
    assert r.stdout.isdigit() and r.stdout != "000", r.stdout
    # The CLI as root over the packaged socket path (the default).
    assert "admin" in box.sh("postern user list").stdout
    # The hub runs as postern, not root.
    uid = box.sh("id -u postern").stdout.strip()
    assert box.uid_of(hub.pid) == (uid,) * 4
    assert hub.stop() == 0, hub.log()
    # With systemd (a stand-in systemctl that runs the unit as above),
    # hub init enables and starts the unit and prints a fresh setup link.
    argv = " ".join(shlex.quote(a) for a in box.as_unit("postern-hub.service"))
    box.sh(f"""mkdir -p /run/systemd/system /usr/local/bin
cat > /usr/local/bin/systemctl <<'EOF'
#!/bin/sh
[ "$1 $2 $3" = "enable --now postern-hub.service" ] || exit 1
install -d -m 0750 -o postern -g postern /run/postern
nohup {argv} >/run/hub.log 2>&1 </dev/null &
echo $! >/run/hub.pid
EOF
chmod 0755 /usr/local/bin/systemctl""")
    try:
        r = box.sh("postern hub init --hostname hub.test --no-acme --force")
        assert "enabled and started postern-hub.service" in r.stdout, r.stdout
        m = re.search(r"^  https://hub\.test/setup#token=(\S+)$", r.stdout, re.M)
        assert m, r.stdout
        box.wait_https()
        body = '{"token":"%s","password":"another horse battery staple"}' % m.group(1)
        assert post_hub(box, "/api/v1/setup", body) == "204"
    finally:
        box.sh("kill $(cat /run/hub.pid) && while kill -0 $(cat /run/hub.pid) 2>/dev/null; "
               "do sleep 0.1; done", check=False, timeout=30)
        box.sh("rm -rf /run/systemd /usr/local/bin/systemctl")
    # Purge removes what install and use created.
    box.sh("dpkg --purge postern")
    gone = box.sh("for p in /usr/bin/postern /etc/postern /var/lib/postern "
                  "/lib/systemd/system/postern-hub.service; do "
                  "test -e $p && echo $p; done; getent passwd postern; getent group postern; "
                  "true").stdout
    assert gone == "", gone
