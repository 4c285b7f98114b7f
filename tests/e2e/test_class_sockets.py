"""A class on one server: 30 playground sessions train at once, each on its own run, and
the server's training threads end when they close.

The sessions speak the app's websocket protocol as a tab does (`scripts/socket_sessions.py`):
in a classroom each browser runs on a student's laptop, and 30 headless Chromium pages
would not fit this machine's 2 cores beside the server. The figures (steps/s and
redraws/s per session, thread counts) come from `python -m scripts.measure_playground
--socket-sessions 30 --only-sockets`; this test asserts only what must hold.
"""
from __future__ import annotations

import time

import pytest

from scripts.socket_sessions import SocketPool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLASS = 30


def wait_until(cond, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met within the time allowed")
        time.sleep(0.1)


def test_thirty_sessions_train_stay_isolated_and_end_their_threads(server) -> None:
    pool = SocketPool(server.url, CLASS)
    try:
        pool.click_all("pg.play")
        wait_until(lambda: server.runner_threads() >= CLASS, 60)
        wait_until(lambda: all(pool.shown_step(i) > 0 for i in range(CLASS)), 120)
        # Every session shows its own run: steps move on in each, and nothing went wrong.
        first = [pool.shown_step(i) for i in range(CLASS)]
        wait_until(lambda: all(pool.shown_step(i) > first[i] for i in range(CLASS)), 120)
        assert [s.notices for s in pool.sessions] == [[]] * CLASS
        # A reset in one session takes its own run back to step 0, and only its own.
        before = [pool.shown_step(i) for i in range(CLASS)]
        pool.click(0, "pg.reset")
        wait_until(lambda: pool.shown_step(0) < before[0], 60)
        wait_until(lambda: all(pool.shown_step(i) > before[i] for i in range(1, CLASS)), 120)
    finally:
        pool.close()
    wait_until(lambda: server.runner_threads() == 0, 60)
