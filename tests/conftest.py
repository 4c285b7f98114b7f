"""Shared test set-up.

Tests train tiny networks, where torch's thread pool costs more than it gives,
and they share 2 cores with subprocesses (CLI runs, a Streamlit server): one
intra-op thread keeps them fast and predictable. Subprocesses inherit it via
OMP_NUM_THREADS. Page autosaves go to a temporary folder (GANLAB_AUTOSAVE).
"""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Pages autosave their runs (ui.autosave): never into the user's cache from a test.
if "GANLAB_AUTOSAVE" not in os.environ:
    os.environ["GANLAB_AUTOSAVE"] = tempfile.mkdtemp(prefix="ganlab-test-autosave-")
    atexit.register(shutil.rmtree, os.environ["GANLAB_AUTOSAVE"], True)

import torch  # noqa: E402

torch.set_num_threads(1)


import pytest  # noqa: E402


@pytest.fixture
def no_runner_left_behind():
    """After the test: close every page runner and check no training thread survives."""
    yield
    from tests.helpers import wait_until
    from ui.runner import close_all, live_runner_threads

    close_all()
    assert wait_until(lambda: live_runner_threads() == 0, 10)


@pytest.fixture
def isolated_runs(tmp_path, monkeypatch, no_runner_left_behind):
    """Runs saved by the test go to a temporary runs folder; no runner survives it."""
    monkeypatch.setenv("GANLAB_RUNS", str(tmp_path / "runs"))
    yield
