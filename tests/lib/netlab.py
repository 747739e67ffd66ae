"""netlab - network namespaces, veth links and managed processes for tests.

Every address a test uses lives in a namespace this module created, and
everything it created is removed at teardown (processes killed, namespaces
and links deleted). Names are unique per test run so several suites can
run side by side on one machine.

    lab = NetLab()                    # usually the `lab` pytest fixture
    a, b = lab.ns("a"), lab.ns("b")
    lab.link(a, "10.0.0.1/24", b, "10.0.0.2/24")
    p = lab.spawn(a, [postern_bin(), "tunnel", "wg0"])
    a.run(["ip", "addr"])             # checked; returns CompletedProcess
"""
import os
import secrets
import signal
import subprocess
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "ERROR: UndefinedBehaviorSanitizer")


def postern_bin():
    """Path of the binary under test (make sets POSTERN_BIN)."""
    path = os.environ.get("POSTERN_BIN")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "release", "postern")
    return os.path.abspath(path)


def scale(n):
    """Scales a size or count for the sanitizer pass (POSTERN_TEST_SCALE).

    The sanitizer build runs every test, with big transfers shrunk so the
    suite stays inside CI's time; the full sizes run in the release pass."""
    return max(1, int(n * float(os.environ.get("POSTERN_TEST_SCALE", "1"))))


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Polls pred() until truthy (returned) or raises after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - report the last failure
            last = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def short_id(n=6):
    return secrets.token_hex(n // 2 + 1)[:n]


class Proc:
    """A process started by a lab; its output goes to a log file."""

    def __init__(self, argv, log_path, popen):
        self.argv = argv
        self.log_path = log_path
        self.popen = popen

    @property
    def pid(self):
        return self.popen.pid

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """Stops the process (sig, then SIGKILL) and returns its exit code."""
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def sanitizer_report(self):
        text = self.log()
        for m in SANITIZER_MARKERS:
            i = text.find(m)
            if i >= 0:
                return text[max(0, i - 200):i + 3000]
        return None


class Netns:
    """One network namespace; loopback is up."""

    def __init__(self, lab, name):
        self.lab = lab
        self.name = name

    def argv(self, cmd):
        return ["ip", "netns", "exec", self.name] + list(cmd)

    def run(self, cmd, check=True, timeout=60, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        r = subprocess.run(self.argv(cmd), timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(cmd)} -> {r.returncode}\n"
                               f"{r.stdout}\n{r.stderr}")
        return r

    def sh(self, script, **kw):
        return self.run(["sh", "-c", script], **kw)

    def __str__(self):
        return self.name


class NetLab:
    def __init__(self, tmpdir="/tmp"):
        self.tag = "pt" + short_id(6)
        self.tmpdir = tmpdir
        self.namespaces = []
        self.procs = []
        self.cleanups = []

    def ns(self, name):
        full = f"{self.tag}-{name}"
        subprocess.run(["ip", "netns", "add", full], check=True)
        n = Netns(self, full)
        self.namespaces.append(n)
        n.run(["ip", "link", "set", "lo", "up"])
        return n

    def link(self, a, addr_a, b, addr_b, mtu=None):
        """Connects namespaces a and b with a veth pair; returns the names.

        addr_* are "ip/prefix" strings (IPv4 or IPv6) or None."""
        ia, ib = "v" + short_id(8), "v" + short_id(8)
        subprocess.run(["ip", "link", "add", ia, "netns", a.name, "type",
                        "veth", "peer", "name", ib, "netns", b.name], check=True)
        for ns, ifn, addr in ((a, ia, addr_a), (b, ib, addr_b)):
            if addr:
                fam = "-6" if ":" in addr else "-4"
                extra = ["nodad"] if fam == "-6" else []
                ns.run(["ip", fam, "addr", "add", addr, "dev", ifn] + extra)
            if mtu:
                ns.run(["ip", "link", "set", ifn, "mtu", str(mtu)])
            ns.run(["ip", "link", "set", ifn, "up"])
        return ia, ib

    def spawn(self, ns, argv, env=None, name=None):
        """Starts argv inside ns (or the root namespace when ns is None)."""
        name = name or os.path.basename(argv[0])
        log_path = os.path.join(self.tmpdir, f"{self.tag}-{name}-{short_id(4)}.log")
        full_env = dict(os.environ)
        full_env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        full_env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if env:
            full_env.update(env)
        cmd = ns.argv(argv) if ns else list(argv)
        logf = open(log_path, "wb")
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=full_env,
                             start_new_session=True)
        logf.close()
        proc = Proc(argv, log_path, p)
        self.procs.append(proc)
        return proc

    def on_cleanup(self, fn):
        self.cleanups.append(fn)

    def close(self):
        """Kills what the lab started and deletes its namespaces.

        Returns sanitizer reports found in process logs (empty if clean)."""
        reports = []
        for p in reversed(self.procs):
            p.stop(timeout=10)
            rep = p.sanitizer_report()
            if rep:
                reports.append(f"{' '.join(p.argv)}:\n{rep}")
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001 - best-effort teardown
                pass
        for n in reversed(self.namespaces):
            pids = subprocess.run(["ip", "netns", "pids", n.name],
                                  capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", n.name], capture_output=True)
        return reports
