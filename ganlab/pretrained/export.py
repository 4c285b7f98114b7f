"""Export a progressive run's generator as a bundled / loadable `NAME.safetensors` + `NAME.json`.

Lives here rather than in `ganlab.train.progressive` so that training code never
imports this (higher) layer: `ganlab.pretrained.from_run` loads runs, and a
train -> pretrained import would close a cycle.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ganlab.errors import ConfigError
from ganlab.pretrained import save_generator

if TYPE_CHECKING:
    from ganlab.train.progressive import ProgressiveTrainer


def export_generator(trainer: "ProgressiveTrainer", path: str | Path, name: str | None = None,
                     ema: bool = True) -> Path:
    """Write the (averaged, when `ema` and the run has one) generator of a progressive run as
    PATH.safetensors + PATH.json for `load_generator`; returns the .safetensors path.

    The network is exported as grown so far with alpha as it is now (a run stopped
    mid fade-in exports the blended network). ConfigError for a non-progressive trainer
    (only pgan generators have this file format; other runs load from their run folder).
    """
    if getattr(trainer.cfg, "model", None) != "pgan":
        raise ConfigError(f"export_generator writes progressive GANs; this run's model is {trainer.cfg.model!r}: "
                          "open its run folder with load_generator instead")
    return save_generator(trainer._sampler(ema), path, name=name)


__all__ = ["export_generator"]
