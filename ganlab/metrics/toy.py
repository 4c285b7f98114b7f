"""Quality metrics for toy GANs on 2-D / 3-D points, cheap enough to run live.

Three families, each answering a different question about the generated points:

1. Mode coverage and sample quality (`mode_stats`): the protocol of VEEGAN
   (Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs using Implicit
   Variational Learning", NeurIPS 2017, arXiv:1705.07761) and PacGAN (Lin et al.,
   "PacGAN: The power of two samples in generative adversarial networks",
   NeurIPS 2018, arXiv:1712.04086) on the mixture-of-Gaussians ring / grid sets of
   Metz et al. ("Unrolled Generative Adversarial Networks", ICLR 2017).
2. Grid KL / JS divergences between the real and generated histograms
   (`grid_divergences`), which also see how mass is spread *within* a mode.
3. The 2-Wasserstein (Frechet) distance between Gaussians (`frechet_distance`),
   the quantity FID reports, here in data space against the true parameters.

`toy_metrics` bundles whichever of them apply to a data set.

Everything is vectorised numpy in float64: a full `toy_metrics` call on 2,500 real
+ 2,500 fake 2-D points (8 modes, 50 x 50 grid) measured about 1 ms on one CPU core.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from ganlab.errors import ConfigError, DataError

if TYPE_CHECKING:  # only read by duck typing: metrics need not load the data registry
    from ganlab.data.base import DataInfo

# A generated point is high quality (HQ) when it lies strictly closer than
# HQ_THRESHOLD_STD * sigma (Euclidean) to its nearest mode centre. Both papers state
# "three standard deviations"; PacGAN's reference code (github.com/fjxmlzn/PacGAN,
# synthetic_data_experiments/PacGAN/pacgan/extensions.py, class MetricLogger) uses
# `dis_thre=3` on the distance in per-mode std units with a strict `<`.
HQ_THRESHOLD_STD = 3.0

# A mode counts as captured once this many HQ samples are assigned to it. PacGAN's
# reference code counts a mode as covered when its HQ count is non-zero (i.e. 1),
# evaluated on 2,500 generated samples. Later papers sometimes ask for more (e.g. 20)
# to ignore stray points; pass `min_count` to do so.
DEFAULT_MIN_COUNT = 1

# Additive smoothing of both histograms for KL (see `kl_divergence_nats`).
KL_EPS = 1e-10

# Refuse grids whose histogram would not fit comfortably in memory.
MAX_GRID_CELLS = 1 << 24


def _as_points(x: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    """Tensor or array -> float64 numpy array (N, D); DataError for any other shape."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise DataError(
            f"{name} must be a 2-D array of points (N, D), got shape {tuple(arr.shape)}; "
            "pass one row per point"
        )
    return arr


def _as_float_array(x: torch.Tensor | np.ndarray | float, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Tensor / array / scalar -> finite float64 array of exactly `shape`."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != shape:
        raise DataError(f"{name} must have shape {shape}, got {tuple(arr.shape)}")
    if not np.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or infinite values; pass finite numbers")
    return arr


# --------------------------------------------------------------------------
# 1. Modes captured and high-quality samples (VEEGAN / PacGAN protocol)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModeStats:
    """Mode coverage of a generated sample set.

    modes_captured: modes with at least `min_count` HQ samples.
    hq_fraction: HQ samples / all samples (non-finite rows count as non-HQ), in [0, 1].
    counts: (K,) int64, HQ samples assigned to each mode.
    mass_per_mode: (K,) float64, fraction of ALL samples whose nearest mode is k, HQ or
        not; rows that are non-finite (or too far to measure) belong to no mode, so
        the masses sum to at most 1.
    max_mode_mass: the largest entry of mass_per_mode (1/K when spread evenly, 1 when
        everything collapsed onto one mode).
    """

    modes_captured: int
    hq_fraction: float
    counts: np.ndarray
    mass_per_mode: np.ndarray
    max_mode_mass: float


def mode_stats(
    fake: torch.Tensor | np.ndarray,
    modes: torch.Tensor | np.ndarray,
    sigma: float | Sequence[float],
    min_count: int | None = None,
    threshold_std: float = HQ_THRESHOLD_STD,
) -> ModeStats:
    """Modes captured and % high-quality samples, the VEEGAN / PacGAN protocol.

    Each sample (fake (N, D)) is assigned to its nearest mode centre (modes (K, D),
    Euclidean distance). It is high quality when that distance is strictly below
    `threshold_std * sigma` (3 sigma in both papers); `sigma` is one number for every
    mode or one per mode (K,), then that of the mode the sample is assigned to. A mode is captured when at
    least `min_count` HQ samples are assigned to it (None -> DEFAULT_MIN_COUNT = 1,
    as in PacGAN's reference code). Non-finite rows, as a diverged generator emits,
    are never HQ and are assigned to no mode.
    """
    x = _as_points(fake, "fake samples")
    centres = _as_points(modes, "mode centres")
    if centres.shape[0] == 0:
        raise DataError("mode centres are empty; pass a (K, D) array with K >= 1")
    if not np.isfinite(centres).all():
        raise DataError("mode centres contain NaN or infinite values; pass finite centres")
    if x.shape[1] != centres.shape[1]:
        raise DataError(
            f"fake samples have {x.shape[1]} features but mode centres have "
            f"{centres.shape[1]}; compare points of the same dimension"
        )
    if x.shape[0] == 0:
        raise DataError("no fake samples given; generate at least one point")
    if np.ndim(sigma) != 0 and np.size(sigma) != centres.shape[0]:
        raise ConfigError(f"sigma must be one number or one per mode ({centres.shape[0]}), got {np.size(sigma)}")
    sigmas = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (centres.shape[0],))
    if not (np.isfinite(sigmas).all() and (sigmas > 0).all()):
        raise ConfigError(f"sigma must be a positive finite number, got {sigma}")
    if not (math.isfinite(threshold_std) and threshold_std > 0):
        raise ConfigError(f"threshold_std must be a positive finite number, got {threshold_std}")
    if min_count is None:
        min_count = DEFAULT_MIN_COUNT
    if min_count < 1:
        raise ConfigError(f"min_count must be at least 1, got {min_count}")

    n, k = x.shape[0], centres.shape[0]
    xf = x[np.isfinite(x).all(axis=1)]
    # (N, K) squared distances by broadcasting: K is small (8 to 100) for toy sets.
    with np.errstate(over="ignore"):  # diverged points: inf is handled just below
        d2 = np.square(xf[:, None, :] - centres[None, :, :]).sum(axis=2)
    nearest = d2.argmin(axis=1)
    d2_min = d2[np.arange(xf.shape[0]), nearest]
    # Finite but huge points can overflow to inf; argmin of an all-inf row would
    # silently credit mode 0, so such rows belong to no mode.
    measurable = np.isfinite(d2_min)
    nearest, d2_min = nearest[measurable], d2_min[measurable]
    hq = d2_min < (threshold_std * sigmas[nearest]) ** 2

    counts = np.bincount(nearest[hq], minlength=k).astype(np.int64)
    mass = np.bincount(nearest, minlength=k) / n
    return ModeStats(
        modes_captured=int((counts >= min_count).sum()),
        hq_fraction=float(hq.sum()) / n,
        counts=counts,
        mass_per_mode=mass,
        max_mode_mass=float(mass.max()),
    )


# --------------------------------------------------------------------------
# 2. KL and JS divergences on a grid
# --------------------------------------------------------------------------


def default_bins(dim: int) -> int:
    """Bins per axis: 50 up to 2-D (2,500 cells), 20 in 3-D and above (8,000 cells)."""
    return 50 if dim <= 2 else 20


def _check_bounds(bounds: torch.Tensor | np.ndarray, dim: int) -> np.ndarray:
    if isinstance(bounds, torch.Tensor):
        bounds = bounds.detach().to("cpu", torch.float64).numpy()
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (dim, 2):
        raise ConfigError(
            f"bounds must have shape ({dim}, 2) (one [min, max] row per axis), "
            f"got {tuple(b.shape)}"
        )
    if not np.isfinite(b).all() or not (b[:, 1] > b[:, 0]).all():
        raise ConfigError(f"bounds must be finite with max > min on every axis, got {b.tolist()}")
    return b


def histogram_counts(
    x: torch.Tensor | np.ndarray,
    bounds: torch.Tensor | np.ndarray,
    bins: int | None = None,
) -> np.ndarray:
    """Counts of points x (N, D) on a regular grid -> (bins**D + 1,) int64.

    The grid has `bins` equal cells per axis over bounds (D, 2), in C order (the
    last axis varies fastest, as numpy.histogramdd). As in numpy, a point exactly
    on an axis maximum falls into the last cell. The extra final entry counts
    points outside the box or with non-finite coordinates: they are neither
    dropped (a generator shooting 90% of its points off-screen would then look
    perfect) nor folded into the edge cells (which would pass them off as real
    edge mass); they stay in the normalisation as one "outside" cell.
    """
    pts = _as_points(x, "points")
    dim = pts.shape[1]
    b = _check_bounds(bounds, dim)
    if bins is None:
        bins = default_bins(dim)
    if bins < 1:
        raise ConfigError(f"bins must be at least 1, got {bins}")
    cells = bins**dim
    if cells + 1 > MAX_GRID_CELLS:
        raise ConfigError(
            f"a grid of {bins} bins on {dim} axes has {cells} cells; use fewer bins"
        )

    lo, hi = b[:, 0], b[:, 1]
    # NaN compares False, so non-finite rows land outside with no special case.
    inside = ((pts >= lo) & (pts <= hi)).all(axis=1)
    idx = np.floor((pts[inside] - lo) / (hi - lo) * bins).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    flat = np.ravel_multi_index(tuple(idx.T), (bins,) * dim)
    counts = np.bincount(flat, minlength=cells + 1)
    counts[-1] = pts.shape[0] - int(inside.sum())
    return counts.astype(np.int64)


def _weights(w: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(w, torch.Tensor):
        w = w.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(w, dtype=np.float64).ravel()
    if not np.isfinite(arr).all() or (arr < 0).any() or not arr.sum() > 0:
        raise DataError(
            f"{name} must be finite non-negative counts or masses with a positive "
            "total; a histogram of zero samples has no distribution"
        )
    return arr


def js_divergence_bits(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits between two histograms p, q (C,).

    p and q are counts or masses (each is normalised by its own total, so the
    sample counts need not match). With M = (P + Q) / 2,
    JS = KL(P || M) / 2 + KL(Q || M) / 2 with log base 2, which lies in [0, 1]
    (Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf.
    Theory 1991): 0 for equal masses, exactly 1 for disjoint supports. M > 0
    wherever P or Q is, so no smoothing is needed; 0 log 0 = 0 cells are skipped.
    """
    pw, qw = _weights(p, "p"), _weights(q, "q")
    if pw.shape != qw.shape:
        raise DataError(f"histograms differ in length ({pw.size} vs {qw.size}); bin both on one grid")
    pm, qm = pw / pw.sum(), qw / qw.sum()
    two_m = pm + qm

    def half(w: np.ndarray, mass: np.ndarray) -> float:
        on = w > 0
        # Weighting the log ratios by the raw counts and dividing once by their
        # total keeps disjoint supports at exactly 1 bit (log2(2) = 1 per cell,
        # and an integer sum divided by itself is exactly 1).
        return float(np.dot(w[on], np.log2(2.0 * mass[on] / two_m[on]))) / float(w.sum())

    js = 0.5 * half(pw, pm) + 0.5 * half(qw, qm)
    return min(1.0, max(0.0, js))


def kl_divergence_nats(p: np.ndarray, q: np.ndarray, eps: float = KL_EPS) -> float:
    """KL(P || Q) in nats between two histograms p, q (C,) (counts or masses).

    Both mass functions are smoothed as (P + eps) / (1 + C eps), likewise Q, before
    taking sum P' ln(P' / Q'). Why: a finite generated sample leaves cells empty
    where the real data has mass, and KL would then be +inf for every training
    step, which says nothing about progress. Smoothing both sides (not only Q)
    keeps KL(P || P) exactly 0. The value is bounded by about ln(1 / eps) = 23 nats
    (everything missed); small misses cost about p_cell * ln(p_cell / eps). So
    KL has a sampling floor when the grid has many more cells than samples (two
    independent 2,500-point 3-D Gaussian samples on 20^3 cells give ~2 nats); JS
    is the steadier number to watch live.
    """
    if not (math.isfinite(eps) and eps > 0):
        raise ConfigError(f"eps must be a positive finite number, got {eps}")
    pw, qw = _weights(p, "p"), _weights(q, "q")
    if pw.shape != qw.shape:
        raise DataError(f"histograms differ in length ({pw.size} vs {qw.size}); bin both on one grid")
    norm = 1.0 + pw.size * eps
    ps = (pw / pw.sum() + eps) / norm
    qs = (qw / qw.sum() + eps) / norm
    return max(0.0, float(np.dot(ps, np.log(ps / qs))))


def grid_divergences(
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
    bounds: torch.Tensor | np.ndarray,
    bins: int | None = None,
) -> tuple[float, float]:
    """(KL(real || fake) in nats, JS in bits) of the two point sets' grid histograms.

    real (N, D) and fake (M, D) are binned on the same grid (`histogram_counts`:
    `bins` per axis over bounds (D, 2), default 50 in 2-D / 20 in 3-D, plus one
    "outside" cell for points off the box or non-finite), each normalised to a
    probability MASS function (counts / total, not a density), so the values do not
    depend on N, M or the bin area. The same array gives (0.0, 0.0) exactly.
    """
    r = _as_points(real, "real samples")
    f = _as_points(fake, "fake samples")
    if r.shape[1] != f.shape[1]:
        raise DataError(
            f"real samples have {r.shape[1]} features but fake samples have {f.shape[1]}; "
            "compare points of the same dimension"
        )
    if r.shape[0] == 0 or f.shape[0] == 0:
        raise DataError("grid divergences need at least one real and one fake sample")
    cr = histogram_counts(r, bounds, bins)
    cf = histogram_counts(f, bounds, bins)
    return kl_divergence_nats(cr, cf), js_divergence_bits(cr, cf)


# --------------------------------------------------------------------------
# 3. Frechet / 2-Wasserstein distance between Gaussians
# --------------------------------------------------------------------------


def fit_gaussian(samples: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples (N, D), N >= 2 -> (mean (D,), unbiased covariance (D, D)), float64."""
    x = _as_points(samples, "samples")
    if x.shape[0] < 2:
        raise DataError(f"fitting a Gaussian needs at least 2 samples, got {x.shape[0]}")
    mean = x.mean(axis=0)
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    return mean, cov


def covariance_eigs(samples: torch.Tensor | np.ndarray) -> np.ndarray:
    """Eigenvalues of the sample covariance of samples (N, D), ascending (D,).

    A generator whose latent has fewer dimensions than the data (say a 1-D latent
    on a 2-D Gaussian) can only produce a curve, which shows as an eigenvalue near 0.
    Samples that are not all finite (a diverged generator) give +inf eigenvalues.
    """
    _, cov = fit_gaussian(samples)
    if not np.isfinite(cov).all():
        return np.full(cov.shape[0], np.inf)
    return np.linalg.eigvalsh(cov)


def _sqrtm_psd(c: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix (D, D) via eigh.

    Rounding makes the eigenvalues of a singular covariance slightly negative;
    clipping them to 0 avoids the NaNs (or complex parts, in scipy.linalg.sqrtm)
    of a general matrix square root.
    """
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
    mu1: torch.Tensor | np.ndarray,
    cov1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    cov2: torch.Tensor | np.ndarray,
) -> float:
    """Squared 2-Wasserstein distance between N(mu1, cov1) and N(mu2, cov2).

    W2^2 = |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr((C1^1/2 C2 C1^1/2)^1/2)
    (Dowson & Landau, J. Multivariate Anal. 1982), the squared quantity FID reports
    (Heusel et al., NeurIPS 2017). mu (D,), cov (D, D) symmetric PSD. The inner
    matrix is symmetric PSD too, so its root's trace is the sum of the square roots
    of its eigenvalues (negative rounding clipped to 0): no scipy, no complex parts.
    """
    d = int(np.size(mu1))
    m1 = _as_float_array(mu1, "mu1", (d,))
    c1 = _as_float_array(cov1, "cov1", (d, d))
    m2 = _as_float_array(mu2, "mu2", (d,))
    c2 = _as_float_array(cov2, "cov2", (d, d))

    diff = m1 - m2
    mean_term = float(diff @ diff)
    if np.array_equal(c1, c2):
        # The trace terms cancel exactly; computing them would leave ~1e-16.
        return mean_term
    s1 = _sqrtm_psd(c1)
    inner = s1 @ c2 @ s1
    eig = np.linalg.eigvalsh(0.5 * (inner + inner.T))
    cross = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    return max(0.0, mean_term + float(np.trace(c1)) + float(np.trace(c2)) - 2.0 * cross)


def w2_distance(
    mu1: torch.Tensor | np.ndarray,
    cov1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    cov2: torch.Tensor | np.ndarray,
) -> float:
    """2-Wasserstein distance between two Gaussians: sqrt(frechet_distance(...))."""
    return math.sqrt(frechet_distance(mu1, cov1, mu2, cov2))


# --------------------------------------------------------------------------
# 4. Everything that applies to a data set
# --------------------------------------------------------------------------


def _frame(real: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """A (D, 2) box around the real points, padded by `margin` of their extent per side.

    Framed by the real points only (not real + fake): a diverging generator would
    otherwise stretch the grid until all real points share one cell and JS read ~0;
    its far-away points go to the "outside" cell instead. A flat axis gets +-0.5.
    """
    lo, hi = real.min(axis=0), real.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, margin * span, 0.5)
    return np.stack([lo - pad, hi + pad], axis=1)


def toy_metrics(
    info: DataInfo,
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
) -> dict[str, float]:
    """All toy metrics that apply to the data set, for real (N, D) and fake (M, D).

    Keys (only those that apply are present, so no value is a NaN placeholder):
      mixture sets (info.modes set): modes_captured, modes_total, hq_pct (0..100),
        max_mode_mass (see `mode_stats`, default 3-sigma / min_count=1 protocol);
      always: kl (KL(real || fake), nats), js (bits), on the grid over info.bounds,
        or over the real points' extent plus a 10% margin when bounds is None;
      single-Gaussian sets (info.mean and info.cov set): fid (squared W2 between the
        true Gaussian and the one fitted to fake) and w2 = sqrt(fid).
    A diverged generator still gets numbers: non-finite fake rows are non-HQ, belong
    to no mode and fall into the grid's "outside" cell; fid and w2 are +inf when any
    fake row is non-finite or the fitted Gaussian overflows. real must be finite.
    """
    r = _as_points(real, "real samples")
    f = _as_points(fake, "fake samples")
    if r.shape[1] != f.shape[1]:
        raise DataError(
            f"real samples have {r.shape[1]} features but fake samples have {f.shape[1]}; "
            "compare points of the same dimension"
        )
    if r.shape[0] == 0 or f.shape[0] == 0:
        raise DataError("toy metrics need at least one real and one fake sample")
    if not np.isfinite(r).all():
        raise DataError("real samples contain NaN or infinite values; the data set is corrupt, rebuild it")

    out: dict[str, float] = {}
    if info.modes is not None:
        if info.sigma is None:  # a builder's mistake, not the user's
            raise DataError(f"data set {info.name!r} has mode centres but no sigma; set DataInfo.sigma")
        stats = mode_stats(f, info.modes, info.sigma)
        out["modes_captured"] = float(stats.modes_captured)
        out["modes_total"] = float(stats.counts.size)
        out["hq_pct"] = 100.0 * stats.hq_fraction
        out["max_mode_mass"] = stats.max_mode_mass

    bounds = _frame(r) if info.bounds is None else info.bounds
    out["kl"], out["js"] = grid_divergences(r, f, bounds)

    if info.mean is not None and info.cov is not None:
        fid = math.inf
        if f.shape[0] >= 2 and np.isfinite(f).all():
            with np.errstate(over="ignore", invalid="ignore"):
                mu, cov = fit_gaussian(f)
            if np.isfinite(mu).all() and np.isfinite(cov).all():
                d = r.shape[1]
                fid = frechet_distance(
                    _as_float_array(info.mean, "info.mean", (d,)),
                    _as_float_array(info.cov, "info.cov", (d, d)),
                    mu,
                    cov,
                )
        out["fid"] = fid
        out["w2"] = math.sqrt(fid)
    return out
