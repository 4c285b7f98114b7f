"""Autoencoders: `ae`, `conv_ae` and the adversarial autoencoder `aae`.

Every builder returns (G, D) like the GAN families, so the run machinery is shared:
- G is an `Autoencoder`: `encoder` (pixels in [0, 1] -> codes (N, latent_dim)) and
  `decoder` (codes -> pixels in [0, 1], sigmoid output). `G(z, y)` decodes codes and
  maps the pixels to the GANs' model space, 2 p - 1 in [-1, 1], so that sampling,
  grids, metrics and the explorer treat a decoder like any generator.
- D is the code discriminator of `aae` (codes (N, latent_dim) -> logits (N,)), and
  `NoDiscriminator` (no parameters) for the plain autoencoders.
`ganlab.train.autoencoder.AutoencoderTrainer` trains them.

The models:
- `ae`: the course's simple autoencoder (F. Chollet, "Building Autoencoders in
  Keras", 2016): x (784) -> Linear -> ReLU code (latent_dim = 32) -> Linear ->
  sigmoid (784). Its codes are non-negative and spread however training put them:
  decoding N(0, I) codes gives blurs, which is why it is not a generator.
- `conv_ae`: a small convolutional encoder / decoder on the DCGAN layout
  (`ganlab.models.dcgan.layout`: 28 = 7 x 2^2, 32 / 64 / 128 = 4 x 2^n), one
  stride-2 convolution per halving with g_width channels at the top, then a
  linear code.
- `aae`: the adversarial autoencoder (Makhzani et al. 2015, "Adversarial
  Autoencoders", section 2 and their MNIST set-up): MLP encoder / decoder with
  g_layers hidden layers of g_width units (ReLU), a linear code of latent_dim, and
  an MLP discriminator on codes (d_layers x d_width, LeakyReLU) that tells codes
  of data from draws of the prior (cfg.latent_dist: N(0, I) or U(-1, 1)^d).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models.base import MODELS
from ganlab.models.dcgan import layout
from ganlab.models.layers import init_default

if TYPE_CHECKING:
    from ganlab.config import Config


class Autoencoder(nn.Module):
    """encoder: pixels (N, C, S, S) in [0, 1] -> codes (N, latent_dim);
    decoder: codes -> pixels (N, C, S, S) in [0, 1];
    forward(z, y): decoder(z) in model space [-1, 1] (y is ignored: unconditional)."""

    num_classes = 0

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int,
                 shape: tuple[int, ...]) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim, self.shape = latent_dim, tuple(shape)

    def encode(self, pixels: Tensor) -> Tensor:
        """pixels (N, C, S, S) in [0, 1] -> codes (N, latent_dim)."""
        return self.encoder(pixels)

    def decode(self, z: Tensor) -> Tensor:
        """codes (N, latent_dim) -> pixels (N, C, S, S) in [0, 1]."""
        return self.decoder(z)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.decode(z) * 2.0 - 1.0


class NoDiscriminator(nn.Module):
    """The D of a plain autoencoder: no parameters, never called (saved as nothing)."""

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        raise ConfigError("a plain autoencoder has no discriminator; use model=aae for one on the codes")


class Unflatten(nn.Module):
    """(N, C * S * S) -> (N, C, S, S)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)


def _mlp(sizes: list[int], act: type[nn.Module] | None = nn.ReLU) -> list[nn.Module]:
    """Linear layers sizes[0] -> ... -> sizes[-1], `act` after every one but the last."""
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        mods.append(nn.Linear(a, b))
        if act is not None and i < len(sizes) - 2:
            mods.append(act())
    return mods


class CodeDiscriminator(nn.Module):
    """codes (N, latent_dim), y ignored -> logits (N,): prior draw (real) or encoder code (fake)."""

    def __init__(self, latent_dim: int, width: int, layers: int, slope: float) -> None:
        super().__init__()
        sizes = [latent_dim] + [width] * layers + [1]
        mods: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            mods.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(nn.LeakyReLU(slope))
        self.net = nn.Sequential(*mods)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z).flatten()


def _image_shape(info: DataInfo, model: str) -> tuple[int, int, int]:
    if info.kind != "image" or len(info.shape) != 3:
        raise ConfigError(f"model {model!r} is an image autoencoder; {info.name!r} has samples of shape "
                          f"{tuple(info.shape)}: pick an image data set (mnist, fashion_mnist, image_folder)")
    return int(info.shape[0]), int(info.shape[1]), int(info.shape[2])


def _finish(enc: nn.Module, dec: nn.Module, d: nn.Module, cfg: "Config", shape: tuple[int, ...],
            gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    g = Autoencoder(enc, dec, cfg.latent_dim, shape)
    init_default(g, gen)
    init_default(d, gen)
    return g, d


@MODELS.register("ae", help="simple autoencoder: 784 -> 32 ReLU code -> 784 sigmoid (not a generator)")
def build_ae(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    shape = _image_shape(info, "ae")
    dim = shape[0] * shape[1] * shape[2]
    enc = nn.Sequential(nn.Flatten(), nn.Linear(dim, cfg.latent_dim), nn.ReLU())
    dec = nn.Sequential(nn.Linear(cfg.latent_dim, dim), nn.Sigmoid(), Unflatten(shape))
    return _finish(enc, dec, NoDiscriminator(), cfg, shape, gen)


@MODELS.register("conv_ae", help="convolutional autoencoder: stride-2 convs down to a linear code and back")
def build_conv_ae(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    channels, side, width = _image_shape(info, "conv_ae")
    if side != width:
        raise ConfigError(f"model 'conv_ae' needs square images; got {side} x {width}")
    bottom, n = layout(side)
    w = cfg.g_width
    down: list[nn.Module] = []
    ch_in, ch = channels, w
    for _ in range(n):
        down += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.ReLU()]
        ch_in, ch = ch, ch * 2
    flat = ch_in * bottom * bottom
    enc = nn.Sequential(*down, nn.Flatten(), nn.Linear(flat, cfg.latent_dim))
    up: list[nn.Module] = [nn.Linear(cfg.latent_dim, flat), nn.ReLU(), Unflatten((ch_in, bottom, bottom))]
    ch = ch_in
    for i in range(n):
        out = channels if i == n - 1 else ch // 2
        up.append(nn.ConvTranspose2d(ch, out, 4, 2, 1))
        up.append(nn.Sigmoid() if i == n - 1 else nn.ReLU())
        ch = out
    return _finish(enc, nn.Sequential(*up), NoDiscriminator(), cfg, (channels, side, side), gen)


@MODELS.register("aae", help="adversarial autoencoder (Makhzani et al. 2015): codes pushed to the prior by a D")
def build_aae(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    shape = _image_shape(info, "aae")
    dim = shape[0] * shape[1] * shape[2]
    hidden = [cfg.g_width] * cfg.g_layers
    enc = nn.Sequential(nn.Flatten(), *_mlp([dim, *hidden, cfg.latent_dim]))
    dec = nn.Sequential(*_mlp([cfg.latent_dim, *hidden[::-1], dim]), nn.Sigmoid(), Unflatten(shape))
    d = CodeDiscriminator(cfg.latent_dim, cfg.d_width, cfg.d_layers, cfg.leaky_slope)
    return _finish(enc, dec, d, cfg, shape, gen)


AUTOENCODER_MODELS = ("ae", "conv_ae", "aae")
