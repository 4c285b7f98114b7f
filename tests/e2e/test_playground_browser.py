"""End to end, in headless Chromium: play moves the points, pause stops them, two
browser sessions train separately, and closing them leaves no training thread.

Budget: under 90 s (most of it is Chromium loading Streamlit and Plotly.js)."""
from __future__ import annotations

import time
from typing import Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page

pytestmark = pytest.mark.browser

# The 2-D view's iframe reports what it shows: the step, and the fake points it drew.
SHOWN = """() => {
  const gd = document.getElementById('plot');
  const fake = (gd._fullData || []).find(t => t.name && t.name.startsWith('fake'));
  let sum = 0;
  if (fake) { for (let i = 0; i < fake.x.length; i++) sum += fake.x[i] * (i + 1) + fake.y[i]; }
  return [Number(document.body.dataset.step), sum, fake ? fake.x.length : 0];
}"""


def wait_for(cond: Callable[[], object], timeout: float = 45.0, what: str = "") -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def open_session(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url + "/Gaussian_playground")
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
    return ctx, page


def view(page: Page) -> Frame:
    def find() -> Frame | None:
        for f in page.frames:
            try:
                if f.evaluate("() => document.body && document.body.dataset.view === '2-D'"):
                    return f
            except Exception:  # a frame still loading or being replaced
                pass
        return None
    return wait_for(find, what="the 2-D view")


def shown(page: Page) -> tuple[int, float, int]:
    return tuple(view(page).evaluate(SHOWN))


def test_play_moves_points_pause_stops_them_and_sessions_are_isolated(browser, server) -> None:
    assert server.runner_threads() == 0
    ctx_a, a = open_session(browser, server.url)
    step0, sum0, n_fake = wait_for(lambda: shown(a) if shown(a)[2] else None, what="fake points")
    assert step0 == 0 and n_fake == 1000
    a.get_by_role("button", name="Play", exact=True).click()
    moved = wait_for(lambda: (lambda s: s if s[0] > step0 and s[1] != sum0 else None)(shown(a)),
                     what="points to move")
    assert moved[0] > 0

    a.get_by_role("button", name="Pause", exact=True).click()
    a.get_by_role("button", name="Play", exact=True).wait_for(timeout=30_000)
    time.sleep(1.0)
    paused = shown(a)
    time.sleep(1.5)
    assert shown(a) == paused, "points kept moving after pause"
    assert paused[0] > 0

    # A second browser session has its own run: it starts at step 0 and its reset
    # does not touch the first session's run.
    ctx_b, b = open_session(browser, server.url)
    assert wait_for(lambda: shown(b) if shown(b)[2] else None, what="B's points")[0] == 0
    b.get_by_role("button", name="Play", exact=True).click()
    wait_for(lambda: shown(b)[0] > 0, what="B to train")
    b.get_by_role("button", name="Reset", exact=True).click()
    wait_for(lambda: shown(b)[0] == 0, what="B's reset")
    a.get_by_role("button", name="Step D+G", exact=True).click()
    wait_for(lambda: shown(a)[0] == paused[0] + 1, what="A to take one more step from where it was")

    b.get_by_role("button", name="Play", exact=True).click()
    wait_for(lambda: shown(b)[0] > 0, what="B to train again")
    a.get_by_role("button", name="Play", exact=True).click()
    wait_for(lambda: shown(a)[0] > paused[0] + 1, what="A to train again")
    assert server.runner_threads() == 2
    ctx_a.close()
    ctx_b.close()
    # Closing the tabs stops their training threads (the sessions stay resumable for a
    # while, their threads do not).
    wait_for(lambda: server.runner_threads() == 0, timeout=20, what="training threads to stop")
