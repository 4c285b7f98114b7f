"""Rasterise a 2-D view of a toy run (heat map + real + fake points) to an RGB array.

Exports (PNG of the view, GIF of a run) are drawn here with numpy and Pillow, so
they need no browser: `rasterise` (a bare square picture, thumbnails and the
latent lab's tiles) and `slide` (the playground's export: title, axes, legend,
colour bar, 1000 px and more). The picture
matches the live view: D's surface as a blue (fake-looking) to red (real-looking)
heat map, real points dark, fake points orange, y pointing up.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

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


# --- slides: the view with its title, axes, legend and colour bar ---------------------------
# A PNG / GIF for a lecture slide: 1600 x 1000 px by default (sharp on a projector,
# 16:10), every part sized in proportion to the picture. Drawn with Pillow, like the
# thumbnails above: no browser and no Plotly image exporter (kaleido) on the server.
SLIDE_SIZE = (1600, 1000)
TEXT_RGB = (20, 20, 20)
OUTSIDE_RGB = (236, 236, 236)  # the view beyond the box D's surface was computed over
LEGEND = (("real data", REAL_RGB), ("fake: G on fixed noise", FAKE_RGB))


@dataclass(frozen=True)
class SlideLayout:
    """Where the parts of a slide lie, each (left, top, right, bottom) in pixels."""

    size: tuple[int, int]
    title: tuple[int, int, int, int]
    plot: tuple[int, int, int, int]
    legend: tuple[int, int, int, int]
    colorbar: tuple[int, int, int, int] | None


@functools.lru_cache(maxsize=32)
def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's own scalable font (no system font needed) at `px` pixels."""
    return ImageFont.load_default(size=max(8, int(px)))


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values inside [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k, at most `most`."""
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return [float(lo)]
    raw = span / max(most - 1, 1)
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = np.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    return [float(t) for t in np.round(ticks / step) * step][:most + 1]


def _tick_text(value: float, ticks: list[float]) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, int(-np.floor(np.log10(step))) + (1 if step / 10 ** np.floor(np.log10(step)) == 2.5 else 0))
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0"


def slide_layout(view_range: np.ndarray, size: tuple[int, int] = SLIDE_SIZE,
                 colorbar: bool = True) -> SlideLayout:
    """The layout of a slide of `view_range` (D, 2): a plot area of equal x / y
    scales as large as fits, the title above it, the legend and colour bar right of it."""
    w, h = size
    s = min(w / 1600, h / 1000)
    xspan = float(view_range[0, 1] - view_range[0, 0])
    yspan = float(view_range[1, 1] - view_range[1, 0])
    left, top, bottom, right_col = int(130 * s), int(100 * s), int(100 * s), int(400 * s)
    avail_w, avail_h = w - left - right_col, h - top - bottom
    ppu = min(avail_w / xspan, avail_h / yspan)  # pixels per data unit, the same on both axes
    pw, ph = int(xspan * ppu), int(yspan * ppu)
    px0 = left + (avail_w - pw) // 2
    py0 = top + (avail_h - ph) // 2
    plot = (px0, py0, px0 + pw, py0 + ph)
    col0 = plot[2] + int(60 * s)
    legend = (col0, py0, w - int(20 * s), py0 + int(40 * s) + len(LEGEND) * int(46 * s))
    bar = None
    if colorbar:
        bar_top = legend[3] + int(150 * s)
        bar = (col0, bar_top, col0 + int(36 * s), max(bar_top + int(120 * s), plot[3]))
    return SlideLayout(size=(w, h), title=(0, 0, w, top), plot=plot, legend=legend, colorbar=bar)


def _disks(img: np.ndarray, rows: np.ndarray, cols: np.ndarray, rgb: tuple[int, int, int],
           radius: int) -> None:
    """Paint a filled disk of `radius` pixels at each (row, col), clipped to the image."""
    h, w = img.shape[:2]
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            if dr * dr + dc * dc > radius * radius + radius:
                continue
            r, c = rows + dr, cols + dc
            ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            img[r[ok], c[ok]] = rgb


def _plot_pixels(img: np.ndarray, view_range: np.ndarray, real: np.ndarray | None, fake: np.ndarray | None,
                 surface: np.ndarray | None, surface_box: np.ndarray | None,
                 surface_range: tuple[float, float], dot: int) -> None:
    """The inside of the plot area (img: (ph, pw, 3), view_range's first two axes, y up)."""
    ph, pw = img.shape[:2]
    x0, x1 = float(view_range[0, 0]), float(view_range[0, 1])
    y0, y1 = float(view_range[1, 0]), float(view_range[1, 1])
    img[:] = BACKGROUND_RGB
    if surface is not None and surface_box is not None:
        img[:] = OUTSIDE_RGB
        res_y, res_x = surface.shape
        xs = x0 + (np.arange(pw) + 0.5) * (x1 - x0) / pw
        ys = y1 - (np.arange(ph) + 0.5) * (y1 - y0) / ph
        # Cells centred on the surface's grid points, as the live heat map draws them.
        dx = (surface_box[0, 1] - surface_box[0, 0]) / max(res_x - 1, 1)
        dy = (surface_box[1, 1] - surface_box[1, 0]) / max(res_y - 1, 1)
        kx = np.round((xs - surface_box[0, 0]) / dx).astype(np.int64)
        ky = np.round((ys - surface_box[1, 0]) / dy).astype(np.int64)
        okx, oky = (kx >= 0) & (kx < res_x), (ky >= 0) & (ky < res_y)
        colours = colormap(np.asarray(surface), *surface_range)  # per cell, then spread over pixels
        cells = colours[np.clip(ky, 0, res_y - 1)][:, np.clip(kx, 0, res_x - 1)]
        inside = oky[:, None] & okx[None, :]
        img[inside] = cells[inside]
    for pts, rgb in ((real, REAL_RGB), (fake, FAKE_RGB)):
        if pts is None or not len(pts):
            continue
        p = np.asarray(pts, dtype=np.float64)[:, :2]
        p = p[np.isfinite(p).all(axis=1)]
        cols = np.floor((p[:, 0] - x0) / (x1 - x0) * pw).astype(np.int64)
        rows = np.floor((y1 - p[:, 1]) / (y1 - y0) * ph).astype(np.int64)
        _disks(img, rows, cols, rgb, dot)


def slide(view_range: np.ndarray, real: np.ndarray | None, fake: np.ndarray | None, *,
          surface: np.ndarray | None = None, surface_box: np.ndarray | None = None,
          surface_range: tuple[float, float] = (0.0, 1.0), surface_title: str = "D's P(real)",
          title: str = "", axis_names: tuple[str, str] = ("x", "y"),
          size: tuple[int, int] = SLIDE_SIZE) -> np.ndarray:
    """The view as a slide -> uint8 RGB (H, W, 3): title, equal-scale axes with ticks
    and names, D's heat map (over `surface_box`, (D, 2)) behind real (dark) and fake
    (orange) points, a legend and, with a surface, a colour bar of `surface_range`
    titled `surface_title` (red: real-looking, blue: fake-looking).

    view_range: (D, 2) the axes' ranges (the first two axes are drawn).
    """
    view_range = np.asarray(view_range, dtype=np.float64)
    lay = slide_layout(view_range, size, colorbar=surface is not None)
    w, h = lay.size
    s = min(w / 1600, h / 1000)
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = BACKGROUND_RGB
    l, t, r, b = lay.plot
    _plot_pixels(img[t:b, l:r], view_range, real, fake, surface,
                 None if surface_box is None else np.asarray(surface_box, dtype=np.float64),
                 surface_range, dot=max(2, round(3 * s)))
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    line = max(1, round(2 * s))
    tick_font, label_font = _font(24 * s), _font(30 * s)
    draw.rectangle([l - line, t - line, r + line - 1, b + line - 1], outline=TEXT_RGB, width=line)
    # Ticks and their values, x below the plot, y left of it.
    for axis in (0, 1):
        lo, hi = float(view_range[axis, 0]), float(view_range[axis, 1])
        ticks = nice_ticks(lo, hi)
        for v in ticks:
            text = _tick_text(v, ticks)
            if axis == 0:
                x = l + (v - lo) / (hi - lo) * (r - l)
                draw.line([x, b, x, b + 10 * s], fill=TEXT_RGB, width=line)
                draw.text((x, b + 14 * s), text, fill=TEXT_RGB, font=tick_font, anchor="mt")
            else:
                y = b - (v - lo) / (hi - lo) * (b - t)
                draw.line([l - 10 * s, y, l, y], fill=TEXT_RGB, width=line)
                draw.text((l - 14 * s, y), text, fill=TEXT_RGB, font=tick_font, anchor="rm")
    draw.text(((l + r) / 2, b + 50 * s), axis_names[0], fill=TEXT_RGB, font=label_font, anchor="mt")
    draw.text((l - 100 * s, (t + b) / 2), axis_names[1], fill=TEXT_RGB, font=label_font, anchor="mm")
    if title:
        draw.text((w / 2, lay.title[3] / 2), title, fill=TEXT_RGB, font=_font(44 * s), anchor="mm")
    # The legend: a marker and a name per kind of point.
    lx0, ly0, lx1, ly1 = lay.legend
    draw.rectangle([lx0, ly0, lx1, ly1], outline=(190, 190, 190), width=line)
    for i, (name, rgb) in enumerate(LEGEND):
        cy = ly0 + 20 * s + (i + 0.5) * 46 * s
        rad = 10 * s
        draw.ellipse([lx0 + 20 * s, cy - rad, lx0 + 20 * s + 2 * rad, cy + rad], fill=rgb)
        draw.text((lx0 + 56 * s, cy), name, fill=TEXT_RGB, font=_font(26 * s), anchor="lm")
    if lay.colorbar is not None:
        bx0, by0, bx1, by1 = lay.colorbar
        lo, hi = surface_range
        grad = colormap(np.linspace(hi, lo, by1 - by0), lo, hi)  # top = high = red
        pil.paste(Image.fromarray(np.repeat(grad[:, None, :], bx1 - bx0, axis=1)), (bx0, by0))
        draw.rectangle([bx0, by0, bx1, by1], outline=TEXT_RGB, width=line)
        ticks = nice_ticks(lo, hi, 5)
        for v in ticks:
            y = by1 - (v - lo) / (hi - lo) * (by1 - by0)
            draw.line([bx1, y, bx1 + 8 * s, y], fill=TEXT_RGB, width=line)
            draw.text((bx1 + 12 * s, y), _tick_text(v, ticks), fill=TEXT_RGB, font=tick_font, anchor="lm")
        draw.text((bx0, by0 - 100 * s), surface_title, fill=TEXT_RGB, font=_font(28 * s), anchor="lt")
        draw.text((bx0, by0 - 62 * s), "red: real-looking", fill=(178, 24, 43), font=_font(22 * s), anchor="lt")
        draw.text((bx0, by0 - 34 * s), "blue: fake-looking", fill=(33, 102, 172), font=_font(22 * s),
                  anchor="lt")
    return np.asarray(pil).copy()


@functools.lru_cache(maxsize=1)
def _slide_palette() -> Image.Image:
    """One 256-colour palette for every GIF slide: the heat map's colour ramp, greys
    (text and its anti-aliased edges) and the points' and labels' colours. Fixed, it
    maps a 1600 x 1000 frame in milliseconds, where a palette chosen per frame takes
    ~0.1 s, and the colours do not flicker between frames."""
    ramp = colormap(np.linspace(0.0, 1.0, 180), 0.0, 1.0)
    greys = np.repeat(np.linspace(0, 255, 64).round()[:, None], 3, axis=1)
    extra = [REAL_RGB, FAKE_RGB, OUTSIDE_RGB, BACKGROUND_RGB, (178, 24, 43), (33, 102, 172), (190, 190, 190)]
    colours = np.concatenate([ramp, greys, np.array(extra)]).astype(np.uint8)[:256]
    flat = colours.flatten().tolist()
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


def slides_gif(images: list[np.ndarray], fps: float = 8.0, loop: int = 0) -> bytes:
    """Slides (H, W, 3) uint8 of one size -> an animated GIF's bytes, on one fixed palette."""
    if not images:
        raise ValueError("a GIF needs at least one frame")
    frames = [Image.fromarray(im).quantize(palette=_slide_palette(), dither=Image.Dither.NONE) for im in images]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=max(10, round(100.0 / fps) * 10), loop=loop)
    return buf.getvalue()
