"""`live_plot`: a Plotly.js view that keeps the user's zoom and 3-D camera while data update.

Why a custom component: Streamlit 1.67's `st.plotly_chart` re-creates the figure
on every data change, so the camera and zoom reset at each redraw
(streamlit/streamlit#8882); Vega-Lite has no 3-D scatter. The component calls
`Plotly.react` with the figure's `layout.uirevision`, which updates traces in
place and keeps user-driven view changes until uirevision changes.

Plotly.js comes from the `plotly` Python package (`plotly/package_data/plotly.min.js`):
no CDN, so the app works offline (classrooms, this machine). Streamlit serves a
component's files from one folder and refuses symlinks that leave it, so the
frontend and plotly.min.js are copied once into a cache folder (see `asset_dir`).

Arrays go as Plotly typed-array specs (`encode`): base64 float32, decoded by Plotly.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import streamlit.components.v1 as components

_FRONTEND = Path(__file__).parent / "frontend"
_FRONTEND_FILES = ("index.html", "main.js")


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js not found at {path}; reinstall the 'plotly' package")
    return path


def asset_dir() -> Path:
    """The folder Streamlit serves: frontend files + plotly.min.js, keyed by their content.

    Under $GANLAB_CACHE_DIR, else $XDG_CACHE_HOME/ganlab, else ~/.cache/ganlab (falling
    back to the temp folder when home is not writable). Built atomically (copy to a
    temporary folder, then rename) so concurrent server starts do not see half a folder.
    """
    sources = [_FRONTEND / name for name in _FRONTEND_FILES] + [_plotly_js()]
    digest = hashlib.sha256()
    for src in sources:
        digest.update(src.name.encode())
        digest.update(src.read_bytes())
    for root in _cache_roots():
        target = root / f"live_plot-{digest.hexdigest()[:16]}"
        if target.is_dir():
            return target
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".live_plot-", dir=root))
            for src in sources:
                shutil.copyfile(src, tmp / src.name)
            try:
                tmp.rename(target)
            except OSError:  # another process won the race
                shutil.rmtree(tmp, ignore_errors=True)
            if target.is_dir():
                return target
        except OSError:
            continue
    raise RuntimeError("no writable cache folder for the live plot's files; set GANLAB_CACHE_DIR")


def _cache_roots() -> list[Path]:
    roots = []
    if os.environ.get("GANLAB_CACHE_DIR"):
        roots.append(Path(os.environ["GANLAB_CACHE_DIR"]))
    xdg = os.environ.get("XDG_CACHE_HOME")
    roots.append(Path(xdg) / "ganlab" if xdg else Path.home() / ".cache" / "ganlab")
    roots.append(Path(tempfile.gettempdir()) / "ganlab-cache")
    return roots


_component = components.declare_component("live_plot", path=str(asset_dir()))


def encode(values: np.ndarray) -> dict[str, str]:
    """A numpy array -> Plotly's typed-array spec (float32, base64); NaN breaks lines."""
    arr = np.ascontiguousarray(values, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(arr.tobytes()).decode("ascii"),
            "shape": ",".join(str(s) for s in arr.shape)}


def live_plot(figure: dict[str, Any], *, key: str, height: int = 480,
              meta: dict[str, Any] | None = None, draw_token: int | None = None,
              pace: float | None = None) -> Any:
    """Show `figure` ({data, layout[, config]}, Plotly JSON; arrays via `encode`).

    key: a stable key, so that reruns update this plot instead of making a new one.
    meta: small facts shown to scripts reading the redraw log (e.g. {"step": 120}).
    draw_token: not None turns on draw mode; returns {"token", "strokes"} where
      strokes are lists of [x, y] vertices in data coordinates drawn since the
      token last changed (change it to clear).
    pace: seconds; when this figure reaches the browser it asks for the next one
      (returns {"tick": n}, which reruns the enclosing fragment) at most this often.
      The browser's speed then sets the frame rate, and at most one frame is on
      its way, so frames never queue up behind a slow browser. Give `meta` a
      changing entry (e.g. a frame counter) so that every rerun sends new
      arguments (Streamlit does not resend unchanged ones). None: no requests.

    While frames stream, a button pressed anywhere on the page holds them (the newest
    kept) until that button changes, at most 0.3 s, so that its answer (Pause's new
    label) is not queued behind Plotly draws in the browser (docs/benchmarks.md).
    """
    draw = None if draw_token is None else {"token": int(draw_token)}
    from ui import projector  # here: projector imports streamlit, this module only its components

    if projector.is_on():
        figure = projector.big_fonts(figure)
    return _component(fig=figure, height=int(height), meta=meta or {}, draw=draw, pace=pace,
                      key=key, default=None)
