"""Drawn strokes -> a 2-D point set (the "draw your own data" canvas of the playground).

A stroke is a list of [x, y] vertices in data coordinates (from `ui.live_plot`'s
draw mode). A stroke of one vertex (a click) becomes a small Gaussian blob; a
longer stroke gets points spaced evenly along its length. Every point gets a
little Gaussian noise so that the set has area, and everything is drawn from
one seed: the same strokes always give the same points.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

SPACING = 0.02        # distance between points along a stroke (data units)
NOISE = 0.02          # std of the noise added to every point
BLOB_POINTS = 40      # points per click
BLOB_STD = 0.05
MAX_POINTS = 20000


def stroke_points(strokes: Sequence[Sequence[Sequence[float]]], seed: int = 0, spacing: float = SPACING,
                  noise: float = NOISE) -> np.ndarray:
    """Strokes -> float32 points (N, 2), at most MAX_POINTS; (0, 2) for no strokes."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for stroke in strokes:
        v = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        v = v[np.isfinite(v).all(axis=1)]
        if len(v) == 0:
            continue
        if len(v) == 1:
            out.append(v[0] + rng.normal(0.0, BLOB_STD, size=(BLOB_POINTS, 2)))
            continue
        seg = np.linalg.norm(np.diff(v, axis=0), axis=1)
        at = np.concatenate([[0.0], np.cumsum(seg)])
        n = max(2, int(at[-1] / spacing) + 1)
        s = np.linspace(0.0, at[-1], n)
        pts = np.stack([np.interp(s, at, v[:, 0]), np.interp(s, at, v[:, 1])], axis=1)
        out.append(pts + rng.normal(0.0, noise, size=pts.shape))
    if not out:
        return np.zeros((0, 2), dtype=np.float32)
    return np.concatenate(out)[:MAX_POINTS].astype(np.float32)
