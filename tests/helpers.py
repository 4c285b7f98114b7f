"""Helpers shared by the page and browser tests: waiting on background threads and live
pages, opening a page in AppTest, the model a page's runner holds."""
from __future__ import annotations

import sys
import time
import types
from pathlib import Path
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


def fake_download_module(monkeypatch: Any, cache: Path, payload: bytes | None) -> list[tuple]:
    """Replace `ganlab.download` (fetch, cache_dir) for one test: no network. fetch writes
    `payload` (None: it must not be called) and reports it; returns the list of calls,
    each (urls, dest, progress)."""
    calls: list[tuple] = []

    def fetch(urls, dest, *, md5=None, sha256=None, progress=None):
        calls.append((list(urls), Path(dest), progress))
        if payload is None:
            raise AssertionError("fetch must not be called when the file is cached")
        Path(dest).write_bytes(payload)
        if progress is not None:
            progress(len(payload), len(payload))
        return Path(dest)

    mod = types.ModuleType("ganlab.download")
    mod.fetch, mod.cache_dir = fetch, (lambda: cache)
    monkeypatch.setitem(sys.modules, "ganlab.download", mod)
    return calls


def figures(at: AppTest) -> dict[str, dict]:
    """The live plots' arguments by what they show (the component's meta.view, or charts)."""
    import json

    out = {}
    for c in at.get("component_instance"):
        args = json.loads(c.proto.json_args)
        out[args["meta"].get("view", "charts")] = args
    return out
