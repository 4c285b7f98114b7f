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
import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ganlab import probe
from ganlab.imageio import gif_bytes, grid_to_png_bytes, make_grid, resize_grid
from ganlab.runs import save_run
from ganlab.train import Trainer
from ui.history import gif_frames, spread_indices
from ui.render import SLIDE_SIZE, rasterise, slide, slides_gif, to_chw
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
    generator's), at most GIF_MAX_FRAMES spread evenly over the run. One view range
    (every frame's box, grown to hold every frame's points) and one colour scale for all
    frames, so that only the run moves."""
    if not frames:
        raise ValueError("no frames recorded yet")
    picked = [frames[i] for i in spread_indices(len(frames), GIF_MAX_FRAMES)]
    boxes = np.stack([grown_box(picked[0].box, [f.fake for f in picked]), *(f.box for f in picked)])
    box = np.stack([boxes[:, :, 0].min(axis=0), boxes[:, :, 1].max(axis=0)], axis=1)
    scale = None
    surfaces = [f.surface for f in picked if f.surface is not None]
    if show_surface and surfaces and kind != "probability":
        half = max(probe.surface_range(sf, kind)[1] for sf in surfaces)
        scale = (-half, half)
    return slides_gif([_slide_of(f, real, box, title, scale, kind, show_surface, size) for f in picked], fps)


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
def comparison_tiles(box: np.ndarray, real: np.ndarray, fakes: Sequence[np.ndarray], names: Sequence[str],
                     step: int, size: int) -> torch.Tensor:
    """One captioned (size x size) scatter per run, 4 per row -> uint8 (3, H, W)."""
    images = [to_chw(rasterise(box, real=real, fake=f, size=size, caption=f"{name} - step {step}"))
              for f, name in zip(fakes, names)]
    return make_grid(torch.stack(images), nrow=min(len(images), 4), padding=4, pad_value=255)


def comparison_png(runner: Runner[Any], capture: Callable[[Any], Sequence[np.ndarray]], box: np.ndarray,
                   real: np.ndarray, names: Sequence[str]) -> bytes:
    """PNG of every run's scatter now (`capture(model)`: one (N, D) fake array per run)."""
    with runner.hold() as model:
        return grid_to_png_bytes(comparison_tiles(box, real, capture(model), names, model.step_count, 360))


def comparison_gif(runner: Runner[Any], box: np.ndarray, real: np.ndarray, names: Sequence[str]) -> bytes:
    """GIF of the recorded frames (each a list of per-run fakes), at most 60."""
    return gif_bytes([comparison_tiles(box, real, fakes, names, step, 240)
                      for step, fakes in gif_frames(runner.frames(), 60)], fps=8.0)


def comparison_csv(runner: Runner[Any], names: Sequence[str]) -> str:
    """Every run's history rows in one CSV, with a "run" column naming the run."""
    with runner.hold() as model:
        return history_csv([{**row, "run": name} for name, h in zip(names, model.histories) for row in h])
