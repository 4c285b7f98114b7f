"""Downloadable files of a run: PNG of the view, GIF of the run, CSV of the metrics,
the checkpoint as a zip; for toy runs, side-by-side comparisons and image runs.
Pictures are drawn by `ui.render` (numpy + Pillow), so no browser (and no Plotly
image exporter) is involved: the playground's PNG and GIF are slides (title, axes,
legend, colour bar, 1600 x 1000 px). Each function returns the file's contents.

The `*_now` / `gif_recorded` functions read a live run through its `Runner`, holding
training for a consistent snapshot (download buttons call them in another thread).
"""
from __future__ import annotations

import csv
import functools
import io
import math
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ganlab import probe
from ganlab.imageio import gif_bytes, grid_to_png_bytes, resize_grid
from ganlab.runs import save_run
from ganlab.train import Trainer
from ui.history import gif_frames, spread_indices
from ui.render import BACKGROUND_RGB, LEGEND, SLIDE_SIZE, nice_ticks, rasterise, slide, slides_gif, to_chw
from ui.runner import Runner
from ui.viewrange import ViewRange, grown_box

# The playground's PNG and GIF are slides (`ui.render.slide`): 1600 x 1000 px with a
# title, axes, legend and colour bar. A GIF keeps at most GIF_MAX_FRAMES of them.
GIF_MAX_FRAMES = 60
GIF_FPS = 8.0


def slide_title(data: str, loss: str) -> str:
    """The start of an export's title, e.g. "ring8 · ns loss" (the step is added per frame)."""
    return f"{'your points' if data == 'points_file' else data} · {loss} loss"


def _slide_of(frame: probe.Frame, real: np.ndarray, view_range: np.ndarray, title: str,
              surface_range: tuple[float, float] | None, kind: str, show_surface: bool,
              size: tuple[int, int]) -> np.ndarray:
    surface = frame.surface if show_surface else None
    rng = surface_range or (probe.surface_range(surface, kind) if surface is not None else (0.0, 1.0))
    words = "D's P(real)" if kind == "probability" else "D's score"
    three_d = frame.box.shape[0] > 2
    head = f"{title} · step {frame.step}" if title else f"step {frame.step}"
    return slide(view_range, real, frame.fake, surface=surface, surface_box=frame.box, surface_range=rng,
                 surface_title=words + (" (slice at mid z)" if three_d else ""), title=head,
                 axis_names=("x", "y"), size=size)


def png_bytes(frame: probe.Frame, real: np.ndarray, kind: str, *, view_range: np.ndarray | None = None,
              title: str = "", show_surface: bool = True, size: tuple[int, int] = SLIDE_SIZE) -> bytes:
    """A PNG slide of one Frame (`ui.render.slide`) over `view_range` (default the frame's box)."""
    box = frame.box if view_range is None else view_range
    image = _slide_of(frame, real, box, title, None, kind, show_surface, size)
    return grid_to_png_bytes(to_chw(image))


def gif_of_run(frames: Sequence[probe.Frame], real: np.ndarray, kind: str, fps: float = GIF_FPS, *,
               title: str = "", show_surface: bool = True, size: tuple[int, int] = SLIDE_SIZE) -> bytes:
    """An animated GIF of recorded frames as slides (fixed noise: the motion is the
    generator's), at most GIF_MAX_FRAMES spread evenly over the run. One colour scale for
    all frames, and axes that only grow (`gif_axes`): a frame is drawn on the box its D
    surface was recorded over, so the heat map covers every frame's plot."""
    if not frames:
        raise ValueError("no frames recorded yet")
    picked = [frames[i] for i in spread_indices(len(frames), GIF_MAX_FRAMES)]
    scale = None
    surfaces = [f.surface for f in picked if f.surface is not None]
    if show_surface and surfaces and kind != "probability":
        half = max(probe.surface_range(sf, kind)[1] for sf in surfaces)
        scale = (-half, half)
    return slides_gif([_slide_of(f, real, box, title, scale, kind, show_surface, size)
                       for f, box in zip(picked, gif_axes(picked))], fps)


def gif_axes(frames: Sequence[probe.Frame]) -> list[np.ndarray]:
    """The (D, 2) axes of each frame of a GIF: every box so far (each frame's, grown to hold
    its points), so the axes never shrink and the view zooms out only when the points
    wandered further. Frames of `ui.history.PointsRecorder` are recorded on such boxes:
    each is drawn on its own, all of it under D's colours (a single box for the whole
    GIF left the early frames' heat map a patch in the middle)."""
    axes, lo, hi = [], None, None
    for f in frames:
        box = grown_box(f.box, [f.fake])
        lo = box[:, 0] if lo is None else np.minimum(lo, box[:, 0])
        hi = box[:, 1] if hi is None else np.maximum(hi, box[:, 1])
        axes.append(np.stack([lo, hi], axis=1))
    return axes


def history_csv(rows: Sequence[dict[str, float]]) -> str:
    """History rows -> CSV text, one column per key seen (step first), blanks where absent."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    seen = list(keys)
    keys.sort(key=lambda k: (k != "step", k != "time", seen.index(k)))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def checkpoint_zip(trainer: Trainer, points: np.ndarray | None = None) -> bytes:
    """The run directory (`ganlab.runs.save_run`) zipped in memory.

    User points go in as points.npy and config.json's data_path names it
    (relative: resume from inside the unzipped folder).
    """
    with tempfile.TemporaryDirectory() as tmp:
        run = save_run(trainer, Path(tmp) / "run")
        if points is not None:
            np.save(run / "points.npy", points)
            trainer.cfg.replace(data_path="points.npy").save(run / "config.json")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(run.iterdir()):
                zf.write(f, f"run/{f.name}")
        return buf.getvalue()


# --- from a live run ---------------------------------------------------------------------
def png_now(runner: Runner[Trainer], real: np.ndarray, view: ViewRange | None = None, *, title: str = "",
            show_surface: bool = True, ema: bool = False) -> bytes:
    """A PNG slide of the run as it is now: D's surface (over the whole view), real
    and fixed-noise fake points, on the live view's axes (`view`, followed to the
    points now; default the data's box)."""
    with runner.hold() as trainer:
        fake = probe.fake_points(trainer, ema=ema)
        box = None if view is None else view.copy().follow(fake)
        frame, kind = probe.frame(trainer, ema=ema, box=box, fake=fake), probe.surface_kind(trainer.cfg.loss)
    return png_bytes(frame, real, kind, title=title, show_surface=show_surface)


def gif_recorded(runner: Runner[Trainer], real: np.ndarray, *, title: str = "",
                 show_surface: bool = True) -> bytes:
    """A GIF of slides of the frames the runner recorded (its history scrubber's frames)."""
    with runner.hold() as trainer:
        kind = probe.surface_kind(trainer.cfg.loss)
        frames = [f for _, f in runner.frames()]
    return gif_of_run(frames, real, kind, title=title, show_surface=show_surface)


def csv_now(runner: Runner[Trainer]) -> str:
    with runner.hold() as trainer:
        return history_csv(list(trainer.history))


def checkpoint_now(runner: Runner[Trainer], points: np.ndarray | None = None) -> bytes:
    with runner.hold() as trainer:
        return checkpoint_zip(trainer, points)


# --- an image run: the progress grid ---------------------------------------------------------
def grid_png_now(runner: Runner[Any], capture: Callable[[Any], torch.Tensor], side: int | None = None) -> bytes:
    """PNG of `capture(model)` (a uint8 (C, H, W) grid) as the run is now; with `side`, its longer
    side enlarged (nearest neighbour, crisp) or shrunk to exactly that many pixels
    (`ganlab.imageio.resize_grid`; ConfigError outside 16..4096)."""
    with runner.hold() as model:
        grid = capture(model)
    # Resized and encoded off the run's lock: a 2048 px PNG takes a moment, training need not wait.
    return grid_to_png_bytes(grid if side is None else resize_grid(grid, side))


def grids_gif(runner: Runner[Any], most: int = 60, fps: float = 8.0) -> bytes:
    """GIF of the grids the runner recorded, at most `most` spread over the run."""
    return gif_bytes([grid for _, grid in gif_frames(runner.frames(), most)], fps=fps)


# --- side-by-side toy runs (the latent lab) ---------------------------------------------------
# The comparison's PNG and GIF are slides: COMPARISON_WIDTH px wide, a title with the
# step, one legend, then per run its name and its scatter (equal scales, ticked axes),
# up to COMPARISON_PER_ROW runs a row. Text is sized as on the playground's slide, so it
# reads when projected. Every length below is in pixels at 1600 px wide, scaled with it.
COMPARISON_WIDTH = 1600
COMPARISON_PER_ROW = 4
_MARGIN, _TILE_GAP, _TICK_COLUMN, _LARGEST_PLOT = 30, 24, 64, 560
_TITLE_H, _LEGEND_H, _CAPTION_H, _TICK_ROW_H, _ROW_GAP, _BOTTOM = 84, 56, 52, 44, 16, 16
_TITLE_PX, _LEGEND_PX, _CAPTION_PX, _TICK_PX = 40, 26, 30, 22
_TEXT_RGB = (20, 20, 20)


@functools.lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, int(px)))


def _comparison_geometry(k: int, width: int) -> tuple[int, int, float, int, int]:
    """(columns, rows, scale, tile width, plot side) of the slide of k runs."""
    s = width / COMPARISON_WIDTH
    cols = max(1, min(k, COMPARISON_PER_ROW))
    rows = max(1, math.ceil(k / cols))
    tile = (width - 2 * round(_MARGIN * s) - (cols - 1) * round(_TILE_GAP * s)) // cols
    plot = min(tile - round(_TICK_COLUMN * s), round(_LARGEST_PLOT * s))
    return cols, rows, s, tile, plot


def comparison_slide_size(k: int, width: int = COMPARISON_WIDTH) -> tuple[int, int]:
    """(width, height) in pixels of the comparison slide of k runs."""
    _, rows, s, _, plot = _comparison_geometry(k, width)
    row_h = round(_CAPTION_H * s) + plot + round(_TICK_ROW_H * s)
    return width, (round(_TITLE_H * s) + round(_LEGEND_H * s) + rows * row_h
                   + (rows - 1) * round(_ROW_GAP * s) + round(_BOTTOM * s))


def _square(box: np.ndarray) -> np.ndarray:
    """The (2, 2) square around the centre of `box`'s first two axes that holds both:
    a square tile then shows x and y at one scale."""
    box = np.asarray(box, dtype=np.float64)[:2]
    centre = box.mean(axis=1)
    half = float(np.max(box[:, 1] - box[:, 0])) / 2
    return np.stack([centre - half, centre + half], axis=1)


def _fitted_text(draw: ImageDraw.ImageDraw, text: str, px: int, room: float) -> ImageFont.ImageFont:
    """The font of `px` pixels, smaller (down to 60%) while `text` is wider than `room`."""
    size = px
    while size > 0.6 * px and draw.textlength(text, font=_font(size)) > room:
        size -= 1
    return _font(size)


def comparison_slide(box: np.ndarray, real: np.ndarray, fakes: Sequence[np.ndarray], names: Sequence[str],
                     step: int, title: str = "", width: int = COMPARISON_WIDTH) -> np.ndarray:
    """Every run's scatter (real dark, fake orange, over `box`'s first two axes) on one
    slide -> uint8 RGB (H, W, 3) of `comparison_slide_size(len(fakes), width)`: the
    title ("<title> · step N"), a legend, and per run its name above its scatter."""
    w, h = comparison_slide_size(len(fakes), width)
    cols, _, s, tile, plot = _comparison_geometry(len(fakes), width)
    view = _square(box)
    pil = Image.new("RGB", (w, h), BACKGROUND_RGB)
    draw = ImageDraw.Draw(pil)
    line = max(1, round(2 * s))
    head = f"{title} · step {step}" if title else f"step {step}"
    draw.text((w / 2, _TITLE_H * s / 2), head, fill=_TEXT_RGB, anchor="mm",
              font=_fitted_text(draw, head, round(_TITLE_PX * s), w - 2 * _MARGIN * s))
    # The legend, centred under the title; 3-D data is named as drawn from two axes.
    items = list(LEGEND) + ([("3-D data: drawn on its first two axes", None)] if np.asarray(box).shape[0] > 2 else [])
    font, rad, gap = _font(round(_LEGEND_PX * s)), 10 * s, 44 * s
    widths = [(2 * rad + 10 * s if rgb else 0) + draw.textlength(name, font=font) for name, rgb in items]
    x, cy = (w - sum(widths) - gap * (len(items) - 1)) / 2, (_TITLE_H + _LEGEND_H / 2) * s
    for (name, rgb), item_w in zip(items, widths):
        if rgb:
            draw.ellipse([x, cy - rad, x + 2 * rad, cy + rad], fill=rgb)
        draw.text((x + item_w, cy), name, fill=_TEXT_RGB, font=font, anchor="rm")
        x += item_w + gap
    tick_font = _font(round(_TICK_PX * s))
    top = round(_TITLE_H * s) + round(_LEGEND_H * s)
    row_h = round(_CAPTION_H * s) + plot + round(_TICK_ROW_H * s) + round(_ROW_GAP * s)
    tick_column = round(_TICK_COLUMN * s)
    for i, (fake, name) in enumerate(zip(fakes, names)):
        r, c = divmod(i, cols)
        left = round(_MARGIN * s) + c * (tile + round(_TILE_GAP * s)) + (tile - tick_column - plot) // 2 + tick_column
        upper = top + r * row_h + round(_CAPTION_H * s)
        draw.text((left + plot / 2, upper - 10 * s), name, fill=_TEXT_RGB, anchor="mb",
                  font=_fitted_text(draw, name, round(_CAPTION_PX * s), tile))
        pil.paste(Image.fromarray(rasterise(view, real=real, fake=fake, size=plot, dot=max(1, round(plot / 200)))),
                  (left, upper))
        draw.rectangle([left - line, upper - line, left + plot + line - 1, upper + plot + line - 1],
                       outline=_TEXT_RGB, width=line)
        for axis in (0, 1):
            lo, hi = float(view[axis, 0]), float(view[axis, 1])
            for v in nice_ticks(lo, hi, 5):
                frac = (v - lo) / (hi - lo)
                if axis == 0:
                    x = left + frac * plot
                    draw.line([x, upper + plot, x, upper + plot + 8 * s], fill=_TEXT_RGB, width=line)
                    draw.text((x, upper + plot + 10 * s), f"{v:g}", fill=_TEXT_RGB, font=tick_font, anchor="mt")
                else:
                    y = upper + plot - frac * plot
                    draw.line([left - 8 * s, y, left, y], fill=_TEXT_RGB, width=line)
                    draw.text((left - 10 * s, y), f"{v:g}", fill=_TEXT_RGB, font=tick_font, anchor="rm")
    return np.asarray(pil).copy()


def comparison_png(runner: Runner[Any], capture: Callable[[Any], Sequence[np.ndarray]], box: np.ndarray,
                   real: np.ndarray, names: Sequence[str], title: str = "") -> bytes:
    """PNG slide (`comparison_slide`) of every run's scatter now (`capture(model)`: one
    (N, D) fake array per run)."""
    with runner.hold() as model:
        fakes, step = capture(model), model.step_count
    # Drawn off the run's lock: training need not wait for the picture.
    return grid_to_png_bytes(to_chw(comparison_slide(box, real, fakes, names, step, title)))


def comparison_gif(runner: Runner[Any], box: np.ndarray, real: np.ndarray, names: Sequence[str],
                   title: str = "") -> bytes:
    """GIF of the recorded frames (each a list of per-run fakes) as comparison slides, at most 60."""
    return slides_gif([comparison_slide(box, real, fakes, names, step, title)
                       for step, fakes in gif_frames(runner.frames(), 60)], fps=8.0)


def comparison_csv(runner: Runner[Any], names: Sequence[str]) -> str:
    """Every run's history rows in one CSV, with a "run" column naming the run."""
    with runner.hold() as model:
        return history_csv([{**row, "run": name} for name, h in zip(names, model.histories) for row in h])
