"""The browser tests' failure reports can show the server's side: its thread stacks on demand
(tests/e2e/serve.py) and its log (conftest.Server.stacks)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_server_dumps_every_thread_stack_on_request(server) -> None:
    first = server.stacks()
    assert first.count("Current thread 0x") == 1, first[-3000:]
    assert "in _run_server_loop" in first  # the event loop's thread, read from the live process
    second = server.stacks()  # again: the handler stays registered, the log grows, nothing is overwritten
    assert second.count("Current thread 0x") == 2 or len(second) >= 19_000, second[-3000:]
    assert server.proc.poll() is None
