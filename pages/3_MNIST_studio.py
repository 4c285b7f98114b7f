"""MNIST studio: the classic image GANs (MLP GAN, cGAN, DCGAN, conditional DCGAN) and
autoencoders, trained live.

Widgets (`ui.controls`) -> a Config (`ui.studio.settings_config`) -> a trainer
(`ganlab.train.build_trainer`) advanced by this session's background runner -> the progress
grid from a fixed noise batch (originals above reconstructions for the autoencoders ae,
conv_ae and aae; with a timeline), losses and classifier metrics, class views for
conditional models, runs on disk, "Open in explorer" and exports. Grids and class views
are made by `ganlab.progress`.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

from ganlab import runs
from ganlab.runs import load_run
from ganlab.errors import GanlabError
from ganlab.imageio import EXPORT_SIDES
from ganlab.metrics.images import histogram_samples, predicted_classes
from ganlab.train import Trainer, build_trainer
from ui import controls, exports, persist, projector, run_controls
from ui.autosave import saved_config, trainer_autosave
from ui.explorer import request_open
from ui.history import loss_words, nearest_frame
from ui.live import apply_settings
from ui.messages import error_box
from ui.runner import Runner, session_runner
from ui.lessons import lesson_strip
from ui.studio import (DEVICES, GRID_SIZE, IMAGE_DATA, IMAGE_MODELS, check_data_path, class_views,
                       device_summary, image_folder_inputs, live_grid, needs_pictures, pending_message,
                       runs_panel, settings_config, studio_config, to_image, training_charts)

st.set_page_config(page_title="MNIST studio", page_icon="🖼️", layout="wide")

REDRAW_SECONDS = 2.0
DATA_LABELS = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST clothes",
               "image_folder": "your own pictures (upload or folder)"}
MODEL_LABELS = {"mlp": "MLP GAN (Goodfellow 2014)", "cgan": "conditional MLP GAN (cGAN)",
                "dcgan": "DCGAN", "cdcgan": "conditional DCGAN", "ae": "autoencoder (784 -> 32 -> 784)",
                "conv_ae": "convolutional autoencoder", "aae": "adversarial autoencoder (AAE)"}
DEVICE_LABELS = {"auto": "auto (GPU if there is one)", "cpu": "CPU", "cuda": "GPU (CUDA)"}
ctl = partial(controls.control, prefix="studio.", help="")
GROUPS = {
    "Data": [ctl("data", options=IMAGE_DATA, labels=DATA_LABELS.get), ctl("data_path", hidden=True)],
    "Model": [ctl("model", options=IMAGE_MODELS, labels=MODEL_LABELS.get)],
    "Loss and stabilisers": [ctl("loss"), ctl("label_smoothing"), ctl("d_dropout"), ctl("gp_weight"), ctl("ema")],
    "Optimisation": [ctl("d_lr"), ctl("g_lr"), ctl("d_beta1"), ctl("g_beta1"), ctl("batch_size", hi=1024, step=16)],
    "Run": [ctl("device", options=DEVICES, labels=DEVICE_LABELS.get), ctl("seed"),
            ctl("eval_every", step=100, help="classifier Frechet distance, score and class histogram; computed "
                                           "between two steps, so training pauses for it (about 1 s on a CPU)"),
            ctl("eval_samples", hi=10_000, step=100)],
}
KEYS = [ctrl.key for ctrl in controls.all_controls(GROUPS).values()]
ss = st.session_state


def key(name: str) -> str:
    return f"studio.{name}"


PAGE = "studio"  # its autosave slot
if not persist.restore(KEYS):  # the session's first visit: this browser's last run's settings, if any
    saved = saved_config(PAGE)
    controls.load(saved or studio_config("mnist", "mlp"), GROUPS)
    if saved is not None:
        ss[key("base")] = saved

with st.sidebar:
    for group, group_controls in GROUPS.items():
        st.header(group)
        for ctrl in group_controls:
            controls.draw(ctrl)
            if ctrl.field == "data" and ss[ctrl.key] == "image_folder":
                image_folder_inputs("studio.")
            if ctrl.field == "device":
                st.caption(device_summary())
    run_length = (ss.get(key("base")) or studio_config("mnist", "mlp")).steps
    stop_at = run_controls.stop_control("studio.", run_length)
persist.keep(KEYS)
# The URL holds the browser token (a reload resumes this browser's run) and the step count to stop at.
if (query := run_controls.run_params("studio.")) != st.query_params.to_dict():
    st.query_params.from_dict(query)

st.title("MNIST studio")
lesson_strip("pages/3_MNIST_studio.py")
st.markdown("The classic image GANs, **live**: pick a data set and a model, press **Start new run**, and watch "
            "the generator's samples from a fixed batch of noise sharpen into digits.")

try:
    cfg = settings_config({ctrl.field: ss[ctrl.key] for ctrl in controls.all_controls(GROUPS).values()},
                          ss.get(key("base")))
    cfg.validate()
    check_data_path(cfg, "studio.")  # this session's uploads, or a folder the server allows
except GanlabError as exc:
    error_box(exc)
    st.stop()


# --- the run: built on the first visit and by Start; live settings apply in place ------------
def capture(trainer: Trainer) -> Any:
    return live_grid(trainer, GRID_SIZE)


def new_run(trainer: Trainer) -> Trainer:
    ss[key("rev")] = ss.get(key("rev"), 0) + 1
    return trainer


def new_trainer() -> Trainer:
    return new_run(build_trainer(cfg))  # a failed build leaves the run, and its revision, as they were


def first_trainer() -> Trainer:
    """The session's first run. Your own pictures chosen before the page first ran (a quick
    click on a slow server) but none uploaded yet: an MNIST run is shown meanwhile, as it is
    after a choice made later, instead of an error that stops the page."""
    return new_run(build_trainer(studio_config("mnist", cfg.model) if needs_pictures(cfg) else cfg))


try:
    runner: Runner[Trainer] = session_runner(key("runner"), first_trainer,
                                             autosave=trainer_autosave(PAGE, cfg), on_restore=new_run,
                                             capture=capture, capture_every=20,
                                             max_frames=120, steps_per_chunk=5, chunk_seconds=0.0)
except GanlabError as exc:
    error_box(exc)
    st.stop()
runner.set_stop_at(stop_at)


def start() -> None:
    """A fresh run with the settings shown, playing at once."""
    try:
        runner.reset(new_trainer())
    except GanlabError as exc:
        ss[key("error")] = str(exc)
        return
    ss.pop(key("error"), None)
    runner.play()


def start_over() -> None:
    """A fresh run with the settings shown, paused at step 0."""
    try:
        runner.reset(new_trainer())
    except GanlabError as exc:
        ss[key("error")] = str(exc)


def save_once() -> Path:
    """Pause and save the run shown under the runs folder, once per step of this run: "Stop
    and save" clicked twice (or a click Streamlit delivers twice) and "Open in explorer"
    then share one folder. GanlabError when it cannot be written."""
    runner.pause()
    with runner.hold() as trainer:
        at = (ss.get(key("rev")), trainer.step_count)
        saved = ss.get(key("saved"))
        if saved and saved[0] == at and Path(saved[1]).is_dir():
            return Path(saved[1])
        path = runs.save_to_runs(trainer)
    ss[key("saved")] = (at, str(path))
    return path


def stop() -> None:
    """Pause and keep the run on disk (open it again from the runs list)."""
    try:
        ss[key("notice")] = f"Run stopped and saved to {save_once()}"
    except GanlabError as exc:
        ss[key("error")] = str(exc)
        return
    runner.resumed = None  # "Resumed at step N ... press Resume" beside "saved to": say only the news


applied = apply_settings(runner, cfg, new_trainer, reset=False)
with runner.hold() as trainer:
    running, device = trainer.cfg, trainer.device
    note, num_classes, class_names = trainer.info.note, trainer.num_classes, trainer.info.class_names
for message in (applied.error, ss.pop(key("error"), None)):
    if message:
        error_box(message)
if notice := ss.pop(key("notice"), None):
    st.success(notice)
if note and not projector.is_on():  # the operator's business (which split, where): small type, off the projector
    st.caption(note)
no_pictures = needs_pictures(cfg)
if no_pictures:  # Start could only fail: say what it waits for (an unreadable upload says why beside it)
    st.info("To train on your own pictures, upload a .zip of pictures or some PNG/JPG files in the sidebar, "
            "then press **Start new run**.")
elif pending := applied.pending:
    shown = [ctrl.field for ctrl in controls.all_controls(GROUPS).values() if ctrl.kind != "hidden"]
    st.warning(pending_message(pending, shown))
st.caption(f"Run: {DATA_LABELS.get(running.data, running.data)} · {MODEL_LABELS.get(running.model, running.model)} · "
           f"loss {running.loss} · batch {running.batch_size} · device {device} · seed {running.seed}")
run_controls.resume_notice(runner, start_over, key("start_over"), play="Resume")
# What this full run of the page shows; the live fragment reruns the page when either changes.
ss[key("shown")] = (runner.playing, ss.get(key("rev")))

# --- transport: outside the live fragment. A click on a button inside a fragment reruns only the
# fragment, so the header, notices, class views and runs listing above and below kept describing
# the run before "Start new run" (or missed a save) until the next full rerun.
cols = st.columns(3)
cols[0].button("Start new run", key=key("start"), on_click=start, type="primary", width="stretch",
               icon=":material/play_arrow:", disabled=no_pictures,
               help="upload your pictures first" if no_pictures else "a fresh run with the settings in the sidebar")
run_controls.play_pause(cols[1], runner, key(""), play_label="Resume", play_icon=":material/resume:",
                        width="stretch")
cols[2].button("Stop and save", key=key("stop"), on_click=stop, width="stretch",
               icon=":material/stop:", help=f"pause and save the run under {runs.runs_root()}")


# --- the live part: grid with timeline, charts ------------------------------------------------
@st.fragment(run_every=REDRAW_SECONDS if runner.playing else None)
def live_view() -> None:
    scrub = st.slider("Timeline: drag back to an earlier grid (100% = live)", 0, 100, 100,
                      format="%d%%", key=key("scrub"))
    past = nearest_frame(runner.frames() if scrub < 100 else [], scrub)  # no copy of the grids when live
    with runner.hold() as trainer:
        step, grid = past or (trainer.step_count, capture(trainer))
        rows, last, live_step = list(trainer.history), dict(trainer.last), trainer.step_count
        hist_key = (ss.get(key("rev")), live_step // max(trainer.cfg.eval_every or 200, 50))
        samples = histogram_samples(trainer) if ss.get(key("hist_key")) != hist_key else None
        data_name = trainer.info.name
    # The grid fills its column, whatever the screen: a fixed width ran over the charts beside it
    # at 1280 px. The column pair stacks on a phone.
    left, right = st.columns(2, gap="medium")
    left.image(to_image(grid, scale=2), caption=f"step {step}{'' if past is None else ' (timeline)'}",
               width="stretch", output_format="PNG")
    left.caption(f"step {live_step} · {runner.steps_per_second:.1f} steps/s · {loss_words(last, live_step, digits=3)}"
                 + (" · training" if runner.playing else " · paused"))
    if runner.error:
        error_box(runner.error, left)
    with left:
        run_controls.stop_notice(runner, play="Resume")
    if samples is not None:
        ss[key("hist")], ss[key("hist_key")] = predicted_classes(data_name, samples), hist_key
    fresh = ss.get(key("hist_key"), (None,))[0] == ss.get(key("rev"))  # not a previous run's
    training_charts(rows, class_names, ss.get(key("hist")) if fresh else None, right, st.container())
    if (runner.playing, ss.get(key("rev"))) != ss[key("shown")]:
        st.rerun()  # the run paused itself (an error) or is another run: refresh the whole page


live_view()



def open_in_explorer() -> None:
    """Save the run shown (once per step of this run) and open it in the latent explorer."""
    try:
        path = save_once()
    except GanlabError as exc:
        error_box(exc)
        return
    request_open(path)
    st.switch_page("pages/4_Latent_explorer.py")


if st.button("Open in explorer", key=key("explore"), icon=":material/explore:",
             help=f"save this run under {runs.runs_root()} and walk its latent space in the latent explorer"):
    open_in_explorer()

# --- conditional models: one class, all classes, interpolation ---------------------------------
if num_classes:
    with st.expander("Class views (conditional model)", expanded=True):
        class_views(runner, num_classes, class_names, "studio.")


# --- runs on disk: list, open / continue, compare --------------------------------------------
def open_run(path: str) -> None:
    """Load a run folder into this session's runner (paused); its settings fill the sidebar."""
    runner.pause()
    try:
        check_data_path(runs.read_config(path), "studio.")  # the run's data must be readable here too
        trainer = load_run(path)
    except GanlabError as exc:
        ss[key("error")] = str(exc)
        return
    runner.reset(trainer)
    ss[key("rev")] = ss.get(key("rev"), 0) + 1
    controls.load(trainer.cfg, GROUPS)
    ss[key("base")] = trainer.cfg
    ss[key("notice")] = f"Opened {path} at step {trainer.step_count}: press Resume to continue it"


@st.cache_data(max_entries=32, show_spinner=False)
def run_grid(path: str, mtime: float) -> Any:
    """A saved run's progress grid (mtime: a re-saved run is drawn again)."""
    return to_image(capture(load_run(path, device="cpu", with_data=False)))


with st.expander("Runs on disk"):
    runs_panel(runs.runs_root(), open_run, run_grid, "studio.")

# --- exports: made when clicked, in a server thread (what they need is bound here) ---------------
with st.expander("Export"):
    ex = st.columns(4)
    side = ex[0].selectbox("PNG size (px)", EXPORT_SIDES, index=1, key=key("png_side"),
                           help="the grid's longer side; enlarged by nearest neighbour, so digits stay crisp")
    ex[0].download_button(f"PNG of the grid ({side} px)", partial(exports.grid_png_now, runner, capture, side),
                          f"studio-grid-{side}px.png", "image/png", key=key("png"))
    ex[1].download_button("GIF of the progress grids", partial(exports.grids_gif, runner),
                          "studio-progress.gif", "image/gif", key=key("gif"))
    ex[2].download_button("Checkpoint (zip)", partial(exports.checkpoint_now, runner), "studio-run.zip",
                          "application/zip", key=key("ckpt"))
    ex[3].download_button("Metric history (CSV)", partial(exports.csv_now, runner), "studio-history.csv",
                          "text/csv", key=key("csv"))
