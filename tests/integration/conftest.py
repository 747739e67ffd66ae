"""Shared pytest fixtures (`lab`, `bin`) and the markers the integration
suite is scheduled by (docs/testing.md, "Parallel runs"):

  @pytest.mark.serial  counts the daemon's descriptors or memory, moves bulk
                       data, or waits on short timeouts: all such tests run
                       one after another on one xdist worker (group
                       "serial"), first, while the other worker takes the rest
  @pytest.mark.long    needs minutes of real time: skipped unless
                       POSTERN_LONG_TESTS=1 (`make integration-long`)
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402

SERIAL_GROUP = "serial"


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: runs in the one serial xdist group")
    config.addinivalue_line("markers", "long: minutes of real time; make integration-long")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Runs before xdist reads the groups (it suffixes node ids with them),
    so `serial` becomes the xdist group here. Serial tests are moved to
    the front: xdist hands out work units in collection order, so the
    longest unit starts first instead of ending the run alone."""
    long_ok = os.environ.get("POSTERN_LONG_TESTS") == "1"
    skip_long = pytest.mark.skip(reason="long test: make integration-long")
    for item in items:
        if item.get_closest_marker("serial"):
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))
        if item.get_closest_marker("long") and not long_ok:
            item.add_marker(skip_long)
    items.sort(key=lambda it: 0 if it.get_closest_marker("serial") else 1)


@pytest.fixture
def bin():
    path = netlab.postern_bin()
    assert os.access(path, os.X_OK), f"{path} not built (run make)"
    return path


@pytest.fixture
def lab(tmp_path):
    """A NetLab; at teardown it fails the test if a process it started
    reported an AddressSanitizer/UBSan error, or a postern daemon died
    before the test ended it or did not exit 0 on SIGTERM
    (netlab.NetLab.close)."""
    lab = netlab.NetLab(tmpdir=str(tmp_path))
    yield lab
    reports = lab.close()
    if reports:
        pytest.fail("at teardown:\n" + "\n\n".join(reports))
