"""Worker threads: each has its own SO_REUSEPORT listener on every
address; the default is one worker per core."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front  # noqa: E402

ROUTES = "[route.app]\nhost = *\ntarget = http://127.0.0.1:9001\n"


def listeners(f, port):
    """Listening sockets on port inside the front's namespace, and the
    inodes of those the hub holds."""
    out = f.ns.run(["ss", "-Hltne", f"sport = :{port}"]).stdout
    inodes = set()
    for fd in os.listdir(f"/proc/{f.proc.pid}/fd"):
        try:
            link = os.readlink(f"/proc/{f.proc.pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    lines = [ln for ln in out.splitlines() if ln.strip()]
    held = [ln for ln in lines if any(f"ino:{i} " in ln + " " for i in inodes)]
    return lines, held


def test_workers_each_listen_with_reuseport(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=3)
    lines, held = listeners(f, 8080)
    # Three sockets bound to the same address, all the hub's.
    assert len(lines) == 3 and len(held) == 3, lines
    # Every worker serves: enough connections land on each listener for
    # all requests to be answered.
    for i in range(30):
        assert f.curl(f.url(f"/w{i}")).stdout == f"a GET /w{i}"


def test_default_one_worker_per_core(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.write("", ROUTES)
    f.proc = lab.spawn(f.ns, [netlab.postern_bin(), "hub", "-c", f.conf_path], name="hub")
    f.wait_port(f.port)
    lines, held = listeners(f, 8080)
    assert len(held) == os.sysconf("SC_NPROCESSORS_ONLN"), lines
    assert f.curl(f.url("/d")).stdout == "a GET /d"
