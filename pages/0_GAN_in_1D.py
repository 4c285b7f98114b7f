"""GAN in 1-D: the GAN paper's own picture (Goodfellow et al. 2014, Figure 1), live.

Widgets -> a Config (also in the URL) -> a Trainer on 1-D data advanced by this
session's background runner -> `ganlab.probe.frame_1d` (D's curve, G's density, the
z -> x mapping) drawn by `ui.views1d`.
"""
from __future__ import annotations

import streamlit as st

from ganlab import probe
from ganlab.data.toy import ONE_D_SETS
from ganlab.errors import GanlabError
from ganlab.presets import PRESETS, resolve_config
from ganlab.train import Trainer
from ui import controls, persist, projector, run_controls, state, views
from ui.autosave import trainer_autosave
from ui.history import loss_words
from ui.lessons import lesson_strip
from ui.live import apply_settings
from ui.live_plot import live_plot
from ui.messages import error_box
from ui.runner import Runner, redraw_period, session_runner
from ui.views1d import view_1d

st.set_page_config(page_title="GAN in 1-D", page_icon="📈", layout="wide")

PAGE = "pages/0_GAN_in_1D.py"
PREFIX = "g1."
# Plain names for this page's presets (the engine's names stay in the URL).
PRESET_NAMES = {"gan1d": "One Gaussian", "gan1d-mixture": "Two bumps"}
SPEEDS = (1, 2, 5, 10, 20, 50)
FALLBACK_REDRAW_SECONDS = 1.0


def _control(field: str, **narrow: object) -> controls.Control:
    return controls.control(field, prefix=PREFIX, **narrow)


GROUPS = {
    "Data": [_control("data", options=ONE_D_SETS)],
    "Training": [_control("loss"), _control("d_lr"), _control("g_lr"), _control("d_steps"),
                 _control("seed")],
}
KEYS = [c.key for c in controls.all_controls(GROUPS).values()] + [PREFIX + "preset"]
ss = st.session_state


# --- settings: the URL on a session's first visit, then the widgets ------------------
if PREFIX + "base" not in ss:
    first, problems = state.config_from_query(st.query_params.to_dict(), resolve_config(preset="gan1d"),
                                              controls.url_check(GROUPS))
    ss[PREFIX + "base"], ss[PREFIX + "url_problems"] = first, problems
    ss[PREFIX + "preset"] = st.query_params.get("preset", "gan1d") \
        if st.query_params.get("preset") in PRESET_NAMES else "gan1d"
    controls.load(first, GROUPS)
else:
    persist.restore(KEYS)


def load_preset() -> None:
    """One click on a preset: every setting from it, and a fresh run at step 0."""
    ss[PREFIX + "base"] = resolve_config(preset=ss[PREFIX + "preset"])
    controls.load(ss[PREFIX + "base"], GROUPS)
    ss[PREFIX + "restart"] = True


# The radio marks a preset only while the settings are still the preset's.
changes = controls.follow_preset(PREFIX + "preset", lambda name: controls.changed(
    GROUPS, controls.read(GROUPS, ss[PREFIX + "base"]), resolve_config(preset=name)))

with st.sidebar:
    st.header("Settings")
    st.radio("Preset", list(PRESET_NAMES), format_func=PRESET_NAMES.get, key=PREFIX + "preset",
             on_change=load_preset, help="a click loads it and starts over")
    st.caption(controls.own_settings_words(PRESET_NAMES[ss[PREFIX + "preset.from"]], changes) if changes
               else PRESETS.help(ss[PREFIX + "preset"]))
    for group, group_controls in GROUPS.items():
        with st.expander(group, expanded=True):
            for control in group_controls:
                controls.draw(control)
    stop_at = run_controls.stop_control(PREFIX, ss[PREFIX + "base"].steps)

persist.keep(KEYS)
cfg = controls.read(GROUPS, ss[PREFIX + "base"])

st.title("GAN in 1-D")
lesson_strip(PAGE, at={} if ss[PREFIX + "preset"] is None else {"preset": ss[PREFIX + "preset"]})
for problem in ss.pop(PREFIX + "url_problems", []):
    st.warning(problem)


def build() -> Trainer:
    return Trainer(cfg)


try:
    runner: Runner[Trainer] = session_runner(PREFIX + "runner", build,
                                             autosave=trainer_autosave("gan1d", cfg),
                                             capture=probe.frame_1d, capture_every=50, max_frames=120)
except GanlabError as exc:
    error_box(exc)
    st.stop()
runner.set_stop_at(stop_at)

applied = apply_settings(runner, cfg, build, reset=True, restart=ss.pop(PREFIX + "restart", False))
if applied.error:
    error_box(applied.error)
# The preset stays in the URL: a shared link opens the same radio choice (and the lesson).
query = {**state.config_to_query(cfg), "preset": ss[PREFIX + "preset"], **run_controls.run_params(PREFIX)}
if query != st.query_params.to_dict():
    st.query_params.from_dict(query)


def single_step(d: bool, g: bool) -> None:
    runner.step_clicked(d, g)  # an error stays in runner.error, shown below


def reset_run() -> None:
    runner.pause()
    ss[PREFIX + "restart"] = True


run_controls.resume_notice(runner, reset_run, PREFIX + "start_over")
ss[PREFIX + "shown_playing"] = runner.playing


# The whole lesson is one fragment: Play / Pause, the steps and the view rerun together,
# so a click shows its effect in the same rerun (no page rerun, no sidebar re-sent).
@st.fragment(run_every=FALLBACK_REDRAW_SECONDS if runner.playing else None)
def live_view() -> None:
    if ss.get(PREFIX + "restart"):
        st.rerun(scope="app")
    cols = st.columns([1.3, 1, 1, 1, 1, 3], vertical_alignment="bottom")
    run_controls.play_pause(cols[0], runner, PREFIX, type="primary", width="stretch")
    cols[1].button("Step D", on_click=single_step, args=(True, False), key=PREFIX + "step_d",
                   width="stretch", help="one update of the discriminator only: watch the blue curve")
    cols[2].button("Step G", on_click=single_step, args=(False, True), key=PREFIX + "step_g",
                   width="stretch", help="one update of the generator only: watch the green bump")
    cols[3].button("Step D+G", on_click=single_step, args=(True, True), key=PREFIX + "step_dg",
                   width="stretch", help="one iteration: D, then G")
    cols[4].button("Reset", on_click=reset_run, key=PREFIX + "reset", width="stretch",
                   help="start over at step 0")
    # The speed is kept across visits to other pages, like the settings.
    persist.restore_or({PREFIX + "speed": 10})
    cols[5].select_slider("Training steps per redraw", SPEEDS, key=PREFIX + "speed")
    persist.keep([PREFIX + "speed"])
    period = redraw_period()
    runner.set_speed(int(ss[PREFIX + "speed"]), period)
    with runner.hold() as trainer:
        frame = probe.frame_1d(trainer)
        kind = probe.surface_kind(trainer.cfg.loss)
        last = dict(trainer.last)
        history = list(trainer.history)
        has_modes = trainer.info.modes is not None
    # surface_range is [0, 1] for a probability, else a symmetric score range.
    d_label = "D(x) = P(real)" if kind == "probability" else "D's score"
    d_range = probe.surface_range(frame.d, kind)
    fig = view_1d(frame, d_label=d_label, d_range=d_range, title=f"step {frame.step}",
                  uirevision=f"{cfg.data}")
    ss[PREFIX + "frame_no"] = ss.get(PREFIX + "frame_no", 0) + 1
    live_plot(fig, key=PREFIX + "view", height=420 if projector.is_on() else 520,
              meta={"step": frame.step, "frame": ss[PREFIX + "frame_no"]},
              pace=period if runner.playing else None)
    st.caption(f"step {frame.step} · {runner.steps_per_second:.0f} steps/s · {loss_words(last, frame.step, digits=3)} · "
               f"D(x) from {frame.d.min():.2f} to {frame.d.max():.2f}")
    if runner.error:
        error_box(runner.error)
    run_controls.stop_notice(runner)
    with st.expander("Losses"):
        live_plot(views.charts(history, None, metrics_from=cfg.eval_every or None, stop_at=runner.stop_at,
                               modes=has_modes),
                  key=PREFIX + "charts", height=300)
    if runner.playing != ss[PREFIX + "shown_playing"]:
        st.rerun(scope="app")


live_view()
