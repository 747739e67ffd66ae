"""Shared pytest fixtures: `lab` (namespaces + processes) and `bin`."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402


@pytest.fixture
def bin():
    path = netlab.postern_bin()
    assert os.access(path, os.X_OK), f"{path} not built (run make)"
    return path


@pytest.fixture
def lab(tmp_path):
    """A NetLab; at teardown it fails the test if a process it started
    reported an AddressSanitizer/UBSan error."""
    lab = netlab.NetLab(tmpdir=str(tmp_path))
    yield lab
    reports = lab.close()
    if reports:
        pytest.fail("sanitizer report:\n" + "\n\n".join(reports))


def pytest_configure(config):
    # Tests that change machine-wide state (the package test's dpkg runs)
    # must not run beside each other under pytest-xdist.
    config.addinivalue_line("markers", "xdist_group(name): run in one xdist worker")
