"""MLP generator and discriminator (toy points, and the seed MNIST GAN).

G: z (N, latent_dim) [+ one-hot y] -> hidden layers -> (N, *shape); the output
is linear for points and tanh for images (pixels live in [-1, 1]).
D: x (N, *shape) [+ one-hot y] -> hidden layers (+ dropout) -> logits (N / pack,).
With pack > 1 (PacGAN, Lin et al. 2018) D sees `pack` samples concatenated and
returns one logit per pack.

Points are standardised inside the models: G's last layer is followed by a fixed
affine map `x * scale + center` and D starts with its inverse, so both networks
work in units where the data has zero mean and unit RMS, whatever the data's
coordinates (grid25 spans [-4, 4], ring8 [-1, 1]), while every caller sees data
coordinates. The constants are buffers: saved with the weights, never trained.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models.base import MODELS
from ganlab.models.layers import SeededDropout, activation, init_default

if TYPE_CHECKING:
    from ganlab.config import Config


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


def _standard_units(m: nn.Module, center: torch.Tensor | None, scale: float | None) -> None:
    """Register the (center (D,), scale ()) buffers, or None for unscaled data (images)."""
    if center is None:
        m.register_buffer("center", None)
        m.register_buffer("scale", None)
    else:
        m.register_buffer("center", center.detach().clone().float().flatten())
        m.register_buffer("scale", torch.tensor(float(scale or 1.0)))


class MLPGenerator(nn.Module):
    """z (N, latent_dim), y (N,) int or None -> samples (N, *shape)."""

    def __init__(self, latent_dim: int, shape: tuple[int, ...], layers: int, width: int,
                 act: str = "relu", slope: float = 0.2, num_classes: int = 0,
                 out_tanh: bool = False, center: torch.Tensor | None = None,
                 scale: float | None = None) -> None:
        super().__init__()
        self.latent_dim, self.shape, self.num_classes = latent_dim, tuple(shape), num_classes
        n_out = 1
        for s in shape:
            n_out *= s
        self.net = _stack(latent_dim + num_classes, n_out, layers, width, act, slope)
        self.out_tanh = out_tanh
        _standard_units(self, center, scale)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes:
            z = torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], 1)
        x = self.net(z)
        if self.out_tanh:
            x = torch.tanh(x)
        if self.center is not None:
            x = torch.addcmul(self.center, x, self.scale)
        return x.view(x.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """x (N, *shape), y (N,) int or None -> logits (N // pack,)."""

    def __init__(self, shape: tuple[int, ...], layers: int, width: int, act: str = "relu",
                 slope: float = 0.2, dropout: float = 0.0, num_classes: int = 0, pack: int = 1,
                 center: torch.Tensor | None = None, scale: float | None = None,
                 mbstd: int = 0) -> None:
        super().__init__()
        self.shape, self.num_classes, self.pack, self.mbstd = tuple(shape), num_classes, pack, mbstd
        n_in = 1
        for s in shape:
            n_in *= s
        self.n_in = n_in
        self.net = _stack((n_in + num_classes) * pack, 1, layers, width, act, slope, dropout)
        if mbstd:
            last = self.net[-1]
            self.net[-1] = nn.Linear(last.in_features + 1, 1)
        _standard_units(self, center, scale)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = x.reshape(x.shape[0], self.n_in)
        if self.center is not None:
            h = (h - self.center) / self.scale
        if self.num_classes:
            h = torch.cat([h, F.one_hot(y, self.num_classes).to(h.dtype)], 1)
        if self.pack > 1:
            h = h.reshape(h.shape[0] // self.pack, -1)
        if not self.mbstd:
            return self.net(h).squeeze(1)
        for layer in self.net[:-1]:
            h = layer(h)
        return self.net[-1](torch.cat([h, minibatch_std(h, self.mbstd)], 1)).squeeze(1)


def minibatch_std(h: Tensor, group: int) -> Tensor:
    """(N, W) features -> (N, 1): the mean over features of the std within each group.

    Minibatch standard deviation (Karras et al. 2018) for MLPs: D sees how varied
    the samples of its group are, so a G that collapses onto a few modes is easy
    to tell from the data. Groups are consecutive rows; the trainer stacks real
    and fake halves whose sizes are multiples of the group, so groups never mix
    them. A batch whose size is not a multiple of the group forms one group.
    """
    n = h.shape[0]
    g = group if n % group == 0 else n
    x = h.reshape(n // g, g, -1)
    # The variance written out: Tensor.var over a middle dimension measured 3x slower
    # (forward + backward) on CPU. sqrt(var + eps), as Karras et al.: a feature that is
    # constant in a group (dead ReLU) has std 0, where a bare std's gradient is 0/0.
    var = (x - x.mean(dim=1, keepdim=True)).square().mean(dim=1)  # (N/g, W)
    std = (var + 1e-8).sqrt()
    return std.mean(dim=1, keepdim=True).repeat_interleave(g, dim=0)


# --- registered builders -------------------------------------------------

def _mlp(cfg: "Config", info: DataInfo, rng: torch.Generator, num_classes: int) -> tuple[nn.Module, nn.Module]:
    image = info.kind == "image"
    units = {} if image else {"center": info.center, "scale": info.scale}
    g = MLPGenerator(cfg.latent_dim, info.shape, cfg.g_layers, cfg.g_width, cfg.activation,
                     cfg.leaky_slope, num_classes=num_classes, out_tanh=image, **units)
    d = MLPDiscriminator(info.shape, cfg.d_layers, cfg.d_width, cfg.activation, cfg.leaky_slope,
                         cfg.d_dropout, num_classes=num_classes, pack=cfg.pack,
                         mbstd=cfg.d_mbstd, **units)
    init_default(g, rng)
    init_default(d, rng)
    return g, d


@MODELS.register("mlp", help="MLP generator and discriminator (toy sets; the seed MNIST GAN)")
def build_mlp(cfg: "Config", info: DataInfo, rng: torch.Generator) -> tuple[nn.Module, nn.Module]:
    return _mlp(cfg, info, rng, 0)


@MODELS.register("cgan", help="conditional MLP GAN: class one-hot joined to G's and D's inputs")
def build_cgan(cfg: "Config", info: DataInfo, rng: torch.Generator) -> tuple[nn.Module, nn.Module]:
    if info.num_classes < 2:
        raise ConfigError(f"model 'cgan' needs a labelled data set; {info.name!r} has no classes "
                          "(use model=mlp, or a labelled set such as mnist or ring8)")
    return _mlp(cfg, info, rng, info.num_classes)
