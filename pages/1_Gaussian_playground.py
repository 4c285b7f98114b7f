"""Gaussian playground: train a small GAN on 2-D / 3-D points and watch it learn, live.

Widgets -> a Config (also in the URL) -> a Trainer advanced by this session's
background runner -> views drawn from the engine's probes (`ganlab.probe`).
"""
from __future__ import annotations

import time
from functools import partial

import streamlit as st

from ganlab import probe
from ganlab.config import Config
from ganlab.errors import GanlabError
from ganlab.presets import PRESETS, resolve_config
from ganlab.train import Trainer
from ganlab.data.toy import points_dataset
from ui import controls, exports, persist, projector, run_controls, state, views
from ui.autosave import trainer_autosave
from ui.history import LIVE, PointsRecorder, frame_at, loss_words, losses_at, scrub_label, scrub_options
from ui.live import apply_settings
from ui.lessons import lesson_strip
from ui.live_plot import live_plot
from ui.messages import error_box
from ui.runner import Runner, redraw_period, session_runner
from ui.userpoints import has_enough_points, points_hint, points_panel, toy_trainer
from ui.viewrange import count_outside, steady_scale, view_range_for

st.set_page_config(page_title="Gaussian playground", page_icon="🎯", layout="wide")

GROUPS = controls.toy_controls()
KEYS = [c.key for c in controls.all_controls(GROUPS).values()] + ["pg.preset"]
# The speed and view options: their first values here, kept across visits to other pages
# like the settings (Streamlit forgets a widget that a run does not draw).
VIEW_DEFAULTS = {"pg.speed": 10, "pg.view": "2-D", "pg.surface": True, "pg.manifold": False,
                 "pg.arrows": False, "pg.ema": False}
SPEEDS = (1, 2, 5, 10, 20, 50, 100, "max")
FALLBACK_REDRAW_SECONDS = 1.0
CHART_SECONDS = 1.0
PROJECTOR_VIEW_HEIGHT = 470  # what is left of a 720 px screen under the controls
PHONE_VIEW_HEIGHT = 440  # a square plot as wide as a phone, its title, colour bar and legend
ss = st.session_state


# This page's presets, one click each: plain name -> (engine preset, data set or None
# for the preset's own). The engine's names travel in the URL (?preset=collapse).
PAGE_PRESETS: dict[str, tuple[str, str | None]] = {
    "8 blobs on a ring": ("ring8", None),
    "Mode collapse": ("collapse", None),
    "25 blobs on a grid": ("grid25", None),
    "One Gaussian": ("gaussian", None),
    "Spiral": ("shapes", "spiral"),
    "Two moons": ("shapes", "moons"),
    "3-D helix": ("shapes", "helix"),
    "Draw your own": ("shapes", "points_file"),
}


def preset_named(engine_name: str, data: str | None = None) -> str | None:
    """The plain name of the page preset that is this engine preset with its own data,
    or with `data` (a link to ?preset=shapes&data=points_file is "Draw your own")."""
    return next((k for k, (p, d) in PAGE_PRESETS.items() if p == engine_name and d in (None, data)), None)


# --- settings: the URL on a session's first visit, then the widgets ------------------
url_preset = st.query_params.get(state.PRESET_PARAM)
if "pg.cfg" not in ss:
    first, problems = state.config_from_query(st.query_params.to_dict(), resolve_config("ring8"),
                                              controls.url_check(GROUPS))
    if state.POINTS_PARAM in st.query_params:
        try:
            ss["pg.points"] = state.decode_points(st.query_params[state.POINTS_PARAM])
        except GanlabError as exc:
            problems.append(str(exc))
    ss["pg.cfg"], ss["pg.base"], ss["pg.url_problems"] = first, first, problems
    ss["pg.points_rev"], ss["pg.draw_token"] = 0, 0
    ss["pg.preset"] = preset_named(url_preset or "", first.data) or next(iter(PAGE_PRESETS))
    controls.load(first, GROUPS)
else:
    persist.restore(KEYS)
    # A link with ?preset= (the guided path's "next") opened on a page this session
    # has seen: it loads that preset, as a click would. The page's own URL never
    # carries the parameter (it is rewritten from the settings below).
    if url_preset and preset_named(url_preset):
        ss["pg.preset"] = preset_named(url_preset)
        ss["pg.load_now"] = True


def preset_config(name: str) -> Config:
    """Every setting of the page preset called `name`."""
    engine_name, data = PAGE_PRESETS[name]
    return resolve_config(data=data, preset=engine_name)


def load_preset() -> None:
    """One click on a preset: every setting from it, and a fresh run at step 0."""
    ss["pg.base"] = preset_config(ss["pg.preset"])
    controls.load(ss["pg.base"], GROUPS)
    ss["pg.view"] = "3-D" if ss["pg.base"].data in ("helix", "cube8", "gaussian3d") else "2-D"
    ss["pg.restart"] = True


if ss.pop("pg.load_now", False):
    load_preset()
persist.restore_or(VIEW_DEFAULTS)

# The radio marks a preset only while every setting is still the preset's: a data set or a
# learning rate chosen by hand makes them the user's own (a click on a preset loads it again).
changes = controls.follow_preset(
    "pg.preset", lambda name: controls.changed(GROUPS, controls.read(GROUPS, ss["pg.base"]), preset_config(name)))

with st.sidebar:
    st.header("Settings")
    st.radio("Preset", list(PAGE_PRESETS), key="pg.preset", on_change=load_preset,
             help="one click loads every setting of the preset and starts over")
    st.caption(controls.own_settings_words(ss["pg.preset.from"], changes) if changes
               else PRESETS.help(PAGE_PRESETS[ss["pg.preset"]][0]))
    for group, group_controls in GROUPS.items():
        with st.expander(group, expanded=group in ("Data", "Loss and regularisation")):
            for control in group_controls:
                controls.draw(control)
    stop_at = run_controls.stop_control("pg.", ss["pg.base"].steps)
    st.caption("The URL holds every setting and the seed: copy it to share this experiment. Its "
               "`me=` part is this browser's own (a reload resumes your run): leave it out of a shared link.")

persist.keep(KEYS)
cfg = controls.read(GROUPS, ss["pg.base"])  # settings without a widget: the last preset / URL
ss["pg.cfg"] = cfg

st.title("Gaussian playground")
lesson_strip("pages/1_Gaussian_playground.py",
             at={} if ss["pg.preset"] is None else {"preset": PAGE_PRESETS[ss["pg.preset"]][0]})
for problem in ss.pop("pg.url_problems", []):  # said once, on arrival
    st.warning(problem)

# --- your own points ---------------------------------------------------------------
hint = st.empty()  # above the canvas: what to do while there are too few points
if cfg.data == "points_file":
    points_panel("pg.", cfg.seed)
points = ss.get("pg.points") if cfg.data == "points_file" else None

url_points = state.encode_points(points) if points is not None else None
query = {**state.config_to_query(cfg), **run_controls.run_params("pg.")}
if url_points is not None:
    query[state.POINTS_PARAM] = url_points
if query != st.query_params.to_dict():
    st.query_params.from_dict(query)

if cfg.data == "points_file" and not has_enough_points(points):
    # "Draw your own" starts here: an empty canvas and what to do, no run (and no
    # error) until there are points; a run of another data set waits, paused.
    if isinstance(waiting := ss.get("pg.runner"), Runner):
        waiting.pause()
    hint.info(points_hint(points, ss.get("pg.source", "draw")), icon=":material/draw:")
    st.stop()


# --- the run: built once (or resumed from this browser's autosave), then rebuilt or updated
# live as the settings change --------
def prepare(trainer: Trainer) -> Trainer:
    ss["pg.built_rev"] = ss["pg.points_rev"]
    ss["pg.real"] = probe.real_points(trainer, 1000)
    ss["pg.data_box"] = probe.view_box(trainer)
    ss.pop("pg.range", None)  # a new run's view starts on the data's box
    return trainer


def build() -> Trainer:
    return prepare(toy_trainer(cfg, points))


# Points resume only when they travel in the URL (a reload has them back).
resumable = cfg.data != "points_file" or url_points is not None
try:
    slot = trainer_autosave("playground", cfg, data_key=url_points or "",
                            dataset=(lambda: points_dataset(points)) if points is not None else None) \
        if resumable else None
    runner: Runner[Trainer] = session_runner("pg.runner", build, autosave=slot, on_restore=prepare,
                                             capture=PointsRecorder(), capture_every=25, max_frames=240)
except GanlabError as exc:
    error_box(exc)
    st.stop()
runner.set_stop_at(stop_at)

restart = ss.pop("pg.restart", False) or ss["pg.built_rev"] != ss["pg.points_rev"]
applied = apply_settings(runner, cfg, build, reset=True, restart=restart, ignore=("data_path",))
if applied.error:
    error_box(applied.error)


# --- controls ----------------------------------------------------------------------------
def redraw() -> None:
    """After this callback the whole page reruns, so that the view shows its effect."""
    ss["pg.redraw"] = True


def back_to_live() -> None:
    """Step and Play move the run on: the view returns from the history to the live run."""
    ss["pg.scrub"] = LIVE


def scrubbed() -> None:
    """A recorded step was picked: the run pauses there (Play or a step returns to
    live), and the slider moves to a step still recorded (the recording thins out
    while the run plays, so a step offered a moment ago may be gone)."""
    if ss["pg.scrub"] != LIVE:
        runner.pause()
        past = frame_at(runner.frames(), ss["pg.scrub"])
        ss["pg.scrub"] = LIVE if past is None else past[0]
    redraw()


def single_step(d: bool, g: bool) -> None:
    redraw()
    back_to_live()
    runner.step_clicked(d, g)  # an error stays in runner.error, shown below


def play() -> None:
    back_to_live()
    runner.play()


def reset_run() -> None:
    runner.pause()
    ss["pg.restart"] = True


run_controls.resume_notice(runner, reset_run, "pg.start_over")
ss["pg.shown_playing"] = runner.playing


# Single steps, speed and view options are a fragment of their own, apart from the live
# view, so that the view's frames (many a second) do not re-send them, and a click reruns
# these widgets, not the page with its sidebar. A change that must show at once (a single
# step, another view option) then reruns the page.
@st.fragment
def controls_bar() -> None:
    if ss.get("pg.restart"):
        st.rerun(scope="app")  # Reset was clicked: the page rebuilds the run
    # In projector mode the view options and the history fold into a button on this row,
    # so that the view starts high and its x-axis shows on a 1280 x 720 screen.
    compact = projector.is_on()
    cols = st.columns([1, 1, 1, 1, 1.9, 2.4] if compact else [1, 1, 1, 1, 4])
    cols[0].button("Step D", on_click=single_step, args=(True, False), key="pg.step_d",
                   width="stretch", help="one update of the discriminator only")
    cols[1].button("Step G", on_click=single_step, args=(False, True), key="pg.step_g",
                   width="stretch", help="one update of the generator only")
    cols[2].button("Step D+G", on_click=single_step, args=(True, True), key="pg.step_dg",
                   width="stretch", help="one iteration: d_steps D updates, then g_steps G updates")
    cols[3].button("Reset", on_click=reset_run, key="pg.reset", width="stretch",
                   help="start over at step 0")
    cols[-1].select_slider("Speed: training steps per redraw", SPEEDS, key="pg.speed")
    holder = cols[4].popover("View and history", width="stretch") if compact else st.container()
    # A row of short labels (none cut at 1280 px), or a list in the popover.
    opts = [holder] * 5 if compact else holder.columns([1.4, 1, 1, 1, 1])
    opts[0].radio("View", ["2-D", "3-D"], horizontal=True, key="pg.view", on_change=redraw)
    opts[1].checkbox("D heat map", key="pg.surface", on_change=redraw)
    opts[2].checkbox("G manifold", key="pg.manifold", on_change=redraw,
                     help="G applied to a grid of latent points")
    opts[3].checkbox("G's push", key="pg.arrows", on_change=redraw,
                     help="arrows: where G's loss pushes each fake point (its gradient)")
    opts[4].checkbox("EMA of G", key="pg.ema", disabled=cfg.ema == 0, on_change=redraw,
                     help="show the averaged generator (used by the metrics) instead of G itself")
    options = scrub_options(runner.frames())
    if ss.get("pg.scrub") not in options:  # a new run, or a step no longer recorded: live
        ss["pg.scrub"] = LIVE
    holder.select_slider("History: training step", options, format_func=scrub_label, key="pg.scrub",
                         on_change=scrubbed,
                         help="drag back to a recorded step (the run pauses there); Play or a step returns to live")
    persist.keep(VIEW_DEFAULTS)  # here: a change of speed reruns only this fragment
    if ss.pop("pg.redraw", False):
        st.rerun(scope="app")


def charts_figure(run: Trainer, history: list[dict[str, float]], marker: int | None) -> dict:
    """The loss and metric charts, rebuilt at most every CHART_SECONDS while playing:
    the history gains a row every few frames and the browser need not redraw three
    charts for each."""
    now = time.monotonic()
    key = (id(run), len(history), marker)  # a reset or new run is another trainer
    cached = ss.get("pg.charts_cache")
    if cached and (cached[0] == key or runner.playing and now - cached[1] < CHART_SECONDS):
        return cached[2]
    fig = views.charts(history, marker, metrics_from=cfg.eval_every or None, stop_at=runner.stop_at,
                       modes=run.info.modes is not None)
    ss["pg.charts_cache"] = (key, now, fig)
    return fig


# --- the live view, redrawn while playing ---------------------------------------------
# The 2-D / 3-D view asks for its next frame when one arrives (live_plot's pace), at most
# every redraw_period() (0.1 s; longer while many sessions train); run_every only
# restarts that loop if a request got lost.
@st.fragment(run_every=FALLBACK_REDRAW_SECONDS if runner.playing else None)
def live_view() -> None:
    top = st.columns([1, 7], vertical_alignment="center")
    # Play / Pause is part of the live view: a click on Pause reruns this fragment (its
    # callback first), so the frame drawn by that same rerun is the last one.
    run_controls.play_pause(top[0], runner, "pg.", play=play, type="primary", width="stretch")
    period = redraw_period()
    speed = ss["pg.speed"]
    if speed == "max":
        runner.set_speed(50, 0.0)
    else:
        runner.set_speed(int(speed), period)
    view, scrub = ss["pg.view"], ss.get("pg.scrub", LIVE)
    show_surface, show_manifold, show_arrows = ss["pg.surface"], ss["pg.manifold"], ss["pg.arrows"]
    real = ss["pg.real"]
    ema = ss["pg.ema"] and cfg.ema > 0
    # The axes: the data's box, grown (with hysteresis, up to a limit) while the points leave it.
    view_range = ss["pg.range"] = view_range_for(ss.get("pg.range"), ss["pg.data_box"])
    with runner.hold() as trainer:
        kind = probe.surface_kind(trainer.cfg.loss)
        past = frame_at(runner.frames(), scrub) if scrub != LIVE else None
        live = past is None
        if live:  # D's surface over the whole view, however far it grew
            fake = probe.fake_points(trainer, ema=ema)
            frame = probe.frame(trainer, ema=ema, box=view_range.follow(fake), fake=fake)
        else:  # on the axes it was recorded on: its D surface covers them
            frame = past[1]
        extras = {
            "manifold": probe.manifold(trainer, ema=ema) if show_manifold and live else None,
            "arrows": probe.g_gradients(trainer, frame.fake) if show_arrows and live else None,
        }
        if view == "3-D" and frame.box.shape[0] == 2:
            extras["real_z"] = probe.d_scores(trainer, real)
            extras["fake_z"] = probe.d_scores(trainer, frame.fake)
        history = list(trainer.history)
        last = dict(trainer.last)
        run = trainer
    surface = frame.surface if show_surface else None
    revision = f"{cfg.data}-{ss['pg.built_rev']}"
    srange = probe.surface_range(frame.surface, kind) if frame.surface is not None else (0.0, 1.0)
    if kind == "score":  # (a probability's scale is fixed at [0, 1])
        kept = ss.get("pg.scale")  # (revision, range): a score scale that does not jump every frame
        srange = steady_scale(kept[1] if kept and kept[0] == revision else None, srange)
        ss["pg.scale"] = (revision, srange)
    label, words = views.surface_words(kind)
    box = view_range.box() if live else frame.box
    if view == "2-D":
        fig = views.view_2d(frame.box, real, frame.fake, surface=surface, surface_range=srange,
                            surface_label=label, manifold=extras["manifold"], arrows=extras["arrows"],
                            title=f"step {frame.step}", uirevision=revision, colorbar_title=words,
                            view_range=box, phone_height=PHONE_VIEW_HEIGHT)
    else:
        fig = views.view_3d(frame.box, real, frame.fake, surface=frame.surface if box.shape[0] == 2 else surface,
                            surface_range=srange, surface_label=label, real_z=extras.get("real_z"),
                            fake_z=extras.get("fake_z"), uirevision=revision, view_range=box,
                            manifold=extras["manifold"], arrows=extras["arrows"])
    ss["pg.frame_no"] = ss.get("pg.frame_no", 0) + 1
    if view == "3-D":
        missing = views.missing_in_3d(frame.box.shape[0], surface=show_surface, manifold=show_manifold,
                                      arrows=show_arrows)
        if missing:
            top[1].caption(f"The 3-D view does not draw {missing}; switch to 2-D to see it.")
    live_plot(fig, key=f"pg.view.{view}", height=PROJECTOR_VIEW_HEIGHT if projector.is_on() else 560,
              meta={"step": frame.step, "view": view, "frame": ss["pg.frame_no"]},
              pace=period if runner.playing else None)
    outside = count_outside(box, frame.fake)
    top[1].caption(f"step {frame.step}{'' if live else ' (history)'} · "
                   f"{runner.steps_per_second:.0f} steps/s · "
                   + loss_words(last if live else losses_at(history, frame.step), frame.step)
                   + (f" · {outside} fake points beyond the view (it grows to {view_range.limit:g}x the "
                      "data's box at most)" if outside else ""))
    if runner.error:
        error_box(runner.error)
    run_controls.stop_notice(runner)
    live_plot(charts_figure(run, history, None if live else frame.step), key="pg.charts", height=320)
    if runner.playing != ss["pg.shown_playing"]:
        st.rerun(scope="app")  # playing changed (Pause, or the run diverged): refresh the page


controls_bar()
live_view()


# --- exports: made when clicked (Streamlit calls these in another thread) ----------------
real_points = ss["pg.real"]
slide = {"title": exports.slide_title(cfg.data, cfg.loss), "show_surface": ss["pg.surface"]}
with st.expander("Export"):
    ex = st.columns(4)
    ex[0].download_button("PNG of the view", partial(exports.png_now, runner, real_points, ss.get("pg.range"),
                                                     ema=ss["pg.ema"] and cfg.ema > 0, **slide),
                          "ganlab-view.png", "image/png", key="pg.png",
                          help="a 1600 x 1000 slide: title, axes, legend and D's colour bar")
    ex[1].download_button("GIF of the run", partial(exports.gif_recorded, runner, real_points, **slide),
                          "ganlab-run.gif", "image/gif", key="pg.gif",
                          help="the recorded steps as 1600 x 1000 slides; the axes zoom out only when the "
                               "points wandered further")
    ex[2].download_button("CSV of the metrics", partial(exports.csv_now, runner),
                          "ganlab-history.csv", "text/csv", key="pg.csv")
    ex[3].download_button("Checkpoint (zip)", partial(exports.checkpoint_now, runner, points),
                          "ganlab-run.zip", "application/zip", key="pg.ckpt")
