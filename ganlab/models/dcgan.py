"""DCGAN generator and discriminator (Radford et al. 2016); the seed architecture at 28 px.

With w = g_width = d_width = 32 and 28 x 28 grey images this is exactly the seed:
  G: z (N, 100) -> ConvT(100->2w, k7, s1, p0) BN ReLU           ->  7 x 7
                -> ConvT(2w->w, k4, s2, p1) BN ReLU              -> 14 x 14
                -> ConvT(w->C, k4, s2, p1) tanh                  -> 28 x 28
  D: x (N, C, 28, 28) -> Conv(C->w, k4, s2, p1) LeakyReLU        -> 14 x 14
                      -> Conv(w->2w, k4, s2, p1) BN LeakyReLU    ->  7 x 7
                      -> Conv(2w->1, k7, s1, p0)                 ->  1 x 1 logit

Other sizes (the documented generalisation): a side S = b * 2^n with bottom
b in {7, 4} (28 -> 7 x 2^2, 32 -> 4 x 2^3, 64 -> 4 x 2^4, 128 -> 4 x 2^5). The bottom layer
has kernel b, and there is one stride-2 block per doubling; channels double at
every halving of the resolution, so the highest-resolution hidden layer has w
channels and the bottom one w * 2^(n-1). Depth follows the image size, so
g_layers / d_layers do not apply to these models.

Choices the seed leaves open: convolutions followed by BatchNorm have no bias
(BN's shift replaces it); the others have one. G's hidden activation is ReLU,
D's is LeakyReLU(leaky_slope), as in the DCGAN paper. Weights use the DCGAN
init N(0, 0.02) (BN scales N(1, 0.02)). G's bottom layer (from a 1 x 1 input)
and D's top layer (a kernel as large as its input) are computed as the matrix
products they are (`BottomConvT`, `TopConv`): same parameters, faster on CPUs.

Stabilisers: `d_dropout` adds seeded dropout after each of D's hidden
activations; `pack` > 1 (PacGAN) stacks `pack` samples along the channel axis.

Conditional (`cdcgan`, after Mirza & Osindero 2014): G sees the class one-hot
joined to z (as K extra 1 x 1 input channels); D sees it as K constant planes
joined to the image channels.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models.base import MODELS
from ganlab.models.layers import SeededDropout, init_normal

if TYPE_CHECKING:
    from ganlab.config import Config

BOTTOMS = (7, 4)  # bottom feature-map sides, tried in this order


def layout(side: int) -> tuple[int, int]:
    """Image side -> (bottom side b, number of stride-2 blocks n) with side = b * 2^n, n >= 1."""
    for b in BOTTOMS:
        n, s = 0, side
        while s > b and s % 2 == 0:
            s //= 2
            n += 1
        if s == b and n >= 1:
            return b, n
    raise ConfigError(f"DCGAN models need square images whose side is 7 * 2^n or 4 * 2^n "
                      f"(28, 32, 64, 128, ...); got {side} px: set image_size to 28, 32, 64 or 128")


class BottomConvT(nn.ConvTranspose2d):
    """G's first layer, a transposed convolution of a 1 x 1 input (stride 1, padding 0).

    It computes out[n, o, i, j] = sum_c z[n, c] w[c, o, i, j]: one matrix product,
    which the CPU runs several times faster than the generic transposed
    convolution kernel. Same parameters (and state_dict) as nn.ConvTranspose2d.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (1, 1) or self.padding != (0, 0) or self.stride != (1, 1):
            return super().forward(x)
        y = F.linear(x.flatten(1), self.weight.flatten(1).t())
        y = y.view(x.shape[0], self.out_channels, *self.kernel_size)
        return y if self.bias is None else y + self.bias[:, None, None]


class TopConv(nn.Conv2d):
    """D's last layer, a convolution whose kernel covers the whole (padding 0) input.

    Then out[n, o] = sum_{c,i,j} x[n, c, i, j] w[o, c, i, j] + b[o]: one matrix
    product (faster on the CPU). Same parameters (and state_dict) as nn.Conv2d.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != self.kernel_size or self.padding != (0, 0):
            return super().forward(x)
        return F.linear(x.flatten(1), self.weight.flatten(1), self.bias)[:, :, None, None]


def _image_shape(info: DataInfo, model: str) -> tuple[int, int]:
    """(channels, side) of an image data set, or ConfigError."""
    if info.kind != "image" or len(info.shape) != 3 or info.shape[1] != info.shape[2]:
        raise ConfigError(f"model {model!r} needs a data set of square images (mnist, fashion_mnist, "
                          f"image_folder); {info.name!r} has samples of shape {tuple(info.shape)}: "
                          "use model=mlp for points")
    return info.shape[0], info.shape[1]


class DCGANGenerator(nn.Module):
    """z (N, latent_dim), y (N,) int or None -> images (N, C, S, S) in [-1, 1]."""

    def __init__(self, latent_dim: int, shape: tuple[int, int, int], width: int,
                 num_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.shape, self.num_classes = latent_dim, tuple(shape), num_classes
        channels, side = shape[0], shape[1]
        bottom, n = layout(side)
        ch = width * 2 ** (n - 1)
        mods: list[nn.Module] = [BottomConvT(latent_dim + num_classes, ch, bottom, 1, 0, bias=False),
                                 nn.BatchNorm2d(ch), nn.ReLU()]
        for _ in range(n - 1):
            mods += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        mods += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*mods)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes:
            z = torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], 1)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """x (N, C, S, S), y (N,) int or None -> logits (N // pack,)."""

    def __init__(self, shape: tuple[int, int, int], width: int, slope: float = 0.2,
                 dropout: float = 0.0, num_classes: int = 0, pack: int = 1) -> None:
        super().__init__()
        self.shape, self.num_classes, self.pack = tuple(shape), num_classes, pack
        channels, side = shape[0], shape[1]
        bottom, n = layout(side)

        def act() -> list[nn.Module]:
            return [nn.LeakyReLU(slope)] + ([SeededDropout(dropout)] if dropout > 0 else [])

        ch = width
        mods: list[nn.Module] = [nn.Conv2d((channels + num_classes) * pack, ch, 4, 2, 1), *act()]
        for _ in range(n - 1):
            mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), *act()]
            ch *= 2
        mods.append(TopConv(ch, 1, bottom, 1, 0))
        self.net = nn.Sequential(*mods)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes:
            planes = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, x.shape[2], x.shape[3])], 1)
        if self.pack > 1:
            x = x.reshape(x.shape[0] // self.pack, -1, x.shape[2], x.shape[3])
        return self.net(x).flatten()


def _dcgan(cfg: "Config", info: DataInfo, gen: torch.Generator, model: str,
           num_classes: int) -> tuple[nn.Module, nn.Module]:
    channels, side = _image_shape(info, model)
    shape = (channels, side, side)
    layout(side)  # a clear ConfigError before any layer is built
    g = DCGANGenerator(cfg.latent_dim, shape, cfg.g_width, num_classes)
    d = DCGANDiscriminator(shape, cfg.d_width, cfg.leaky_slope, cfg.d_dropout, num_classes, cfg.pack)
    init_normal(g, gen)
    init_normal(d, gen)
    return g, d


@MODELS.register("dcgan", help="DCGAN (Radford et al. 2016): the seed conv GAN for 28 px; 32 / 64 / 128 px too")
def build_dcgan(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    return _dcgan(cfg, info, gen, "dcgan", 0)


@MODELS.register("cdcgan", help="conditional DCGAN: class one-hot joined to G's latent and D's input planes")
def build_cdcgan(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    if info.num_classes < 2:
        raise ConfigError(f"model 'cdcgan' needs a labelled image set; {info.name!r} has no classes "
                          "(use model=dcgan, or an image folder with one sub-folder per class)")
    return _dcgan(cfg, info, gen, "cdcgan", info.num_classes)
