"""MNIST studio: the classic image GANs (MLP GAN, cGAN, DCGAN, conditional DCGAN) trained live.

Widgets -> a Config (`ganlab.studio.studio_config`) -> a `Trainer` advanced by this
session's background runner -> the progress grid from a fixed noise batch (with a
timeline), losses and classifier metrics, class views for conditional models,
runs on disk and exports. Tensor work lives in `ganlab.studio`.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from ganlab import studio
from ganlab.runs import load_run
from ganlab.config import LIVE_FIELDS, Config
from ganlab.errors import GanlabError
from ganlab.imageio import gif_bytes, grid_to_png_bytes
from ganlab.losses import LOSSES
from ganlab.train import Trainer
from ui import exports
from ui.runner import Runner, session_runner
from ui.studio import UPLOAD_TYPES, new_upload_dir, save_upload, to_image

st.set_page_config(page_title="MNIST studio", page_icon="🖼️", layout="wide")

REDRAW_SECONDS = 2.0
GIF_FRAMES = 60
DATA_LABELS = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST clothes",
               "image_folder": "your own pictures (upload or folder)"}
MODEL_LABELS = {"mlp": "MLP GAN (Goodfellow 2014)", "cgan": "conditional MLP GAN (cGAN)",
                "dcgan": "DCGAN", "cdcgan": "conditional DCGAN"}
DEVICE_LABELS = {"auto": "auto (GPU if there is one)", "cpu": "CPU", "cuda": "GPU (CUDA)"}
# Widget key -> Config field; the page keeps a copy so that settings survive a visit
# to another page (Streamlit forgets the state of widgets it did not draw).
FIELDS = ("data", "data_path", "model", "loss", "label_smoothing", "d_dropout", "gp_weight",
          "d_lr", "g_lr", "d_beta1", "g_beta1", "batch_size", "ema", "device", "seed",
          "eval_every", "eval_samples")
ss = st.session_state


def key(name: str) -> str:
    return f"studio.{name}"


def load_settings(cfg: Config) -> None:
    """Put a Config's values into the widgets (before they are drawn, or in a callback)."""
    for name in FIELDS:
        ss[key(name)] = getattr(cfg, name)


def read_settings() -> Config:
    """The Config the widgets describe: the opened run's settings (same data set and model)
    or else the model's preset, then every widget's value."""
    values = {name: ss[key(name)] for name in FIELDS}
    base: Config | None = ss.get(key("base"))
    if base is not None and (base.data, base.model) == (values["data"], values["model"]):
        return base.replace(**values)
    return studio.studio_config(values.pop("data"), values.pop("model"), values)


# --- settings: restored from the page's own copy, then the widgets -------------------------
if key("kept") not in ss:
    load_settings(studio.studio_config("mnist", "mlp"))
else:
    for name, value in ss[key("kept")].items():
        ss.setdefault(key(name), value)

with st.sidebar:
    st.header("Data")
    st.selectbox("Data set", studio.IMAGE_DATA, key=key("data"), format_func=DATA_LABELS.get)
    if ss[key("data")] == "image_folder":
        uploads = st.file_uploader("Upload a .zip of pictures or PNG/JPG files", type=list(UPLOAD_TYPES),
                                   accept_multiple_files=True, key=key("upload"),
                                   help="sub-folders of a zip become classes")
        if uploads and ss.get(key("upload_names")) != [u.name for u in uploads]:
            try:
                folder = ss.get(key("upload_dir")) or new_upload_dir()
                ss[key("upload_dir")] = folder
                ss[key("data_path")] = str(save_upload(uploads, folder))
                ss[key("upload_names")] = [u.name for u in uploads]
            except GanlabError as exc:
                st.error(str(exc))
        st.text_input("... or a folder / .zip on the server", key=key("data_path"))
    st.header("Model")
    st.selectbox("Model", studio.IMAGE_MODELS, key=key("model"), format_func=MODEL_LABELS.get)
    st.header("Loss and stabilisers")
    st.selectbox("Loss", LOSSES.names(), key=key("loss"))
    st.number_input("Label smoothing (one-sided)", 0.0, 0.45, step=0.05, key=key("label_smoothing"))
    st.number_input("D dropout", 0.0, 0.9, step=0.05, key=key("d_dropout"))
    st.number_input("Gradient penalty weight (wgan-gp)", 0.0, 100.0, step=1.0, key=key("gp_weight"))
    st.number_input("EMA of G (0 = off)", 0.0, 0.9999, step=0.001, format="%g", key=key("ema"))
    st.header("Optimisation")
    st.number_input("D learning rate", 1e-6, 1.0, step=1e-4, format="%g", key=key("d_lr"))
    st.number_input("G learning rate", 1e-6, 1.0, step=1e-4, format="%g", key=key("g_lr"))
    st.number_input("Adam beta1 (D)", 0.0, 0.99, step=0.05, key=key("d_beta1"))
    st.number_input("Adam beta1 (G)", 0.0, 0.99, step=0.05, key=key("g_beta1"))
    st.number_input("Batch size", 2, 1024, step=16, key=key("batch_size"))
    st.header("Run")
    st.selectbox("Device", studio.DEVICES, key=key("device"), format_func=DEVICE_LABELS.get)
    st.caption(studio.device_summary())
    st.number_input("Seed", 0, 2**31 - 1, key=key("seed"))
    st.number_input("Metrics every (steps, 0 = never)", 0, 100_000, step=100, key=key("eval_every"),
                    help="classifier Frechet distance, score and class histogram; computed between "
                         "two steps, so training pauses for it (about 1 s on a CPU)")
    st.number_input("Samples per metric evaluation", 100, 10_000, step=100, key=key("eval_samples"))

ss[key("kept")] = {name: ss[key(name)] for name in FIELDS}

st.title("MNIST studio")
st.markdown("The classic image GANs, **live**: pick a data set and a model, press **Start**, and watch "
            "the generator's samples from a fixed batch of noise sharpen into digits.")

try:
    cfg = read_settings()
    cfg.validate()
except GanlabError as exc:
    st.error(str(exc))
    st.stop()


# --- the run: built on the first visit and by Start; live settings apply in place ------------
def capture(trainer: Trainer) -> Any:
    return studio.progress_grid(trainer)


def new_trainer() -> Trainer:
    trainer = Trainer(cfg)
    ss[key("rev")] = ss.get(key("rev"), 0) + 1
    return trainer


try:
    runner: Runner[Trainer] = session_runner(key("runner"), new_trainer, capture=capture,
                                             capture_every=20, max_frames=120,
                                             steps_per_chunk=5, chunk_seconds=0.0)
except GanlabError as exc:
    st.error(str(exc))
    st.stop()


def start() -> None:
    """A fresh run with the settings shown, playing at once."""
    try:
        runner.reset(new_trainer())
    except GanlabError as exc:
        ss[key("error")] = str(exc)
        return
    ss.pop(key("error"), None)
    runner.play()


def stop() -> None:
    """Pause and keep the run on disk (open it again from the runs list)."""
    runner.pause()
    try:
        with runner.hold() as trainer:
            path = studio.save_to_runs(trainer)
        ss[key("notice")] = f"Run stopped and saved to {path}"
    except GanlabError as exc:
        ss[key("error")] = str(exc)


with runner.hold() as trainer:
    running = trainer.cfg
    note, num_classes, class_names = trainer.info.note, trainer.num_classes, trainer.info.class_names
    device = trainer.device
    changes = cfg.diff(running)
    pending = sorted(k for k in changes if k not in LIVE_FIELDS)
    if changes and not pending:
        try:
            trainer.update(**changes)  # applies from the next step
        except GanlabError as exc:
            st.error(f"{exc} (the run goes on with the previous settings)")

if message := ss.pop(key("error"), None):
    st.error(message)
if notice := ss.pop(key("notice"), None):
    st.success(notice)
if note:
    st.info(note)
if pending:
    st.warning(f"Changed {', '.join(pending)}: press **Start** to begin a new run with "
               f"{'them' if len(pending) > 1 else 'it'} (the run shown keeps its settings).")
st.caption(f"Run: {DATA_LABELS[running.data]} · {MODEL_LABELS.get(running.model, running.model)} · "
           f"loss {running.loss} · batch {running.batch_size} · device {device} · seed {running.seed}")

ss[key("shown_playing")] = runner.playing


# --- the live part: transport, grid with timeline, charts --------------------------------------
def history_chart(rows: list[dict[str, float]], keys: tuple[str, ...]) -> dict[str, list[float]]:
    """Columns for st.line_chart: step and each key (rows without any of them skipped)."""
    picked = [r for r in rows if any(k in r for k in keys)]
    cols = {"step": [r["step"] for r in picked]}
    for k in keys:
        cols[k] = [r.get(k, math.nan) for r in picked]
    return cols


@st.fragment(run_every=REDRAW_SECONDS if runner.playing else None)
def live_view() -> None:
    cols = st.columns(3)
    cols[0].button("Start new run", key=key("start"), on_click=start, type="primary", width="stretch",
                   icon=":material/play_arrow:", help="a fresh run with the settings in the sidebar")
    # Does what its label says, never a toggle: a click delivered twice must not undo itself.
    cols[1].button("Pause" if runner.playing else "Resume", key=key("play"), width="stretch",
                   on_click=runner.pause if runner.playing else runner.play,
                   icon=":material/pause:" if runner.playing else ":material/resume:")
    cols[2].button("Stop and save", key=key("stop"), on_click=stop, width="stretch",
                   icon=":material/stop:", help=f"pause and save the run under {studio.runs_root()}")

    frames = runner.frames()
    scrub = st.slider("Timeline: drag back to an earlier grid (100% = live)", 0, 100, 100,
                      format="%d%%", key=key("scrub"))
    with runner.hold() as trainer:
        if scrub < 100 and frames:
            target = scrub / 100 * frames[-1][0]
            step, grid = min(frames, key=lambda f: abs(f[0] - target))
        else:
            step, grid = trainer.step_count, capture(trainer)
        rows = list(trainer.history)
        last, live_step = dict(trainer.last), trainer.step_count
        hist_key = (ss.get(key("rev")), live_step // max(trainer.cfg.eval_every or 200, 50))
        samples = studio.histogram_samples(trainer) if ss.get(key("hist_key")) != hist_key else None
        data_name = trainer.info.name
    left, right = st.columns([1, 1])
    with left:
        st.image(to_image(grid), caption=f"step {step}{'' if scrub == 100 else ' (timeline)'}",
                 width=420)
        st.caption(f"step {live_step} · {runner.steps_per_second:.1f} steps/s · "
                   f"D loss {last['d_loss']:.3f} · G loss {last['g_loss']:.3f}"
                   + (" · training" if runner.playing else " · paused"))
        if runner.error:
            st.error(runner.error)
    with right:
        losses = history_chart(rows, ("d_loss", "g_loss"))
        if losses["step"]:
            st.markdown("**Losses**")
            st.line_chart(losses, x="step", height=200)
        metrics = history_chart(rows, ("fd", "score"))
        if metrics["step"]:
            c = st.columns(2)
            c[0].markdown("**Classifier Frechet distance** (lower is better)")
            c[0].line_chart(metrics, x="step", y="fd", height=180)
            c[1].markdown("**Classifier score** (higher is better)")
            c[1].line_chart(metrics, x="step", y="score", height=180)
        if samples is not None:
            ss[key("hist")] = studio.predicted_classes(data_name, samples)  # off the training lock
            ss[key("hist_key")] = hist_key
        if ss.get(key("hist")) and ss.get(key("hist_key"), (None,))[0] == ss.get(key("rev")):
            names = class_names or tuple(str(i) for i in range(len(ss[key("hist")])))
            st.markdown("**Classes the classifier sees in 500 samples** (balanced = no mode collapse)")
            st.bar_chart({"class": list(names), "samples": ss[key("hist")]}, x="class", y="samples",
                         height=200)
    if runner.playing != ss[key("shown_playing")]:
        st.rerun()  # the run paused itself (an error): refresh the buttons


live_view()


# --- conditional models: one class, all classes, interpolation ---------------------------------
if num_classes:
    with st.expander("Class views (conditional model)", expanded=True):
        labels = list(range(num_classes))
        c = st.columns(4)
        label = c[0].selectbox("Class", labels, key=key("class"),
                               format_func=lambda i: class_names[i] if i < len(class_names) else str(i))
        seed_a = c[1].number_input("Latent A (seed)", 0, 10**6, 1, key=key("seed_a"))
        seed_b = c[2].number_input("Latent B (seed)", 0, 10**6, 2, key=key("seed_b"))
        c[3].button("Refresh", key=key("refresh_classes"), help="redraw with the run as it is now")
        try:
            with runner.hold() as trainer:
                row = studio.class_row(trainer, label)
                full = studio.classes_grid(trainer)
                path = studio.interpolation(trainer, label, seed_a, seed_b)
        except GanlabError as exc:
            st.error(str(exc))
        else:
            st.image(to_image(row), caption=f"10 samples of class {label}", width=560)
            st.image(to_image(path), caption=f"class {label}: latent A -> latent B", width=560)
            st.image(to_image(full), caption="classes x samples (a column shares its latent)", width=420)


# --- runs on disk: list, open / continue, compare --------------------------------------------
def open_run(path: str) -> None:
    """Load a run folder into this session's runner (paused); its settings fill the sidebar."""
    runner.pause()
    try:
        trainer = load_run(path)
    except GanlabError as exc:
        ss[key("error")] = str(exc)
        return
    runner.reset(trainer)
    ss[key("rev")] = ss.get(key("rev"), 0) + 1
    load_settings(trainer.cfg)
    ss[key("base")] = trainer.cfg
    ss[key("notice")] = f"Opened {path} at step {trainer.step_count}: press Resume to continue it"


@st.cache_data(max_entries=32, show_spinner=False)
def run_grid(path: str, mtime: float) -> Any:
    """A saved run's progress grid (mtime: a re-saved run is drawn again)."""
    return to_image(studio.progress_grid(load_run(path, device="cpu", with_data=False)))


with st.expander("Runs on disk"):
    root = studio.runs_root()
    st.caption(f"Runs saved by this page (Stop and save) or by `python -m ganlab train --out` in "
               f"**{root.resolve()}** (set the GANLAB_RUNS environment variable to use another folder).")
    runs = studio.list_runs(root)
    if not runs:
        st.write("No image runs there yet.")
    else:
        st.dataframe([r.row() for r in runs], hide_index=True)
        by_name = {r.name: r for r in runs}
        c = st.columns([3, 1])
        chosen = c[0].selectbox("Run", list(by_name), key=key("open_name"))
        c[1].button("Open and continue", key=key("open"), on_click=open_run,
                    args=(str(by_name[chosen].path),), width="stretch")
        st.markdown("**Compare two runs**")
        pick = st.columns(2)
        for i, col in enumerate(pick):
            name = col.selectbox(f"Run {'AB'[i]}", list(by_name), index=min(i, len(by_name) - 1),
                                 key=key(f"compare{i}"))
            run = by_name[name]
            try:
                col.image(run_grid(str(run.path), (run.path / "model.safetensors").stat().st_mtime),
                          caption=f"{name}: step {run.steps}", width=360)
            except GanlabError as exc:
                col.error(str(exc))
            col.dataframe([{"metric": k, "value": v} for k, v in run.row().items() if v is not None],
                          hide_index=True)


# --- exports ------------------------------------------------------------------------------------
# Made when clicked, in a server thread outside this script run: what they need is bound here.
def _png() -> bytes:
    with runner.hold() as trainer:
        return grid_to_png_bytes(capture(trainer))


def _gif() -> bytes:
    frames = runner.frames()
    pick = sorted({round(i * (len(frames) - 1) / max(GIF_FRAMES - 1, 1)) for i in range(GIF_FRAMES)})
    return gif_bytes([frames[j][1] for j in pick if j < len(frames)], fps=8.0)


with st.expander("Export"):
    ex = st.columns(4)
    ex[0].download_button("PNG of the grid", _png, "studio-grid.png", "image/png", key=key("png"))
    ex[1].download_button("GIF of the progress grids", _gif, "studio-progress.gif", "image/gif",
                          key=key("gif"))
    ex[2].download_button("Checkpoint (zip)", lambda: exports.checkpoint_now(runner), "studio-run.zip",
                          "application/zip", key=key("ckpt"))
    ex[3].download_button("Metric history (CSV)", lambda: exports.csv_now(runner), "studio-history.csv",
                          "text/csv", key=key("csv"))
