"""End to end, in headless Chromium: play moves the points, zoom and 3-D camera survive
the live updates, pause stops the points, two browser sessions train separately, and
closing them leaves no training thread.

Budget: under 90 s (most of it is Chromium loading Streamlit and Plotly.js)."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page

from tests.helpers import wait_for, wait_until

pytestmark = pytest.mark.browser

# The 2-D view's iframe reports what it shows: the step, and the fake points it drew.
SHOWN = """() => {
  const gd = document.getElementById('plot');
  const fake = (gd._fullData || []).find(t => t.name && t.name.startsWith('fake'));
  let sum = 0;
  if (fake) { for (let i = 0; i < fake.x.length; i++) sum += fake.x[i] * (i + 1) + fake.y[i]; }
  return [Number(document.body.dataset.step), sum, fake ? fake.x.length : 0];
}"""




def open_session(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url + "/Gaussian_playground")
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
    return ctx, page


XRANGE = "() => document.getElementById('plot')._fullLayout.xaxis.range.slice()"
EYE = "() => JSON.stringify(document.getElementById('plot')._fullLayout.scene.camera.eye)"


def frame_where(page: Page, test: str, what: str) -> Frame:
    """The page's first frame in which the JavaScript expression `test` is true (waited for)."""
    def find() -> Frame | None:
        for f in page.frames:
            try:
                if f.evaluate(f"() => {test}"):
                    return f
            except Exception:  # a frame still loading or being replaced
                pass
        return None
    return wait_for(find, what=what)


def view(page: Page, which: str = "2-D") -> Frame:
    return frame_where(page, f"document.body && document.body.dataset.view === '{which}'", f"the {which} view")


def drag(page: Page, frame: Frame, dx: float, dy: float) -> None:
    """A mouse drag from 40% into the plot, as a user zooms (2-D) or rotates (3-D)."""
    box = frame.frame_element().bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()


def dragged(page: Page, which: str, dx: float, dy: float, changed: Callable[[], Any], what: str) -> Any:
    """Drag in the `which` view until `changed()` gives a value (at most 4 drags, 10 s each):
    on a loaded machine a drag that starts while Plotly redraws can be lost, as a user's
    would be; the user drags again."""
    for _ in range(3):
        drag(page, view(page, which), dx, dy)
        value = wait_until(changed, 10.0, 0.1)
        if value:
            return value
    drag(page, view(page, which), dx, dy)
    return wait_for(changed, 10.0, what=what)


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

    # The user's zoom and 3-D camera survive the live updates.
    full = view(a).evaluate(XRANGE)
    zoomed = dragged(a, "2-D", 120, 100, lambda: (lambda r: r if r[1] - r[0] < (full[1] - full[0]) / 2
                                                  else None)(view(a).evaluate(XRANGE)), "the zoom")
    step = shown(a)[0]
    wait_for(lambda: shown(a)[0] > step + 20, what="more training")
    assert view(a).evaluate(XRANGE) == zoomed
    a.get_by_text("3-D", exact=True).click()
    eye = view(a, "3-D").evaluate(EYE)
    turned = dragged(a, "3-D", 150, 60, lambda: (lambda e: e if e != eye else None)(view(a, "3-D").evaluate(EYE)),
                     "the camera to turn")
    step = int(view(a, "3-D").evaluate("() => Number(document.body.dataset.step)"))
    wait_for(lambda: int(view(a, "3-D").evaluate("() => Number(document.body.dataset.step)")) > step + 20,
             what="more training in 3-D")
    assert view(a, "3-D").evaluate(EYE) == turned
    a.get_by_text("2-D", exact=True).click()

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
