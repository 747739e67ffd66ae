#!/usr/bin/env python3
"""bench/e2e.sh's driver: Postern (hub -> WireGuard -> agent -> nginx)
against the do-it-yourself stack a user would otherwise build (nginx as
the TLS reverse proxy on the hub, wireguard-go on both ends, the same
nginx backend), side by side in one run, in the end-to-end tests' world
(tests/lib/cgnatlab.py: the client on the internet, the hub on a public
address, the LAN behind a masquerading NAT).

For each stack, alternating (BENCH_RUNS rounds):
  ka      wrk, HTTPS keep-alive, BENCH_CONNS connections, /small (13 B)
  lat     wrk, 1 connection, HTTPS keep-alive: p50 and p99 latency
  dl      curl, one stream, /big (BENCH_MB MiB): MB/s
Each figure is the best of the rounds. Ends with ratio_vs_diy=R (HTTPS
keep-alive requests/s, Postern / DIY).

  BENCH_SECONDS (5)  BENCH_CONNS (32)  BENCH_MB (1024)  BENCH_RUNS (2)
  BENCH_WORKERS (1): hub workers and nginx worker_processes
  BENCH_STACKS ("postern diy"): run only some (no ratio then)"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))

import agentlab  # noqa: E402
import netlab  # noqa: E402
from cgnatlab import BACKEND, HUB_IP, World  # noqa: E402
from wgpair import genkey, wg  # noqa: E402

SECS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNS = int(os.environ.get("BENCH_CONNS", "32"))
MB = int(os.environ.get("BENCH_MB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
STACKS = os.environ.get("BENCH_STACKS", "postern diy").split()
DIY_PORT = 8443
DIY_NET = "10.99.0"


def diy_stack(w, site, tmp):
    """wireguard-go on the hub and in the LAN (the LAN side dials out,
    keepalive 25 s, as an agent would), the LAN routed through the
    tunnel, and nginx on the hub as the TLS reverse proxy."""
    hk, hp = genkey()
    ak, ap = genkey()
    names = {}
    for ns, tag in ((w.pub, "h"), (site.lan, "a")):
        name = f"wgd{tag}{netlab.short_id(6)}"
        p = w.lab.spawn(ns, ["wireguard-go", "-f", name], name="wireguard-go")
        netlab.wait_until(lambda: os.path.exists(f"/var/run/wireguard/{name}.sock"),
                          what="wireguard-go socket")
        w.lab.on_cleanup(lambda n=name: os.path.exists(f"/var/run/wireguard/{n}.sock")
                         and os.unlink(f"/var/run/wireguard/{n}.sock"))
        names[tag] = (name, p)
    hname, aname = names["h"][0], names["a"][0]
    for path, key in (("h.key", hk), ("a.key", ak)):
        with open(os.path.join(tmp, path), "w") as f:
            f.write(key + "\n")
    wg(w.pub, "set", hname, "private-key", os.path.join(tmp, "h.key"), "listen-port",
       "51821", "peer", ap, "allowed-ips", f"{DIY_NET}.2/32,{BACKEND}/32")
    wg(site.lan, "set", aname, "private-key", os.path.join(tmp, "a.key"), "peer", hp,
       "allowed-ips", f"{DIY_NET}.1/32", "endpoint", f"{HUB_IP}:51821",
       "persistent-keepalive", "25")
    for ns, name, addr in ((w.pub, hname, "1"), (site.lan, aname, "2")):
        ns.run(["ip", "addr", "add", f"{DIY_NET}.{addr}/24", "dev", name])
        ns.run(["ip", "link", "set", name, "mtu", "1420", "up"])
    w.pub.run(["ip", "route", "add", f"{BACKEND}/32", "dev", hname])
    netlab.wait_until(lambda: w.pub.run(["ping", "-c1", "-W1", f"{DIY_NET}.2"],
                                        check=False).returncode == 0,
                      timeout=20, what="DIY tunnel up")
    d = os.path.join(tmp, "diy-nginx")
    os.makedirs(d)
    crt, key = w.hub.cert_path(), w.hub.cert_path()[:-4] + ".key"
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off; master_process on; worker_processes {WORKERS}; user root;
pid {d}/nginx.pid; error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off; proxy_temp_path {d}/proxy; client_body_temp_path {d}/body;
    keepalive_requests 100000;
    upstream lan {{ server {BACKEND}:80; keepalive 64; }}
    server {{
        listen {HUB_IP}:{DIY_PORT} ssl;
        ssl_certificate {crt}; ssl_certificate_key {key};
        location / {{ proxy_pass http://lan; proxy_http_version 1.1;
                     proxy_set_header Connection "";
                     proxy_max_temp_file_size 0; }}
    }}
}}
""")
    w.lab.spawn(w.pub, ["nginx", "-c", conf, "-p", d], name="nginx-diy")
    netlab.wait_until(lambda: w.curl("bench.test", "/small", "-f", port=DIY_PORT,
                                     timeout=5).returncode == 0,
                      what="DIY proxy up")


def postern_stack(w, site):
    """The real flow: agent create, join with the pinned key, run, route."""
    agent_id = w.enroll(site, "bench", [f"{BACKEND}:80"])
    w.route("bench.test", f"http://{BACKEND}:80", agent_id)
    netlab.wait_until(lambda: w.curl("bench.test", "/small", "-f", timeout=5)
                      .returncode == 0, timeout=60, what="Postern route up")


def run_wrk(w, port, conns):
    url = f"https://bench.test:{port}/small"
    out = w.client.run(["wrk", "-t1", f"-c{conns}", f"-d{SECS}s", "--latency", url],
                       timeout=SECS + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): m.group(2) for m in
           re.finditer(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M)}
    errors = re.findall(r"(Non-2xx.*|Socket errors.*)", out)
    return rps, lat, errors


def to_us(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def download(w, port):
    r = w.client.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}",
                      f"https://bench.test:{port}/big"], timeout=900)
    speed, size = r.stdout.split()
    assert int(float(size)) == MB << 20, r.stdout
    return float(speed) / 1e6


def main():
    tmp = tempfile.mkdtemp(prefix="postern-bench-e2e.")
    lab = netlab.NetLab(tmpdir=tmp)
    try:
        w = World(lab, tmp)
        site = w.site("lan")
        big = os.path.join(tmp, "big")
        with open(big, "wb") as f:
            f.truncate(MB << 20)
        site.start_nginx("hello\n", big=big)
        with open(os.path.join(site.nginx_dir, "www", "small"), "w") as f:
            f.write("hello, bench\n")
        agentlab.set_hosts(lab, w.client, [f"{HUB_IP} bench.test"])
        w.start_hub(workers=WORKERS)
        if "postern" in STACKS:
            postern_stack(w, site)
        if "diy" in STACKS:
            diy_stack(w, site, tmp)
        stacks = {k: v for k, v in (("postern", 443), ("diy", DIY_PORT)) if k in STACKS}
        best = {k: {"rps": 0, "p50": 1e12, "p99": 1e12, "mbs": 0} for k in stacks}
        for rnd in range(RUNS):
            for name, port in stacks.items():
                rps, _, errs = run_wrk(w, port, CONNS)
                _, lat, errs1 = run_wrk(w, port, 1)
                mbs = download(w, port)
                b = best[name]
                b["rps"] = max(b["rps"], rps)
                b["p50"] = min(b["p50"], to_us(lat["50"]))
                b["p99"] = min(b["p99"], to_us(lat["99"]))
                b["mbs"] = max(b["mbs"], mbs)
                print(f"round {rnd + 1} {name:8s} ka={rps:9.0f} req/s  "
                      f"p50={lat['50']:>8s} p99={lat['99']:>8s}  dl={mbs:7.1f} MB/s"
                      + (f"  ERRORS {errs + errs1}" if errs or errs1 else ""), flush=True)
        print(f"\n{'stack':8s} {'HTTPS ka req/s':>15s} {'p50 us':>8s} {'p99 us':>8s} "
              f"{'download MB/s':>14s}")
        for name in stacks:
            b = best[name]
            print(f"{name:8s} {b['rps']:15.0f} {b['p50']:8.0f} {b['p99']:8.0f} {b['mbs']:14.1f}")
        if len(stacks) < 2:
            return
        print(f"p50_added_vs_diy_us={best['postern']['p50'] - best['diy']['p50']:.0f} "
              f"download_ratio_vs_diy={best['postern']['mbs'] / best['diy']['mbs']:.2f}")
        print(f"ratio_vs_diy={best['postern']['rps'] / best['diy']['rps']:.2f}")
    finally:
        lab.close()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
