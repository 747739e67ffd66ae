"""docs/quickstart.md, run as written on two throw-away roots in the CGNAT
lab (tests/lib/cgnatlab.py, tests/lib/debbox.py): the package installed
on the "VPS" (public address) and on the "home box" (behind a
masquerading NAT), `postern hub init`, `postern agent create`, the
printed join command with `--enable-service --allow`, `postern route
create`, and a client on the internet reaching the home service over
HTTPS. Differences from the page, because the lab has neither: no public
ACME CA (`--no-acme`, the join pins the self-signed key) and no systemd
(each unit's ExecStart runs as the unit would run it)."""
import re

import pytest

import netlab
from cgnatlab import BACKEND, HUB_IP, World
from debbox import Box, build_deb

pytestmark = pytest.mark.serial


def test_quickstart_two_machines(lab, bin, tmp_path):
    w = World(lab, tmp_path)
    home = w.site("lan1")
    home.start_nginx("hello from home\n")
    deb = build_deb(lab, bin)

    # 1. On the VPS.
    vps = Box(lab, w.pub, deb, "vps")
    vps.sh("dpkg -i /tmp/postern.deb")
    r = vps.sh("postern hub init --hostname hub.test --no-acme")
    assert "postern hub -c /etc/postern/hub.conf" in r.stdout, r.stdout
    assert "UDP 51820" in r.stdout and "hub.test  A / AAAA" in r.stdout, r.stdout
    vps.sh("install -d -m 0750 -o postern -g postern /run/postern")
    hub = vps.spawn(vps.as_unit("postern-hub.service"), name="hub")
    netlab.wait_until(lambda: vps.sh("postern settings get wireguard.public_key",
                                     check=False).returncode == 0 or not hub.alive(),
                      timeout=60, what="hub up with its tunnel")
    assert hub.alive() and "/setup#token=" in hub.log(), hub.log()
    vps.wait_https()
    out = vps.sh("postern agent create home").stdout
    ident = int(re.search(r"^id: (\d+)$", out, re.M).group(1))
    join = re.search(r"^\s*(postern agent join \S+ \S+.*)$", out, re.M).group(1).strip()
    assert "--fingerprint" in join, out

    # 2. On the home box: the printed command, --enable-service, --allow.
    box = Box(lab, home.lan, deb, "home")
    box.sh(f"echo '{HUB_IP} hub.test' >> /etc/hosts")
    box.sh("dpkg -i /tmp/postern.deb")
    r = box.sh(f"{join} --enable-service --allow {BACKEND}:80")
    assert "wrote /etc/default/postern-agent" in r.stdout, r.stdout
    assert box.sh("stat -c '%U:%G %a' /var/lib/postern/agent.state").stdout.strip() == \
        "postern:postern 600"
    agent = box.spawn(box.as_unit("postern-agent.service"), name="agent")
    netlab.wait_until(lambda: '"online": true' in vps.sh(
        f"postern agent get {ident} --json").stdout or not agent.alive(),
        timeout=60, what="agent online")
    assert agent.alive(), agent.log()
    # No root on the home box: user postern, no capabilities at all.
    uid = box.sh("id -u postern").stdout.strip()
    assert box.uid_of(agent.pid) == (uid,) * 4
    caps = box.sh(f"grep -E '^Cap(Eff|Prm|Amb):' /proc/{agent.pid}/status").stdout
    assert all(l.endswith("0000000000000000") for l in caps.splitlines()), caps

    # 3. Publish the service; a client on the internet reaches it.
    vps.sh(f"postern route create --host app.test --target http://{BACKEND}:80 "
           f"--agent {ident}")
    netlab.wait_until(lambda: w.get("app.test", timeout=10) == (200, "hello from home\n"),
                      timeout=30, what="app.test through the hub")
