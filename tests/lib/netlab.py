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
import json
import os
import secrets
import signal
import subprocess
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "WARNING: ThreadSanitizer:",
                     "runtime error:", "ERROR: UndefinedBehaviorSanitizer")

# Postern commands that run until stopped. Such a process must still be
# running when the test ends (unless the test ended it or said it would
# exit) and must exit 0 on SIGTERM/SIGINT, within DAEMON_STOP_TIMEOUT:
# more than the hub's default shutdown_timeout (10 s), which requests
# still in flight may take.
DAEMON_COMMANDS = (("hub",), ("tunnel",), ("agent", "run"), ("agent", "serve"))
DAEMON_STOP_TIMEOUT = 30.0
GRACEFUL = (signal.SIGTERM, signal.SIGINT)


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


def read_jsonl(path):
    """The records of a JSON-lines log another process may still be writing:
    one per complete line. A line without its newline is a write still in
    progress (a reader can see part of one), so it is left for the next read.
    A log not yet created has no records."""
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]
    except FileNotFoundError:
        return []


def short_id(n=6):
    return secrets.token_hex(n // 2 + 1)[:n]


def is_daemon(argv):
    """True when argv runs a long-lived postern command (DAEMON_COMMANDS)."""
    if not argv or os.path.abspath(argv[0]) != postern_bin():
        return False
    words = list(argv[1:3])
    return any(words[:len(c)] == list(c) for c in DAEMON_COMMANDS)


class Proc:
    """A process started by a lab; its output goes to a log file.

    For a daemon (is_daemon) the lab also judges how it ended
    (problem()): the test may end it with stop() or send_signal(), or
    declare with wait_exit() that it exits by itself."""

    def __init__(self, argv, log_path, popen, daemon=False):
        self.argv = argv
        self.log_path = log_path
        self.popen = popen
        self.daemon = daemon
        self.signalled = None      # the first terminating signal sent
        self.exit_expected = False  # wait_exit() was called
        self.hung = None           # "SIGTERM after 30 s" when it was killed

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
            if sig not in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2) and \
                    self.signalled is None:
                self.signalled = sig
            self.popen.send_signal(sig)

    def stop(self, timeout=None, sig=signal.SIGTERM):
        """Stops the process (sig, then SIGKILL after timeout seconds:
        DAEMON_STOP_TIMEOUT for a daemon, else 10) and returns its exit
        code."""
        if timeout is None:
            timeout = DAEMON_STOP_TIMEOUT if self.daemon else 10.0
        if self.alive():
            self.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.hung = f"{signal.Signals(sig).name} after {timeout:g} s"
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def wait_exit(self, timeout=10.0):
        """Waits for a process the test expects to exit by itself (a
        refused configuration, a deleted interface) and returns its exit
        code, which the test then checks."""
        self.exit_expected = True
        wait_until(lambda: not self.alive(), timeout=timeout,
                   what=f"{os.path.basename(self.argv[0])} to exit")
        return self.popen.returncode

    def problem(self, died_early):
        """Why this daemon's ending fails the test, or None. died_early:
        it was not running when the test ended and nothing had ended it."""
        if not self.daemon or self.exit_expected:
            return None
        rc = self.popen.returncode
        if died_early:
            return f"exited by itself (code {rc}) before the test stopped it"
        if self.hung:
            return f"did not exit on {self.hung}; killed"
        if self.signalled in GRACEFUL and rc != 0:
            return f"exit code {rc} on {signal.Signals(self.signalled).name} (want 0)"
        return None

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
        """Starts argv inside ns (or the root namespace when ns is None).

        A postern daemon (is_daemon) is checked at teardown: see close()."""
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
        proc = Proc(argv, log_path, p, daemon=is_daemon(argv))
        self.procs.append(proc)
        return proc

    def on_cleanup(self, fn):
        self.cleanups.append(fn)

    def close(self):
        """Kills what the lab started and deletes its namespaces.

        Returns what fails the test (empty if clean): sanitizer reports in
        any process's log, and every postern daemon that died before the
        test ended it, exited non-zero on SIGTERM/SIGINT (from the test or
        from this teardown), or had to be killed."""
        reports = []
        for p in reversed(self.procs):
            died_early = not p.alive() and p.signalled is None
            p.stop()
            what = ' '.join(p.argv)
            rep = p.sanitizer_report()
            if rep:
                reports.append(f"{what}:\n{rep}")
            bad = p.problem(died_early)
            if bad:
                reports.append(f"{what}: {bad}\n--- its log (end) ---\n{p.log()[-3000:]}")
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
