"""A class on one server: 30 playground sessions train at once, each on its own run, and
the server's training threads end when they close. And a click that reaches the server
twice does what it did once: a Pause delivered again never restarts the run.

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


def test_a_pause_delivered_twice_stays_a_pause(server) -> None:
    """Streamlit at times delivers one click twice (seen in Chromium: Pause, then the same
    trigger again 60 ms later). Here the second delivery comes once the page has drawn
    Play in its place; with one widget for both labels it ran Play's callback."""
    pool = SocketPool(server.url, 1)
    tab = pool.sessions[0]
    try:
        pool.click(0, "pg.play")
        wait_until(lambda: pool.shown_step(0) > 0 and "Pause" in tab.buttons, 60)
        _, pause_id, fragment = tab.buttons["Pause"]
        clicked = time.monotonic()
        pool.click_id(0, pause_id, fragment)
        wait_until(lambda: tab.buttons.get("Play", (0.0,))[0] > clicked, 30)
        again = time.monotonic()
        pool.click_id(0, pause_id, fragment)  # the same click, delivered a second time
        time.sleep(3.0)  # time for a (wrongly) restarted run to draw frames
        step = pool.shown_step(0)
        time.sleep(2.0)
        assert tab.buttons["Pause"][0] < again, "the repeated Pause drew Pause again: the run restarted"
        assert pool.shown_step(0) == step, "the view moved on after Pause"
        assert tab.notices == []
    finally:
        pool.close()
    wait_until(lambda: server.runner_threads() == 0, 60)
