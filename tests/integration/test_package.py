"""The Debian package in a throw-away root (issue 14).

The root is this machine's own file system under a copy-on-write overlay
(upper layer on a tmpfs) in a private mount namespace, inside a network
namespace the test made: dpkg installs into the overlay, never into the
machine, and everything vanishes with the namespace. Its /dev/net/tun is
a node of its own with Debian's mode (0666; this machine's is 0600). It shows:
`make deb`'s package installs (user and group postern, file modes), the
binary runs, `postern hub init` writes a config the hub accepts, the hub
runs as the packaged unit runs it (its ExecStart as user postern with only
the unit's two ambient capabilities, no new privileges) on ports 80 and
443 with its TUN interface, the setup link it printed sets the admin's
password through the setup API, and purge removes what install created.
systemd itself cannot run here (no systemd as PID 1), so the unit's
hardening beyond user and capabilities is covered by `systemd-analyze
security` in docs/operations.md, not by this test."""
import configparser
import glob
import os
import re
import subprocess

import pytest

import netlab

pytestmark = pytest.mark.xdist_group("serial")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
UNIT = os.path.join(ROOT, "packaging", "systemd", "postern-hub.service")


def unit_service():
    """The [Service] keys of the packaged hub unit (last value wins)."""
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read(UNIT)
    return dict(cp["Service"])


class Box:
    """A copy-on-write root in its own mount namespace (and a netns)."""

    def __init__(self, lab, ns, deb):
        self.lab, self.ns = lab, ns
        d = lab.tmpdir
        self.merged = os.path.join(d, "root")
        self.scratch = os.path.join(d, "scratch")
        os.makedirs(self.merged)
        os.makedirs(self.scratch)
        script = f"""set -e
mount -t tmpfs -o size=512m tmpfs {self.scratch}
mkdir {self.scratch}/upper {self.scratch}/work
mount -t overlay overlay -o lowerdir=/,upperdir={self.scratch}/upper,workdir={self.scratch}/work {self.merged}
mount -t proc proc {self.merged}/proc
mount --rbind /dev {self.merged}/dev
mount -t tmpfs tmpfs {self.merged}/dev/net
mknod -m 666 {self.merged}/dev/net/tun c 10 200
mount -t tmpfs tmpfs {self.merged}/run
mount -t tmpfs tmpfs {self.merged}/tmp
cp {deb} {self.merged}/tmp/postern.deb
echo ready
exec chroot {self.merged} /bin/sleep infinity
"""
        self.proc = lab.spawn(ns, ["unshare", "-m", "--propagation", "private",
                                   "sh", "-c", script], name="box")
        netlab.wait_until(lambda: "ready" in self.proc.log() or not self.proc.alive(),
                          timeout=30, what="throw-away root")
        assert self.proc.alive(), self.proc.log()
        netlab.wait_until(lambda: os.readlink(f"/proc/{self.proc.pid}/exe").endswith("sleep"),
                          what="box chrooted")

    def enter(self, argv):
        return ["nsenter", "-t", str(self.proc.pid), "-m", "-n", "-r", "-w", "--", *argv]

    def sh(self, script, check=True):
        r = subprocess.run(self.enter(["sh", "-c", script]), capture_output=True,
                           text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"{script}\n-> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def spawn(self, argv, name):
        return self.lab.spawn(None, self.enter(argv), name=name)


@pytest.fixture
def deb(lab, bin):
    out = os.path.join(lab.tmpdir, "deb")
    r = subprocess.run([os.path.join(ROOT, "scripts", "deb.sh"), bin], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "DEB_OUT": out})
    assert r.returncode == 0, r.stderr
    debs = glob.glob(os.path.join(out, "postern_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def as_unit_argv(svc):
    """The hub unit's ExecStart the way systemd runs it: its User and
    Group, exactly its ambient capabilities (and bounding set), no new
    privileges."""
    caps = [c.strip().lower() for c in svc["AmbientCapabilities"].split()]
    bound = [c.strip().lower() for c in svc["CapabilityBoundingSet"].split()]
    assert sorted(caps) == sorted(bound)
    capspec = ",".join("+" + c.removeprefix("cap_") for c in caps)
    return ["setpriv", "--reuid", svc["User"], "--regid", svc["Group"], "--init-groups",
            "--inh-caps", "-all," + capspec, "--ambient-caps", capspec,
            "--bounding-set", "-all," + capspec, "--no-new-privs",
            *svc["ExecStart"].split()]


def test_package_installs_runs_the_hub_and_purges(lab, deb):
    ns = lab.ns("box")
    box = Box(lab, ns, deb)
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
    svc = unit_service()
    assert svc["RuntimeDirectory"] == "postern" and svc["User"] == "postern"
    box.sh("install -d -m 0750 -o postern -g postern /run/postern")
    hub = box.spawn(as_unit_argv(svc), name="hub")
    netlab.wait_until(lambda: "/setup#token=" in hub.log() or not hub.alive(),
                      timeout=60, what="setup link")
    assert hub.alive(), hub.log()
    netlab.wait_until(lambda: box.sh("test -S /run/postern/control.sock",
                                     check=False).returncode == 0, what="control socket")
    log = hub.log()
    assert "tunnel" in log and "cannot" not in log, log
    m = re.search(r"https://hub\.test/setup#token=(\S+)", log)
    assert m, log
    # The setup link's token sets the admin's password on :443.
    body = '{"token":"%s","password":"correct horse battery staple"}' % m.group(1)
    r = box.sh("curl -sk -o /dev/null -w '%{http_code}' --resolve hub.test:443:127.0.0.1 "
               "-H 'Origin: https://hub.test' -H 'Content-Type: application/json' "
               f"--data '{body}' https://hub.test/api/v1/setup")
    assert r.stdout == "204", r.stdout
    r = box.sh("curl -sk -o /dev/null -w '%{http_code}' --resolve hub.test:443:127.0.0.1 "
               "-H 'Origin: https://hub.test' -H 'Content-Type: application/json' "
               "--data '{\"username\":\"admin\",\"password\":\"correct horse battery staple\"}' "
               "https://hub.test/api/v1/session")
    assert r.stdout == "201", r.stdout
    # Port 80 answers too (bound without root: the capability).
    r = box.sh("curl -s -o /dev/null -w '%{http_code}' -H 'Host: hub.test' http://127.0.0.1/")
    assert r.stdout.isdigit() and r.stdout != "000", r.stdout
    # The CLI as root over the packaged socket path (the default).
    assert "admin" in box.sh("postern user list").stdout
    # The hub runs as postern, not root.
    st = box.sh(f"cat /proc/{hub.pid}/status").stdout
    uid = box.sh("id -u postern").stdout.strip()
    assert re.search(rf"^Uid:\t{uid}\t{uid}\t{uid}\t{uid}$", st, re.M), st
    assert hub.stop() == 0, hub.log()
    # Purge removes what install and use created.
    box.sh("dpkg --purge postern")
    gone = box.sh("for p in /usr/bin/postern /etc/postern /var/lib/postern "
                  "/lib/systemd/system/postern-hub.service; do "
                  "test -e $p && echo $p; done; getent passwd postern; getent group postern; "
                  "true").stdout
    assert gone == "", gone
