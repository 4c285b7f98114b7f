"""The one in-memory data set type every trainer, metric and page works with.

A data set is a single tensor `x` of shape (N, *shape) that lives on the training
device (float32 points for toy sets, uint8 pixels for images), optional integer
labels `y` (N,), and a `DataInfo` describing it. Batches are sliced from `x` by
index and decoded on the device: no per-sample Python work in the training loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ganlab.registry import Registry


@dataclass
class DataInfo:
    """What models and metrics need to know about a data set.

    kind: "points" (x float32 (N, D), D in {1, 2, 3}) or "image" (x uint8 (N, C, H, W)).
    modes: (K, D) mode centres for mixture sets, else None.
    sigma: the standard deviation of each mode of a mixture set (for the HQ protocol):
        one number for all modes, or a tuple with one per mode (two_blobs).
    mean, cov: the true parameters of a single-Gaussian set, else None.
    bounds: (D, 2) min/max of a view box that frames the data (points only).
    center, scale: (D,) and a scalar such that (x - center) / scale has zero mean
        and unit RMS per axis (points only); models work in those units.
    offset: (D,) float64 values subtracted from a user's points file that lies far
        from the origin, to keep float32 precision (x and samples are then in
        user units minus offset), else None.
    note: a sentence the UI / CLI should show (e.g. "only the test split is present").
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    modes: torch.Tensor | None = None
    sigma: float | tuple[float, ...] | None = None
    mean: torch.Tensor | None = None
    cov: torch.Tensor | None = None
    bounds: torch.Tensor | None = None
    center: torch.Tensor | None = None
    scale: float | None = None
    offset: tuple[float, ...] | None = None
    note: str = ""

    @property
    def dim(self) -> int:
        """Number of features of one flattened sample."""
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass
class Dataset:
    """All samples of a data set, resident on one device.

    x: (N, *info.shape), float32 for points, uint8 in [0, 255] for images.
    y: (N,) int64 class labels, or None.
    """

    x: torch.Tensor
    info: DataInfo
    y: torch.Tensor | None = None
    extras: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device: torch.device | str) -> "Dataset":
        y = None if self.y is None else self.y.to(device)
        return Dataset(self.x.to(device), self.info, y, self.extras)

    def decode(self, xb: torch.Tensor) -> torch.Tensor:
        """Stored samples -> model space: points unchanged, uint8 pixels -> [-1, 1]."""
        if xb.dtype == torch.uint8:
            return xb.float().mul_(2.0 / 255.0).sub_(1.0)
        return xb

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples drawn with replacement -> (x (n, *shape) in model space, y (n,) or None).

        `generator` must live on the data set's device.
        """
        idx = torch.randint(len(self), (n,), generator=generator, device=self.x.device)
        yb = None if self.y is None else self.y[idx]
        return self.decode(self.x[idx]), yb

    def draw(self, n: int, seed: int) -> torch.Tensor:
        """n stored samples drawn with replacement by a CPU generator of `seed` -> (n, *shape)
        on the CPU, as stored: the real side of an evaluation, the same for every run."""
        idx = torch.randint(len(self), (n,), generator=torch.Generator().manual_seed(seed))
        return self.x[idx.to(self.x.device)].cpu()


@dataclass(frozen=True)
class DataOptions:
    """What a data-set builder is asked for (built from the run's Config).

    name: registry name ("ring8", "mnist", "points_file", "image_folder", ...).
    path: a user file / folder for the user-data sets, "" otherwise.
    size: number of points to draw for synthetic sets (0 = the set's default).
    image_size: side in pixels for image sets (0 = native).
    channels: 1 (grey) or 3 (RGB) for image sets (0 = native).
    seed: seeds every random choice of the builder (e.g. gaussian2d's mean/cov).
    """

    name: str
    path: str = ""
    size: int = 0
    image_size: int = 0
    channels: int = 0
    seed: int = 0


# The registry lives beside what it registers: builders in toy.py / images.py add
# themselves; ganlab.data imports those modules so the registry is complete.
DATASETS: Registry[Callable[[DataOptions], Dataset]] = Registry("data set")


def build_dataset(opts: DataOptions) -> Dataset:
    """Build the named data set on the CPU; raises ConfigError for unknown names."""
    return DATASETS.get(opts.name)(opts)
