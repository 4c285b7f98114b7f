"""GAN losses as pure functions on discriminator logits.

Sign convention (the only place it is written down):
- D(x) returns a raw, unbounded score per sample (a "logit"); larger means
  "more real". Probabilistic losses read it as D(x) = sigmoid(logit).
- Every function returns a scalar loss to MINIMISE: `d(real, fake)` is D's
  loss, `g(real, fake)` is G's loss. `real` and `fake` are logits of shape (N,)
  and (M,); batch means are taken inside.
- softplus(-t) = -log sigmoid(t) and softplus(t) = -log(1 - sigmoid(t)).

Losses with targets (ns, minimax, lsgan, ragan, ralsgan) support one-sided label
smoothing: D's real target becomes 1 - s (Salimans et al. 2016); fakes keep 0.
`wgan` and `wgan-gp` share the same functions: the Lipschitz constraint differs
(weight clipping vs gradient penalty) and is applied by the trainer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from ganlab.registry import Registry


@dataclass(frozen=True)
class Loss:
    """A loss pair. constraint: "none" | "clip" | "gp"; g_needs_real: G's loss reads D(real)."""

    name: str
    d: Callable[[Tensor, Tensor, float], Tensor]
    g: Callable[[Tensor, Tensor], Tensor]
    has_targets: bool
    g_needs_real: bool = False
    constraint: str = "none"


LOSSES: Registry[Loss] = Registry("loss")


def _bce_real(t: Tensor, smooth: float) -> Tensor:
    """Mean BCE of logits t against target 1 - smooth."""
    if smooth == 0.0:
        return F.softplus(-t).mean()
    return ((1.0 - smooth) * F.softplus(-t) + smooth * F.softplus(t)).mean()


def _bce_fake(t: Tensor) -> Tensor:
    return F.softplus(t).mean()


# --- Goodfellow et al. 2014 -------------------------------------------------
def d_ns(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """-log D(x) - log(1 - D(G(z)))  (the minimax / non-saturating D loss)."""
    return _bce_real(real, smooth) + _bce_fake(fake)


def g_ns(real: Tensor, fake: Tensor) -> Tensor:
    """Non-saturating: -log D(G(z))."""
    return F.softplus(-fake).mean()


def g_minimax(real: Tensor, fake: Tensor) -> Tensor:
    """Minimax (saturating): log(1 - D(G(z))) = -softplus(fake)."""
    return -F.softplus(fake).mean()


# --- Mao et al. 2017 (a=0, b=1, c=1) ------------------------------------------
def d_lsgan(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """1/2 E(D(x) - (1 - s))^2 + 1/2 E D(G(z))^2."""
    return 0.5 * (real - (1.0 - smooth)).square().mean() + 0.5 * fake.square().mean()


def g_lsgan(real: Tensor, fake: Tensor) -> Tensor:
    """1/2 E(D(G(z)) - 1)^2."""
    return 0.5 * (fake - 1.0).square().mean()


# --- Arjovsky et al. 2017, Gulrajani et al. 2017 ------------------------------
def d_wgan(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """E D(G(z)) - E D(x): the negated critic estimate of W1."""
    return fake.mean() - real.mean()


def g_wgan(real: Tensor, fake: Tensor) -> Tensor:
    """-E D(G(z))."""
    return -fake.mean()


# --- Lim & Ye 2017 / Miyato et al. 2018 ---------------------------------------
def d_hinge(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """E relu(1 - D(x)) + E relu(1 + D(G(z)))."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


# --- Jolicoeur-Martineau 2019 (relativistic average) --------------------------
# Each side is judged relative to the mean logit of the other side:
# r~ = real - mean(fake), f~ = fake - mean(real).
def d_ragan(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """BCE(r~, 1 - s) + BCE(f~, 0)."""
    return _bce_real(real - fake.mean(), smooth) + _bce_fake(fake - real.mean())


def g_ragan(real: Tensor, fake: Tensor) -> Tensor:
    """BCE(f~, 1) + BCE(r~, 0)."""
    return _bce_real(fake - real.mean(), 0.0) + _bce_fake(real - fake.mean())


def d_ralsgan(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """E(r~ - (1 - s))^2 + E(f~ + 1)^2."""
    return (real - fake.mean() - (1.0 - smooth)).square().mean() + \
        (fake - real.mean() + 1.0).square().mean()


def g_ralsgan(real: Tensor, fake: Tensor) -> Tensor:
    """E(f~ - 1)^2 + E(r~ + 1)^2."""
    return (fake - real.mean() - 1.0).square().mean() + (real - fake.mean() + 1.0).square().mean()


def d_rahinge(real: Tensor, fake: Tensor, smooth: float = 0.0) -> Tensor:
    """E relu(1 - r~) + E relu(1 + f~)."""
    return F.relu(1.0 - (real - fake.mean())).mean() + F.relu(1.0 + (fake - real.mean())).mean()


def g_rahinge(real: Tensor, fake: Tensor) -> Tensor:
    """E relu(1 - f~) + E relu(1 + r~)."""
    return F.relu(1.0 - (fake - real.mean())).mean() + F.relu(1.0 + (real - fake.mean())).mean()


LOSSES.add("ns", Loss("ns", d_ns, g_ns, has_targets=True),
           "non-saturating GAN (Goodfellow et al. 2014): G minimises -log D(G(z))")
LOSSES.add("minimax", Loss("minimax", d_ns, g_minimax, has_targets=True),
           "the original minimax GAN: G minimises log(1 - D(G(z))) (saturates early)")
LOSSES.add("lsgan", Loss("lsgan", d_lsgan, g_lsgan, has_targets=True),
           "least squares GAN (Mao et al. 2017)")
LOSSES.add("wgan", Loss("wgan", d_wgan, g_wgan, has_targets=False, constraint="clip"),
           "Wasserstein GAN with weight clipping (Arjovsky et al. 2017)")
LOSSES.add("wgan-gp", Loss("wgan-gp", d_wgan, g_wgan, has_targets=False, constraint="gp"),
           "Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)")
LOSSES.add("hinge", Loss("hinge", d_hinge, g_wgan, has_targets=False),
           "hinge loss (Lim & Ye 2017; Miyato et al. 2018)")
LOSSES.add("ragan", Loss("ragan", d_ragan, g_ragan, has_targets=True, g_needs_real=True),
           "relativistic average GAN (Jolicoeur-Martineau 2019)")
LOSSES.add("ralsgan", Loss("ralsgan", d_ralsgan, g_ralsgan, has_targets=True, g_needs_real=True),
           "relativistic average least squares GAN")
LOSSES.add("rahinge", Loss("rahinge", d_rahinge, g_rahinge, has_targets=False, g_needs_real=True),
           "relativistic average hinge GAN")


def build_loss(name: str) -> Loss:
    """The named loss; ConfigError listing the valid names otherwise."""
    return LOSSES.get(name)
