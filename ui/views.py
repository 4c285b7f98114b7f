"""Plotly figure specs (plain dicts for `ui.live_plot`) for the toy views and charts.

Layout only: every number drawn here was computed by the engine (`ganlab.probe`,
the trainer's history); this module places it on axes, colours it and encodes it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ui.live_plot import encode

REAL_COLOUR = "#222222"
FAKE_COLOUR = "#ff7f0e"
MANIFOLD_COLOUR = "rgba(44, 160, 44, 0.8)"
ARROW_COLOUR = "rgba(120, 40, 160, 0.9)"
# Blue where D says "fake", red where it says "real" (matches ui.render).
SURFACE_SCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"],
                 [1.0, "#b2182b"]]
# Arrows are drawn this long (as a fraction of the view width) at the largest gradient.
ARROW_LENGTH = 0.08
MAX_ARROWS = 250
# The G manifold is G applied to a latent grid; where the data has gaps (between the
# blobs of a ring, the arms of a spiral) neighbouring grid points land on either side
# and their segment is a chord across the gap, which G never produces. A segment is
# left out when it is CHORD_FACTOR times longer than the mesh's median segment and
# its middle is further than GAP_FRACTION of the data's extent from every real point.
CHORD_FACTOR = 4.0
GAP_FRACTION = 0.05
NARROW_BELOW = 640  # px: a frame narrower than this is a phone's (`live_plot`'s `narrow` entry)


def _margin() -> dict[str, int]:
    return {"l": 40, "r": 10, "t": 30, "b": 30}


def _lines(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, L, 2) polylines -> x, y with a NaN after each, for one Plotly line trace."""
    k, n, _ = segments.shape
    padded = np.full((k, n + 1, 2), np.nan, dtype=np.float32)
    padded[:, :n] = segments[:, :, :2]
    flat = padded.reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


def manifold_lines(manifold: np.ndarray, real: np.ndarray | None) -> np.ndarray:
    """(rows, cols, D) G on a latent grid -> (P, D) vertices of its mesh lines (rows,
    then columns), NaN rows between lines and in place of the chords across gaps in
    the data (see CHORD_FACTOR), for one Plotly line trace."""
    lines = [manifold] + ([manifold.transpose(1, 0, 2)] if manifold.shape[0] > 1 else [])
    out = []
    for poly in lines:  # (K, L, D)
        poly = np.asarray(poly, dtype=np.float64)
        k, n, d = poly.shape
        mids = (poly[:, 1:] + poly[:, :-1]) / 2
        chord = _chords(poly, mids, real)
        # Each vertex is followed by its segment's middle (on the line, so drawing it
        # changes nothing) or NaN for a chord, and each line ends with NaN.
        joins = np.where(chord[..., None], np.nan, mids)
        seq = np.full((k, 2 * n, d), np.nan)
        seq[:, 0::2] = poly
        seq[:, 1:-1:2] = joins
        out.append(seq.reshape(-1, d))
    return np.concatenate(out).astype(np.float32)


def _chords(poly: np.ndarray, mids: np.ndarray, real: np.ndarray | None) -> np.ndarray:
    """(K, L-1) True where a segment of the polylines `poly` (K, L, D) crosses a gap."""
    seg = np.linalg.norm(np.diff(poly, axis=1), axis=2)
    finite = np.isfinite(seg)
    if real is None or len(real) == 0 or not finite.any():
        return np.zeros(seg.shape, dtype=bool)
    ref = np.asarray(real, dtype=np.float64)[:, :poly.shape[2]]
    ref = ref[np.isfinite(ref).all(axis=1)][:2000]
    extent = float(np.ptp(ref, axis=0).max()) if len(ref) else 0.0
    long = finite & (seg > CHORD_FACTOR * float(np.median(seg[finite]))) & (seg > 0.5 * GAP_FRACTION * extent)
    chord = np.zeros(seg.shape, dtype=bool)
    if long.any() and extent > 0:
        m = mids[long]  # only the long segments: a few, against up to 2,000 real points
        nearest = np.sqrt(((m[:, None, :] - ref[None, :, :]) ** 2).sum(-1).min(1))
        chord[long] = nearest > GAP_FRACTION * extent
    return chord


def scatter_trace(points: np.ndarray, name: str, colour: str, size: float = 4.0,
                  webgl: bool = True) -> dict[str, Any]:
    return {"type": "scattergl" if webgl else "scatter", "mode": "markers", "name": name,
            "x": encode(points[:, 0]), "y": encode(points[:, 1]),
            "marker": {"color": colour, "size": size, "opacity": 0.8}, "hoverinfo": "skip"}


def view_2d(box: np.ndarray, real: np.ndarray, fake: np.ndarray | None, *,
            surface: np.ndarray | None = None, surface_range: tuple[float, float] = (0.0, 1.0),
            surface_label: str = "D(x)", manifold: np.ndarray | None = None,
            arrows: np.ndarray | None = None, title: str = "", uirevision: str = "2d",
            webgl: bool = True, colorbar_title: str | None = None,
            view_range: np.ndarray | None = None, phone_height: int | None = None,
            legend: bool = True) -> dict[str, Any]:
    """The 2-D view: D's heat map behind real and fake points, optional G manifold and
    gradient arrows. phone_height: px; the figure's height in a frame as narrow as a
    phone's (NARROW_BELOW), the plot at its top; None: as on any screen (e.g. a tile
    of several side by side, narrow on every screen). legend: False for tiles side by side
    (the page says once what the colours are; under a small plot the legend covered the
    x tick labels in projector type).

    box: (D, 2) the box the heat map was computed over; view_range: (D, 2) the axes'
    ranges (default `box`), e.g. `ui.viewrange.ViewRange.box()`, which grows past the
    data when the points leave it. manifold: (rows, cols, D) G on a latent grid (drawn
    without chords across gaps in the data, `manifold_lines`); arrows: (N, D)
    gradient per fake point.
    """
    view_range = box if view_range is None else view_range
    data: list[dict[str, Any]] = []
    if surface is not None:
        res_y, res_x = surface.shape
        data.append({
            "type": "heatmap", "z": encode(surface), "name": surface_label,
            "x0": float(box[0, 0]), "dx": float(box[0, 1] - box[0, 0]) / max(res_x - 1, 1),
            "y0": float(box[1, 0]), "dy": float(box[1, 1] - box[1, 0]) / max(res_y - 1, 1),
            "zmin": surface_range[0], "zmax": surface_range[1], "colorscale": SURFACE_SCALE,
            "opacity": 0.85, "hoverinfo": "skip", "zsmooth": False,
            "colorbar": {"title": {"text": colorbar_title or surface_label}, "thickness": 12, "len": 0.7,
                         "y": 0.4, "yanchor": "middle"},
        })
    if manifold is not None:
        mesh = manifold_lines(manifold, real)
        data.append({"type": "scatter", "mode": "lines", "name": "G manifold",
                     "x": encode(mesh[:, 0]), "y": encode(mesh[:, 1]),
                     "line": {"color": MANIFOLD_COLOUR, "width": 1}, "hoverinfo": "skip"})
    data.append(scatter_trace(real, "real", REAL_COLOUR, webgl=webgl))
    if fake is not None:
        data.append(scatter_trace(fake, "fake (fixed noise)", FAKE_COLOUR, webgl=webgl))
    if arrows is not None and fake is not None:
        data.append(_arrow_trace(fake, arrows, view_range))
    span = [[float(view_range[i, 0]), float(view_range[i, 1])] for i in range(2)]
    layout = {
        "uirevision": uirevision, "margin": _margin(), "title": {"text": title, "font": {"size": 13}},
        # Equal scales by shrinking the plot area ("domain"), not by widening the range:
        # uirevision keeps a user's zoom only while the range we send equals the range
        # Plotly used before the zoom, and a widened range never does.
        "xaxis": {"range": span[0], "autorange": False, "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": span[1], "autorange": False, "zeroline": False,
                  "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        "legend": {"orientation": "h", "y": -0.08}, "showlegend": legend,
        "plot_bgcolor": "white",
    }
    if phone_height is None:
        return {"data": data, "layout": layout}
    # On a phone the square plot is as wide as the screen: a shorter figure, the plot at its
    # top (under the title, not centred in a tall box with gaps above and below).
    narrow = {"below": NARROW_BELOW, "height": phone_height,
              "layout": {"yaxis": {**layout["yaxis"], "constraintoward": "top"}}}
    return {"data": data, "layout": layout, "narrow": narrow}


def arrow_segments(points: np.ndarray, grads: np.ndarray, box: np.ndarray, dims: int = 2) -> np.ndarray:
    """(K, 2, dims) segments from each of up to MAX_ARROWS fake points along G's
    gradient, the longest ARROW_LENGTH of the view width (directions and relative
    sizes are kept)."""
    step = max(1, math.ceil(len(points) / MAX_ARROWS))
    p, g = points[::step, :dims], grads[::step, :dims]
    norm = np.linalg.norm(g, axis=1)
    top = float(np.nanmax(norm)) if norm.size and np.isfinite(norm).any() else 0.0
    scale = ARROW_LENGTH * float(box[0, 1] - box[0, 0]) / top if top > 0 else 0.0
    return np.stack([p, p + g * scale], axis=1)


def _arrow_trace(points: np.ndarray, grads: np.ndarray, box: np.ndarray) -> dict[str, Any]:
    x, y = _lines(arrow_segments(points, grads, box))
    return {"type": "scatter", "mode": "lines", "name": "G's push (gradient)",
            "x": encode(x), "y": encode(y), "line": {"color": ARROW_COLOUR, "width": 1.2},
            "hoverinfo": "skip"}


def view_3d(box: np.ndarray, real: np.ndarray, fake: np.ndarray | None, *,
            surface: np.ndarray | None = None, real_z: np.ndarray | None = None,
            fake_z: np.ndarray | None = None, surface_label: str = "D(x)",
            surface_range: tuple[float, float] = (0.0, 1.0), uirevision: str = "3d",
            view_range: np.ndarray | None = None, manifold: np.ndarray | None = None,
            arrows: np.ndarray | None = None) -> dict[str, Any]:
    """A rotatable 3-D view; the user's camera is kept (uirevision).

    3-D data: real and fake points, D's slice through the middle of the data (the
    2-D view's heat map) as a flat coloured plane, and optionally the G manifold
    (a mesh in space, without chords across gaps) and G's gradient arrows.
    2-D data: D's surface as a landscape with the points lying on it (z = D's value,
    `real_z` / `fake_z`); the manifold and arrows are not drawn (`missing_in_3d`).
    box: (D, 2) the box the surface was computed over; view_range: (D, 2) the
    scene's ranges (default `box`), fixed between redraws unless the view grew.
    """
    def pts(p: np.ndarray, z: np.ndarray | None, name: str, colour: str) -> dict[str, Any]:
        zz = p[:, 2] if p.shape[1] > 2 else (z if z is not None else np.zeros(len(p)))
        return {"type": "scatter3d", "mode": "markers", "name": name, "x": encode(p[:, 0]),
                "y": encode(p[:, 1]), "z": encode(zz), "hoverinfo": "skip",
                "marker": {"color": colour, "size": 2, "opacity": 0.85}}

    def lines(v: np.ndarray, name: str, colour: str) -> dict[str, Any]:
        return {"type": "scatter3d", "mode": "lines", "name": name, "x": encode(v[:, 0]),
                "y": encode(v[:, 1]), "z": encode(v[:, 2]), "hoverinfo": "skip",
                "line": {"color": colour, "width": 2}}

    view_range = box if view_range is None else view_range
    data: list[dict[str, Any]] = []
    scene: dict[str, Any] = {"aspectmode": "cube"}
    for i, axis in enumerate(("xaxis", "yaxis")):
        scene[axis] = {"range": [float(view_range[i, 0]), float(view_range[i, 1])], "autorange": False}
    lo, hi = surface_range
    if surface is not None:
        res_y, res_x = surface.shape
        xs = np.linspace(box[0, 0], box[0, 1], res_x)
        ys = np.linspace(box[1, 0], box[1, 1], res_y)
        trace = {"type": "surface", "name": surface_label, "x": encode(xs), "y": encode(ys),
                 "cmin": lo, "cmax": hi, "colorscale": SURFACE_SCALE, "showscale": False,
                 "hoverinfo": "skip"}
        if real.shape[1] > 2:  # the slice through the middle, flat, coloured by D
            middle = float(np.mean(box[2])) if box.shape[0] > 2 else 0.0
            trace.update(z=encode(np.full(surface.shape, middle)), surfacecolor=encode(surface), opacity=0.45)
        else:
            trace.update(z=encode(surface), opacity=0.7)
        data.append(trace)
    if real.shape[1] > 2:
        scene["zaxis"] = {"range": [float(view_range[2, 0]), float(view_range[2, 1])], "autorange": False}
    else:
        scene["zaxis"] = {"range": [lo, hi], "autorange": False, "title": {"text": surface_label}}
    data.append(pts(real, real_z, "real", REAL_COLOUR))
    if fake is not None:
        data.append(pts(fake, fake_z, "fake (fixed noise)", FAKE_COLOUR))
    if real.shape[1] > 2 and manifold is not None and manifold.shape[-1] > 2:
        data.append(lines(manifold_lines(manifold, real), "G manifold", MANIFOLD_COLOUR))
    if real.shape[1] > 2 and arrows is not None and fake is not None:
        seg = arrow_segments(fake, arrows, view_range, dims=3)
        padded = np.concatenate([seg, np.full((len(seg), 1, 3), np.nan)], axis=1).reshape(-1, 3)
        data.append(lines(padded, "G's push (gradient)", ARROW_COLOUR))
    layout = {"uirevision": uirevision, "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
              "scene": scene, "legend": {"orientation": "h", "y": 0}}
    return {"data": data, "layout": layout}


def surface_words(kind: str) -> tuple[str, str]:
    """(short name, colour-bar title in words) of the heat map, one meaning per loss
    family (`ganlab.probe.surface_kind`): a probability for the logistic losses, else a score."""
    if kind == "probability":
        return "P(real)", "D's P(real)<br>red: real<br>blue: fake"
    return "D score", "D's score<br>red: real-looking<br>blue: fake-looking"


def missing_in_3d(dims: int, *, surface: bool, manifold: bool, arrows: bool) -> str:
    """The ticked overlays the 3-D view cannot draw, in words ('' when none).

    3-D data: none (D's heat map is drawn as the slice through the middle, the G
    manifold as a mesh in space, the arrows in space). 2-D data, drawn as D's
    landscape: the G manifold and the gradient arrows, which lie in the plane.
    `surface` is never missing: 2-D data shows it as the landscape.
    """
    if dims > 2:
        return ""
    names = [name for name, on in (("the G manifold", manifold), ("the gradient arrows", arrows)) if on]
    return " or ".join(names)


# --- charts ------------------------------------------------------------------
# (history key, label, panel): panel 0 losses, 1 coverage / quality, 2 distances.
CHART_SERIES = (
    ("d_loss", "D loss", 0), ("g_loss", "G loss", 0),
    ("modes_captured", "modes captured", 1), ("hq_pct", "% high quality", 1),
    ("kl", "KL (nats)", 2), ("js", "JS (bits)", 2), ("w2", "W2", 2),
)
PANEL_TITLES = ("losses", "modes captured (left) / % high quality (right)", "KL / JS / W2")
METRIC_KEYS = tuple(key for key, _, panel in CHART_SERIES if panel)
# The legend's entries get a fixed share of the plot's width (4 to a row, 2 on a phone)
# instead of their measured text widths: a chart first drawn in a closed expander
# measures every text as 0 px wide, Plotly keeps those sizes, and the names were
# printed over each other once the expander opened.
LEGEND_ENTRY_WIDTH = 0.24
NARROW_LEGEND_ENTRY_WIDTH = 0.49
NO_MODES_NOTE = "this data has no modes to count"


def next_metrics_step(history: Sequence[dict[str, float]], every: int | None,
                      stop_at: int | None = None) -> int | None:
    """The step of the run's first metric row while it is still to come: the next
    multiple of `every` (the run's eval_every) after the last history row. None when a
    metric row is already recorded, metrics are off (`every` 0 or None), or the run
    stops (`stop_at`) before that step."""
    if not every or any(key in row for row in history for key in METRIC_KEYS):
        return None
    last = max((int(row["step"]) for row in history), default=0)
    due = (last // every + 1) * every
    return None if stop_at is not None and due > stop_at else due


def charts(history: Sequence[dict[str, float]], marker_step: int | None = None,
           uirevision: str = "charts", metrics_from: int | None = None,
           stop_at: int | None = None, modes: bool | None = None) -> dict[str, Any]:
    """Three line charts of the run's history rows over steps, side by side; stacked in a
    frame narrower than 640 px (a phone: the figure's `narrow` entry, which
    `ui.live_plot` applies in the browser, where the frame's width is known).

    marker_step: draws a vertical line there (the history scrubber's position).
    metrics_from: the run's eval_every (metrics at its multiples; None or 0: off).
      Until the first metric row, the metric panels say "metrics appear at step N"
      (N from `next_metrics_step`, never past `stop_at`, the step the run stops at)
      instead of staying blank; once metrics are recorded, a panel the data gives no
      numbers for (modes of a data set without modes) says so. modes: whether the data
      has modes to count (`DataInfo.modes`), when known: False says so from step 0. The count of modes
      (left axis) and % high quality (right axis, 0-100) share a panel, never an axis.
      The legend sits below the axis titles, its entries of a fixed width.
    """
    data: list[dict[str, Any]] = []
    shown = set()
    for key, label, panel in CHART_SERIES:
        rows = [r for r in history if key in r and r[key] is not None and math.isfinite(r[key])]
        if not rows:
            continue
        shown.add(panel)
        axis = "" if panel == 0 else str(panel + 1)
        yaxis = "y4" if key == "hq_pct" else "y" + axis
        data.append({"type": "scatter", "mode": "lines+markers", "name": label,
                     "marker": {"size": 6 if len(rows) < 3 else 4},  # a lone point stays visible
                     "x": encode(np.array([r["step"] for r in rows])),
                     "y": encode(np.array([r[key] for r in rows])),
                     "xaxis": "x" + axis, "yaxis": yaxis, "hoverinfo": "x+y+name"})
    total = next((r["modes_total"] for r in history if r.get("modes_total")), None)
    due = next_metrics_step(history, metrics_from, stop_at)
    recorded = any(key in row for row in history for key in METRIC_KEYS)
    panels = (shown, total, marker_step, due, recorded, modes)
    layout: dict[str, Any] = {"uirevision": uirevision, "margin": {"l": 40, "r": 40, "t": 30, "b": 80},
                              "legend": _chart_legend(LEGEND_ENTRY_WIDTH, x=0, y=-0.42),
                              **_chart_panels(False, *panels)}
    # A phone-wide frame (under 640 px) stacks the panels, legend below them all; the
    # legend starts in the left margin to give its two columns room.
    narrow = {"margin": {"l": 40, "r": 40, "t": 30, "b": 170},
              "legend": _chart_legend(NARROW_LEGEND_ENTRY_WIDTH, x=-0.12, y=-0.12),
              **_chart_panels(True, *panels)}
    return {"data": data, "layout": layout, "narrow": {"below": NARROW_BELOW, "height": 820, "layout": narrow}}


def _chart_legend(entry_width: float, x: float, y: float) -> dict[str, Any]:
    """A horizontal legend with its top-left corner at paper (x, y), each entry
    `entry_width` of the plot's width (see LEGEND_ENTRY_WIDTH)."""
    return {"orientation": "h", "x": x, "xanchor": "left", "y": y, "yanchor": "top",
            "entrywidth": entry_width, "entrywidthmode": "fraction"}


def _chart_panels(stacked: bool, shown: set[int], total: float | None, marker_step: int | None,
                  due: int | None, recorded: bool, modes: bool | None = None) -> dict[str, Any]:
    """The axes, titles, notes and markers of `charts`' three panels: side by side, or
    stacked (top to bottom) for a narrow frame. due: the step the first metrics come
    at (None: not to come); recorded: whether any metric row is; modes: see `charts`."""
    layout: dict[str, Any] = {"shapes": [], "annotations": []}
    gap = 0.13  # stacked: the gap between panels (their x-axis title and the next one's title)
    for panel, title in enumerate(PANEL_TITLES):
        suffix = "" if panel == 0 else str(panel + 1)
        if stacked:
            (lo, hi), top = (0.0, 0.92), 1 - panel * (1 + gap) / 3
            ydomain = [max(0.0, top - (1 - 2 * gap) / 3), top]
        else:
            (lo, hi), ydomain = (panel / 3 + 0.04, (panel + 1) / 3 - 0.04), [0.0, 1.0]
            top = 1.0
        layout["xaxis" + suffix] = {"domain": [lo, hi], "anchor": "y" + suffix,
                                    "title": {"text": "step", "standoff": 4}}
        layout["yaxis" + suffix] = {"anchor": "x" + suffix, "domain": ydomain}
        layout["annotations"].append({"text": title, "x": (lo + hi) / 2, "y": top + (0.015 if stacked else 0.08),
                                      "xref": "paper", "yref": "paper", **({"yanchor": "bottom"} if stacked else {}),
                                      "showarrow": False, "font": {"size": 12}})
        note = None
        if panel == 1 and (modes is False or recorded and panel not in shown):
            note = NO_MODES_NOTE  # (metrics recorded: none are still due)
        elif panel and due is not None:
            note = f"metrics appear at step {due}"
        if note:
            layout["annotations"].append({"text": note, "x": (lo + hi) / 2, "y": sum(ydomain) / 2,
                                          "xref": "paper", "yref": "paper", "showarrow": False,
                                          "font": {"size": 13, "color": "#666666"}})
        if marker_step is not None:
            layout["shapes"].append(step_marker(suffix, marker_step))
    layout["yaxis2"].update({"title": {"text": "modes", "standoff": 2}, "rangemode": "tozero",
                             **({"range": [0, total + 0.5], "dtick": max(1, int(total) // 4)} if total else {})})
    layout["yaxis4"] = {"overlaying": "y2", "side": "right", "range": [0, 105], "showgrid": False,
                        "tickmode": "linear", "tick0": 0, "dtick": 25,
                        "title": {"text": "% HQ", "standoff": 2}, "anchor": "x2"}
    return layout


def step_marker(axis: str, step: int) -> dict[str, Any]:
    """A dotted vertical line at `step` across the panel of x/y axis suffix `axis` ("" = first)."""
    return {"type": "line", "xref": "x" + axis, "yref": "y" + axis + " domain", "x0": step, "x1": step,
            "y0": 0, "y1": 1, "line": {"color": "grey", "dash": "dot", "width": 1}}


RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
# The latent lab's panels: (history key, chart title); a panel appears when some run records the key.
COMPARISON_CHARTS = (("d_loss", "D loss"), ("g_loss", "G loss"), ("modes_captured", "modes captured"),
                     ("hq_pct", "% high quality"), ("max_mode_mass", "mass on the biggest mode"),
                     ("kl", "KL on a grid (nats)"), ("js", "JS on a grid (bits)"),
                     ("w2", "2-Wasserstein to the data"), ("local_dim", "local dimension"),
                     ("eig1", "smallest covariance eigenvalue"))


def run_colour(i: int) -> str:
    """The colour of run i in every view of a comparison."""
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def comparison_panels(histories: Sequence[Sequence[dict]]) -> list[tuple[str, str]]:
    """The (history key, title) of `comparison_charts`' panels: those of COMPARISON_CHARTS
    that some run records ([] before the first logged row: nothing to chart yet)."""
    return [(key, title) for key, title in COMPARISON_CHARTS if any(key in r for h in histories for r in h)]


# The comparison's panels are laid out in pixels, so that titles and tick labels keep
# their room at any number of rows: a row is a title band, the plot and a band for the
# x tick labels; above the rows, the legend (4 runs to a line, 2 on a phone).
COMPARISON_TITLE_PX, COMPARISON_PLOT_PX, COMPARISON_TICKS_PX = 26, 130, 34
COMPARISON_LEGEND_LINE_PX = 24
_COMPARISON_MARGIN = {"l": 40, "r": 10, "t": 10, "b": 10}


COMPARISON_ROW_PX = COMPARISON_TITLE_PX + COMPARISON_PLOT_PX + COMPARISON_TICKS_PX


def _comparison_legend_px(runs: int, narrow: bool) -> int:
    """The height of the comparison's legend: 4 run names to a line (2 on a phone)."""
    return math.ceil(max(runs, 1) / (2 if narrow else 4)) * COMPARISON_LEGEND_LINE_PX + 6


def comparison_height(panels: int, runs: int, narrow: bool = False) -> int:
    """The height in pixels of `comparison_charts`' figure: `panels` panels 3 to a row (2
    on a phone), under a legend of `runs` names."""
    rows = max(1, math.ceil(panels / (2 if narrow else 3)))
    return (_comparison_legend_px(runs, narrow) + rows * COMPARISON_ROW_PX
            + _COMPARISON_MARGIN["t"] + _COMPARISON_MARGIN["b"])


def _comparison_grid(titles: Sequence[str], runs: int, narrow: bool) -> dict[str, Any]:
    """The layout entries of the comparison's panels: axes, titles, legend, height."""
    cols, per_line, gap = (2, 2, 0.14) if narrow else (3, 4, 0.07)
    height = comparison_height(len(titles), runs, narrow)
    area = height - _COMPARISON_MARGIN["t"] - _COMPARISON_MARGIN["b"]
    top, row = _comparison_legend_px(runs, narrow), COMPARISON_ROW_PX
    layout: dict[str, Any] = {
        "height": height, "margin": dict(_COMPARISON_MARGIN), "annotations": [],
        # "normal" order: Plotly's grouped legend (the default with legend groups) adds
        # gaps that wrap the names to one a line; a click still hides a run everywhere.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "top",
                   "traceorder": "normal", "entrywidth": 1 / per_line - 0.01, "entrywidthmode": "fraction"}}
    for p, title in enumerate(titles):
        ax = "" if p == 0 else str(p + 1)
        r, c = divmod(p, cols)
        x0, x1 = c / cols + gap / 2, (c + 1) / cols - gap / 2
        plot_top = top + r * row + COMPARISON_TITLE_PX
        y1 = 1 - plot_top / area
        y0 = 1 - (plot_top + COMPARISON_PLOT_PX) / area
        layout["xaxis" + ax] = {"domain": [x0, x1], "anchor": "y" + ax, "nticks": 4 if narrow else 6}
        layout["yaxis" + ax] = {"domain": [y0, y1], "anchor": "x" + ax, "nticks": 5}
        layout["annotations"].append({"text": title, "x": (x0 + x1) / 2, "y": 1 - (plot_top - 4) / area,
                                      "xanchor": "center", "yanchor": "bottom", "xref": "paper",
                                      "yref": "paper", "showarrow": False})
    return layout


def comparison_charts(histories: Sequence[Sequence[dict]], names: Sequence[str],
                      real: dict[str, float], marker: int | None) -> dict[str, Any]:
    """One panel per metric (`comparison_panels`; 3 to a row, 2 in a frame narrower than
    640 px, the figure's `narrow` entry), one line per run (in `run_colour`); the data's
    own local dimension / smallest eigenvalue (`real`) dashed; `marker` a dotted step.
    The figure's height is its layout's "height" (`comparison_height`)."""
    panels = comparison_panels(histories)
    titles = [title for _, title in panels]
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"uirevision": "lab-charts", "shapes": [],
                              **_comparison_grid(titles, len(names), narrow=False)}
    for p, (key, _) in enumerate(panels):
        ax = "" if p == 0 else str(p + 1)
        for i, (hist, name) in enumerate(zip(histories, names)):
            pts = [(row["step"], row[key]) for row in hist if key in row and math.isfinite(row[key])]
            if pts:
                xy = np.array(pts, dtype=np.float64)
                # a line of one point draws nothing: the first rows get markers
                data.append({"type": "scatter", "mode": "lines" if len(pts) > 2 else "lines+markers",
                             "name": name, "legendgroup": name,
                             "showlegend": p == 0, "x": encode(xy[:, 0]), "y": encode(xy[:, 1]),
                             "line": {"color": run_colour(i)}, "xaxis": "x" + ax, "yaxis": "y" + ax})
        if key in ("local_dim", "eig1") and key in real:  # the data's own value, dashed
            layout["shapes"].append({"type": "line", "xref": "x" + ax + " domain", "yref": "y" + ax,
                                     "x0": 0, "x1": 1, "y0": real[key], "y1": real[key],
                                     "line": {"color": "black", "dash": "dash", "width": 1}})
        if marker is not None:  # the history scrubber's step
            layout["shapes"].append(step_marker(ax, marker))
    narrow = _comparison_grid(titles, len(names), narrow=True)
    return {"data": data, "layout": layout, "narrow": {"below": NARROW_BELOW, "height": narrow["height"],
                                                     "layout": narrow}}


def eigenvalue_rows(histories: Sequence[Sequence[dict]], names: Sequence[str],
                    real: dict[str, float]) -> list[dict[str, Any]]:
    """The lab's table: covariance eigenvalues (eig1, eig2, ...) and local dimension of the
    data (`real`) and of each run's latest scored history row (runs not yet scored left out)."""
    eig_keys = sorted(k for k in real if k.startswith("eig"))
    rows = [{"run": "real data", **{k: real[k] for k in eig_keys}, "local_dim": real["local_dim"]}]
    for name, hist in zip(names, histories):
        scored = [r for r in hist if "js" in r]
        if scored:
            rows.append({"run": name, **{k: scored[-1].get(k) for k in eig_keys + ["local_dim"]}})
    return rows


def history_columns(rows: Sequence[dict[str, float]], keys: tuple[str, ...]) -> dict[str, list[float]]:
    """Columns for st.line_chart: "step" and each key (NaN where a row lacks it; rows with
    none of the keys left out)."""
    picked = [r for r in rows if any(k in r for k in keys)]
    cols = {"step": [r["step"] for r in picked]}
    for k in keys:
        cols[k] = [r.get(k, math.nan) for r in picked]
    return cols


def sketch_view(box: np.ndarray, points: np.ndarray | None, uirevision: str = "sketch") -> dict[str, Any]:
    """The drawing canvas: the drawn points on fixed axes (drag draws, click adds a point)."""
    pts = points if points is not None and len(points) else np.zeros((0, 2), dtype=np.float32)
    fig = view_2d(box, pts, None, title="drag to draw a stroke, click to add a blob of points",
                  uirevision=uirevision, webgl=False)
    fig["layout"]["dragmode"] = "drawopenpath"
    fig["config"] = {"modeBarButtonsToAdd": ["drawopenpath"]}
    return fig
