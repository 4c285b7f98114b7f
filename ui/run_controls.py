"""The run controls every training page shares: the Play / Pause button, "Stop at a step
count", and the notices of the runner's own doings (stopped at that count; resumed from
this browser's autosave).

A page draws `play_pause(where, runner, prefix)` where its Play button goes, `stop_control(prefix, default)` in its sidebar and hands the result to
`runner.set_stop_at`, puts `run_params(prefix)` in its URL (the browser token of
`ui.autosave`, and `stop=N` when the box is ticked), shows `resume_notice(...)` under
its title and `stop_notice(runner)` where it shows the runner's error. The widgets
keep their values across pages like the page's other controls (`ui.persist`), and a
session's first visit reads `?stop=N` from the URL.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import streamlit as st

from ui import autosave, persist
from ui.runner import Runner

STOP_PARAM = "stop"
STOP_MAX = 10**7
STOP_LABEL = "Stop at a step count"
STOP_AT_LABEL = "Stop at step"


def play_pause(where: Any, runner: Runner[Any], prefix: str, *, play: Callable[[], Any] | None = None,
               play_label: str = "Play", play_icon: str = ":material/play_arrow:", **button: Any) -> None:
    """The Play / Pause button of a training page, drawn in `where` (a column, or `st`).

    Two widgets rather than one with a changing label: `<prefix>play` while paused (its
    click calls `play`, default `runner.play`) and `<prefix>pause` while playing (its click
    pauses). A click then does only what its button said. Streamlit at times delivers one
    click twice (in Chromium, the trigger again with the view's next frame request, 60 ms
    later); with a single widget the second delivery ran the callback that the first
    one's rerun had just registered, so a Pause restarted the run it had stopped
    (tests/e2e/test_class_sockets.py replays such a click). `button`: more `st.button`
    arguments (type, width).
    """
    if runner.playing:
        where.button("Pause", key=prefix + "pause", on_click=runner.pause, icon=":material/pause:", **button)
    else:
        where.button(play_label, key=prefix + "play", on_click=play or runner.play, icon=play_icon, **button)


def stop_keys(prefix: str) -> tuple[str, str]:
    """The session-state keys of the checkbox and the number."""
    return prefix + "stop_on", prefix + "stop_at"


def parse_stop(text: Any) -> tuple[int | None, str | None]:
    """A URL's `stop` value -> (steps, None), or (None, why it is ignored)."""
    try:
        n = int(str(text))
        if 1 <= n <= STOP_MAX:
            return n, None
    except ValueError:
        pass
    return None, (f"URL parameter stop={text!r} is ignored: give a whole number of steps "
                  f"from 1 to {STOP_MAX:,}")


def stop_control(prefix: str, default: int) -> int | None:
    """Draw "Stop at a step count" (a checkbox) and "Stop at step" (a number, `default` at
    first) in a "Run length" expander where called (the sidebar); returns the step count
    to stop at, or None (keep going, the default). On the session's first visit the
    URL's `?stop=N` ticks it."""
    on_key, at_key = stop_keys(prefix)
    ss = st.session_state
    if not persist.restore([on_key, at_key]) and on_key not in ss:
        n, problem = (None, None)
        if STOP_PARAM in st.query_params:
            n, problem = parse_stop(st.query_params[STOP_PARAM])
        if problem:
            st.warning(problem)
        ss[on_key] = n is not None
        ss[at_key] = n or min(max(int(default), 1), STOP_MAX)
    with st.expander("Run length", expanded=bool(ss[on_key])):
        st.checkbox(STOP_LABEL, key=on_key,
                    help="for demos: the run pauses itself exactly at this step; unticked, it keeps going")
        st.number_input(STOP_AT_LABEL, min_value=1, max_value=STOP_MAX, step=100, key=at_key,
                        disabled=not ss[on_key],
                        help="Play goes on past it only after you raise it or untick the box")
    persist.keep([on_key, at_key])
    return int(ss[at_key]) if ss[on_key] else None


def run_params(prefix: str) -> dict[str, str]:
    """The URL parameters of the run controls: the browser token, and `stop` when ticked."""
    on_key, at_key = stop_keys(prefix)
    params = autosave.url_token()
    if st.session_state.get(on_key):
        params[STOP_PARAM] = str(int(st.session_state[at_key]))
    return params


def stop_message(stopped_at: int, stop_at: int | None, play: str = "Play") -> str:
    """The stop notice, in words (`play`: the page's label of its Play button)."""
    how = (f"{play} goes on only after you raise “Stop at step” or untick “Stop at a step count” "
           "in the sidebar.")
    if stop_at is None or stopped_at == stop_at:
        return f"Stopped at step {stopped_at} (the run length you set). {how}"
    return f"Stopped at step {stopped_at}, past the run length you set ({stop_at}). {how}"


def stop_notice(runner: Runner[Any], play: str = "Play") -> None:
    """Say that the run paused itself at its step count (call where the run's error shows;
    `play`: the page's label of its Play button)."""
    if runner.stopped_at is not None:
        st.info(stop_message(runner.stopped_at, runner.stop_at, play), icon=":material/flag:")


def ago(seconds: float) -> str:
    """A duration in plain words: "5 s", "3 min", "2 h"."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def resume_message(step: int, saved_at: float, now: float | None = None, play: str = "Play") -> str:
    """The resume notice, in words."""
    now = time.time() if now is None else now
    return (f"Resumed at step {step} (autosaved {ago(now - saved_at)} ago): this browser's last "
            f"run of this page, with these settings. Press {play} to go on.")


def resume_notice(runner: Runner[Any], start_over: Callable[[], Any], key: str,
                  play: str = "Play") -> None:
    """Under the title: "Resumed at step N (autosaved ... ago)" with a Start over button
    while the resumed run has not moved on, and, once, why an autosave could not be
    resumed (a damaged file)."""
    if runner.notice:
        st.warning(runner.notice)
        runner.notice = None
    resumed = runner.resumed
    if resumed is not None:
        cols = st.columns([6, 1], vertical_alignment="center")
        cols[0].info(resume_message(resumed.step, resumed.saved_at, play=play), icon=":material/restore:")
        cols[1].button("Start over", key=key, on_click=start_over, width="stretch",
                       help="a fresh run at step 0 with these settings (the autosave is deleted)")
