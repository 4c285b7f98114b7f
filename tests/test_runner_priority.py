"""Training threads can run niced (ui.runner.TRAIN_NICE, GANLAB_TRAIN_NICE; off by default),
so that on a server whose browsers run elsewhere clicks and page scripts win the CPU."""
from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from tests.helpers import wait_until
from ui import runner as runner_mod
from ui.runner import Runner

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")


def thread_nice(native_id: int) -> int:
    """The nice value of one thread of this process, from /proc (field 19 of stat)."""
    with open(f"/proc/self/task/{native_id}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[16])  # stat fields 3.. after the name; nice is field 19


class Recorder:
    """A model that records the OS thread its steps run on."""

    def __init__(self) -> None:
        self.step_count = 0
        self.thread_ids: set[int] = set()

    def step(self) -> None:
        self.thread_ids.add(threading.get_native_id())
        self.step_count += 1
        time.sleep(0.001)


def test_the_training_thread_is_niced_and_the_caller_is_not(monkeypatch) -> None:
    monkeypatch.setattr(runner_mod, "TRAIN_NICE", 10)
    before = thread_nice(threading.get_native_id())
    model = Recorder()
    r = Runner(model)
    try:
        r.play()
        assert wait_until(lambda: model.step_count > 5, 20)
        (tid,) = model.thread_ids
        assert tid != threading.get_native_id()
        assert thread_nice(tid) == min(19, before + 10)
        assert thread_nice(threading.get_native_id()) == before  # only the training thread
    finally:
        r.close()


def test_a_nice_of_zero_leaves_the_priority_alone(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(runner_mod.os, "setpriority", lambda *a: seen.append(a))
    monkeypatch.setattr(runner_mod.os, "getpriority", lambda *a: 12)
    runner_mod._lower_thread_priority(0)
    assert seen == []
    runner_mod._lower_thread_priority(5)  # relative, capped at 19
    assert seen == [(runner_mod.os.PRIO_PROCESS, threading.get_native_id(), 17)]
    runner_mod._lower_thread_priority(10)
    assert seen[-1][2] == 19


def test_training_is_not_niced_by_default() -> None:
    # The browser often shares the machine (a teacher's laptop): see ui/runner.py.
    assert runner_mod.TRAIN_NICE == 0 or "GANLAB_TRAIN_NICE" in os.environ
