"""debbox - a throw-away root with the Debian package installed, for the
package and quick start tests.

    deb = build_deb(lab, bin)          # scripts/deb.sh into the test's dir
    box = Box(lab, ns, deb, "hub")     # / under a copy-on-write overlay
    box.sh("dpkg -i /tmp/postern.deb")
    p = box.spawn(box.as_unit("postern-hub.service"), name="hub")

The root is this machine's own file system under an overlay whose upper
layer is a tmpfs, in a private mount namespace, inside a network
namespace the test made: dpkg installs into the overlay, never into the
machine, and everything vanishes when the box's process ends. Its
/dev/net/tun is a node of its own with Debian's mode (0666; this
machine's is 0600). systemd cannot run as PID 1 here, so a unit runs as
`as_unit` builds it: the unit's ExecStart (with its EnvironmentFile's
variables expanded), its User and Group, exactly its ambient
capabilities and bounding set, no new privileges. The rest of a unit's
hardening is measured with `systemd-analyze security` (docs/operations.md)."""
import configparser
import glob
import os
import re
import shlex
import subprocess

import netlab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build_deb(lab, bin):
    out = os.path.join(lab.tmpdir, "deb")
    r = subprocess.run([os.path.join(ROOT, "scripts", "deb.sh"), bin], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "DEB_OUT": out})
    assert r.returncode == 0, r.stderr
    debs = glob.glob(os.path.join(out, "postern_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def unit_service(name):
    """The [Service] keys of a packaged unit (the last value wins)."""
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read(os.path.join(ROOT, "packaging", "systemd", name))
    return dict(cp["Service"])


class Box:
    def __init__(self, lab, ns, deb, name="box"):
        self.lab, self.ns = lab, ns
        d = os.path.join(lab.tmpdir, f"box-{name}")
        self.merged = os.path.join(d, "root")
        self.scratch = os.path.join(d, "scratch")
        os.makedirs(self.merged)
        os.makedirs(self.scratch)
        m = self.merged
        script = f"""set -e
mount -t tmpfs -o size=512m tmpfs {self.scratch}
mkdir {self.scratch}/upper {self.scratch}/work
mount -t overlay overlay -o lowerdir=/,upperdir={self.scratch}/upper,workdir={self.scratch}/work {m}
mount -t proc proc {m}/proc
mount --rbind /dev {m}/dev
mount -t tmpfs tmpfs {m}/dev/net
mknod -m 666 {m}/dev/net/tun c 10 200
mount -t tmpfs tmpfs {m}/run
mount -t tmpfs tmpfs {m}/tmp
cp {deb} {m}/tmp/postern.deb
echo ready
exec chroot {m} /bin/sleep infinity
"""
        self.proc = lab.spawn(ns, ["unshare", "-m", "--propagation", "private",
                                   "sh", "-c", script], name=f"box-{name}")
        netlab.wait_until(lambda: "ready" in self.proc.log() or not self.proc.alive(),
                          timeout=30, what="throw-away root")
        assert self.proc.alive(), self.proc.log()
        netlab.wait_until(lambda: os.readlink(f"/proc/{self.proc.pid}/exe").endswith("sleep"),
                          what="box chrooted")

    def wait_https(self, timeout=60):
        """Waits until a hub in the box accepts TLS on :443 (its setup
        link and control socket come before its workers listen)."""
        netlab.wait_until(lambda: self.sh("curl -sk -o /dev/null -w '%{http_code}' "
                                          "https://127.0.0.1:443/", check=False).stdout != "000",
                          timeout=timeout, interval=0.2, what="the hub's :443")

    def enter(self, argv):
        return ["nsenter", "-t", str(self.proc.pid), "-m", "-n", "-r", "-w", "--", *argv]

    def sh(self, script, check=True, timeout=120):
        r = subprocess.run(self.enter(["sh", "-c", script]), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{script}\n-> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def spawn(self, argv, name):
        return self.lab.spawn(None, self.enter(argv), name=name)

    def env_file(self, path):
        """KEY=VALUE lines of an EnvironmentFile in the box (quotes removed)."""
        r = self.sh(f"cat {path}", check=False)
        env = {}
        for line in r.stdout.splitlines():
            m = re.match(r'^([A-Z_][A-Z0-9_]*)=(.*)$', line)
            if m:
                env[m.group(1)] = " ".join(shlex.split(m.group(2)))
        return env

    def as_unit(self, unit):
        """argv that runs the unit's ExecStart as systemd would (see above)."""
        svc = unit_service(unit)
        env = {}
        ef = svc.get("EnvironmentFile")
        if ef:
            env = self.env_file(ef.lstrip("-"))
        words = []
        for w in svc["ExecStart"].split():
            if w.startswith("$"):
                words += env.get(w[1:], "").split()    # systemd's $VAR: split on spaces
            else:
                words.append(w)
        caps = [c.lower().removeprefix("cap_") for c in svc.get("AmbientCapabilities", "").split()]
        bound = [c.lower().removeprefix("cap_")
                 for c in svc.get("CapabilityBoundingSet", "").split()]
        assert sorted(caps) == sorted(bound), (caps, bound)
        capspec = "".join(",+" + c for c in caps)
        argv = ["setpriv", "--reuid", svc["User"], "--regid", svc["Group"], "--init-groups",
                "--inh-caps", "-all" + capspec, "--bounding-set", "-all" + capspec]
        if caps:
            argv += ["--ambient-caps", capspec.lstrip(",")]
        if svc.get("NoNewPrivileges") == "yes":
            argv.append("--no-new-privs")
        return argv + words

    def uid_of(self, pid):
        st = self.sh(f"cat /proc/{pid}/status").stdout
        return re.search(r"^Uid:\t(\d+)\t(\d+)\t(\d+)\t(\d+)$", st, re.M).groups()
