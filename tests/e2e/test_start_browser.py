"""End to end, in headless Chromium at 1280x720: the start path (Home -> "Start here" ->
the 1-D lesson plays -> "Next" opens the 2-D step) and the projector mode (kept in the
URL, no sidebar, big type, the main plot's top edge inside the viewport).

Budget: about 40 s (most of it Chromium loading Streamlit and Plotly.js)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page

from tests.helpers import wait_for

pytestmark = pytest.mark.browser

PLOT = "iframe[title*='live_plot']"


def shown_step(page: Page) -> int:
    """The step the 1-D view drew last (the live plot writes it on its body)."""
    for f in page.frames:
        try:
            step = f.evaluate("() => document.getElementById('plot') ? document.body.dataset.step : null")
        except Exception:  # a frame navigating away
            continue
        if step is not None:
            return int(step)
    return -1


def new_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1280, "height": 720}).new_page()


def test_start_here_opens_the_first_lesson_ready_to_play(server, browser: Browser) -> None:
    page = new_page(browser)
    try:
        page.goto(server.url)
        page.get_by_role("button", name=re.compile("^Start here")).click(timeout=60_000)
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
        assert "/GAN_in_1D" in page.url
        page.get_by_text("Step 1 of 6").wait_for(timeout=10_000)
        assert page.locator("[data-testid='stSidebarNav']").get_by_text("Home", exact=True).count() == 1
        page.get_by_role("button", name="Play", exact=True).click()
        assert wait_for(lambda: shown_step(page) > 20, timeout=30)  # the lesson trains and redraws
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=15_000)  # Pause took
        page.get_by_role("link", name=re.compile("Next: Eight blobs")).click()
        page.get_by_text("Step 2 of 6").wait_for(timeout=60_000)
        assert "/Gaussian_playground" in page.url
    finally:
        page.context.close()


def test_projector_mode_fills_the_screen_and_stays_in_the_url(server, browser: Browser) -> None:
    page = new_page(browser)
    try:
        page.goto(server.url + "/GAN_in_1D?projector=1")
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
        page.locator(PLOT).first.wait_for(timeout=30_000)
        assert not page.locator("section[data-testid='stSidebar']").is_visible()
        box = page.locator(PLOT).first.bounding_box()
        assert box is not None and 0 <= box["y"] < 720 - 200, box  # the plot starts well above the fold
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                             "'[data-testid=\"stCaptionContainer\"], [data-testid=\"stMarkdownContainer\"] p'"
                             ")).fontSize)")
        assert size >= 18, size
        page.get_by_role("button", name="Step D", exact=True).click()  # a rerun keeps the mode
        page.wait_for_timeout(1500)
        assert "projector=1" in page.url
        page.get_by_role("button", name=re.compile("Exit projector mode")).click()
        page.locator("section[data-testid='stSidebar']").wait_for(state="visible", timeout=30_000)
        assert wait_for(lambda: "projector" not in page.url, timeout=10)
    finally:
        page.context.close()
