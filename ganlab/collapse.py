"""The mode-collapse detector: flags a run whose samples lost diversity, and says how.

It reads numbers a run already records (`toy_metrics` plus `collapse_metrics`
below) and compares them with the same numbers of the real data:

- mixtures (data with mode centres): collapse is mass on too few modes.
  * few modes: at most half of the modes captured (VEEGAN / PacGAN protocol of
    `ganlab.metrics.toy.mode_stats`), reported with the best count the run's
    history reached, so "dropped from 8 to 3 modes" reads as it happened;
  * one dominant mode: one mode holds more than MASS_FACTOR times its fair
    share 1 / K of all samples.
  "Few modes" waits until at least MIN_HQ_PCT % of samples are high quality: an
  untrained generator's blob between the modes touches none, which is not
  collapse (its mass is split between the nearest modes, so it is not flagged
  as a dominant mode either): that run is "learning", too early to judge.
- everything else (single Gaussians, shapes): collapse is lost spread.
  * lower dimension: the samples' local dimension (below) is at least DIM_GAP
    under the real data's: a 1-D latent draws a curve through a 2-D Gaussian,
    even when the curve folds enough to keep both covariance eigenvalues large;
  * a flat direction: the smallest covariance eigenvalue is under EIG_RATIO of
    the real smallest one (the "one eigenvalue near zero" of a 1-D latent whose
    curve stayed straight: it captured the trend, not the variance). Only near
    zero counts: a healthy run's ellipse is often a few times too thin for
    hundreds of steps, which is slow learning, not lost dimensions;
  * shrunk: total variance under VAR_RATIO of the real one (collapse to a point).

Local dimension: for each of the first `anchors` points, the covariance of its
`neighbours` nearest points and the participation ratio (sum l)^2 / sum l^2 of
that covariance's eigenvalues l: 1 for points on a curve, about 1.7 to 2 inside a
2-D cloud (a finite neighbourhood is never perfectly isotropic), up to D.
The mean over anchors is robust to a curve folding back on itself, where global
eigenvalues are not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from ganlab.data.base import DataInfo
from ganlab.errors import DataError
from ganlab.metrics.toy import covariance_eigs

MIN_HQ_PCT = 10.0    # "few modes" applies once this % of samples sit on some mode
MODES_FRACTION = 0.5  # "few modes": captured <= this fraction of all modes
MASS_FACTOR = 3.0     # "dominant mode": a mode holding > 3x its fair share 1 / K
DIM_GAP = 0.5         # "lower dimension": local_dim below the real one by this much
EIG_RATIO = 0.02      # "flat direction": smallest eigenvalue < 2% of the real smallest
VAR_RATIO = 0.1       # "shrunk": total variance < 10% of the real total
ANCHORS = 500
NEIGHBOURS = 16


def _points(x: Tensor | np.ndarray) -> Tensor:
    t = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if t.dim() != 2 or t.shape[0] < 2:
        raise DataError(f"collapse measures need points (N >= 2, D), got shape {tuple(t.shape)}")
    return t


def local_dimension(x: Tensor | np.ndarray, anchors: int = ANCHORS,
                    neighbours: int = NEIGHBOURS) -> float:
    """Mean participation ratio of local covariances of points x (N, D) (see module doc).

    0 when the points coincide; non-finite rows are ignored.
    """
    pts = _points(x)
    pts = pts[torch.isfinite(pts).all(1)]
    if pts.shape[0] < 3:
        return 0.0
    m = min(neighbours + 1, pts.shape[0])  # +1: a point is its own nearest neighbour
    a = pts[:anchors]
    idx = torch.cdist(a, pts).topk(m, dim=1, largest=False).indices  # (A, m)
    nb = pts[idx]                                                      # (A, m, D)
    nb = nb - nb.mean(1, keepdim=True)
    cov = nb.transpose(1, 2) @ nb / (m - 1)                            # (A, D, D)
    lam = torch.linalg.eigvalsh(cov).clamp_min(0.0)
    s1, s2 = lam.sum(1), lam.square().sum(1)
    pr = torch.where(s2 > 0, s1.square() / s2.clamp_min(1e-300), torch.zeros_like(s1))
    return float(pr.mean())


def collapse_metrics(fake: Tensor | np.ndarray) -> dict[str, float]:
    """The detector's measures of fake (N, D): eig1 <= .. <= eigD of the covariance, local_dim."""
    eigs = covariance_eigs(_points(fake))
    out = {f"eig{j + 1}": float(e) for j, e in enumerate(eigs)}
    out["local_dim"] = local_dimension(fake)
    return out


def real_eigenvalues(info: DataInfo, x: Tensor) -> np.ndarray:
    """The real data's covariance eigenvalues, ascending (D,): the true ones when the set
    is a known Gaussian, else those of the first 20,000 points x (N, D)."""
    if info.cov is not None:
        return np.linalg.eigvalsh(info.cov.detach().to("cpu", torch.float64).numpy())
    return covariance_eigs(_points(x[:20000]))


def reference_metrics(info: DataInfo, real: Tensor | np.ndarray) -> dict[str, float]:
    """`collapse_metrics` of real samples (N, D), with the true eigenvalues when known."""
    out = collapse_metrics(real)
    if info.cov is not None:
        for j, e in enumerate(real_eigenvalues(info, _points(real))):
            out[f"eig{j + 1}"] = float(e)
    return out


@dataclass(frozen=True)
class Finding:
    """One reason a run is flagged. kind: few_modes | dominant_mode | lower_dim | flat | shrunk."""

    kind: str
    message: str


@dataclass(frozen=True)
class Diagnosis:
    """status: "collapsed" (findings say why), "ok", or "learning" (too early to judge)."""

    status: str
    findings: list[Finding] = field(default_factory=list)
    note: str = ""

    @property
    def collapsed(self) -> bool:
        return self.status == "collapsed"

    @property
    def summary(self) -> str:
        """One sentence for the page."""
        if self.collapsed:
            modes = any(f.kind in ("few_modes", "dominant_mode") for f in self.findings)
            head = "Mode collapse: " if modes else "Diversity lost: "
            return head + "; ".join(f.message for f in self.findings) + "."
        return self.note


def _eigs(m: Mapping[str, float]) -> list[float]:
    out, j = [], 1
    while f"eig{j}" in m:
        out.append(float(m[f"eig{j}"]))
        j += 1
    return out


def diagnose(metrics: Mapping[str, float], real: Mapping[str, float] | None = None,
             history: Sequence[Mapping[str, float]] = ()) -> Diagnosis:
    """Judge one run from its latest metrics (a history row: toy_metrics + collapse_metrics).

    real: `reference_metrics` of the real data (needed for the spread rules);
    history: the run's earlier rows (for "dropped from N modes").
    """
    findings: list[Finding] = []
    if "modes_total" in metrics:
        total, got = int(metrics["modes_total"]), int(metrics["modes_captured"])
        hq = float(metrics["hq_pct"])
        if got <= MODES_FRACTION * total and hq >= MIN_HQ_PCT:
            best = max((r for r in history if "modes_captured" in r),
                       key=lambda r: r["modes_captured"], default=None)
            msg = f"only {got} of {total} modes captured"
            if best is not None and int(best["modes_captured"]) > got:
                msg += f" (down from {int(best['modes_captured'])} at step {int(best['step'])})"
            findings.append(Finding("few_modes", msg))
        mass, limit = float(metrics["max_mode_mass"]), MASS_FACTOR / total
        if mass > limit:
            findings.append(Finding("dominant_mode", f"{100 * mass:.0f}% of samples sit nearest one mode "
                                    f"(a fair share is {100 / total:.0f}%, the flag is at "
                                    f"{100 * limit:.0f}%)"))
        if not findings and hq < MIN_HQ_PCT and got <= MODES_FRACTION * total:
            return Diagnosis("learning", note=f"only {hq:.0f}% of samples are on a mode yet "
                             f"({got} of {total} modes touched): too early to judge")
        note = f"{got} of {total} modes captured, at most {100 * mass:.0f}% of samples on one"
        if hq < MIN_HQ_PCT:
            note += f"; only {hq:.0f}% of samples are sharp yet (within 3 sigma of a mode)"
    else:
        fe, re_ = _eigs(metrics), _eigs(real or {})
        note = "the samples spread like the data"
        if real and "local_dim" in metrics and "local_dim" in real:
            fd, rd = float(metrics["local_dim"]), float(real["local_dim"])
            if fd < rd - DIM_GAP:
                shape = "a curve" if fd < 1.5 else "a surface" if fd < 2.5 else "a thin set"
                findings.append(Finding("lower_dim", f"the samples lie on {shape} (local dimension "
                                        f"{fd:.1f}, the data's is {rd:.1f}): the latent space cannot "
                                        "cover the data's dimensions"))
        if fe and re_ and len(fe) == len(re_) and all(np.isfinite(fe)):
            if re_[0] > 0 and fe[0] < EIG_RATIO * re_[0]:
                findings.append(Finding("flat", f"one direction has almost no variance (smallest "
                                        f"covariance eigenvalue {fe[0]:.3g}, the data's is {re_[0]:.3g}): "
                                        "the trend is captured, not the variance"))
            if sum(re_) > 0 and sum(fe) < VAR_RATIO * sum(re_):
                findings.append(Finding("shrunk", f"the samples shrank to {100 * sum(fe) / sum(re_):.0f}% "
                                        "of the data's total variance"))
    return Diagnosis("collapsed" if findings else "ok", findings, note)
