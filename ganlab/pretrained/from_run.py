"""Any trained run folder as a generator with the `PretrainedGenerator` interface.

A run folder (`ganlab.runs.save_run`, `python -m ganlab train --out DIR`, the studio's
runs) of any image model - plain MLP GAN (`mlp`), conditional MLP GAN (`cgan`),
`dcgan`, `cdcgan`, progressive GAN (`pgan`) - opens as a `RunGenerator`: the same
`latent_dim`, `resolution`, `channels`, `latents(n, seed)` and `__call__(z)` ->
raw images (N, C, R, R) in [-1, 1] on the CPU as a bundled or published generator,
plus `num_classes` / `class_names` and `labels=` for conditional models.

The run is rebuilt with `ganlab.runs.load_run(dir, with_data=False)` (no training
data is read) and sampled through the trainer's own `generate`, with the EMA
generator when the run kept one: what the explorer shows is exactly what the
run's progress views and metrics sample.

This module never imports the package's `__init__` (which dispatches to it lazily),
so the import graph stays acyclic.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganlab.errors import CheckpointError, ConfigError
from ganlab.runs import load_run, read_config
from ganlab.train.base import seeded_latents

RUN_FORMAT = "ganlab-run"


def is_run_folder(path: str | Path) -> bool:
    """True when `path` is a directory holding a run's config.json (a `save_run` folder)."""
    p = Path(path)
    return p.is_dir() and (p / "config.json").is_file()


class RunGenerator:
    """A trained run's generator in eval mode: call it on latents (and labels) to get images.

    name: the folder's name. source: the folder. info: {"format": "ganlab-run", "model",
    "data", "step", "ema"}. trainer: the rebuilt trainer (weights only; no data).
    module: the network that samples (the EMA copy of G when the run has one, else G).
    """

    def __init__(self, trainer: Any, name: str, source: Path, ema: bool = True) -> None:
        if trainer.info.kind != "image":
            raise ConfigError(f"run {name!r} was trained on points ({trainer.info.name}); only image runs "
                              "open as generators: train on mnist, fashion_mnist or an image folder")
        self.trainer = trainer
        self.name = name
        self.source = source
        self.ema = bool(ema and trainer.G_ema is not None)
        self.info: dict[str, Any] = {"format": RUN_FORMAT, "model": trainer.cfg.model, "data": trainer.cfg.data,
                                     "step": trainer.step_count, "ema": self.ema}

    @property
    def module(self) -> nn.Module:
        return self.trainer._sampler(self.ema)

    @property
    def latent_dim(self) -> int:
        return int(self.trainer.cfg.latent_dim)

    @property
    def resolution(self) -> int:
        return int(self.trainer.info.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.trainer.info.shape[0])

    @property
    def num_classes(self) -> int:
        """Classes a conditional model takes (0: unconditional)."""
        return int(self.trainer.num_classes)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The data set's class names (index = label) for a conditional model; () otherwise."""
        return tuple(self.trainer.info.class_names) if self.num_classes else ()

    @property
    def device(self) -> torch.device:
        return self.trainer.device

    def latents(self, n: int, seed: int) -> Tensor:
        """(n, latent_dim) latents of the run's own distribution (normal or uniform); the same
        seed gives the same latents, and the i-th latent is the same whatever n is."""
        return seeded_latents(n, self.latent_dim, self.trainer.cfg.latent_dist, seed)

    def labels_for(self, n: int, labels: Tensor | int | None) -> Tensor | None:
        """The (n,) int64 labels a call uses: None for an unconditional model; for a
        conditional one `labels` as given (an int: that class for all), default balanced
        classes 0, 1, ..., K-1, 0, ... . ConfigError for labels out of range or of the wrong shape,
        or labels given to an unconditional model."""
        k = self.num_classes
        if not k:
            if labels is not None:
                raise ConfigError(f"{self.name} is an unconditional model ({self.info['model']}); "
                                  "it takes no labels")
            return None
        if labels is None:
            return torch.arange(n) % k
        y = torch.full((n,), int(labels), dtype=torch.long) if isinstance(labels, int) \
            else torch.as_tensor(labels).long().cpu().reshape(-1)
        if y.shape[0] != n:
            raise ConfigError(f"{self.name}: {y.shape[0]} labels for {n} latents; give one label per latent")
        if n and (int(y.min()) < 0 or int(y.max()) >= k):
            raise ConfigError(f"{self.name}: labels must be classes 0..{k - 1} "
                              f"({', '.join(self.class_names)}); got {y.min().item()}..{y.max().item()}")
        return y

    def __call__(self, z: Tensor, labels: Tensor | int | None = None, batch_size: int = 256) -> Tensor:
        """z float (N, latent_dim) [, labels (N,) or one int] -> float32 (N, C, R, R) on the CPU,
        in [-1, 1] for tanh models (mlp, cgan, dcgan, cdcgan), unclamped for pgan's linear output;
        equal to `trainer.generate(z, y, ema=True)`. In batches, no gradients."""
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.latent_dim \
                or not z.is_floating_point():
            got = f"{z.dtype} {tuple(z.shape)}" if isinstance(z, Tensor) else type(z).__name__
            raise ConfigError(f"{self.name} expects latents as a float tensor of shape (N, {self.latent_dim}), "
                              f"got {got}; use .latents(n, seed)")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        y = self.labels_for(z.shape[0], labels)
        out = torch.empty(z.shape[0], self.channels, self.resolution, self.resolution)
        for start in range(0, z.shape[0], batch_size):
            stop = start + batch_size
            chunk = self.trainer.generate(z[start:stop].float(), None if y is None else y[start:stop],
                                          ema=self.ema)
            out[start:start + chunk.shape[0]] = chunk.float().cpu()
        return out

    def __repr__(self) -> str:
        cond = f", {self.num_classes} classes" if self.num_classes else ""
        return (f"RunGenerator({self.name!r}, {self.info['model']}, {self.resolution}x{self.resolution}x"
                f"{self.channels}, latent {self.latent_dim}{cond})")


def load_run_generator(run_dir: str | Path, device: str | torch.device = "cpu", ema: bool = True) -> RunGenerator:
    """The generator of a run folder (written by `save_run` / `train --out`), on `device`.

    ema: sample the run's EMA generator when it kept one (True), else its trained G.
    Raises CheckpointError for a folder that is not a readable run, ConfigError for a run
    of points (the toy data sets) or an unknown device.
    """
    run = Path(run_dir)
    read_config(run)  # CheckpointError naming the fix when there is no valid config.json
    try:
        trainer = load_run(run, with_data=False, device=str(device))
    except KeyError as exc:  # a state.json from another program or a damaged one
        raise CheckpointError(f"{run / 'state.json'} lacks {exc}; the run folder is damaged") from None
    return RunGenerator(trainer, run.resolve().name, run, ema=ema)


__all__ = ["RUN_FORMAT", "RunGenerator", "is_run_folder", "load_run_generator"]
