"""Latent lab: train GANs side by side and see what the latent dimension and the set-up do to diversity.

Widgets -> a base Config + the setting the runs differ in (both in the URL) ->
`ganlab.train.side_by_side` (one batched computation when the runs share
shapes) advanced by this session's background runner -> one live scatter per
run, shared charts per metric and the collapse detector's verdict in words.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, Sequence

import numpy as np
import streamlit as st

from ganlab import probe
from ganlab.config import Config
from ganlab.errors import GanlabError
from ganlab.lab_presets import LAB_PRESETS, VARY_FIELDS, lab_configs, parse_values, preset_runs
from ganlab.train.side_by_side import SideBySide, side_by_side
from ui import controls, exports, persist, projector, run_controls, state, views
from ui.autosave import comparison_ident, side_by_side_autosave
from ui.history import loss_words, losses_at, nearest_frame
from ui.live_plot import live_plot
from ui.messages import error_box
from ui.runner import Runner, session_runner
from ui.lessons import lesson_strip

st.set_page_config(page_title="Latent lab", page_icon="🧬", layout="wide")

DEFAULT_PRESET = "latent-sweep"
SPEEDS = (1, 2, 5, 10, 20, 50, "max")
REDRAW_SECONDS = 0.2
VARY_PARAM, VALUES_PARAM, LAB_PARAM = "vary", "values", "lab"
ss = st.session_state


def lab_groups() -> dict[str, list[controls.Control]]:
    """The playground's controls, minus user points (the lab compares runs on the toy sets)."""
    groups = controls.toy_controls(prefix="lab.cfg.")
    data = groups["Data"][0]
    groups["Data"][0] = dataclasses.replace(data, options=tuple(o for o in data.options if o != "points_file"))
    return groups


GROUPS = lab_groups()
CONTROL_KEYS = [c.key for c in controls.all_controls(GROUPS).values()]
LAB_KEYS = ["lab.vary", "lab.values", "lab.preset"]  # widgets of the comparison itself


def load_lab_preset(name: str) -> None:
    base, vary, values = preset_runs(name)
    controls.load(base, GROUPS)
    ss["lab.vary"], ss["lab.values"] = vary, ", ".join(map(str, values))


# --- settings: the URL on a session's first visit, then the widgets ------------------------
if "lab.base" not in ss:
    params = st.query_params.to_dict()
    vary, values = params.pop(VARY_PARAM, None), params.pop(VALUES_PARAM, None)
    lab = params.pop(LAB_PARAM, DEFAULT_PRESET)
    problems: list[str] = []
    if lab not in LAB_PRESETS:
        problems.append(f"URL parameter lab={lab!r} is ignored: {LAB_PRESETS.unknown_message(lab)}")
        lab = DEFAULT_PRESET
    default, default_vary, default_values = preset_runs(lab)
    if LAB_PARAM in st.query_params and lab in LAB_PRESETS:
        params.setdefault(state.PRESET_PARAM, LAB_PRESETS.get(lab).base)  # fields apply on top of it
    base, url_problems = state.config_from_query(params, default, controls.url_check(GROUPS))
    if vary not in VARY_FIELDS:
        if vary is not None:
            problems.append(f"URL parameter vary={vary!r} is ignored: choose one of {', '.join(VARY_FIELDS)}")
        vary = default_vary
    controls.load(base, GROUPS)
    ss["lab.vary"] = vary
    ss["lab.values"] = values or ", ".join(map(str, default_values))
    ss["lab.url_problems"] = problems + url_problems
    ss["lab.preset"] = lab
else:
    persist.restore(CONTROL_KEYS + LAB_KEYS)


def on_load_preset() -> None:
    load_lab_preset(ss["lab.preset"])


def changed_from(name: str) -> list[str]:
    """The labels of what differs from lab preset `name`: settings, the field the runs
    differ in, their values."""
    base, vary, values = preset_runs(name)
    changes = controls.changed(GROUPS, controls.read(GROUPS), base)
    if ss["lab.vary"] != vary:
        changes.append("runs differ in")
    if ss["lab.values"].replace(" ", "") != ",".join(map(str, values)):
        changes.append("values")
    return changes


# The box names a lesson only while the settings are still the lesson's.
changes = controls.follow_preset("lab.preset", changed_from)

with st.sidebar:
    st.header("Comparison")
    st.selectbox("Lesson (preset)", LAB_PRESETS.names(), key="lab.preset", on_change=on_load_preset,
                 format_func=lambda n: LAB_PRESETS.get(n).description, placeholder="your own settings",
                 help="choosing one replaces every setting and restarts the runs")
    st.caption(controls.own_settings_words(LAB_PRESETS.get(ss["lab.preset.from"]).description, changes)
               if changes else LAB_PRESETS.get(ss["lab.preset"]).lesson)
    st.selectbox("Runs differ in", list(VARY_FIELDS), key="lab.vary", format_func=VARY_FIELDS.get)
    st.text_input("Values, one run each (comma separated)", key="lab.values",
                  help="e.g. 1, 2, 8, 100 for the latent dimension; ns, wgan-gp for the loss")
    st.caption(f"Every setting below but {VARY_FIELDS[ss['lab.vary']]} (set by the values above) is "
               "shared by all runs: same data, same seed.")
    for group, group_controls in GROUPS.items():
        with st.expander(group, expanded=group == "Data"):
            for control in group_controls:
                controls.draw(control)
    stop_at = run_controls.stop_control("lab.", ss[controls.all_controls(GROUPS)["steps"].key])

persist.keep(CONTROL_KEYS + LAB_KEYS)
base = controls.read(GROUPS)
ss["lab.base"] = base

st.title("Latent lab")
lesson_strip("pages/2_Latent_lab.py", at={} if ss["lab.preset"] is None else {"lab": ss["lab.preset"]})
st.markdown("Several GANs train **side by side** on the same data from the same seed, differing "
            f"in one setting: **{VARY_FIELDS[ss['lab.vary']]}**. Watch how it changes the diversity "
            "of the samples.")
for problem in ss["lab.url_problems"]:
    st.warning(problem)

try:
    cfgs, labels = lab_configs(base, ss["lab.vary"], parse_values(ss["lab.vary"], ss["lab.values"]))
except GanlabError as exc:
    error_box(exc)
    st.stop()

query = {**state.config_to_query(base), VARY_PARAM: ss["lab.vary"], VALUES_PARAM: ss["lab.values"],
         **run_controls.run_params("lab.")}
if query != st.query_params.to_dict():
    st.query_params.from_dict(query)


# --- the runs: rebuilt whenever the comparison changes ---------------------------------------
def prepare(model: SideBySide) -> SideBySide:
    """What the page keeps of a new (or resumed) comparison."""
    ss["lab.sig"], ss["lab.rev"] = comparison_ident(model.cfgs, model.labels), ss.get("lab.rev", 0) + 1
    ss["lab.real"], ss["lab.box"] = probe.real_points(model, 1000), probe.view_box(model)
    return model


def build() -> SideBySide:
    return prepare(side_by_side(cfgs, labels))


def capture(model: SideBySide) -> list[np.ndarray]:
    """A frame: each run's G on its fixed noise batch (what the scatters show)."""
    return [x.numpy() for x in model.fixed_samples()]


try:
    # A reload (this browser's ?me= token) resumes the same comparison where it was autosaved.
    slot = side_by_side_autosave("lab", cfgs, labels)
    runner: Runner = session_runner("lab.runner", build, autosave=slot, on_restore=prepare, capture=capture,
                                    capture_every=10, max_frames=120, chunk_seconds=REDRAW_SECONDS)
    if ss.pop("lab.restart", False) or ss["lab.sig"] != comparison_ident(cfgs, labels):
        runner.reset(build())
except GanlabError as exc:
    error_box(exc)
    st.stop()
runner.set_stop_at(stop_at)

with runner.hold() as model:
    batched, k = model.batched, model.k
if not projector.is_on():  # a projector keeps its lines for the views
    st.caption(f"{k} runs, trained as one batched computation" if batched else
               f"{k} runs, trained one after the other (their shapes differ, so they cannot share a batch)")


# --- controls ----------------------------------------------------------------------------------
def reset_runs() -> None:
    runner.pause()
    ss["lab.restart"] = True


run_controls.resume_notice(runner, reset_runs, "lab.start_over")

cols = st.columns([1, 1, 1, 1, 1, 3])
run_controls.play_pause(cols[0], runner, "lab.", type="primary", width="stretch")
cols[1].button("Step D", on_click=runner.step_clicked, args=(True, False), width="stretch", key="lab.step_d")
cols[2].button("Step G", on_click=runner.step_clicked, args=(False, True), width="stretch", key="lab.step_g")
cols[3].button("Step D+G", on_click=runner.step_clicked, args=(True, True), width="stretch", key="lab.step")
cols[4].button("Reset", on_click=reset_runs, width="stretch", key="lab.reset")
persist.restore_or({"lab.speed": 10})  # kept across visits to other pages, like the settings
speed = cols[5].select_slider("Speed: training steps per redraw", SPEEDS, key="lab.speed")
persist.keep(["lab.speed"])
if speed == "max":
    runner.set_speed(50, 0.0)
else:
    runner.set_speed(int(speed), REDRAW_SECONDS)
ss["lab.shown_playing"] = runner.playing


# --- the live part ---------------------------------------------------------------------------------
def verdict(diagnosis: Any, diverged: str | None, name: str) -> None:
    if diverged:
        st.error(f"**{name}** stopped: {diverged}")
    elif diagnosis.collapsed:
        st.warning(f"**{name}**: {diagnosis.summary}")
    elif diagnosis.status == "ok":
        st.success(f"**{name}**: {diagnosis.summary}")
    else:
        st.info(f"**{name}**: {diagnosis.summary}")


def charts_due(runs: Sequence[Config]) -> str:
    """What the charts' place says before the first logged row: when the losses come
    and, if metrics are on, when the metrics do."""
    logged = min(c.log_every for c in runs)
    every = [c.eval_every for c in runs if c.eval_every]
    metrics = f", the metrics at step {min(every)}" if every else ""
    return f"The charts of every run start at step {logged} with the losses{metrics}."


@st.fragment(run_every=REDRAW_SECONDS if runner.playing else None)
def live_view() -> None:
    # The slider is drawn under the views (a projector shows the views above the fold);
    # its value is read first.
    scrub = ss.get("lab.scrub", 100)
    real, box = ss["lab.real"], ss["lab.box"]
    past = nearest_frame(runner.frames() if scrub < 100 else [], scrub)
    with runner.hold() as m:
        step, fakes = past or (m.step_count, capture(m))
        histories = [list(h) for h in m.histories]
        verdicts, diverged, last = m.diagnoses(), list(m.diverged), [dict(x) for x in m.last]
        reference = m.reference()
    per_row = min(len(labels), 4)
    if box.shape[0] == 2:  # the tiles have no legend of their own
        st.caption("Black: real data · orange: fake samples, each run's G on the same fixed batch of noise.")
    for start in range(0, len(labels), per_row):
        columns = st.columns(per_row)
        for i in range(start, min(start + per_row, len(labels))):
            with columns[i - start]:
                st.markdown(f"<span style='color:{views.run_colour(i)}'>■</span> **{labels[i]}**",
                            unsafe_allow_html=True)
                revision = f"lab-{ss['lab.rev']}-{i}"
                if box.shape[0] == 2:
                    fig = views.view_2d(box, real, fakes[i], title=f"step {step}", uirevision=revision,
                                        legend=False)
                else:
                    fig = views.view_3d(box, real, fakes[i], uirevision=revision)
                live_plot(fig, key=f"lab.view.{i}", height=300 if projector.is_on() else 340,
                          meta={"step": step, "run": i})
                verdict(verdicts[i], diverged[i], labels[i])
    st.slider("History: drag back through the runs", 0, 100, 100, format="%d%%", key="lab.scrub",
              help="100% = live")
    losses = loss_words(None, 0) if step == 0 else " · ".join(
        f"{n}: " + loss_words(x if past is None else losses_at(h, step), step, "D ", "G ", 3, " ")
        for n, x, h in zip(labels, last, histories))
    when = f"step {step}{'' if past is None else ' (history)'}"
    st.caption(f"{when} · {runner.steps_per_second:.0f} steps/s · {losses}")
    if runner.error:
        error_box(runner.error)
    run_controls.stop_notice(runner)
    if views.comparison_panels(histories):
        charts = views.comparison_charts(histories, labels, reference, None if past is None else step)
        live_plot(charts, key="lab.charts", height=charts["layout"]["height"])
    else:
        st.caption(charts_due(cfgs))
    st.markdown("**Covariance eigenvalues of the samples** (ascending) against the data's: a latent "
                "space with fewer dimensions than the data leaves some near zero.")
    st.dataframe(views.eigenvalue_rows(histories, labels, reference), hide_index=True)
    if runner.playing != ss["lab.shown_playing"]:
        st.rerun()  # the runs paused themselves: refresh the buttons


live_view()


# --- exports: the comparison as PNG / GIF / CSV ------------------------------------------------------
# Made when clicked, in a server thread outside this script run: no st.session_state
# in there, so what they need is bound here.
view = (ss["lab.box"], ss["lab.real"])
slide_title = f"{base.data} · runs differ in {VARY_FIELDS[ss['lab.vary']]}"
width, height = exports.comparison_slide_size(len(labels))
with st.expander("Export the comparison"):
    ex = st.columns(3)
    ex[0].download_button("PNG of the runs",
                          partial(exports.comparison_png, runner, capture, *view, labels, title=slide_title),
                          "latent-lab.png", "image/png", key="lab.png",
                          help=f"A slide of {width} x {height} pixels: every run's samples now, each named.")
    ex[1].download_button("GIF of the runs", partial(exports.comparison_gif, runner, *view, labels, title=slide_title),
                          "latent-lab.gif", "image/gif", key="lab.gif",
                          help=f"The recorded frames as slides of {width} x {height} pixels, at most 60.")
    ex[2].download_button("CSV of the metrics", partial(exports.comparison_csv, runner, labels),
                          "latent-lab.csv", "text/csv", key="lab.csv")
    if ss["lab.box"].shape[0] > 2:
        st.caption("3-D data is drawn in the PNG and the GIF from its first two axes.")
