"""Live training in the background of one browser session, shared by every page that trains.

A `Runner` owns one model object (a `ganlab.train.Trainer`, a batched multi-run
trainer, an image trainer: anything a step function can advance) and, while it
is playing, one daemon thread that advances it. Page scripts never step the
model in their own loop: they tell the runner what to do and read consistent
snapshots, so a page rerun (a slider moved, another page opened) never stops or
blocks training.

Public API (for page authors)
-----------------------------
    from ui.runner import session_runner

    runner = session_runner("playground", build=lambda: Trainer(cfg),   # one per session and key
                            capture=probe.frame, capture_every=10)
    runner.play(); runner.pause(); runner.playing     # the thread exists only while playing
    runner.step_once()                                 # pause, then one step now, in the caller
    runner.step_once(lambda t: t.step(g=False))        # ... with another step function (D only)
    runner.set_speed(steps_per_chunk=20)               # steps per chunk (~ per redraw)
    runner.set_speed(chunk_seconds=0.0)                # chunks back to back: as fast as it goes
    runner.reset(new_model)                            # swap in a fresh model; frames, error cleared
    with runner.hold() as trainer:                     # the model, training held between two steps
        trainer.update(d_lr=2e-4)                      #   live change: applies from the next step
        fake = trainer.fixed_samples()                 #   consistent read
    runner.frames()          # [(step, capture(model)), ...] oldest first, bounded (FrameBuffer)
    runner.error             # why training paused itself (divergence, a bug), or None
    runner.set_stop_at(2000)                           # pause by itself exactly at step 2000 (None: go on)
    runner.stopped_at        # the step where it paused itself at that limit, or None
    runner.resumed           # Resumed(step, saved_at) when restored from an autosave, or None
    runner.notice            # why this browser's autosave could not be resumed, or None
    runner.steps_done, runner.steps_per_second
    runner.close()           # stop for good
    redraw_period()          # this session's redraw period: 0.1 s, longer when many sessions train

Page recipe (pages/1_Gaussian_playground.py does all of it):
- Put Play/Pause and the step buttons inside the live `st.fragment`: a click then
  reruns only the fragment, and its callback (run first) pauses at once.
- Draw Play / Pause with `ui.run_controls.play_pause`: two widgets, so that a click
  Streamlit delivers twice can only repeat itself, never undo itself.
- Let the live plot pace the redraws (`live_plot(..., pace=redraw_period())`, with a
  frame counter in `meta`) and keep `run_every` as a slow fallback (1 s): a fixed
  0.1 s timer let a slow browser fall seconds behind.
- When `runner.playing` differs from what the page last drew, `st.rerun()` from the
  fragment (the run paused itself, e.g. it diverged or reached its step count).
- Draw `ui.run_controls.stop_control` in the sidebar and pass its value to
  `runner.set_stop_at`; show `stop_notice` beside the error and `resume_notice`
  under the title; give `session_runner` an `autosave` (`ui.autosave.trainer_autosave`)
  for a run that a reload should resume, and put `run_controls.run_params` in the URL.

Model contract: `step(model)` (default `model.step()`) advances it by one step and
may raise `ganlab.errors.GanlabError` (e.g. `DivergenceError`): the runner pauses
and keeps the message in `error` for the page to show. Any other exception also
pauses, with the message prefixed "unexpected error" (and is logged). If the
model has a `step_count` attribute, frames are labelled with it.

Stopping at a step count (`set_stop_at(n)`, for demos; default None: keep going):
the thread checks the model's step count (`step_count`, else `steps_done`) before
each step, so it pauses exactly at step n whatever the chunk size, and records
`stopped_at`. Play at or past the limit does not train (it records `stopped_at`
again): the run goes on only once the limit is raised or removed, which also
clears `stopped_at`. Single steps (`step_once`) are the user's own and may pass it.

Autosave (`autosave=` an `ui.autosave.Autosave`): the thread saves the model every
`autosave.period` seconds of training and when it stops (paused, stopped at its
limit, session gone; not after an error, whose state is broken); `step_once`
saves too; `reset` discards the saved state (a new run starts at step 0). The thread's
last save may end just after `thread_alive` turns False (a play() meanwhile starts a
new thread, which waits for the model).
`session_runner(..., autosave=...)` restores a browser's saved run in a new session.

Pacing: the thread runs `steps_per_chunk` steps, then waits until `chunk_seconds`
after the chunk started; with the views redrawing about every `chunk_seconds`
this is the "training steps per redraw" control. `hold()` and the control calls
get in between two steps, never waiting for a whole chunk; pause takes effect
after the step in progress.

Lifetime: the thread checks every `LIVENESS_PERIOD` seconds that its browser
session is still connected (`streamlit.runtime.Runtime.is_active_session`, see
`session_liveness`) and exits when it is not, so a closed tab leaves no thread
burning CPU. If the session reconnects (Streamlit keeps a disconnected session
for `server.disconnectedSessionTTL` seconds), the next `session_runner` call
restarts the thread where it stopped.

Sharing one server between sessions (environment variables override the defaults):
- torch uses `TORCH_THREADS` intra-op threads (default 1, `GANLAB_TORCH_THREADS`).
  Toy and small models gain nothing from intra-op parallelism, and every training
  thread using all cores oversubscribes them (measured here: 2 threads per run on
  2 shared cores made one run ~10x slower). One thread per run lets sessions share.
- At most `STEP_SLOTS` steps run at once in the process (the CPU count, one fewer when
  a class of `CLASS_SESSIONS` or more trains; `GANLAB_STEP_SLOTS` fixes it), handed out
  first come, first served (`FairSlots`).
- `redraw_period()` stretches each session's redraw period so that all sessions
  together redraw at most `REDRAW_BUDGET` times a second (`GANLAB_REDRAW_BUDGET`).
- Training threads can run niced (`TRAIN_NICE`, `GANLAB_TRAIN_NICE`, off by default), so
  that on a server whose browsers run elsewhere a click gets the CPU before training.
Without the second and third, ten sessions on a 2-core server froze every view for over
a minute (the web server's own threads starved).
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, TypeVar

import torch

from ganlab.errors import GanlabError

if TYPE_CHECKING:
    from ui.autosave import Autosave

M = TypeVar("M")
P = TypeVar("P")

LIVENESS_PERIOD = 0.5
THREAD_PREFIX = "ganlab-runner"  # also the OS thread name (at most 15 bytes)
TORCH_THREADS = int(os.environ.get("GANLAB_TORCH_THREADS", "1"))
# Live-view redraws per second for all sessions of the server together (see redraw_period):
# 10 per CPU core, at most 40 (the redraws' Python holds the GIL, so more cores do not
# help beyond that). On this 2-core machine, 20 rather than 40 took Play / Pause with
# ten sessions training from a median of 0.36 s to 0.13 s (docs/benchmarks.md).
REDRAW_BUDGET = float(os.environ.get("GANLAB_REDRAW_BUDGET", min(40, 10 * (os.cpu_count() or 1))))

_log = logging.getLogger(__name__)
# Every runner of the process, for the counts across sessions. A WeakSet raises when a
# runner is added while another thread lists it, so both happen under _RUNNERS_LOCK.
_RUNNERS: "weakref.WeakSet[Runner[Any]]" = weakref.WeakSet()
_RUNNERS_LOCK = threading.Lock()


def _all_runners() -> "list[Runner[Any]]":
    with _RUNNERS_LOCK:
        return list(_RUNNERS)
_torch_configured = False


def configure_torch_threads(threads: int = TORCH_THREADS) -> None:
    """Set torch's intra-op thread count once per process (see the module docstring)."""
    global _torch_configured
    if not _torch_configured:
        torch.set_num_threads(max(1, threads))
        _torch_configured = True


def _name_os_thread(name: str) -> None:
    """Name the OS thread too (Linux; Python 3.11 names only its own object), so tools
    outside the process (ps, /proc/PID/task/*/comm, the browser tests) can count
    training threads."""
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


# Training threads' nice value is raised by this much (Linux, per thread), so that clicks,
# page scripts and the web server's event loop win the CPU over training. Off by default:
# where the browser shares the machine (a teacher's laptop, the browser tests), a niced
# training thread that holds the run's lock is starved by the browser and holds up the
# page (Pause took over a second, the suite ran twice as long). A server whose browsers
# run elsewhere may set GANLAB_TRAIN_NICE=10: with ten sessions on this 2-core machine
# it took Play / Pause from a median of 0.36 s to 0.21 s (docs/benchmarks.md).
TRAIN_NICE = int(os.environ.get("GANLAB_TRAIN_NICE", "0"))


def _lower_thread_priority(nice: int | None = None) -> None:
    """Raise the calling OS thread's nice value by `nice` (default TRAIN_NICE; at most 19;
    Linux: nice is per thread). Never raises: where it is not allowed, training runs at
    normal priority."""
    nice = TRAIN_NICE if nice is None else nice
    if nice <= 0 or sys.platform != "linux":
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        pass


class FairSlots:
    """At most `capacity` holders at a time (a number, or a function read at each acquire
    and release), served first come, first served (a context manager).

    A plain Semaphore lets the thread that releases a slot take it straight back, so
    one session could starve the others; here a released slot goes to the longest
    waiter.
    """

    def __init__(self, capacity: int | Callable[[], int]) -> None:
        self._capacity: Callable[[], int] = capacity if callable(capacity) else (lambda: capacity)
        self._last_capacity = 1
        self._held = 0
        self._lock = threading.Lock()
        self._waiters: deque[threading.Event] = deque()

    def _capacity_now(self) -> int:
        """The capacity function's answer (at least 1), or its last good one when it raises:
        a release must hand its slot on whatever happens, or the waiters would wait forever."""
        try:
            self._last_capacity = max(1, int(self._capacity()))
        except Exception:  # noqa: BLE001 - any callable; a slot must never be lost to it
            pass
        return self._last_capacity

    def __enter__(self) -> "FairSlots":
        with self._lock:
            if self._held < self._capacity_now() and not self._waiters:
                self._held += 1
                return self
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # a release hands its slot over by setting this
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._held -= 1
            capacity = self._capacity_now()
            while self._waiters and self._held < capacity:
                self._held += 1
                self._waiters.popleft().set()


# Steps in progress at once, for all sessions of the process. Python runs one thread's
# bytecode at a time (the GIL) and a toy step is mostly bytecode, so ten sessions
# stepping at once train no faster than two, but they starve the web server's own
# threads (event loop, page scripts): measured here with 10 sessions, every view froze
# for over a minute. With the slots the server's threads compete with at most
# STEP_SLOTS training threads: as many as cores while few sessions train, one core
# fewer when a class trains (CLASS_SESSIONS or more): on this 2-core machine that took
# Play / Pause with ten sessions from 0.15 s median, 0.49 s worst to 0.08 s, 0.27 s
# (docs/benchmarks.md), for 10 rather than 18 steps/s per session. Not for one or two
# sessions: with the browser on the same machine (a teacher's laptop, the browser
# tests), one slot made Pause lag. GANLAB_STEP_SLOTS fixes the count.
CLASS_SESSIONS = 3


def step_capacity() -> int:
    """The step slots for the sessions training now (see STEP_SLOTS)."""
    fixed = os.environ.get("GANLAB_STEP_SLOTS")
    if fixed:
        return int(fixed)
    cores = os.cpu_count() or 2
    return cores if training_sessions() < CLASS_SESSIONS else max(1, cores - 1)


STEP_SLOTS = FairSlots(step_capacity)


def _default_step(model: Any) -> Any:
    return model.step()


def _always_alive() -> bool:
    return True


class FrameBuffer(Generic[P]):
    """At most `max_frames` (step, payload) pairs spanning the whole run so far.

    A payload is captured every `every` steps. When the buffer is full, every
    other frame is dropped and `every` doubles: memory stays bounded and a
    history scrubber still reaches back to step 0, at coarser spacing.
    """

    def __init__(self, max_frames: int = 240, every: int = 10) -> None:
        if max_frames < 2 or every < 1:
            raise ValueError("FrameBuffer needs max_frames >= 2 and every >= 1")
        self.max_frames = max_frames
        self.base_every = every
        self.every = every
        self._since = 0
        self._items: list[tuple[int, P]] = []

    def tick(self) -> bool:
        """Count one step; True when a frame is due."""
        self._since += 1
        return self._since >= self.every

    def add(self, step: int, payload: P) -> None:
        self._since = 0
        if len(self._items) >= self.max_frames:
            self._items = self._items[::2]
            self.every *= 2
        self._items.append((step, payload))

    def items(self) -> list[tuple[int, P]]:
        return list(self._items)

    def clear(self) -> None:
        self._items = []
        self._since = 0
        self.every = self.base_every

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Resumed:
    """A run restored from its autosave: the step it was at and when it was saved (time.time())."""

    step: int
    saved_at: float


class Runner(Generic[M]):
    """A model advanced by a background thread while playing (see the module docstring)."""

    def __init__(self, model: M, *, step: Callable[[M], Any] | None = None,
                 capture: Callable[[M], Any] | None = None, capture_every: int = 10,
                 max_frames: int = 240, steps_per_chunk: int = 10, chunk_seconds: float = 0.1,
                 alive: Callable[[], bool] | None = None, autosave: "Autosave[M] | None" = None) -> None:
        self._model = model
        self._step = step or _default_step
        self._capture = capture
        self._frames: FrameBuffer[Any] = FrameBuffer(max_frames, capture_every)
        self._alive = alive or _always_alive
        # _lock guards the model and frames; _turnstile makes the training thread
        # queue behind a waiting hold() (a bare Lock lets the thread that just
        # released it take it again, starving the page for a whole chunk).
        self._lock = threading.RLock()
        self._turnstile = threading.Lock()
        self._mutex = threading.Lock()  # guards _playing / _thread / _closed
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._playing = False
        self._suspended = False  # thread left because the session disconnected
        self._closed = False
        self.error: str | None = None
        self.steps_done = 0
        self._stop_at: int | None = None
        self.stopped_at: int | None = None
        self.resumed: Resumed | None = None
        self.notice: str | None = None  # why an autosave could not be resumed (said once)
        self.autosave = autosave
        self._saved_step: int | None = None  # the model's step at the last autosave
        self._last_save = time.monotonic()
        self._rate: deque[tuple[float, int]] = deque(maxlen=32)
        self.steps_per_chunk = 1
        self.chunk_seconds = 0.0
        self.set_speed(steps_per_chunk, chunk_seconds)
        self._capture_now()
        with _RUNNERS_LOCK:
            _RUNNERS.add(self)

    # --- reading ------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self) -> Iterator[M]:
        """The model, with the training thread held between two steps until exit."""
        with self._turnstile:
            self._lock.acquire()
        try:
            yield self._model
        finally:
            self._lock.release()

    def frames(self) -> list[tuple[int, Any]]:
        """Captured (step, payload) pairs, oldest first."""
        with self.hold():
            return self._frames.items()

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def thread_alive(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive()

    @property
    def stop_at(self) -> int | None:
        """The step count at which the run pauses itself, or None (it keeps going)."""
        return self._stop_at

    def model_step(self) -> int:
        """The model's step count (`step_count`), else the steps this runner made."""
        return int(getattr(self._model, "step_count", self.steps_done))

    @property
    def steps_per_second(self) -> float:
        """Training rate over the last few seconds of play; 0 when paused."""
        rate = list(self._rate)  # one atomic copy: the thread appends meanwhile
        if not self._playing or len(rate) < 2:
            return 0.0
        recent = [r for r in rate if r[0] >= rate[-1][0] - 3.0]
        (t0, s0), (t1, s1) = recent[0], recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    # --- control ------------------------------------------------------------
    def play(self) -> None:
        """Start (or continue) training in the background; clears a previous error.

        At or past the step limit (`set_stop_at`) it does not train: `stopped_at` is set
        again, and the run goes on only once the limit is raised or removed.
        """
        with self._mutex:
            if self._closed:
                raise RuntimeError("this runner is closed")
            self.error = None
            self.resumed = None
            if self._at_limit():
                self.stopped_at = self.model_step()
                return
            self.stopped_at = None
            self._playing = True
            self._suspended = False
            self._rate.clear()
            self._start_thread()

    def pause(self) -> None:
        """Stop training after the step in progress (the thread then exits)."""
        with self._mutex:
            self._playing = False
            self._suspended = False
        self._wake.set()

    def resume(self) -> None:
        """Restart the thread if it left while playing because the session disconnected."""
        with self._mutex:
            if self._suspended and self._playing and not self._closed:
                self._suspended = False
                self._start_thread()

    def step_once(self, step: Callable[[M], Any] | None = None) -> Any:
        """Pause, then run one step in the caller's thread; returns the step's result.

        A GanlabError from the step is stored in `error` and re-raised.
        """
        self.pause()
        with self.hold() as model:
            try:
                out = (step or self._step)(model)
            except GanlabError as exc:
                self.error = str(exc)
                raise
            self.error = None
            self.stopped_at = None
            self.resumed = None
            self._after_step(model)
            self._save(model)
            return out

    def step_clicked(self, d: bool = True, g: bool = True) -> None:
        """A single step (`model.step(d=d, g=g)`) for a button's callback: a GanlabError
        stays in `error` for the page to show, instead of escaping into Streamlit."""
        try:
            self.step_once(lambda model: model.step(d=d, g=g))
        except GanlabError:
            pass

    def set_speed(self, steps_per_chunk: int | None = None, chunk_seconds: float | None = None) -> None:
        """Steps per chunk (>= 1) and the minimum seconds between chunk starts (>= 0)."""
        if steps_per_chunk is not None:
            if int(steps_per_chunk) < 1:
                raise ValueError(f"steps_per_chunk must be >= 1, got {steps_per_chunk}")
            self.steps_per_chunk = int(steps_per_chunk)
        if chunk_seconds is not None:
            if not chunk_seconds >= 0:
                raise ValueError(f"chunk_seconds must be >= 0, got {chunk_seconds}")
            self.chunk_seconds = float(chunk_seconds)
        self._wake.set()

    def set_stop_at(self, n: int | None) -> None:
        """Pause by itself exactly when the model's step count reaches `n` (None or 0:
        keep going, the default). A limit raised above the step, or removed, clears
        `stopped_at`; one at or below it stops the playing run before its next step."""
        n = int(n) if n else None
        if n is not None and n < 0:
            raise ValueError(f"stop_at must be >= 0, got {n}")
        with self._mutex:
            self._stop_at = n
            if self.stopped_at is not None and not self._at_limit():
                self.stopped_at = None
        self._wake.set()

    def reset(self, model: M) -> None:
        """Replace the model (e.g. a new Trainer); frames, error, the stop notice and the
        resume notice are cleared, play state kept; the autosaved state is discarded."""
        with self.hold():
            self._model = model
            self._frames.clear()
            self.error = None
            self.stopped_at = None
            self.resumed = None
            self.steps_done = 0
            self._rate.clear()
            self._capture_now()
            if self.autosave is not None:
                self.autosave.discard()
            self._saved_step = None
            self._last_save = time.monotonic()

    def close(self, timeout: float = 5.0) -> None:
        """Stop for good and wait for the thread to exit."""
        with self._mutex:
            self._closed = True
            self._playing = False
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # --- the training thread ---------------------------------------------------
    def _start_thread(self) -> None:
        """Start the thread unless one is running (caller holds _mutex)."""
        if self._thread is None:
            configure_torch_threads()
            self._wake.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name=f"{THREAD_PREFIX}-{id(self):x}")
            self._thread.start()

    def _should_run(self) -> bool:
        """False (and the thread forgotten) when paused or closed; decided under _mutex
        so that a play() racing with the exit starts a new thread instead of losing it."""
        with self._mutex:
            if self._playing and not self._closed:
                return True
            self._thread = None
            return False

    def _at_limit(self) -> bool:
        return self._stop_at is not None and self.model_step() >= self._stop_at

    def _loop(self) -> None:
        _name_os_thread(THREAD_PREFIX)
        _lower_thread_priority()
        try:
            self._train_loop()
        finally:
            if self.error is None:  # a broken (diverged) state is not worth resuming
                with self._lock:
                    self._save(self._model)

    def _train_loop(self) -> None:
        last_check = time.monotonic()
        next_chunk = last_check
        while self._should_run():
            now = time.monotonic()
            if now - last_check >= LIVENESS_PERIOD:
                last_check = now
                if not self._alive():
                    with self._mutex:
                        self._suspended = self._playing
                        self._thread = None
                    return
            if now < next_chunk:
                self._wake.wait(min(next_chunk - now, LIVENESS_PERIOD))
                self._wake.clear()
                continue
            next_chunk = max(next_chunk + self.chunk_seconds, now) if self.chunk_seconds else now
            for _ in range(self.steps_per_chunk):
                if not (self._playing and self._train_one()):
                    break
            self._rate.append((time.monotonic(), self.steps_done))
            slot = self.autosave  # the page may swap it meanwhile
            if slot is not None and time.monotonic() - self._last_save >= slot.period:
                with self._turnstile:
                    pass
                with self._lock:
                    self._save(self._model)

    def _train_one(self) -> bool:
        """One step under the lock and a process-wide step slot; False (and paused) when
        it raised. True without a step when paused while waiting for the slot."""
        with STEP_SLOTS:
            if not self._playing:
                return True
            with self._turnstile:
                pass
            with self._lock:
                model = self._model
                if self._at_limit():
                    self._stop_at_limit()
                    return False
                try:
                    self._step(model)
                except GanlabError as exc:
                    self._stop_with(str(exc))
                    return False
                except Exception as exc:  # a bug: tell the page, do not die silently
                    _log.exception("training step failed")
                    self._stop_with(f"unexpected error, training paused: {type(exc).__name__}: {exc}")
                    return False
                self._after_step(model)
                if self._at_limit():  # exit now, not after the pause before the next chunk
                    self._stop_at_limit()
                    return False
                return True

    def _stop_at_limit(self) -> None:
        """Pause at the step limit (caller holds _lock)."""
        with self._mutex:
            self.stopped_at = self.model_step()
            self._playing = False

    def _save(self, model: M) -> None:
        """Autosave the model unless it has not moved since the last save (caller holds _lock).
        A failure (a full disk) is logged and training goes on."""
        self._last_save = time.monotonic()
        slot = self.autosave
        if slot is None:
            return
        step = self.model_step()
        if step == self._saved_step or step == 0:
            return
        try:
            slot.save(model)
            self._saved_step = step
        except Exception:  # never let a save stop training
            _log.exception("autosave failed")

    def _stop_with(self, message: str) -> None:
        self.error = message
        with self._mutex:
            self._playing = False

    def _after_step(self, model: M) -> None:
        self.steps_done += 1
        if self._capture is not None and self._frames.tick():
            self._capture_now()

    def _capture_now(self) -> None:
        if self._capture is not None:
            step = getattr(self._model, "step_count", self.steps_done)
            self._frames.add(int(step), self._capture(self._model))


# --- binding to a Streamlit session ------------------------------------------------
def session_liveness() -> Callable[[], bool]:
    """A check that the current script's browser session is still connected.

    False once Streamlit's runtime no longer lists the session as active (tab
    closed, connection lost). Outside a script run, and under AppTest (whose
    runtime is a mock), it is always True: close those runners explicitly.
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return _always_alive
    session_id = ctx.session_id

    def alive() -> bool:
        if not Runtime.exists():
            return True
        return bool(Runtime.instance().is_active_session(session_id))

    return alive


def session_runner(key: str, build: Callable[[], M], *, autosave: "Autosave[M] | None" = None,
                   on_restore: Callable[[M], Any] | None = None, **options: Any) -> Runner[M]:
    """This browser session's Runner under `key`, created on first use.

    The model is this browser's autosaved run when `autosave` holds one for the same
    experiment (`Autosave.restore`; `runner.resumed` then says from which step and
    when, and `on_restore(model)` runs as `build` would have), else `build()`. A
    damaged autosave starts fresh: `runner.notice` says so. `options` are Runner's
    keyword arguments; they apply when it is created. Each call hands the runner
    the page's current `autosave` (where and what it saves) and restarts a thread
    that stopped while the session was disconnected.
    """
    import streamlit as st

    runner = st.session_state.get(key)
    if not isinstance(runner, Runner):
        # The first run after the server starts takes seconds (torch loads its optimizer
        # machinery on first use): say so, not a blank page under the title.
        with st.spinner("Setting up the run..."):
            runner = _new_session_runner(build, autosave, on_restore, options)
        st.session_state[key] = runner
    else:
        runner.autosave = autosave
    runner.resume()
    return runner


def _new_session_runner(build: Callable[[], M], autosave: "Autosave[M] | None",
                        on_restore: Callable[[M], Any] | None, options: dict[str, Any]) -> Runner[M]:
    """`session_runner`'s new Runner: on this browser's autosaved run, else on `build()`."""
    restored = autosave.restore() if autosave is not None else None
    if restored is not None and restored.model is not None:
        try:
            if on_restore is not None:
                on_restore(restored.model)
        except Exception:  # the page cannot use it: start fresh, as for a damaged file
            from ui.autosave import Restored, damaged_message

            _log.exception("a restored run was refused by the page")
            autosave.discard()
            restored = Restored(None, problem=damaged_message())
    model = restored.model if restored is not None and restored.model is not None else build()
    runner = Runner(model, alive=session_liveness(), autosave=autosave, **options)
    if restored is not None:
        runner.notice = restored.problem
        if restored.model is not None:
            runner.resumed = Resumed(restored.step, restored.saved_at)
            runner._saved_step = restored.step
    return runner


def training_sessions() -> int:
    """Runners of this process whose thread is training now (all sessions)."""
    return sum(1 for r in _all_runners() if r.thread_alive)


def redraw_period(fastest: float = 0.1, budget: float = REDRAW_BUDGET) -> float:
    """Seconds between live redraws for one session: `fastest`, or slower when many
    sessions train, so that all sessions together redraw at most `budget` times a second.

    Each redraw is a Streamlit fragment rerun (~20 ms of server CPU with the
    playground's views, measured): ten sessions at 10 redraws/s would need two
    cores for redraws alone and starve training and clicks. Use it as the live
    view's pace (`ui.live_plot`) or run_every, and as the runner's chunk_seconds.
    """
    return max(fastest, training_sessions() / budget)


def live_runner_threads() -> int:
    """Number of runner training threads alive in this process."""
    return sum(1 for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX))


def close_all() -> None:
    """Close every runner of this process (tests; server shutdown)."""
    for runner in _all_runners():
        runner.close()
