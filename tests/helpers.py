"""Waiting helpers shared by the page and browser tests (background threads, live pages)."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

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
