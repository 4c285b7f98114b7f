"""MLP generator and discriminator (toy points, and the seed MNIST GAN).

G: z (N, latent_dim) [+ one-hot y] -> hidden layers -> (N, *shape); the output
is linear for points and tanh for images (pixels live in [-1, 1]).
D: x (N, *shape) [+ one-hot y] -> hidden layers (+ dropout) -> logits (N / pack,).
With pack > 1 (PacGAN, Lin et al. 2018) D sees `pack` samples concatenated and
returns one logit per pack.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.models.layers import SeededDropout, activation


def _stack(n_in: int, n_out: int, layers: int, width: int, act: str, slope: float,
           dropout: float = 0.0) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        mods += [nn.Linear(d, width), activation(act, slope)]
        if dropout > 0:
            mods.append(SeededDropout(dropout))
        d = width
    mods.append(nn.Linear(d, n_out))
    return nn.Sequential(*mods)


class MLPGenerator(nn.Module):
    """z (N, latent_dim), y (N,) int or None -> samples (N, *shape)."""

    def __init__(self, latent_dim: int, shape: tuple[int, ...], layers: int, width: int,
                 act: str = "relu", slope: float = 0.2, num_classes: int = 0,
                 out_tanh: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.shape, self.num_classes = latent_dim, tuple(shape), num_classes
        n_out = 1
        for s in shape:
            n_out *= s
        self.net = _stack(latent_dim + num_classes, n_out, layers, width, act, slope)
        self.out_tanh = out_tanh

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes:
            z = torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], 1)
        x = self.net(z)
        if self.out_tanh:
            x = torch.tanh(x)
        return x.view(x.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """x (N, *shape), y (N,) int or None -> logits (N // pack,)."""

    def __init__(self, shape: tuple[int, ...], layers: int, width: int, act: str = "relu",
                 slope: float = 0.2, dropout: float = 0.0, num_classes: int = 0, pack: int = 1) -> None:
        super().__init__()
        self.shape, self.num_classes, self.pack = tuple(shape), num_classes, pack
        n_in = 1
        for s in shape:
            n_in *= s
        self.n_in = n_in
        self.net = _stack((n_in + num_classes) * pack, 1, layers, width, act, slope, dropout)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = x.reshape(x.shape[0], self.n_in)
        if self.num_classes:
            h = torch.cat([h, F.one_hot(y, self.num_classes).to(h.dtype)], 1)
        if self.pack > 1:
            h = h.reshape(h.shape[0] // self.pack, -1)
        return self.net(h).squeeze(1)
