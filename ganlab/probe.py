"""What the live views of a toy run show, computed on a Trainer and returned as numpy.

Every function here reads the trainer and never changes it: no parameter, no
optimizer moment and no draw from the run's random generator is touched, and D
is evaluated in eval mode (dropout off), so looking at a run does not change
how it trains (`tests/test_probe.py` checks this). Call them while the run is
not stepping (a UI holds its runner's lock).

Shapes: N fake points, M real points, D = 2 or 3 data dimensions, a square
view grid of `res` x `res` cells (1-D runs: `frame_1d`, curves over a line). Grid arrays are indexed [row = y, column = x],
the layout of an image or a Plotly heat map.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from ganlab.errors import ConfigError

if TYPE_CHECKING:  # annotations only: the trainer imports the whole engine
    from ganlab.train import Trainer

# Losses whose D output is a logit of "x is real": the surface shows sigmoid(logit),
# a probability in [0, 1]. The others (least squares, Wasserstein, hinge) have
# unbounded scores, shown raw.
PROBABILITY_LOSSES = frozenset({"ns", "minimax", "ragan"})
# The smallest half-range of the score colour scale (see `surface_range`).
MIN_SCORE_HALF_RANGE = 0.25
# Latent grid extent for the manifold view: +-2.5 sigma covers ~99% of N(0, 1).
MANIFOLD_EXTENT = {"normal": 2.5, "uniform": 1.0}


@dataclass
class Frame:
    """One picture of a run: what the 2-D view draws and the history scrubber replays.

    fake: (N, D) float32, G applied to the run's fixed noise batch.
    surface: (res, res) float32, D's output over `box` (see `d_surface`), or None
      when D has no per-point surface (conditional models).
    box: (D, 2) float32 view box (min, max per axis) the surface was computed over.
    """

    step: int
    fake: np.ndarray
    surface: np.ndarray | None
    box: np.ndarray


@contextlib.contextmanager
def _eval(*modules: nn.Module | None) -> Iterator[None]:
    """Eval mode (dropout off) for the duration, restoring each module's mode after."""
    mods = [m for m in modules if m is not None]
    was = [m.training for m in mods]
    for m in mods:
        m.eval()
    try:
        yield
    finally:
        for m, w in zip(mods, was):
            m.train(w)


def _numpy(x: Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def _d_logits(trainer: Trainer, x: Tensor) -> Tensor:
    """D's logit for each row of x (N, D) -> (N,), whatever D's pack size.

    A PacGAN D judges `pack` samples jointly; judging a pack of `pack` copies of
    one point gives that point its own score.
    """
    pack = trainer.cfg.pack
    if pack > 1:
        x = x.repeat_interleave(pack, dim=0)
    return trainer.D(x, None).float()


def view_box(trainer: Trainer) -> np.ndarray:
    """(D, 2) float32 min/max per axis that frames the data set: fixed for the whole run."""
    info = trainer.info
    if info.kind != "points":
        raise ConfigError(f"the point views need a 2-D or 3-D point set; {info.name!r} holds images")
    if info.bounds is not None:
        return _numpy(info.bounds)
    x = trainer.data.x[:20000].float()
    lo, hi = x.min(0).values, x.max(0).values
    pad = (hi - lo).clamp_min(1e-3) * 0.1
    return _numpy(torch.stack([lo - pad, hi + pad], dim=1))


def real_points(trainer: Trainer, n: int = 1000, seed: int = 0) -> np.ndarray:
    """(min(n, len(data)), D) float32: a fixed subset of the real points (own generator)."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(trainer.data), generator=gen)[:n]
    return _numpy(trainer.data.x[idx.to(trainer.data.x.device)])


@torch.no_grad()
def fake_points(trainer: Trainer, ema: bool = False) -> np.ndarray:
    """(n_fixed, D) float32: G on the fixed noise batch, so successive calls show motion."""
    with _eval(trainer.G, trainer.G_ema):
        return _numpy(trainer.fixed_samples(ema=ema))


def surface_kind(loss: str) -> str:
    """'probability' (sigmoid of D's logit, in [0, 1]) or 'score' (raw D output)."""
    return "probability" if loss in PROBABILITY_LOSSES else "score"


def _plane(box: np.ndarray, res: int) -> Tensor:
    """(res * res, D) points of a grid over the box's first two axes, row-major in y.

    For 3-D data the third coordinate is the centre of the box: the surface is
    the slice of D through the middle of the data.
    """
    xs = torch.linspace(float(box[0, 0]), float(box[0, 1]), res)
    ys = torch.linspace(float(box[1, 0]), float(box[1, 1]), res)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    cols = [gx.reshape(-1), gy.reshape(-1)]
    for axis in range(2, box.shape[0]):
        cols.append(torch.full((res * res,), float(box[axis].mean())))
    return torch.stack(cols, dim=1)


@torch.no_grad()
def d_surface(trainer: Trainer, box: np.ndarray | None = None,
              res: int = 64) -> np.ndarray | None:
    """(res, res) float32: D over a grid spanning `box` (default `view_box`); None for
    conditional models (their D needs a class for every point).

    Values are sigmoid(logit) for PROBABILITY_LOSSES, raw scores otherwise.
    """
    if trainer.num_classes:
        return None
    box = view_box(trainer) if box is None else np.asarray(box, dtype=np.float32)
    grid = _plane(box, res).to(trainer.device)
    # A D with a minibatch-std feature judges each point with its group of neighbours
    # in the batch. Grid rows as groups would band the picture; a fixed shuffle makes
    # every group spread over the box, like a varied batch. (No effect on other Ds.)
    order = torch.randperm(len(grid), generator=torch.Generator().manual_seed(0)).to(grid.device)
    with _eval(trainer.D):
        logits = torch.empty(len(grid), device=grid.device)
        logits[order] = _d_logits(trainer, grid[order])
    if surface_kind(trainer.cfg.loss) == "probability":
        logits = torch.sigmoid(logits)
    return _numpy(logits).reshape(res, res)


def surface_range(surface: np.ndarray, kind: str) -> tuple[float, float]:
    """Colour range for a surface: [0, 1] for probabilities; for scores, symmetric
    about 0 up to the 99th percentile of |score| (one outlier cell does not wash out
    the picture), at least +-MIN_SCORE_HALF_RANGE."""
    if kind == "probability":
        return 0.0, 1.0
    finite = np.abs(surface[np.isfinite(surface)])
    half = float(np.percentile(finite, 99)) if finite.size else 1.0
    # Floored: at step 0 an untrained critic's scores are tiny noise, which a scale
    # stretched to them would paint as strong red and blue.
    return -max(half, MIN_SCORE_HALF_RANGE), max(half, MIN_SCORE_HALF_RANGE)


@torch.no_grad()
def d_scores(trainer: Trainer, points: np.ndarray) -> np.ndarray:
    """(N,) float32: D's surface value (as in `d_surface`) at each point (N, D)."""
    x = torch.as_tensor(np.asarray(points, dtype=np.float32), device=trainer.device)
    with _eval(trainer.D):
        logits = _d_logits(trainer, x)
    if surface_kind(trainer.cfg.loss) == "probability":
        logits = torch.sigmoid(logits)
    return _numpy(logits)


@torch.no_grad()
def manifold(trainer: Trainer, res: int = 24, ema: bool = False) -> np.ndarray:
    """(rows, res, D) float32: G on a grid of latent points, to draw as a warped mesh.

    The grid spans the first two latent axes over +-MANIFOLD_EXTENT (others 0):
    rows = res for latent_dim >= 2, rows = 1 (a curve) for latent_dim = 1.
    Conditional models use class 0.
    """
    cfg = trainer.cfg
    ext = MANIFOLD_EXTENT[cfg.latent_dist]
    t = torch.linspace(-ext, ext, res)
    rows = res if cfg.latent_dim >= 2 else 1
    z = torch.zeros(rows, res, cfg.latent_dim)
    z[:, :, 0] = t[None, :]
    if cfg.latent_dim >= 2:
        z[:, :, 1] = t[:, None]
    z = z.reshape(rows * res, cfg.latent_dim)
    y = torch.zeros(len(z), dtype=torch.long) if trainer.num_classes else None
    g = trainer.G_ema if (ema and trainer.G_ema is not None) else trainer.G
    with _eval(g):
        x = trainer.generate(z, y, ema=ema)
    return _numpy(x).reshape(rows, res, -1)


def g_gradients(trainer: Trainer, points: np.ndarray, real: np.ndarray | None = None
                ) -> np.ndarray:
    """(N, D) float32: the direction G's loss pushes each fake point, -d loss_G / d x.

    Per point (the batch mean is undone, so the values do not shrink with N).
    Losses that compare with real points (relativistic ones) use `real` (M, D),
    default a fixed subset from `real_points`. Zeros for conditional models.
    """
    x = torch.as_tensor(np.asarray(points, dtype=np.float32), device=trainer.device)
    if trainer.num_classes:
        return np.zeros(tuple(x.shape), dtype=np.float32)
    x = x.clone().requires_grad_(True)
    # D's parameters need no gradient here; saving their flags keeps the run as it was.
    flags = [p.requires_grad for p in trainer.D.parameters()]
    for p in trainer.D.parameters():
        p.requires_grad_(False)
    try:
        with torch.enable_grad(), _eval(trainer.D):
            f = _d_logits(trainer, x)
            r = f
            if trainer.objective.g_needs_real:
                rp = real_points(trainer) if real is None else np.asarray(real, dtype=np.float32)
                with torch.no_grad():
                    r = _d_logits(trainer, torch.as_tensor(rp, device=trainer.device))
            loss = trainer.objective.g_loss(r, f)
            (grad,) = torch.autograd.grad(loss, x)
    finally:
        for p, flag in zip(trainer.D.parameters(), flags):
            p.requires_grad_(flag)
    return _numpy(-grad * len(x))


def frame(trainer: Trainer, res: int = 48, ema: bool = False, box: np.ndarray | None = None,
          fake: np.ndarray | None = None) -> Frame:
    """A `Frame` of the run now: fixed-noise fakes and D's surface over `box` (D, 2)
    (default `view_box`; a view that grew past the data's box passes its own).
    `fake`: this step's `fake_points(trainer, ema)` when the caller already made them
    (to fit the view to them), so G does not run twice.

    For 3-D data the surface stays the slice through the middle of the data's box,
    whatever `box` says about the third axis.
    """
    data_box = view_box(trainer)
    box = data_box if box is None else np.asarray(box, dtype=np.float32)
    plane = np.concatenate([box[:2], data_box[2:]]) if box.shape[0] > 2 else box
    surface = d_surface(trainer, plane, res) if box.shape[0] >= 2 else None  # 1-D: see frame_1d
    fake = fake_points(trainer, ema=ema) if fake is None else fake
    return Frame(step=trainer.step_count, fake=fake, surface=surface, box=box)


# --- 1-D runs: the picture of Goodfellow et al. 2014, Figure 1 -------------------------

@dataclass
class Frame1D:
    """One picture of a 1-D run, every curve over the grid `xs`.

    xs: (R,) grid over the view box; d: (R,) D(x) (P(real), or the raw score for
    losses without a probability); real_pdf / fake_pdf: (R,) densities of the data
    (exact when the data set knows its law) and of G's fixed-noise samples (a
    Gaussian kernel estimate); z: (K,) latent grid along the first latent axis (the
    others 0) and zx: (K,) G's output at those latents, the z -> x mapping lines;
    fake: (N,) G's fixed-noise samples; z_range: the latent grid's (min, max).
    """

    step: int
    xs: np.ndarray
    d: np.ndarray
    real_pdf: np.ndarray
    fake_pdf: np.ndarray
    z: np.ndarray
    zx: np.ndarray
    fake: np.ndarray
    z_range: tuple[float, float]


def kde(samples: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(R,) Gaussian kernel density estimate of 1-D samples (N,) at xs (R,).

    Scott's bandwidth, floored at 1% of the grid's span: a collapsed G (all samples
    on one x) then shows as a tall narrow peak instead of a division by zero.
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    x = np.asarray(xs, dtype=np.float64)
    if s.size == 0:
        return np.zeros_like(x, dtype=np.float32)
    span = float(x.max() - x.min()) if x.size > 1 else 1.0
    h = max(1.06 * float(s.std()) * s.size ** -0.2, 0.01 * span)
    u = (x[:, None] - s[None, :]) / h
    return (np.exp(-0.5 * u * u).sum(1) / (s.size * h * math.sqrt(2 * math.pi))).astype(np.float32)


def real_density(trainer: Trainer, xs: np.ndarray) -> np.ndarray:
    """(R,) the data's density at xs: exact for a 1-D Gaussian or an equal-weight
    mixture (the data set's mean / cov or modes / sigma), else a kernel estimate."""
    info, x = trainer.info, np.asarray(xs, dtype=np.float64)

    def normal(mu: float, sd: float) -> np.ndarray:
        return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))

    if info.mean is not None and info.cov is not None:
        return normal(float(info.mean[0]), math.sqrt(float(info.cov[0, 0]))).astype(np.float32)
    if info.modes is not None and info.sigma:
        modes = info.modes[:, 0].tolist()
        sigmas = np.broadcast_to(np.asarray(info.sigma, dtype=np.float64), (len(modes),))
        return (sum(normal(m, float(s)) for m, s in zip(modes, sigmas)) / len(modes)).astype(np.float32)
    return kde(real_points(trainer, 2000)[:, 0], x)


@torch.no_grad()
def z_mapping(trainer: Trainer, k: int = 25, ema: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(z (k,), G(z) (k,)): G on k evenly spaced latents along the first latent axis
    (others 0), over +-MANIFOLD_EXTENT of the latent law: the lines of Figure 1."""
    cfg = trainer.cfg
    ext = MANIFOLD_EXTENT[cfg.latent_dist]
    t = torch.linspace(-ext, ext, k)
    z = torch.zeros(k, cfg.latent_dim)
    z[:, 0] = t
    y = torch.zeros(k, dtype=torch.long) if trainer.num_classes else None
    g = trainer.G_ema if (ema and trainer.G_ema is not None) else trainer.G
    with _eval(g):
        x = trainer.generate(z, y, ema=ema)
    return _numpy(t), _numpy(x).reshape(k, -1)[:, 0]


def frame_1d(trainer: Trainer, res: int = 200, ema: bool = False) -> Frame1D:
    """A `Frame1D` of a 1-D run now; ConfigError for data of another dimension."""
    box = view_box(trainer)
    if box.shape[0] != 1:
        raise ConfigError(f"the 1-D view needs 1-D data; {trainer.info.name!r} has {box.shape[0]} dimensions")
    xs = np.linspace(float(box[0, 0]), float(box[0, 1]), res, dtype=np.float32)
    fake = fake_points(trainer, ema=ema)[:, 0]
    z, zx = z_mapping(trainer, ema=ema)
    ext = MANIFOLD_EXTENT[trainer.cfg.latent_dist]
    return Frame1D(step=trainer.step_count, xs=xs, d=d_scores(trainer, xs[:, None]),
                   real_pdf=real_density(trainer, xs), fake_pdf=kde(fake, xs), z=z, zx=zx,
                   fake=fake, z_range=(-ext, ext))
