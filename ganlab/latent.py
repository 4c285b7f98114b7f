"""Paths through a latent space: straight lines and great circles between latents."""
from __future__ import annotations

import torch
from torch import Tensor


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Straight line: a, b (d,), t (T,) in [0, 1] -> (T, d)."""
    t = t.to(a.dtype).unsqueeze(1)
    return (1 - t) * a + t * b


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Great-circle path from a to b (d,), t (T,) -> (T, d) (Shoemake 1985; White 2016 for GANs).

    A d-dimensional standard-normal latent lies near the sphere of radius sqrt(d);
    the midpoint of a straight line between two such latents has norm about
    sqrt(d / 2), a region G never saw during training. Slerp rotates from a to b at
    constant angular speed and interpolates the norm, so every frame is a typical
    latent (and, for pixel-normalised G, the picture changes at an even pace).
    """
    t = t.to(a.dtype).unsqueeze(1)
    na, nb = a.norm(), b.norm()
    cos = torch.dot(a / na, b / nb).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if float(torch.sin(omega)) < 1e-6:  # (anti)parallel: the great circle is undefined
        return lerp(a, b, t.squeeze(1))
    direction = (torch.sin((1 - t) * omega) * a / na + torch.sin(t * omega) * b / nb) / torch.sin(omega)
    return direction * ((1 - t) * na + t * nb)
