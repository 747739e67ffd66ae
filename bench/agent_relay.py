"""bench/agent.sh's body: namespaces, nginx, the two relays, the client."""
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import agentlab  # noqa: E402
import netlab  # noqa: E402
from pp2client import header  # noqa: E402

MB = int(os.environ.get("BENCH_MB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GET = b"GET /big HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"


def setns(fd):
    import ctypes
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def fetch(addr, port, pp2):
    """Runs in the client namespace (this process is moved there)."""
    s = socket.create_connection((addr, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if pp2:
        s.sendall(header(("203.0.113.7", 40000), ("10.78.0.2", 80)) + GET)
        assert s.recv(1) == b"\0", "agent refused"
    else:
        s.sendall(GET)
    buf = bytearray(1 << 20)
    n, t0 = 0, time.monotonic()
    while True:
        k = s.recv_into(buf)
        if not k:
            break
        n += k
    return n, time.monotonic() - t0


def main():
    lab = netlab.NetLab()
    tmp = tempfile.mkdtemp(prefix="postern-bench-")
    try:
        client, agent, lan = lab.ns("client"), lab.ns("agent"), lab.ns("lan")
        lab.link(client, "10.77.0.1/24", agent, "10.77.0.2/24")
        lab.link(agent, "10.78.0.1/24", lan, "10.78.0.2/24")
        big = os.path.join(tmp, "big.bin")
        with open(big, "wb") as f:
            gen = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-nosalt", "-pass",
                                    "pass:p", "-pbkdf2", "-in", "/dev/zero"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            for _ in range(MB):
                f.write(gen.stdout.read(1 << 20))
            gen.kill()
            gen.wait()
        ngx = os.path.join(tmp, "nginx")
        os.mkdir(ngx)
        agentlab.start_nginx(lab, lan, ngx, ["10.78.0.2"], big=big)
        ag = lab.spawn(agent, [netlab.postern_bin(), "agent", "serve", "--listen",
                               "10.77.0.2:4180", "--allow", "10.78.0.2:80"], name="agent")
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  nbthread 1\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                    "  timeout client 60s\n  timeout server 60s\n"
                    "listen relay\n  bind 10.77.0.2:5000\n  server web 10.78.0.2:80\n")
        hp = lab.spawn(agent, ["haproxy", "-db", "-f", cfg], name="haproxy")
        netlab.wait_until(lambda: "acceptor ready" in ag.log(), what="agent")
        netlab.wait_until(lambda: agent.run(["ss", "-ltn"]).stdout.count(":5000"), what="haproxy")
        # Measure from the client namespace: move this process there.
        fd = os.open(f"/run/netns/{client.name}", os.O_RDONLY)
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        setns(fd)
        res = {"postern": [], "haproxy": []}
        cpu = {"postern": 0.0, "haproxy": 0.0}
        try:
            for _ in range(RUNS):
                for name, port, pp2, pid in (("postern", 4180, True, ag.pid),
                                             ("haproxy", 5000, False, hp.pid)):
                    c0 = cpu_s(pid)
                    n, secs = fetch("10.77.0.2", port, pp2)
                    cpu[name] += cpu_s(pid) - c0
                    assert n > MB << 20, (name, n)
                    res[name].append(n / secs / 1e6)
        finally:
            setns(own)
        for name in ("postern", "haproxy"):
            v = sorted(res[name])
            gib = RUNS * MB / 1024
            print(f"{name:8s} single-stream download: median {v[len(v)//2]:.0f} MB/s "
                  f"(runs: {', '.join(f'{x:.0f}' for x in res[name])}); "
                  f"relay CPU {cpu[name] / gib:.2f} s/GiB")
        p = sorted(res["postern"])[RUNS // 2]
        h = sorted(res["haproxy"])[RUNS // 2]
        print(f"ratio_vs_haproxy={p / h:.2f}")
    finally:
        lab.close()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
