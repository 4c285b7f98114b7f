"""The user's own points (uploaded or drawn): the page's panel and a Trainer on them.

Uploads are checked by the engine's points reader, so the page shows the engine's
messages (wrong columns, NaN, empty, too big) and, for a good file, the summary of
what will be trained on (`ui.data_summary`, as `python -m ganlab data` prints it). The
points reach the trainer in memory, as the engine's `points_file` data set (`points_dataset`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from ganlab.config import Config
from ganlab.data.toy import MIN_FILE_POINTS, load_points_file, points_dataset
from ganlab.errors import DataError, GanlabError
from ganlab.train import Trainer
from ui import views
from ui.data_summary import render_data_summary, summary_for_upload
from ui.live_plot import live_plot
from ui.messages import error_box
from ui.sketch import stroke_points

SKETCH_BOX = np.array([[-2.0, 2.0], [-2.0, 2.0]], dtype=np.float32)  # the canvas's axes


def read_upload(name: str, data: bytes) -> np.ndarray:
    """An uploaded CSV / NPY -> float32 points (N, 2|3); DataError naming the problem."""
    safe = Path(name).name or "points.csv"
    # load_points_file reads a path, and tells CSV from NPY by the suffix.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        return load_points_file(path)


def has_enough_points(points: np.ndarray | None) -> bool:
    """True when `points` can be trained on (at least MIN_FILE_POINTS of them)."""
    return points is not None and len(points) >= MIN_FILE_POINTS


def points_hint(points: np.ndarray | None, source: str = "draw") -> str:
    """What a page says, above the points panel, while the user's points are too few to
    train on (no error: an empty canvas is where "Draw your own" starts). source: the
    panel's choice, "draw" (the canvas) or "upload" (a file)."""
    have = 0 if points is None else len(points)
    need = f"Training starts once there are at least {MIN_FILE_POINTS} points."
    if source == "upload":
        start = "Upload your data below" if have == 0 else f"{have} points so far: upload a file with more"
        return f"{start}: a CSV file with x, y (and z) in each row, or an NPY array of shape (N, 2) or (N, 3). {need}"
    start = "Draw your data on the canvas below" if have == 0 else f"{have} points so far: draw a little more"
    return f"{start}: drag to draw a stroke, or click to drop a blob of points (or upload a file instead). {need}"


def toy_trainer(cfg: Config, points: np.ndarray | None) -> Trainer:
    """A Trainer for cfg; for data `points_file`, on `points` (N, 2|3) (DataError if too few)."""
    if cfg.data != "points_file":
        return Trainer(cfg)
    if points is None or len(points) < MIN_FILE_POINTS:
        have = 0 if points is None else len(points)
        raise DataError(f"{have} points so far; a data set needs at least {MIN_FILE_POINTS}: draw more "
                        "on the canvas (drag a stroke or click) or upload a CSV / NPY file")
    return Trainer(cfg, dataset=points_dataset(points))


# --- the page's panel (Streamlit) -----------------------------------------------------------
# Session state under the page's prefix: "points" (float32 (N, 2|3) or None), "points_rev"
# (bumped at every change, so the page knows to rebuild its run), "draw_token" (bumped by
# Clear, so a stroke sent before the clear is ignored); the page sets the last two to 0.
def set_points(prefix: str, points: np.ndarray | None) -> None:
    """The user's points are now `points` (float32 (N, 2|3) or None); the page rebuilds its run."""
    st.session_state[prefix + "points"] = points
    st.session_state[prefix + "points_rev"] += 1


def clear_drawing(prefix: str) -> None:
    """Clear: no points, and strokes the canvas sent before the clear are ignored."""
    st.session_state[prefix + "draw_token"] += 1
    st.session_state.pop(prefix + "strokes", None)
    set_points(prefix, None)


def take_strokes(prefix: str, value: Any, seed: int) -> bool:
    """The canvas's value ({"token", "strokes"}, `ui.live_plot` draw mode) -> the
    points in session state, when it holds new strokes drawn since the last clear;
    True when the points changed."""
    ss = st.session_state
    fresh = isinstance(value, dict) and value.get("token") == ss[prefix + "draw_token"]  # not from before a clear
    if not fresh or value.get("strokes") == ss.get(prefix + "strokes"):
        return False
    ss[prefix + "strokes"] = value["strokes"]
    set_points(prefix, stroke_points(value["strokes"], seed=seed))
    return True


def points_panel(prefix: str, seed: int) -> None:
    """Draw on a canvas or upload a file; the points land in session state `<prefix>points`.

    seed: the stroke jitter's seed (the run's seed, so a shared URL redraws the same points).
    """
    ss = st.session_state
    source = st.radio("Your points", ["draw", "upload"], horizontal=True, key=prefix + "source")
    if source == "upload":
        upload = st.file_uploader("A CSV (x, y[, z] per row) or NPY array of shape (N, 2|3)",
                                  type=["csv", "txt", "npy"], key=prefix + "upload")
        if upload is not None and ss.get(prefix + "upload_id") != upload.file_id:
            ss[prefix + "upload_id"], ss[prefix + "upload_error"] = upload.file_id, None
            ss[prefix + "upload_summary"] = None
            try:
                # The summary first: the same reader, so a bad file fails here with its message.
                summary = summary_for_upload(upload.name, upload.getvalue())
                set_points(prefix, read_upload(upload.name, upload.getvalue()))
                ss[prefix + "upload_summary"] = summary
            except GanlabError as exc:
                ss[prefix + "upload_error"] = str(exc)
        if upload is not None and ss.get(prefix + "upload_error"):
            error_box(ss[prefix + "upload_error"])
        elif upload is not None and ss.get(prefix + "upload_summary"):
            render_data_summary(ss[prefix + "upload_summary"])  # what `python -m ganlab data` prints
    else:
        token = ss[prefix + "draw_token"]
        # The strokes the canvas sent are in session state before this run draws it:
        # turned into points first, the canvas shows the stroke just drawn (taken from
        # live_plot's return value, it showed the one before).
        take_strokes(prefix, ss.get(prefix + "canvas"), seed)
        live_plot(views.sketch_view(SKETCH_BOX, ss.get(prefix + "points")), key=prefix + "canvas",
                  height=420, draw_token=token, meta={"view": "sketch"})
        st.button("Clear drawing", on_click=clear_drawing, args=(prefix,), key=prefix + "clear")
    count = 0 if ss.get(prefix + "points") is None else len(ss[prefix + "points"])
    st.caption(f"{count} points")
