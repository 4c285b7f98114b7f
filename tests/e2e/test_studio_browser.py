"""End to end, in headless Chromium: the MNIST studio's grid appears and changes while
training, pause holds it, and a visit to another page leaves the run as it was; "Start new
run" with another model renames the header at once, and "Stop and save" lists the run.

Budget: under 60 s (most of it is Chromium loading Streamlit and the first MNIST load)."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page


from ganlab.data.images import available_splits
from tests.helpers import wait_for

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")]

STEP = re.compile(r"^step (\d+)$")




def grid(page: Page) -> tuple[int, str] | None:
    """(step in the grid's caption, the grid image's src), or None while the page redraws."""
    try:
        caption = page.get_by_text(STEP).first.inner_text(timeout=1000)
        src = page.locator("[data-testid='stImage'] img").first.get_attribute("src", timeout=1000)
    except Exception:  # an element being replaced by the live view's redraw
        return None
    return int(STEP.match(caption.strip())[1]), src or ""


def test_grid_appears_changes_pauses_and_survives_a_page_switch(browser, server) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(server.url + "/MNIST_studio")
        page.get_by_role("button", name="Start new run").wait_for(timeout=60_000)
        step0, src0 = wait_for(lambda: grid(page), what="the untrained grid")
        assert step0 == 0
        started = time.monotonic()
        page.get_by_role("button", name="Start new run").click()
        step1, src1 = wait_for(lambda: (lambda g: g if g and g[0] > 0 else None)(grid(page)),
                               what="a trained grid")
        assert time.monotonic() - started < 15  # the issue asks for 5 s; slack for a loaded test machine
        assert src1 != src0
        wait_for(lambda: (lambda g: g if g and g[0] > step1 and g[1] != src1 else None)(grid(page)),
                 what="the grid to change again")

        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Resume").wait_for(timeout=30_000)
        time.sleep(1.0)
        paused = wait_for(lambda: grid(page), what="the paused grid")
        time.sleep(2.5)  # longer than a redraw period
        assert grid(page) == paused, "the grid kept changing after pause"

        # Another page in the same session (client-side navigation keeps the session) and back.
        page.locator("[data-testid='stSidebarNav'] a[href$='/Latent_lab']").click()
        page.get_by_role("heading", name="Latent lab").wait_for(timeout=60_000)
        page.locator("[data-testid='stSidebarNav'] a[href$='/MNIST_studio']").click()
        page.get_by_role("button", name="Resume").wait_for(timeout=60_000)
        assert wait_for(lambda: grid(page), what="the grid after coming back")[0] == paused[0]
        page.get_by_role("button", name="Resume").click()
        wait_for(lambda: (lambda g: g if g and g[0] > paused[0] else None)(grid(page)),
                 what="training to continue from where it was")
    finally:
        ctx.close()
    wait_for(lambda: server.runner_threads() == 0, timeout=60, what="the training thread to stop "
             "(its last act is the autosave)")


def header(page: Page) -> str:
    """The studio's "Run: ..." caption, or "" while the page redraws."""
    try:
        return page.get_by_text(re.compile(r"^Run: ")).first.inner_text(timeout=1000)
    except Exception:
        return ""


def choose(page: Page, combobox, option: str) -> None:
    """Pick `option` in a Streamlit selectbox (a React Aria combobox): open it with its "Open"
    button, or from the keyboard where that button is not exposed, then click the option."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_role(
        "combobox", name=combobox.get_attribute("aria-label"), exact=True))
    opener = box.get_by_role("button", name="Open")
    if opener.count():
        opener.first.click()
    else:
        combobox.click()
        combobox.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click(timeout=30_000)


def test_start_new_run_renames_the_header_at_once_and_stop_lists_the_run(browser, server) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        page.goto(server.url + "/MNIST_studio")
        page.get_by_role("button", name="Start new run").wait_for(timeout=60_000)
        page.get_by_role("button", name="Start new run").click()
        wait_for(lambda: (lambda g: g if g and g[0] > 0 else None)(grid(page)), what="a trained grid")
        assert "MLP GAN (Goodfellow 2014)" in header(page)
        # Another model in the sidebar while the first run trains: the header stays with the run.
        # A selectbox is a combobox whose value lives in its <input>, named by its label.
        model = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model", exact=True)
        assert model.input_value() == "MLP GAN (Goodfellow 2014)"
        choose(page, model, "DCGAN")
        page.get_by_text("to begin a new run with").wait_for(timeout=30_000)
        assert "MLP GAN (Goodfellow 2014)" in header(page)
        # Start: the header names DCGAN within seconds (it used to wait for a full rerun, 30 s and more).
        started = time.monotonic()
        page.get_by_role("button", name="Start new run").click()
        wait_for(lambda: "· DCGAN ·" in header(page), timeout=15, what="the header to name DCGAN")
        assert time.monotonic() - started < 15
        # Until the rerun ends, elements that moved are shown in their old place too (stale copies).
        stop = page.get_by_role("button", name="Stop and save")
        wait_for(lambda: page.get_by_text("to begin a new run with").count() == 0 and stop.count() == 1,
                 timeout=30, what="the rerun to finish")
        # Stop and save: confirmed, and listed under "Runs on disk" without touching anything else.
        stop.click()
        page.get_by_text(re.compile(r"^Run stopped and saved to ")).wait_for(timeout=30_000)
        [saved] = wait_for(lambda: list(server.runs.iterdir()), what="the saved run folder")
        page.get_by_text("Runs on disk").click()
        listed = page.get_by_role("combobox", name="Run", exact=True)
        listed.wait_for(timeout=30_000)
        assert listed.input_value() == saved.name
        assert page.get_by_text("No image runs there yet.").count() == 0
    finally:
        ctx.close()
    wait_for(lambda: server.runner_threads() == 0, timeout=60, what="the training thread to stop "
             "(its last act is the autosave)")
