"""Training: one contract (`base.TrainerBase` / `base.RunBase`) and its trainers.

- `Trainer` (trainer.py): a GAN of any registered model family, one run;
- `ProgressiveTrainer` (progressive.py): a `Trainer` whose networks grow (model "pgan");
- `AutoencoderTrainer` (autoencoder.py): a `Trainer` of the autoencoders ae, conv_ae, aae;
- `side_by_side(cfgs)` (side_by_side.py): k runs in lockstep, batched when they can be;
- distributed.py: the same `Trainer` on several processes (DDP).
`build_trainer(cfg)` picks the trainer of a Config from `TRAINER_KINDS` (model -> class;
models not named there train with `Trainer`).
"""
from __future__ import annotations

from ganlab.config import Config
from ganlab.data import Dataset
from ganlab.train.base import Progress, RunBase, TrainerBase, resolve_device
from ganlab.models.autoencoder import AUTOENCODER_MODELS
from ganlab.train.autoencoder import AutoencoderTrainer
from ganlab.train.progressive import PGANSchedule, ProgressiveTrainer
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, SideBySide, side_by_side
from ganlab.train.trainer import Trainer


# The models whose trainer is not the plain GAN `Trainer`.
TRAINER_KINDS: dict[str, type[Trainer]] = {"pgan": ProgressiveTrainer,
                                           **{m: AutoencoderTrainer for m in AUTOENCODER_MODELS}}


def build_trainer(cfg: Config, dataset: Dataset | None = None) -> Trainer:
    """The trainer of one run's Config: `TRAINER_KINDS[cfg.model]`, else `Trainer`."""
    return TRAINER_KINDS.get(cfg.model, Trainer)(cfg, dataset)


__all__ = ["AutoencoderTrainer", "LoopTrainer", "MultiTrainer", "PGANSchedule", "Progress", "ProgressiveTrainer", "RunBase",
           "SideBySide", "Trainer", "TRAINER_KINDS", "TrainerBase", "build_trainer", "resolve_device", "side_by_side"]
