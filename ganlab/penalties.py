"""Regularisers of the discriminator that need D itself, not just its logits."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn


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
