"""Helpers shared by the page and browser tests: waiting on background threads and live
pages, opening a page in AppTest, the model a page's runner holds."""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from streamlit.testing.v1 import AppTest

T = TypeVar("T")


def wait_until(cond: Callable[[], T], timeout: float = 20.0, interval: float = 0.01) -> T:
    """Poll `cond` until it is truthy or `timeout` seconds pass; returns its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    return cond()


def wait_for(cond: Callable[[], T], timeout: float = 45.0, what: str = "", interval: float = 0.1) -> T:
    """`wait_until`, failing the test with "timed out waiting for <what>" on timeout."""
    value = wait_until(cond, timeout, interval)
    if not value:
        raise AssertionError(f"timed out waiting for {what}")
    return value


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    """Run the page script once in AppTest (with these URL query parameters); it must not raise."""
    at = AppTest.from_file(page, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def held_model(at: AppTest, runner_key: str) -> Any:
    """The model (Trainer, side-by-side runs) of the page's runner in session state."""
    with at.session_state[runner_key].hold() as model:
        return model
