"""The 1-D view as a Plotly spec: Figure 1 of Goodfellow et al. 2014, live.

Top panel: the data's density (black, dotted), G's density (green), D(x) (blue,
dashed, its own 0..1 axis on the right, with a grey line at 1/2). Bottom panel: the
latent axis z (below) and the x axis (above), a line from each z to G(z): where the
lines crowd, G puts more mass. Every number comes from `ganlab.probe.frame_1d`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.probe import Frame1D
from ui.live_plot import encode

DATA_COLOUR = "#111111"
G_COLOUR = "#2ca02c"
D_COLOUR = "#1f77b4"
MAP_COLOUR = "rgba(44, 160, 44, 0.55)"
FONT = 15


def _mapping_lines(frame: Frame1D, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y of one line trace: from each z (placed on the z axis at y = 0, its range
    stretched over the view) to G(z) on the x axis at y = 1, a NaN after each line."""
    z0, z1 = frame.z_range
    zpos = lo + (frame.z - z0) / (z1 - z0) * (hi - lo)
    k = len(frame.z)
    xs = np.full(3 * k, np.nan, dtype=np.float32)
    ys = np.full(3 * k, np.nan, dtype=np.float32)
    xs[0::3], xs[1::3] = zpos, np.clip(frame.zx, lo, hi)  # a G(z) off the view ends at its edge
    ys[0::3], ys[1::3] = 0.0, 1.0
    return xs, ys


def view_1d(frame: Frame1D, *, d_label: str = "D(x) = P(real)", d_range: tuple[float, float] = (0.0, 1.0),
            title: str = "", uirevision: str = "1d", font: int = FONT) -> dict[str, Any]:
    """The Plotly spec of one `Frame1D` (see the module docstring)."""
    lo, hi = float(frame.xs[0]), float(frame.xs[-1])
    top = float(max(frame.real_pdf.max(), min(frame.fake_pdf.max(), 3 * frame.real_pdf.max()), 1e-3)) * 1.1
    mx, my = _mapping_lines(frame, lo, hi)
    data = [
        {"type": "scatter", "mode": "lines", "name": "data density", "x": encode(frame.xs),
         "y": encode(frame.real_pdf), "line": {"color": DATA_COLOUR, "dash": "dot", "width": 3}},
        {"type": "scatter", "mode": "lines", "name": "G's density", "x": encode(frame.xs),
         "y": encode(frame.fake_pdf), "line": {"color": G_COLOUR, "width": 3}},
        {"type": "scatter", "mode": "lines", "name": "D(x)", "x": encode(frame.xs), "y": encode(frame.d),
         "yaxis": "y2", "line": {"color": D_COLOUR, "dash": "dash", "width": 3}},
        {"type": "scatter", "mode": "lines", "name": "z → G(z)", "x": encode(mx), "y": encode(my),
         "xaxis": "x3", "yaxis": "y3", "line": {"color": MAP_COLOUR, "width": 1.5}, "hoverinfo": "skip"},
    ]
    half = (d_range[0] + d_range[1]) / 2
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        "font": {"size": font},
        "margin": {"l": 60, "r": 60, "t": 40, "b": 10},
        "uirevision": uirevision,
        # the legend sits above the top panel, right-aligned, clear of the title on the left
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        "xaxis": {"range": [lo, hi], "domain": [0, 1], "anchor": "y"},
        "yaxis": {"domain": [0.42, 0.92], "range": [0, top], "title": {"text": "density"}},
        "yaxis2": {"overlaying": "y", "side": "right", "range": list(d_range), "title": {"text": d_label},
                   "showgrid": False, "color": D_COLOUR,
                   "tickvals": [d_range[0] + (d_range[1] - d_range[0]) * f for f in (0, 0.25, 0.5, 0.75, 1)],
                   "tickformat": ".2~f"},
        "xaxis3": {"range": [lo, hi], "domain": [0, 1], "anchor": "y3", "showticklabels": False,
                   "showgrid": False, "zeroline": False},
        "yaxis3": {"domain": [0.0, 0.26], "range": [-0.15, 1.15], "tickvals": [0, 1],
                   "ticktext": ["z", "x"], "showgrid": False, "zeroline": False},
        "shapes": [
            {"type": "line", "xref": "paper", "yref": "y2", "x0": 0, "x1": 1, "y0": half, "y1": half,
             "line": {"color": "#999999", "width": 1, "dash": "dot"}},
        ],
        "annotations": [
            {"text": "G maps each z (below) to an x (above)", "xref": "paper", "yref": "paper",
             "x": 0, "y": 0.30, "xanchor": "left", "yanchor": "bottom", "showarrow": False},
        ],
    }
    return {"data": data, "layout": layout}
