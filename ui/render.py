"""Rasterise a 2-D view of a toy run (heat map + real + fake points) to an RGB array.

Exports (PNG of the view, GIF of a run) are drawn here with numpy and Pillow, so
they need no browser. The picture
matches the live view: D's surface as a blue (fake-looking) to red (real-looking)
heat map, real points dark, fake points orange, y pointing up.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

# Diverging colour map anchors (low -> high), close to Plotly's "RdBu" reversed.
_ANCHORS = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247],
                     [244, 165, 130], [178, 24, 43]], dtype=np.float64)
REAL_RGB = (20, 20, 20)
FAKE_RGB = (255, 127, 14)
BACKGROUND_RGB = (255, 255, 255)


def colormap(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """values (...) -> uint8 RGB (..., 3) on the diverging map over [lo, hi]; NaN -> grey."""
    t = (np.asarray(values, dtype=np.float64) - lo) / max(hi - lo, 1e-12)
    bad = ~np.isfinite(t)
    t = np.clip(np.nan_to_num(t), 0.0, 1.0) * (len(_ANCHORS) - 1)
    i = np.minimum(t.astype(np.int64), len(_ANCHORS) - 2)
    frac = (t - i)[..., None]
    rgb = _ANCHORS[i] * (1 - frac) + _ANCHORS[i + 1] * frac
    rgb[bad] = 128
    return rgb.round().astype(np.uint8)


def _pixels(points: np.ndarray, box: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, >=2) data points -> integer (rows, cols) inside a size x size image (y up)."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    p = p[np.isfinite(p).all(axis=1)]
    u = (p[:, 0] - box[0, 0]) / (box[0, 1] - box[0, 0])
    v = (p[:, 1] - box[1, 0]) / (box[1, 1] - box[1, 0])
    cols = np.floor(u * size).astype(np.int64)
    rows = np.floor((1.0 - v) * size).astype(np.int64)
    keep = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    return rows[keep], cols[keep]


def _dots(img: np.ndarray, rows: np.ndarray, cols: np.ndarray, rgb: tuple[int, int, int],
          radius: int) -> None:
    """Paint a (2 radius + 1)^2 square at each pixel, clipped to the image."""
    size = img.shape[0]
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            r, c = rows + dr, cols + dc
            ok = (r >= 0) & (r < size) & (c >= 0) & (c < size)
            img[r[ok], c[ok]] = rgb


def rasterise(box: np.ndarray, real: np.ndarray | None = None, fake: np.ndarray | None = None,
              surface: np.ndarray | None = None, surface_range: tuple[float, float] = (0.0, 1.0),
              size: int = 480, caption: str = "", dot: int = 1) -> np.ndarray:
    """A square picture of the view box -> uint8 RGB array (size, size, 3).

    box: (D, 2) min/max per axis (the first two axes are drawn).
    real, fake: (N, D) points; surface: (res, res) values over the box, rows = y
    (bottom row first, as `probe.d_surface` returns), coloured over surface_range.
    caption: text drawn in the top-left corner (e.g. "step 1200").
    """
    box = np.asarray(box, dtype=np.float64)
    if surface is not None:
        s = np.asarray(surface)
        # Nearest-neighbour upsampling: each cell becomes a block of pixels.
        idx = np.minimum((np.arange(size) * s.shape[0]) // size, s.shape[0] - 1)
        jdx = np.minimum((np.arange(size) * s.shape[1]) // size, s.shape[1] - 1)
        img = colormap(s[::-1][idx][:, jdx], *surface_range)
    else:
        img = np.empty((size, size, 3), dtype=np.uint8)
        img[:] = BACKGROUND_RGB
    for pts, rgb in ((real, REAL_RGB), (fake, FAKE_RGB)):
        if pts is not None and len(pts):
            _dots(img, *_pixels(pts, box, size), rgb, dot)
    if caption:
        pil = Image.fromarray(img)
        ImageDraw.Draw(pil).text((6, 4), caption, fill=(0, 0, 0))
        img = np.asarray(pil).copy()
    return img


def to_chw(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 array -> (3, H, W) uint8 tensor, the layout of `ganlab.imageio`."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
