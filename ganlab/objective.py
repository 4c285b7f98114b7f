"""The GAN objective: D's and G's whole loss, in one place.

A run's objective is its loss pair (`ganlab.losses`: pure functions of D's
logits) plus D's regularisers, each switched on and weighted by the run's Config:
- the gradient penalty of WGAN-GP (Gulrajani et al. 2017), weight `gp_weight`,
  for losses whose constraint is "gp";
- weight clipping of WGAN (Arjovsky et al. 2017) to +-`clip_value` after each D
  update, for losses whose constraint is "clip";
- R1 on real points (Mescheder et al. 2018), `d_r1 / 2 * E||grad D(x)||^2`,
  lazily every `d_r1_every` iterations and weighted up to match (Karras et al. 2020);
- the drift term `d_drift * E[D(x)^2]` that keeps a critic's output near 0
  (Karras et al. 2018: 1e-3 in the progressive GAN);
- an L2 penalty on D's weight matrices, `d_l2 * sum w^2`, optionally scaled by
  how far D is ahead (`d_l2_adaptive`);
- for conditional models, the matching-aware term of Reed et al. 2016 (GAN-CLS):
  a share `d_mismatch` of D's fake term goes to real images shown with a wrong
  class, so that D learns to reject an image that does not match its label.
`Objective.d_loss` / `g_loss` combine them; the penalty terms that need D itself
(gradient penalty, R1, L2) are computed by the functions below, or batched over
runs by the side-by-side trainer, and handed in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch
from torch import Tensor, nn

from ganlab.losses import Loss, build_loss

if TYPE_CHECKING:
    from ganlab.config import Config


def gradient_penalty(d: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: torch.Generator) -> Tensor:
    """WGAN-GP term E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat on real-fake segments.

    real, fake: (N, *shape), already detached from G. `d` maps (N, *shape) -> (N',)
    (N' < N when D packs samples). The interpolation weights use `generator`.
    """
    n = real.shape[0]
    eps = torch.rand((n,) + (1,) * (real.dim() - 1), generator=generator, device=real.device,
                     dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = d(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    # With packing, a logit depends on `pack` samples: the norm is per logit.
    grad = grad.reshape(out.shape[0], -1)
    return (grad.norm(2, dim=1) - 1.0).square().mean()


def r1_penalty(logits: Tensor, real: Tensor) -> Tensor:
    """R1 term E[||grad_x D(x)||_2^2] on real samples (Mescheder et al. 2018).

    logits: (N',) D's outputs on `real` (N, *shape), which must require grad.
    The graph is kept so that the penalty itself is differentiated.
    """
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.reshape(real.shape[0], -1).square().sum(1).mean()


def l2_penalty(module: nn.Module) -> Tensor:
    """Sum of squares of the module's weight matrices (biases excluded)."""
    ws = [p for name, p in module.named_parameters() if p.dim() > 1]
    return torch.stack([w.square().sum() for w in ws]).sum()


def adaptive_l2_scale(real: Tensor, fake: Tensor) -> Tensor:
    """In [0, 1]: how far D is ahead, 2 * (accuracy - 1/2) clamped at 0.

    Accuracy counts real logits > 0 and fake logits < 0. The adaptive L2 penalty
    is d_l2 * this scale, so it bites only while D is winning and vanishes when D
    is at chance, which keeps D from overpowering G without weakening a D that
    is already losing. No gradient flows through the scale.
    """
    with torch.no_grad():
        acc = 0.5 * ((real > 0).float().mean() + (fake < 0).float().mean())
        return (2.0 * acc - 1.0).clamp_min(0.0)


class Objective:
    """The loss pair and D's regularisers of one run, as its Config sets them.

    Reads the Config fields loss, label_smoothing, gp_weight, clip_value, d_r1,
    d_r1_every, d_drift, d_l2 and d_l2_adaptive. Logits are D's raw scores
    (see `ganlab.losses` for the sign convention); every loss is a scalar to minimise.
    """

    def __init__(self, cfg: "Config") -> None:
        self.cfg = cfg
        self.loss: Loss = build_loss(cfg.loss)

    @property
    def uses_gp(self) -> bool:
        """Does D's loss include the gradient penalty (a "gp" loss with gp_weight > 0)?"""
        return self.loss.constraint == "gp" and self.cfg.gp_weight > 0

    @property
    def uses_l2(self) -> bool:
        return self.cfg.d_l2 > 0

    @property
    def g_needs_real(self) -> bool:
        """Does G's loss read D(real) (the relativistic losses)?"""
        return self.loss.g_needs_real

    def r1_due(self, step: int) -> bool:
        """Is R1 applied in iteration `step`? Keyed on the step count so that a resumed
        run applies it in the same iterations as an uninterrupted one."""
        return self.cfg.d_r1 > 0 and step % self.cfg.d_r1_every == 0

    @property
    def uses_mismatch(self) -> bool:
        """Does D's loss include real images with wrong labels (d_mismatch > 0)?"""
        return self.cfg.d_mismatch > 0

    def d_loss(self, real: Tensor, fake: Tensor, *, gp: Tensor | None = None, r1: Tensor | None = None,
               l2: Tensor | None = None, mismatch: Tensor | None = None) -> Tensor:
        """D's whole loss from its logits on real (N,) and fake (M,) points and the raw
        penalty terms (`gradient_penalty`, `r1_penalty`, `l2_penalty` values; None = not
        applied this step). `mismatch` (N,): logits of real points with wrong labels; the
        loss pair is then (1 - w) * loss(real, fake) + w * loss(real, mismatch), w =
        d_mismatch, which for the usual losses (a real term plus a fake term) keeps the
        real term whole and splits the fake term. Returns a scalar."""
        cfg = self.cfg
        if mismatch is not None and cfg.d_mismatch > 0:
            w = cfg.d_mismatch
            loss = (1.0 - w) * self.loss.d(real, fake, cfg.label_smoothing) \
                + w * self.loss.d(real, mismatch, cfg.label_smoothing)
        else:
            loss = self.loss.d(real, fake, cfg.label_smoothing)
        if gp is not None:
            loss = loss + cfg.gp_weight * gp
        if r1 is not None:
            loss = loss + cfg.d_r1 * cfg.d_r1_every / 2 * r1
        if cfg.d_drift > 0:
            loss = loss + cfg.d_drift * real.square().mean()
        if l2 is not None:
            scale = adaptive_l2_scale(real, fake) if cfg.d_l2_adaptive else 1.0
            loss = loss + cfg.d_l2 * scale * l2
        return loss

    def d_objective(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                    real_logits: Tensor, fake_logits: Tensor, *, rng: torch.Generator, r1: bool,
                    d_module: nn.Module, mismatch_logits: Tensor | None = None) -> Tensor:
        """`d_loss` with every penalty computed for one network: `critic` maps points
        (N, *shape) -> logits; `real` must require grad when `r1` is True (and
        `real_logits` be computed from it)."""
        gp = gradient_penalty(critic, real, fake, rng) if self.uses_gp else None
        return self.d_loss(real_logits, fake_logits, gp=gp,
                           r1=r1_penalty(real_logits, real) if r1 else None,
                           l2=l2_penalty(d_module) if self.uses_l2 else None, mismatch=mismatch_logits)

    def g_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """G's loss from D's logits on fakes (and on reals, read only by relativistic losses)."""
        return self.loss.g(real, fake)

    @torch.no_grad()
    def constrain(self, params: list[Tensor]) -> None:
        """After a D update: clip D's weights to +-clip_value for weight-clipping losses."""
        if self.loss.constraint == "clip":
            torch._foreach_clamp_min_(params, -self.cfg.clip_value)
            torch._foreach_clamp_max_(params, self.cfg.clip_value)
