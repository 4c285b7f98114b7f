"""Toy 2-D / 3-D data sets, with exact definitions other tools can rely on.

Every set is drawn once, from `DataOptions.seed`, as `size` float32 points
(default 100,000) and carries what the metrics need: mode centres and sigma for
mixtures, the true mean / covariance for single Gaussians, and a view box.

Mixtures (equal weights, isotropic sigma):
- ring8:  8 Gaussians, means (cos 2 pi i/8, sin 2 pi i/8), i = 0..7, sigma 0.01.
- grid25: 25 Gaussians, means {-4,-2,0,2,4}^2, sigma 0.05.
- two_blobs: 2 Gaussians at (-1, 0) sigma 0.1 and (1, 0) sigma 0.4, equal weights.
- cube8: 8 Gaussians on the corners {-1,1}^3, sigma 0.05.
1-D sets (the picture of Goodfellow et al. 2014, Figure 1), viewed over [-4, 4]:
- gaussian1d: N(2, 0.5^2).
- mixture1d: two Gaussians at -2 and 2, sigma 0.4, equal weights.
  Their models work in units centred on the view, not on the data (see `_in_view_units`).
Single Gaussians:
- gaussian2d / gaussian3d: mean ~ U(-1, 1)^D, covariance A A^T + 0.05 I with
  A ~ N(0, 0.5^2) (D x D): random, full, well conditioned, drawn from the seed.
Shapes:
- line: uniform on the segment from (-1, -0.5) to (1, 0.5), plus N(0, 0.02^2) noise.
- spiral: an Archimedean spiral r = theta / (3 pi), theta ~ U(0.5, 3 pi), noise 0.02.
- moons: the two interleaving half circles of radius 1, noise 0.05.
- helix: (cos t, sin t, t / (2 pi) - 1), t ~ U(0, 4 pi), noise 0.03.
User data:
- points_file: the user's CSV / TXT / NPY of 2-D or 3-D points, read by
  `ganlab.data.points` (separators, decimal marks, headers, ignored columns).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ganlab.data.base import DATASETS, DataInfo, DataOptions, Dataset
from ganlab.data.points import (MAX_FILE_BYTES, MAX_FILE_POINTS, MIN_FILE_POINTS,  # noqa: F401 (re-exported)
                                PointsSummary, check_array, format_offset, read_points, to_float32)
from ganlab.errors import DataError

DEFAULT_SIZE = 100_000


def _standardise(ds: Dataset) -> Dataset:
    """Record the centre and the isotropic scale (RMS per axis) of the points."""
    x = ds.x[:50000].double()
    ds.info.center = x.mean(0).float()
    ds.info.scale = float(x.std(0).pow(2).mean().sqrt())
    return ds


def _rng(opts: DataOptions) -> torch.Generator:
    return torch.Generator().manual_seed(opts.seed)


def _n(opts: DataOptions) -> int:
    return opts.size if opts.size > 0 else DEFAULT_SIZE


def _bounds(lo: list[float], hi: list[float]) -> torch.Tensor:
    return torch.tensor([lo, hi], dtype=torch.float32).T.contiguous()


def _frame(x: torch.Tensor, margin: float = 0.15) -> torch.Tensor:
    """(D, 2) view box around points: robust quantiles plus a margin, square in 2-D/3-D."""
    lo = torch.quantile(x[:20000], 0.001, dim=0)
    hi = torch.quantile(x[:20000], 0.999, dim=0)
    centre, half = (lo + hi) / 2, ((hi - lo).max() / 2) * (1 + margin) + 1e-3
    return torch.stack([centre - half, centre + half], dim=1)


def _mixture(name: str, opts: DataOptions, means: torch.Tensor, spreads: list[float]) -> Dataset:
    """n points of an equal-weight mixture of isotropic Gaussians (means (K, D), one
    standard deviation per mode)."""
    sigmas = torch.tensor(spreads)
    g = _rng(opts)
    n = _n(opts)
    k = torch.randint(len(means), (n,), generator=g)
    x = means[k] + sigmas[k, None] * torch.randn(n, means.shape[1], generator=g)
    lo = (means - 3 * sigmas[:, None]).min(0).values
    hi = (means + 3 * sigmas[:, None]).max(0).values
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 * 1.2
    bounds = torch.stack([centre - half, centre + half], dim=1)
    info = DataInfo(name=name, kind="points", shape=(means.shape[1],), num_classes=len(means),
                    modes=means.clone(),
                    sigma=spreads[0] if len(set(spreads)) == 1 else tuple(spreads), bounds=bounds)
    return _standardise(Dataset(x.float(), info, y=k))


@DATASETS.register("ring8", help="8 Gaussians on the unit circle, sigma 0.01")
def ring8(opts: DataOptions) -> Dataset:
    i = torch.arange(8, dtype=torch.float64)
    means = torch.stack([torch.cos(2 * math.pi * i / 8), torch.sin(2 * math.pi * i / 8)], 1).float()
    return _mixture("ring8", opts, means, [0.01] * 8)


@DATASETS.register("grid25", help="25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05")
def grid25(opts: DataOptions) -> Dataset:
    v = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    means = torch.cartesian_prod(v, v)
    return _mixture("grid25", opts, means, [0.05] * 25)


@DATASETS.register("two_blobs", help="two Gaussians of different spread (sigma 0.1 and 0.4)")
def two_blobs(opts: DataOptions) -> Dataset:
    means = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    return _mixture("two_blobs", opts, means, [0.1, 0.4])


@DATASETS.register("cube8", help="8 Gaussians on the corners of the cube {-1,1}^3, sigma 0.05")
def cube8(opts: DataOptions) -> Dataset:
    v = torch.tensor([-1.0, 1.0])
    means = torch.cartesian_prod(v, v, v)
    return _mixture("cube8", opts, means, [0.05] * 8)


def random_gaussian(dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The (mean (D,), cov (D, D)) of gaussian2d / gaussian3d for a seed."""
    g = torch.Generator().manual_seed(seed)
    mean = torch.rand(dim, generator=g, dtype=torch.float64) * 2 - 1
    a = torch.randn(dim, dim, generator=g, dtype=torch.float64) * 0.5
    cov = a @ a.T + 0.05 * torch.eye(dim, dtype=torch.float64)
    return mean, cov


def _gaussian(name: str, dim: int, opts: DataOptions) -> Dataset:
    mean, cov = random_gaussian(dim, opts.seed)
    g = torch.Generator().manual_seed(opts.seed + 1)
    chol = torch.linalg.cholesky(cov)
    x = mean + torch.randn(_n(opts), dim, generator=g, dtype=torch.float64) @ chol.T
    half = 3.5 * torch.sqrt(torch.diagonal(cov)).max()
    bounds = torch.stack([mean - half, mean + half], dim=1).float()
    info = DataInfo(name=name, kind="points", shape=(dim,), mean=mean.float(), cov=cov.float(),
                    bounds=bounds)
    return _standardise(Dataset(x.float(), info))


@DATASETS.register("gaussian2d", help="one 2-D Gaussian, random mean and full covariance from the seed")
def gaussian2d(opts: DataOptions) -> Dataset:
    return _gaussian("gaussian2d", 2, opts)


@DATASETS.register("gaussian3d", help="one 3-D Gaussian, random mean and full covariance from the seed")
def gaussian3d(opts: DataOptions) -> Dataset:
    return _gaussian("gaussian3d", 3, opts)


def _shape(name: str, x: torch.Tensor) -> Dataset:
    info = DataInfo(name=name, kind="points", shape=(x.shape[1],), bounds=_frame(x))
    return _standardise(Dataset(x.float().contiguous(), info))


@DATASETS.register("line", help="a noisy line segment from (-1,-0.5) to (1,0.5)")
def line(opts: DataOptions) -> Dataset:
    g = _rng(opts)
    t = torch.rand(_n(opts), 1, generator=g) * 2 - 1
    x = torch.cat([t, 0.5 * t], 1) + 0.02 * torch.randn(_n(opts), 2, generator=g)
    return _shape("line", x)


@DATASETS.register("spiral", help="an Archimedean spiral, 1.5 turns")
def spiral(opts: DataOptions) -> Dataset:
    g = _rng(opts)
    th = 0.5 + torch.rand(_n(opts), generator=g) * (3 * math.pi - 0.5)
    r = th / (3 * math.pi)
    x = torch.stack([r * torch.cos(th), r * torch.sin(th)], 1)
    return _shape("spiral", x + 0.02 * torch.randn(_n(opts), 2, generator=g))


@DATASETS.register("moons", help="two interleaving half circles")
def moons(opts: DataOptions) -> Dataset:
    g = _rng(opts)
    n = _n(opts)
    which = torch.randint(2, (n,), generator=g)
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    x = torch.where(which[:, None] == 0, upper, lower) - torch.tensor([0.5, 0.25])
    return _shape("moons", x + 0.05 * torch.randn(n, 2, generator=g))


@DATASETS.register("helix", help="a 3-D helix, two turns")
def helix(opts: DataOptions) -> Dataset:
    g = _rng(opts)
    t = torch.rand(_n(opts), generator=g) * 4 * math.pi
    x = torch.stack([torch.cos(t), torch.sin(t), t / (2 * math.pi) - 1], 1)
    return _shape("helix", x + 0.03 * torch.randn(_n(opts), 3, generator=g))


# The 1-D lesson is about G's mass sliding towards the data: networks standardised on
# the data (centre = the data's mean) would start G on top of it. Centred on the view
# box instead, G starts near x = 0, away from gaussian1d's mean.
_VIEW_1D = (-4.0, 4.0)
# The 1-D sets: the 2-D / 3-D views and the playground leave them out.
ONE_D_SETS = ("gaussian1d", "mixture1d")


def _in_view_units(ds: Dataset) -> Dataset:
    """Centre 0 and scale 1 for the models of a 1-D set (the view box's centre and unit)."""
    ds.info.center = torch.zeros(1)
    ds.info.scale = 1.0
    ds.info.bounds = _bounds([_VIEW_1D[0]], [_VIEW_1D[1]])
    return ds


@DATASETS.register("gaussian1d", help="one 1-D Gaussian, N(2, 0.5^2): the GAN paper's Figure 1")
def gaussian1d(opts: DataOptions) -> Dataset:
    g = _rng(opts)
    x = 2.0 + 0.5 * torch.randn(_n(opts), 1, generator=g)
    info = DataInfo(name="gaussian1d", kind="points", shape=(1,), mean=torch.tensor([2.0]),
                    cov=torch.tensor([[0.25]]))
    return _in_view_units(Dataset(x.float(), info))


@DATASETS.register("mixture1d", help="two 1-D Gaussians at -2 and 2, sigma 0.4")
def mixture1d(opts: DataOptions) -> Dataset:
    ds = _mixture("mixture1d", opts, torch.tensor([[-2.0], [2.0]]), [0.4, 0.4])
    return _in_view_units(ds)


def load_points_file(path: str | Path) -> np.ndarray:
    """Read a user's CSV / TXT / NPY of points -> float32 array (N, D), D in {2, 3}, in its units.

    The rules (separators, decimal marks, headers, ignored columns, value and
    size checks) are `ganlab.data.points.read_points`'; each failure raises
    DataError saying what is wrong and how to fix the file. Use `read_points`
    to get the float64 points and the summary of what was read.
    """
    points, _ = read_points(path)
    return points.astype(np.float32)


@DATASETS.register("points_file", help="your own CSV / TXT / NPY of 2-D or 3-D points (set data_path)")
def points_file(opts: DataOptions) -> Dataset:
    """The user's points: x float32 (N, D); far-away points shifted by a recorded offset.

    `info.offset` (and a sentence in `info.note`) says when the points were shifted
    to keep float32 precision: the data and the samples are then x - offset.
    The reader's notes (dropped index column, ignored columns) are in `info.note`;
    its summary dict is `extras["summary"]`.
    """
    if not opts.path:
        raise DataError("data set 'points_file' needs a file: set data_path to a .csv, .txt or .npy of points")
    return points_dataset(*read_points(opts.path))


def points_dataset(points: np.ndarray, summary: PointsSummary | None = None) -> Dataset:
    """The `points_file` data set of float64 points (N, 2|3) and what was read: x float32,
    far-away points shifted by a recorded offset (`info.offset`, said in `info.note`).

    An array without a summary (points a user drew) is checked first (`check_array`);
    pass the result to `Trainer(cfg, dataset=...)`.
    """
    if summary is None:
        points, summary = check_array(points, "your points")
    x32, offset = to_float32(points)
    ds = _shape("points_file", torch.from_numpy(x32))
    notes = list(summary.notes)
    if offset is not None:
        ds.info.offset = tuple(float(v) for v in offset)
        notes.append(f"the points lie far from the origin, so training sees them shifted by "
                     f"-{format_offset(offset)} (float32 precision); `python -m ganlab sample` adds "
                     f"{format_offset(offset)} back, the app's views and exports show the shifted values")
    ds.info.note = "; ".join(notes)
    ds.extras["summary"] = summary.to_dict()
    return ds
