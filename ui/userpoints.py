"""The user's own points (uploaded or drawn) as a data set for a Trainer.

Uploads are checked by the engine's `load_points_file`, so the page shows the
engine's messages (wrong columns, NaN, empty, too big). The points reach the
trainer in memory, as the engine's `points_file` data set (`points_dataset`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ganlab.config import Config
from ganlab.data.toy import MIN_FILE_POINTS, load_points_file, points_dataset
from ganlab.errors import DataError
from ganlab.trainer import Trainer


def read_upload(name: str, data: bytes) -> np.ndarray:
    """An uploaded CSV / NPY -> float32 points (N, 2|3); DataError naming the problem."""
    safe = Path(name).name or "points.csv"
    # load_points_file reads a path, and tells CSV from NPY by the suffix.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        return load_points_file(path)


def toy_trainer(cfg: Config, points: np.ndarray | None) -> Trainer:
    """A Trainer for cfg; for data `points_file`, on `points` (N, 2|3) (DataError if too few)."""
    if cfg.data != "points_file":
        return Trainer(cfg)
    if points is None or len(points) < MIN_FILE_POINTS:
        have = 0 if points is None else len(points)
        raise DataError(f"{have} points so far; a data set needs at least {MIN_FILE_POINTS}: draw more "
                        "on the canvas (drag a stroke or click) or upload a CSV / NPY file")
    return Trainer(cfg, dataset=points_dataset(points))
