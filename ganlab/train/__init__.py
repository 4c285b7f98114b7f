"""Training: one contract (`base.TrainerBase` / `base.RunBase`) and its trainers.

- `Trainer` (trainer.py): a GAN of any registered model family, one run;
- `ProgressiveTrainer` (progressive.py): a `Trainer` whose networks grow (model "pgan");
- `side_by_side(cfgs)` (side_by_side.py): k runs in lockstep, batched when they can be;
- distributed.py: the same `Trainer` on several processes (DDP).
`build_trainer(cfg)` picks the trainer of a Config.
"""
from __future__ import annotations

from ganlab.config import Config
from ganlab.data import Dataset
from ganlab.train.base import Progress, RunBase, TrainerBase, resolve_device
from ganlab.train.progressive import PGANSchedule, ProgressiveTrainer
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, SideBySide, side_by_side
from ganlab.train.trainer import Trainer


def build_trainer(cfg: Config, dataset: Dataset | None = None) -> Trainer:
    """The trainer of one run's Config: `ProgressiveTrainer` for model "pgan", else `Trainer`."""
    if cfg.model == "pgan":
        return ProgressiveTrainer(cfg, dataset)
    return Trainer(cfg, dataset)


__all__ = ["LoopTrainer", "MultiTrainer", "PGANSchedule", "Progress", "ProgressiveTrainer", "RunBase",
           "SideBySide", "Trainer", "TrainerBase", "build_trainer", "resolve_device", "side_by_side"]
