"""The harness's own net: NetLab.close() fails a test whose postern daemon
died before the test ended it, exited non-zero on SIGTERM, or had to be
killed, and passes one that ended cleanly or said it would exit. A
stand-in shell script plays the daemon (netlab.postern_bin patched), so
each way of ending is certain. read_jsonl keeps only the complete lines of
a log still being written."""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402

# `postern hub HOW [CODE]`: HOW says what the stand-in does on SIGTERM
# (quit: exits at once with CODE).
SCRIPT = """#!/bin/sh
case "$2" in
  clean) trap 'exit 0' TERM ;;
  bad)   trap 'exit 3' TERM ;;
  deaf)  trap '' TERM ;;
  quit)  exit "${3:-0}" ;;
esac
echo ready
while :; do sleep 0.05; done
"""


@pytest.fixture
def standin(tmp_path, monkeypatch):
    path = tmp_path / "postern"
    path.write_text(SCRIPT)
    path.chmod(0o755)
    monkeypatch.setattr(netlab, "postern_bin", lambda: str(path))
    monkeypatch.setattr(netlab, "DAEMON_STOP_TIMEOUT", 2.0)
    return str(path)


def run(tmp_path, standin, how, end=None, *extra):
    """Spawns the stand-in as `postern hub HOW`, lets the test part `end`
    act on it, and returns what close() reports."""
    lab = netlab.NetLab(tmpdir=str(tmp_path))
    try:
        p = lab.spawn(None, [standin, "hub", how, *extra])
        if how != "quit":
            netlab.wait_until(lambda: "ready" in p.log(), what="the stand-in")
        if end:
            end(p)
    finally:
        reports = lab.close()
    return reports


def test_clean_sigterm_passes(tmp_path, standin):
    assert run(tmp_path, standin, "clean") == []
    assert run(tmp_path, standin, "clean", lambda p: p.stop()) == []


def test_nonzero_exit_on_sigterm_fails(tmp_path, standin):
    rep = run(tmp_path, standin, "bad")
    assert len(rep) == 1 and "exit code 3 on SIGTERM" in rep[0], rep
    # Also when the test itself sent the SIGTERM (and ignored the code).
    rep = run(tmp_path, standin, "bad", lambda p: p.send_signal(signal.SIGTERM))
    assert len(rep) == 1 and "exit code 3 on SIGTERM" in rep[0], rep


def test_death_before_the_end_fails(tmp_path, standin):
    def crash(p):
        os.kill(p.pid, signal.SIGSEGV)
        netlab.wait_until(lambda: not p.alive(), what="the crash")
    rep = run(tmp_path, standin, "clean", crash)
    assert len(rep) == 1 and "exited by itself (code -11)" in rep[0], rep
    # Even a quiet exit 0 is a daemon gone missing (the signal came from
    # outside the test's Proc).
    def outside_term(p):
        os.kill(p.pid, signal.SIGTERM)
        p.popen.wait(10)
    rep = run(tmp_path, standin, "clean", outside_term)
    assert len(rep) == 1 and "exited by itself (code 0)" in rep[0], rep


def test_ignoring_sigterm_fails(tmp_path, standin):
    rep = run(tmp_path, standin, "deaf")
    assert len(rep) == 1 and "did not exit on SIGTERM after 2 s; killed" in rep[0], rep


def test_declared_exit_and_sigkill_pass(tmp_path, standin):
    assert run(tmp_path, standin, "quit", lambda p: p.wait_exit(), "1") == []
    assert run(tmp_path, standin, "bad", lambda p: p.stop(sig=signal.SIGKILL)) == []


def test_other_programs_are_not_judged(tmp_path):
    lab = netlab.NetLab(tmpdir=str(tmp_path))
    lab.spawn(None, ["sh", "-c", "exit 7"]).popen.wait(10)
    lab.spawn(None, ["sleep", "60"])
    assert lab.close() == []


def test_read_jsonl_leaves_a_line_still_being_written(tmp_path):
    # A reader can see part of another process's write; that part is not
    # yet a record (CI once failed on the half line of a busy upstream log).
    log = tmp_path / "log.jsonl"
    assert netlab.read_jsonl(log) == []
    log.write_text('{"n": 1}\n{"n": 2, "pa')
    assert netlab.read_jsonl(log) == [{"n": 1}]
    with open(log, "a") as f:
        f.write('rt": true}\n')
    assert netlab.read_jsonl(log) == [{"n": 1}, {"n": 2, "part": True}]
