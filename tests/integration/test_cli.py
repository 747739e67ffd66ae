"""The binary's command-line surface: exit codes scripts rely on."""
import subprocess


def run(bin, *args):
    return subprocess.run([bin, *args], capture_output=True, text=True, timeout=10)


def test_version(bin):
    r = run(bin, "version")
    assert r.returncode == 0
    assert r.stdout.startswith("postern ")


def test_unknown_command_is_usage_error(bin):
    r = run(bin, "no-such-command")
    assert r.returncode == 2
    assert "unknown command 'no-such-command'" in r.stderr


def test_no_args_prints_usage(bin):
    r = run(bin)
    assert r.returncode == 2
    assert "usage: postern" in r.stderr


def test_lab_namespaces_are_isolated(lab):
    a, b = lab.ns("a"), lab.ns("b")
    lab.link(a, "10.99.0.1/24", b, "10.99.0.2/24")
    r = a.run(["ping", "-c", "1", "-W", "2", "10.99.0.2"], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    # The root namespace has no route to the lab's addresses.
    r = subprocess.run(["ip", "route", "get", "10.99.0.2"], capture_output=True, text=True)
    assert "dev v" not in r.stdout
