"""End to end, in headless Chromium (issue 15): the playground's URL carries the browser
token through the router, a reload resumes the autosaved run, and the same link without
the token starts fresh. ("Stop at a step count" is tested in AppTest:
tests/test_pages_stop_resume.py.)

Budget: under 60 s."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from tests.e2e.test_playground_browser import open_session, shown
from tests.helpers import wait_for

pytestmark = pytest.mark.browser


def test_reload_resumes_and_a_shared_link_starts_fresh(browser: Browser, server) -> None:
    ctx, page = open_session(browser, server.url)
    wait_for(lambda: re.search(r"[?&]me=[A-Za-z0-9_-]{16,}", page.url), what="the browser token in the URL")
    wait_for(lambda: shown(page)[2], what="fake points")
    page.get_by_role("button", name="Play", exact=True).click()
    wait_for(lambda: shown(page)[0] > 20, what="training")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=30_000)
    step = wait_for(lambda: (lambda a, b: a if a == b else None)(shown(page)[0], shown(page)[0]),
                    what="the paused step")
    mine = page.url

    page.reload()  # a new session of the same browser
    # The state saved on Pause is at the shown step, or a step later when the step in
    # progress at the click finished after the last frame was drawn.
    notice = page.get_by_text(re.compile(r"Resumed at step \d+"))
    notice.wait_for(timeout=60_000)
    resumed = int(re.search(r"Resumed at step (\d+)", notice.first.inner_text()).group(1))
    assert step <= resumed <= step + 1
    assert wait_for(lambda: shown(page)[0] == resumed, what="the view at the resumed step")
    page.get_by_role("button", name="Start over").wait_for(timeout=15_000)  # (the page may still be rerunning)

    # The link shared without the token: another browser's fresh run.
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    shared = other.new_page()
    shared.goto(re.sub(r"([?&])me=[^&]*&?", r"\1", mine))
    shared.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
    wait_for(lambda: shown(shared)[2], what="the shared link's points")
    assert shown(shared)[0] == 0 and shared.get_by_text("Resumed at step").count() == 0
    other.close()

    ctx.close()
