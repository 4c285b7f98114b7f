"""Downloadable files of a run: PNG of the view, GIF of the run, CSV of the metrics,
the checkpoint as a zip; for toy runs, side-by-side comparisons and image runs. Pictures are drawn by `ui.render` (numpy + Pillow), so no
browser is involved; each function returns the file's contents.

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
from ganlab.runs import save_run
from ganlab.imageio import gif_bytes, grid_to_png_bytes, make_grid, resize_grid
from ui.render import rasterise, to_chw
from ganlab.train import Trainer
from ui.history import gif_frames, spread_indices
from ui.runner import Runner

GIF_MAX_FRAMES = 120


def frame_image(frame: probe.Frame, real: np.ndarray, kind: str, size: int = 480) -> np.ndarray:
    """One Frame drawn as (size, size, 3) uint8, captioned with its step."""
    rng = probe.surface_range(frame.surface, kind) if frame.surface is not None else (0.0, 1.0)
    return rasterise(frame.box, real=real, fake=frame.fake, surface=frame.surface,
                     surface_range=rng, size=size, caption=f"step {frame.step}")


def png_bytes(frame: probe.Frame, real: np.ndarray, kind: str) -> bytes:
    return grid_to_png_bytes(to_chw(frame_image(frame, real, kind)))


def gif_of_run(frames: Sequence[probe.Frame], real: np.ndarray, kind: str, fps: float = 10.0,
               size: int = 360) -> bytes:
    """An animated GIF of recorded frames (fixed noise: the motion is the generator's),
    at most GIF_MAX_FRAMES frames spread evenly over the run."""
    if not frames:
        raise ValueError("no frames recorded yet")
    return gif_bytes([to_chw(frame_image(frames[i], real, kind, size))
                      for i in spread_indices(len(frames), GIF_MAX_FRAMES)], fps=fps)


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
def png_now(runner: Runner[Trainer], real: np.ndarray) -> bytes:
    """PNG of the run as it is now: D's surface, real and fixed-noise fake points."""
    with runner.hold() as trainer:
        frame, kind = probe.frame(trainer), probe.surface_kind(trainer.cfg.loss)
    return png_bytes(frame, real, kind)


def gif_recorded(runner: Runner[Trainer], real: np.ndarray) -> bytes:
    """GIF of the frames the runner recorded (its history scrubber's frames)."""
    with runner.hold() as trainer:
        kind = probe.surface_kind(trainer.cfg.loss)
        frames = [f for _, f in runner.frames()]
    return gif_of_run(frames, real, kind)


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
