"""Image grids of an image GAN: progress grids kept in the run directory, class views.

Every `every` steps (`Config.progress_every`) `ProgressGrids` writes
  progress/fixed_<step>.png    G on the first `n` latents of the run's fixed noise
                               batch (the same latents at every step);
  progress/classes_<step>.png  conditional models: a classes x samples grid, row k
                               made with class k, column j with latent j (the same
                               latents in every row, so a column keeps its style);
  progress/recon_<step>.png    autoencoders (trainers with `reconstruct` and `fixed_x`):
                               rows of originals from a fixed batch of real images,
                               each row above the row of their reconstructions;
and `write_gifs` turns the frames found in the folder into progress/fixed.gif
(and classes.gif, recon.gif), so a resumed run's animation covers the whole run. The
studio page shows the same grids live, and the class views of a conditional
model: `class_row` (one class, seeded latents) and `interpolation` (one class,
latent A -> latent B).

Grids use the EMA generator when there is one, in eval mode and without
gradients: drawing them changes no state and no random stream of the run, so a
run with grids gives the same numbers as one without.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ganlab.errors import ConfigError
from ganlab.latent import lerp, slerp
from ganlab.files import atomic_write
from ganlab.train.base import seeded_latents
from ganlab.imageio import make_grid, save_gif, save_png

if TYPE_CHECKING:
    from ganlab.train import Trainer

FOLDER = "progress"


@torch.no_grad()
def generate_images(trainer: "Trainer", z: Tensor, y: Tensor | None) -> Tensor:
    """G (EMA if any) in eval mode on z (N, latent), y (N,) -> images (N, C, S, S) on the CPU."""
    return trainer.generate(z, y, ema=True).float().cpu()


def fixed_grid(trainer: "Trainer", n: int = 64) -> Tensor:
    """G on the first n fixed latents -> one uint8 image (C, H', W'), ceil(sqrt(n)) per row."""
    n = min(n, trainer.fixed_z.shape[0])
    y = None if trainer.fixed_y is None else trainer.fixed_y[:n]
    return make_grid(generate_images(trainer, trainer.fixed_z[:n], y), nrow=math.ceil(math.sqrt(n)))


def class_grid(trainer: "Trainer", per_class: int = 10) -> Tensor:
    """Conditional G: K rows (classes) x per_class columns (fixed latents) -> uint8 (C, H', W').

    Row k is made with class k, column j with fixed latent j. ConfigError (a
    ValueError) for an unconditional model.
    """
    check_class(trainer, 0)
    k = trainer.num_classes
    per_class = min(per_class, trainer.fixed_z.shape[0])
    z = trainer.fixed_z[:per_class].repeat(k, 1)
    y = torch.arange(k).repeat_interleave(per_class)
    return make_grid(generate_images(trainer, z, y), nrow=per_class)


def check_class(trainer: "Trainer", label: int) -> None:
    """ConfigError unless the model is conditional and has class `label`."""
    if not trainer.num_classes:
        raise ConfigError("class views need a conditional model (cgan or cdcgan)")
    if not 0 <= label < trainer.num_classes:
        raise ConfigError(f"class {label} is out of range: the model has classes 0..{trainer.num_classes - 1}")


def class_row(trainer: "Trainer", label: int, n: int = 10, seed: int = 0) -> Tensor:
    """n samples of one class from n seeded latents, in one row -> uint8 (C, H', W')."""
    check_class(trainer, label)
    z = seeded_latents(n, trainer.cfg.latent_dim, trainer.cfg.latent_dist, seed)
    return make_grid(generate_images(trainer, z, torch.full((n,), label, dtype=torch.long)), nrow=n)


def interpolation(trainer: "Trainer", label: int, seed_a: int, seed_b: int, n: int = 10) -> Tensor:
    """One row of n images from latent(seed_a) to latent(seed_b) for a fixed class -> uint8 (C, H', W').

    Spherical interpolation for normal latents (a straight line would pass through
    low-norm latents G rarely saw), linear for uniform ones. ConfigError if n < 2.
    """
    check_class(trainer, label)
    if n < 2:
        raise ConfigError("an interpolation needs at least 2 images")
    cfg = trainer.cfg
    a, b = (seeded_latents(1, cfg.latent_dim, cfg.latent_dist, s)[0] for s in (seed_a, seed_b))
    z = (slerp if cfg.latent_dist == "normal" else lerp)(a, b, torch.linspace(0, 1, n))
    return make_grid(generate_images(trainer, z, torch.full((n,), label, dtype=torch.long)), nrow=n)


def reconstruction_grid(trainer: "Trainer", n: int = 32, per_row: int = 8) -> Tensor:
    """An autoencoder's first n fixed real images, `per_row` a row, each row of originals
    above the row of their reconstructions -> uint8 (C, H', W'). ConfigError for a
    trainer that cannot reconstruct (a GAN)."""
    reconstruct = getattr(trainer, "reconstruct", None)
    if reconstruct is None:
        raise ConfigError("reconstructions need an autoencoder (model ae, conv_ae or aae)")
    x = trainer.fixed_x[:n].float().cpu()  # type: ignore[attr-defined]
    rec = reconstruct(x, ema=True).float().cpu()
    rows = [t for i in range(0, len(x), per_row) for t in (x[i:i + per_row], rec[i:i + per_row])]
    return make_grid(torch.cat(rows), nrow=min(per_row, len(x)))


class ProgressGrids:
    """An `on_step` hook for `Trainer.run`: saves grids every `every` steps into run_dir/progress."""

    def __init__(self, run_dir: str | Path, every: int, n: int = 64, per_class: int = 10) -> None:
        self.folder = Path(run_dir) / FOLDER
        self.every, self.n, self.per_class = every, n, per_class

    def __call__(self, trainer: "Trainer") -> None:
        if self.every > 0 and trainer.step_count % self.every == 0:
            self.save(trainer)

    def save(self, trainer: "Trainer") -> list[Path]:
        """Write the grids of the current step; returns their paths."""
        self.folder.mkdir(parents=True, exist_ok=True)
        s = trainer.step_count
        grids = {"fixed": fixed_grid(trainer, self.n)}
        if trainer.num_classes:
            grids["classes"] = class_grid(trainer, self.per_class)
        if hasattr(trainer, "reconstruct"):
            grids["recon"] = reconstruction_grid(trainer)
        paths = []
        for kind, grid in grids.items():
            path = self.folder / f"{kind}_{s:07d}.png"
            atomic_write(path, lambda p, g=grid: save_png(g, p))
            paths.append(path)
        return paths

    def frames(self, kind: str = "fixed") -> list[Path]:
        """The saved frames of one kind ("fixed", "classes" or "recon"), in step order."""
        return sorted(self.folder.glob(f"{kind}_*.png"))

    def write_gifs(self, fps: float = 4.0) -> list[Path]:
        """progress/fixed.gif (and classes.gif, recon.gif) from every frame in the folder; returns
        the GIFs written."""
        out = []
        for kind in ("fixed", "classes", "recon"):
            frames = self.frames(kind)
            if not frames:
                continue
            images = [read_png(p) for p in frames]
            shape = images[-1].shape
            # A resumed run with other grid settings may have frames of another size: skip those.
            images = [im for im in images if im.shape == shape]
            path = self.folder / f"{kind}.gif"
            atomic_write(path, lambda p, ims=images: save_gif(ims, p, fps=fps))
            out.append(path)
        return out


def read_png(path: Path) -> Tensor:
    """A grey or RGB PNG -> uint8 (C, H, W)."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("L" if im.mode == "L" else "RGB"))
    return torch.from_numpy(a[None].copy() if a.ndim == 2 else a.transpose(2, 0, 1).copy())
