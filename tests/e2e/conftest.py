"""Fixtures for the browser tests: a `streamlit run app.py` server on a free localhost
port (stopped after the tests) and headless Chromium driven by Playwright.

Chromium is Debian's (/usr/bin/chromium, or $GANLAB_CHROMIUM): `playwright install`
needs the network. Without it the browser tests are skipped, saying why.

When a browser test fails, its report carries the server's side of the story: the Python
stack of every server thread at the moment of the failure and the end of the server's
log (`pytest_runtest_makereport` below; the server runs under tests/e2e/serve.py).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    path = os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).is_file() else shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `streamlit run app.py`: its base URL, process (for /proc thread counts) and the
    folder its pages save runs in (GANLAB_RUNS, a temporary folder: never the repository's runs/)."""

    def __init__(self, url: str, proc: subprocess.Popen, runs: Path, log) -> None:
        self.url, self.proc, self.runs, self.log = url, proc, runs, log

    def runner_threads(self) -> int:
        """Training threads of the server (ui.runner names its OS threads)."""
        tasks = Path(f"/proc/{self.proc.pid}/task").iterdir()
        return sum(1 for t in tasks if _comm(t) == "ganlab-runner")

    def threads(self) -> int:
        """The server process's current OS thread count (Linux /proc)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])

    def log_tail(self, chars: int = 20_000) -> str:
        """The end of the server's output. pread leaves the file offset alone: the server
        shares it, and a seek here would make the server write over its own log."""
        fd = self.log.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - chars)
        return os.pread(fd, size - start, start).decode(errors="replace")

    def stacks(self) -> str:
        """Every server thread's Python stack now (serve.py's SIGUSR1), with the log's end."""
        if self.proc.poll() is not None:
            return f"the server has exited (status {self.proc.returncode})\n" + self.log_tail()
        os.kill(self.proc.pid, signal.SIGUSR1)
        time.sleep(1.0)  # faulthandler writes from its own thread
        return self.log_tail()


def _comm(task: Path) -> str:
    try:
        return (task / "comm").read_text().strip()
    except OSError:  # the thread ended meanwhile
        return ""


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    port = free_port()
    cmd = [sys.executable, "-m", "tests.e2e.serve", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    log = tempfile.TemporaryFile()  # a pipe nobody reads would block a chatty server
    runs = tempfile.TemporaryDirectory(prefix="ganlab-e2e-runs-")
    # The pages' autosaves go to a folder of their own, not into the user's cache (ui.autosave).
    autosaves = tempfile.TemporaryDirectory(prefix="ganlab-e2e-autosave-")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "GANLAB_RUNS": runs.name, "GANLAB_AUTOSAVE": autosaves.name})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"streamlit exited: {log.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")
            time.sleep(0.3)
        yield Server(url, proc, Path(runs.name), log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()
        runs.cleanup()
        autosaves.cleanup()


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install chromium) "
                    "or set GANLAB_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the server: add the server's thread stacks and log to its report."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("server")
    if report.when == "call" and report.failed and isinstance(server, Server):
        try:
            report.sections.append(("server threads and log at the failure", server.stacks()))
        except OSError as exc:  # the diagnosis must never hide the failure itself
            report.sections.append(("server threads and log at the failure", f"unavailable: {exc}"))
