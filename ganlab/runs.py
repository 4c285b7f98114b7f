"""Run folders (TEMPORARY copy from ganlab/studio.py in the issue11-ui branch: the lead's
ganlab/runs.py replaces this file on merge).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganlab.checkpoint import read_config, read_history, save_run
from ganlab.config import Config
from ganlab.errors import CheckpointError

if TYPE_CHECKING:
    from ganlab.trainer import Trainer

IMAGE_DATA = ("mnist", "fashion_mnist", "image_folder")
RUNS_ENV = "GANLAB_RUNS"


# --- runs on disk ----------------------------------------------------------------------
def runs_root() -> Path:
    """Where the studio keeps runs: $GANLAB_RUNS, default runs/ under the current directory."""
    return Path(os.environ.get(RUNS_ENV) or "runs")


@dataclass
class RunSummary:
    """One run folder: its settings and the latest value of each metric it recorded."""

    name: str
    path: Path
    data: str
    model: str
    steps: int
    latest: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        keys = ("d_loss", "g_loss", "fd", "score", "classes_covered", "cond_acc")
        return {"run": self.name, "data": self.data, "model": self.model, "steps": self.steps,
                **{k: self.latest.get(k) for k in keys}}


def _step_of(run: Path, history: list[dict[str, float]]) -> int:
    try:
        return int(json.loads((run / "state.json").read_text(encoding="utf-8"))["step"])
    except (OSError, ValueError, KeyError):
        return int(history[-1]["step"]) if history else 0


def list_runs(root: Path | None = None) -> list[RunSummary]:
    """Image runs under root (page or CLI made), newest first; folders that are not runs are skipped."""
    root = root if root is not None else runs_root()
    if not root.is_dir():
        return []
    found = []
    for run in root.iterdir():
        if not (run / "config.json").is_file() or not (run / "model.safetensors").is_file():
            continue
        try:
            cfg = read_config(run)
            history = read_history(run)
        except (CheckpointError, ValueError):
            continue  # a broken folder must not hide the others
        if cfg.data not in IMAGE_DATA:
            continue
        latest: dict[str, float] = {}
        for row in history:
            latest.update({k: v for k, v in row.items() if k not in ("step", "time")})
        found.append((run.stat().st_mtime, RunSummary(run.name, run, cfg.data, cfg.model,
                                                      _step_of(run, history), latest)))
    return [s for _, s in sorted(found, key=lambda f: f[0], reverse=True)]


def run_name(cfg: Config, taken: set[str]) -> str:
    """A fresh folder name like `mnist-cgan-3` (the first number not taken)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", f"{cfg.data}-{cfg.model}")
    for i in range(1, 10_000):
        if f"{base}-{i}" not in taken:
            return f"{base}-{i}"
    raise CheckpointError(f"too many runs named {base}-N in {runs_root()}; delete some")


def save_to_runs(trainer: "Trainer", name: str | None = None, root: Path | None = None) -> Path:
    """Save the run under root (a fresh name unless given); returns the folder."""
    root = root if root is not None else runs_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create the runs folder {root} ({exc}); set {RUNS_ENV} "
                              "to a writable folder") from None
    if name is None:
        name = run_name(trainer.cfg, {p.name for p in root.iterdir()})
    return save_run(trainer, root / name)

