"""The user's own points (uploaded or drawn) as a data set for a Trainer.

Uploads are checked by the engine's `load_points_file`, so the page shows the
engine's messages (wrong columns, NaN, empty, too big); the points reach the
trainer through the engine's `points_file` data set. Both read a file, so the
points are written to a temporary file that is gone once the trainer is built.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ganlab.config import Config
from ganlab.data.toy import MIN_FILE_POINTS, load_points_file
from ganlab.errors import DataError
from ganlab.train import Trainer


def read_upload(name: str, data: bytes) -> np.ndarray:
    """An uploaded CSV / NPY -> float32 points (N, 2|3); DataError naming the problem."""
    safe = Path(name).name or "points.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        return load_points_file(path)


def build_trainer(cfg: Config, points: np.ndarray | None) -> Trainer:
    """A Trainer for cfg; for data `points_file`, on `points` (N, 2|3)."""
    if cfg.data != "points_file":
        return Trainer(cfg)
    if points is None or len(points) < MIN_FILE_POINTS:
        have = 0 if points is None else len(points)
        raise DataError(f"{have} points so far; a data set needs at least {MIN_FILE_POINTS}: draw more "
                        "on the canvas (drag a stroke or click) or upload a CSV / NPY file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.npy"
        np.save(path, np.asarray(points, dtype=np.float32))
        return Trainer(cfg.replace(data_path=str(path)))
