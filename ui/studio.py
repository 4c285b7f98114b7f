"""The MNIST studio page's choices and panels: its data sets, models and default Config,
uploaded pictures onto disk (a folder per session; which server paths a session may read
is `ui.serverdata`'s rule), grids as arrays for st.image, the device in words, and the
page's panels (image-folder inputs, training charts, class views, runs on disk)."""
from __future__ import annotations

import io
import math
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable, Collection, Protocol, Sequence

import numpy as np
import streamlit as st
import torch

from ganlab.config import FIELD_SPECS, Config
from ganlab.errors import ConfigError, DataError, GanlabError
from ganlab.presets import resolve_config
from ganlab.progress import class_grid, class_row, fixed_grid, interpolation, reconstruction_grid
from ganlab.runs import RunSummary, list_runs
from ganlab.train import Trainer
from ui import projector
from ui.data_summary import render_data_summary, summary_for_path
from ui.messages import error_box, sentence
from ui.runner import Runner
from ui.serverdata import HOW_TO_ALLOW, SessionUploads, allowed_roots, check_server_path
from ui.views import history_columns

UPLOAD_TYPES = ("zip", "png", "jpg", "jpeg")
IMAGE_DATA = ("mnist", "fashion_mnist", "image_folder")
IMAGE_MODELS = ("mlp", "cgan", "dcgan", "cdcgan", "ae", "conv_ae", "aae")
AUTOENCODERS = ("ae", "conv_ae", "aae")  # their live grid: originals above reconstructions
DEVICES = ("auto", "cpu", "cuda")
# The studio's live defaults: frequent loss rows for the charts, and classifier
# metrics on a modest sample (about 1 s on a CPU, taken between two steps).
LIVE_DEFAULTS: dict[str, Any] = {"log_every": 10, "eval_every": 500, "eval_samples": 1000}
GRID_SIZE = 64  # images in the live progress grid (8 x 8)


def studio_config(data: str, model: str, overrides: dict[str, Any] | None = None) -> Config:
    """The model's tuned preset for this data set, with the studio's live defaults, then overrides.

    ConfigError for a data set outside IMAGE_DATA or a model outside IMAGE_MODELS.
    """
    if data not in IMAGE_DATA:
        raise ConfigError(f"the studio trains on image sets: choose one of {', '.join(IMAGE_DATA)}")
    if model not in IMAGE_MODELS:
        raise ConfigError(f"the studio's models are {', '.join(IMAGE_MODELS)}; got {model!r}")
    return resolve_config(data, None, {"model": model, **LIVE_DEFAULTS, **(overrides or {})})


def settings_config(values: dict[str, Any], base: Config | None = None) -> Config:
    """The Config the studio's widgets describe: `values` (field -> value, with data and model)
    over the opened run's settings `base` when it has the same data set and model, else over
    `studio_config(data, model)`. ConfigError as studio_config."""
    if base is not None and (base.data, base.model) == (values["data"], values["model"]):
        return base.replace(**values)
    rest = {k: v for k, v in values.items() if k not in ("data", "model")}
    return studio_config(values["data"], values["model"], rest)


def live_grid(trainer: Any, n: int = GRID_SIZE) -> torch.Tensor:
    """The studio's live grid of a run: n samples from the fixed noise for a GAN; for an
    autoencoder its fixed real images, each row of originals above their reconstructions
    (n // 2 originals, so the grid keeps its size)."""
    if trainer.cfg.model in AUTOENCODERS:
        return reconstruction_grid(trainer, n // 2)
    return fixed_grid(trainer, n)


def device_summary() -> str:
    """Which accelerator torch sees, in words (the page shows it beside the device choice)."""
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"GPU available: {names}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "Apple GPU (MPS) available"
    return "no GPU visible: training runs on the CPU"


class Upload(Protocol):
    """What st.file_uploader returns per file (name and bytes)."""

    name: str

    def getvalue(self) -> bytes: ...


def save_upload(files: Sequence[Upload], folder: Path) -> Path:
    """Uploaded files -> a path the image_folder data set reads.

    One .zip is used as it is; pictures go into the folder. `folder` is emptied
    first, so a new upload replaces the old one. DataError, naming the user's own
    file, when there is nothing to save or a .zip is not a zip archive.
    """
    if not files:
        raise DataError("No files were uploaded: upload a .zip of pictures or some PNG/JPG files.")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    zips = [f for f in files if f.name.lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise DataError("A .zip came with other files: upload either one .zip or some pictures, not both.")
    if zips:
        data = zips[0].getvalue()
        # Checked here rather than left to the loader: its message names the server's copy
        # and the command line's data set, neither of which the visitor knows.
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise DataError(f"{Path(zips[0].name).name} is not a readable .zip (damaged, cut short, or another "
                            "kind of file): upload a .zip of pictures, or some PNG/JPG files.")
        path = folder / "upload.zip"
        path.write_bytes(data)
        return path
    for i, f in enumerate(files):
        # The index keeps two uploads with the same name apart; the folder is flat (no classes).
        (folder / f"{i:05d}_{Path(f.name).name}").write_bytes(f.getvalue())
    return folder


def _own_names(files: Sequence[Upload]) -> tuple[str, dict[str, str]]:
    """What the visitor calls an upload (its file's name, or "your upload" for several), and
    the server's index-prefixed picture names -> the names they uploaded."""
    names = [Path(f.name).name for f in files]
    return (names[0] if len(names) == 1 else "your upload"), {f"{i:05d}_{n}": n for i, n in enumerate(names)}


def upload_message(exc: GanlabError, files: Sequence[Upload], folder: Path) -> str:
    """The error of reading an upload, in the visitor's terms: the server's copy (`folder`,
    its upload.zip, the index-prefixed picture names) named as the files they uploaded, and a
    full stop at the end."""
    own, renamed = _own_names(files)
    text = str(exc).replace(str(folder / "upload.zip"), own).replace(str(folder), own)
    for stored, name in renamed.items():
        text = text.replace(stored, name)
    return sentence("Your" + text[4:] if text.startswith("your ") else text)


def upload_summary(summary: dict[str, Any], files: Sequence[Upload]) -> dict[str, Any]:
    """A summary of the server's copy of an upload (`ui.data_summary`), naming the files the
    visitor uploaded instead."""
    own, renamed = _own_names(files)
    ignored = [{**item, "name": renamed.get(item["name"], item["name"])} for item in summary.get("ignored", ())]
    return {**summary, "file": own, "ignored": ignored}


def to_image(grid: torch.Tensor, scale: int = 1) -> np.ndarray:
    """uint8 (C, H, W) -> what st.image shows: (H, W) grey or (H, W, 3) colour, each pixel
    repeated `scale` times each way (the browser then shrinks a sharp picture to its column
    instead of blurring a small one up)."""
    array = grid.cpu().numpy()
    if scale > 1:
        array = array.repeat(scale, axis=1).repeat(scale, axis=2)
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


# --- the page's panels (Streamlit) ---------------------------------------------------------
def session_uploads(prefix: str) -> SessionUploads:
    """This session's upload folder (made on first use; removed when the session ends)."""
    ss = st.session_state
    if not isinstance(ss.get(prefix + "uploads"), SessionUploads):
        ss[prefix + "uploads"] = SessionUploads()
    return ss[prefix + "uploads"]


def check_data_path(cfg: Config, prefix: str) -> None:
    """DataError unless this session may read cfg's image folder: its own uploads, or a
    path under the folders the server allows (`ui.serverdata.check_server_path`)."""
    if cfg.data != "image_folder" or not cfg.data_path:
        return
    own = st.session_state.get(prefix + "uploads")
    check_server_path(cfg.data_path, own.path if isinstance(own, SessionUploads) else None)


def image_folder_inputs(prefix: str) -> None:
    """The upload box (with the summary of what will be trained on, as `python -m ganlab
    data` prints it) and the server-path box of data set image_folder; writes
    `<prefix>data_path` once an upload has been read. An upload that cannot be read is said
    once, here, and leaves no path behind (Start has nothing to train on until another is
    read). The server path can be typed only when the server allows folders."""
    ss = st.session_state
    uploads = st.file_uploader("Upload a .zip of pictures or PNG/JPG files", type=list(UPLOAD_TYPES),
                               accept_multiple_files=True, key=prefix + "upload",
                               help="sub-folders of a zip become classes")
    # By file id, not name: a corrected file uploaded under the same name is read again.
    ids = [getattr(u, "file_id", None) or u.name for u in uploads or ()]
    if not uploads:
        ss.pop(prefix + "upload_names", None)
    elif ss.get(prefix + "upload_names") != ids:
        ss[prefix + "upload_names"] = ids
        ss[prefix + "upload_summary"], ss[prefix + "upload_error"] = None, None
        folder = session_uploads(prefix).path
        try:
            path = save_upload(uploads, folder)
            ss[prefix + "upload_summary"] = upload_summary(summary_for_path(path), uploads)
        except GanlabError as exc:
            ss[prefix + "upload_error"] = upload_message(exc, uploads, folder)
            if Path(ss.get(prefix + "data_path") or "/").is_relative_to(folder):
                ss[prefix + "data_path"] = ""  # the previous upload was replaced by this one
        else:
            ss[prefix + "data_path"] = str(path)
    if uploads and ss.get(prefix + "upload_error"):
        error_box(ss[prefix + "upload_error"])
    elif uploads and ss.get(prefix + "upload_summary"):
        render_data_summary(ss[prefix + "upload_summary"])
    allowed = bool(allowed_roots())
    st.text_input("... or a folder / .zip on the server", key=prefix + "data_path", disabled=not allowed,
                  help="a folder or .zip under the folders the server allows")
    if not allowed:
        st.caption(f"Typing a folder on the server is off: {HOW_TO_ALLOW}.")


def needs_pictures(cfg: Config) -> bool:
    """Whether cfg asks for the visitor's own pictures but none have been chosen yet."""
    return cfg.data == "image_folder" and not cfg.data_path


def pending_message(pending: Sequence[str], shown: Collection[str]) -> str:
    """The notice for settings that take effect only in a new run, by the labels of their
    widgets (`shown`: the fields the page draws). The upload's path counts as the data set;
    fields without a widget (a model's preset layers) follow from a choice that has one."""
    fields = dict.fromkeys("data" if f == "data_path" else f for f in pending)
    labels = [FIELD_SPECS[f].label for f in fields if f in shown]
    if not labels:
        return ("Settings changed: press **Start new run** to begin a new run with them "
                "(the run shown keeps its own).")
    named = ", ".join(f"**{label}**" for label in labels)
    return (f"Changed {named}: press **Start new run** to begin a new run with {'them' if len(labels) > 1 else 'it'} "
            "(the run shown keeps its settings).")


def training_charts(rows: Sequence[dict[str, float]], class_names: Sequence[str],
                    histogram: Sequence[int] | None, side: Any, below: Any) -> None:
    """The losses and the class histogram (`histogram`: samples per class, None to leave it
    out) in `side`, the column beside the grid; the classifier Frechet distance and score
    over steps side by side in `below`, which spans the page: two more charts beside the
    grid would squeeze every chart to a few lines on a laptop."""
    # Projector mode enlarges the type, and the axes and legend with it: taller charts keep
    # their plots from being squeezed flat by the larger labels.
    tall = 1.35 if projector.is_on() else 1.0
    losses = history_columns(rows, ("d_loss", "g_loss"))
    if losses["step"]:
        side.markdown("**Losses**")
        side.line_chart({"step": losses["step"], "D loss": losses["d_loss"], "G loss": losses["g_loss"]},
                        x="step", y=["D loss", "G loss"], y_label="loss", height=int(280 * tall),
                        color=["#1f77b4", "#ff7f0e"])  # blue and orange, as on the other pages
    if histogram:
        names = class_names or tuple(str(i) for i in range(len(histogram)))
        side.markdown(f"**Classes the classifier sees in {sum(histogram)} samples** (balanced = no mode collapse)")
        side.bar_chart({"class": list(names), "samples": list(histogram)}, x="class", y="samples",
                       height=int(240 * tall))
    metrics = history_columns(rows, ("fd", "score"))
    if metrics["step"]:
        c = below.columns(2, gap="medium")
        c[0].markdown("**Classifier Frechet distance** (lower is better)")
        c[0].line_chart(metrics, x="step", y="fd", y_label="Frechet distance", height=int(240 * tall))
        c[1].markdown("**Classifier score** (higher is better)")
        c[1].line_chart(metrics, x="step", y="score", y_label="score", height=int(240 * tall))


def class_views(runner: Runner[Trainer], num_classes: int, class_names: Sequence[str], prefix: str) -> None:
    """A conditional run's views: 10 samples of one class, latent A -> B for it, classes x samples."""
    c = st.columns(4)
    label = c[0].selectbox("Class", list(range(num_classes)), key=prefix + "class",
                           format_func=lambda i: class_names[i] if i < len(class_names) else str(i))
    seed_a = c[1].number_input("Latent A (seed)", 0, 10**6, 1, key=prefix + "seed_a")
    seed_b = c[2].number_input("Latent B (seed)", 0, 10**6, 2, key=prefix + "seed_b")
    c[3].button("Refresh", key=prefix + "refresh_classes", help="redraw with the run as it is now")
    try:
        with runner.hold() as trainer:
            row, full = class_row(trainer, label), class_grid(trainer)
            path = interpolation(trainer, label, seed_a, seed_b)
    except GanlabError as exc:
        error_box(exc)
        return
    st.image(to_image(row), caption=f"10 samples of class {label}", width=560)
    st.image(to_image(path), caption=f"class {label}: latent A -> latent B", width=560)
    st.image(to_image(full), caption="classes x samples (a column shares its latent)", width=420)


def runs_panel(root: Path, on_open: Callable[[str], None], grid_of: Callable[[str, float], Any],
               prefix: str) -> None:
    """The runs under root: a table, "Open and continue" (calls on_open(path)), and two runs
    side by side (grid_of(path, mtime) -> an st.image array; mtime: redraw a re-saved run)."""
    st.caption(f"Runs saved by this page (Stop and save) or by `python -m ganlab train --out` in "
               f"**{root.resolve()}** (set the GANLAB_RUNS environment variable to use another folder).")
    by_name = {r.name: r for r in list_runs(root)}
    if not by_name:
        st.write("No image runs there yet.")
        return
    st.dataframe([r.row() for r in by_name.values()], hide_index=True)
    c = st.columns([3, 1])
    chosen = c[0].selectbox("Run", list(by_name), key=prefix + "open_name")
    c[1].button("Open and continue", key=prefix + "open", on_click=on_open, args=(str(by_name[chosen].path),),
                width="stretch")
    st.markdown("**Compare two runs**")
    for i, col in enumerate(st.columns(2)):
        name = col.selectbox(f"Run {'AB'[i]}", list(by_name), index=min(i, len(by_name) - 1),
                             key=prefix + f"compare{i}")
        run = by_name[name]
        try:
            col.image(grid_of(str(run.path), (run.path / "model.safetensors").stat().st_mtime),
                      caption=f"{name}: step {run.steps}", width=360)
        except GanlabError as exc:
            error_box(exc, col)
        col.dataframe(compare_rows(run), hide_index=True)


def compare_rows(run: RunSummary) -> list[dict[str, Any]]:
    """A run's numbers for the side-by-side table: {"metric": name, "value": float}, steps
    first, metrics it never recorded left out (numbers only: one type per column)."""
    rows = [{"metric": "steps", "value": float(run.steps)}]
    return rows + [{"metric": k, "value": v} for k, v in run.metrics().items() if not math.isnan(v)]
