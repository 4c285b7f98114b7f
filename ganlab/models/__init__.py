"""Model registry: `build_models(cfg, info)` -> (G, D), freshly initialised from the seed.

Every model family has the same call signature, so one trainer drives them all:
G(z (N, latent_dim), y (N,) | None) -> samples (N, *info.shape) in model space;
D(x (N, *info.shape), y (N,) | None) -> logits (N // pack,).
A family's builder registers itself here with `@MODELS.register(name)` and takes
(cfg, info, generator) -> (G, D); conditional families set `G.num_classes > 0`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models.layers import init_default
from ganlab.models.mlp import MLPDiscriminator, MLPGenerator
from ganlab.registry import Registry

if TYPE_CHECKING:
    from ganlab.config import Config

Builder = Callable[["Config", DataInfo, torch.Generator], tuple[nn.Module, nn.Module]]
MODELS: Registry[Builder] = Registry("model")


def build_models(cfg: "Config", info: DataInfo) -> tuple[nn.Module, nn.Module]:
    """(G, D) for the run, weights drawn from a generator seeded by cfg.seed (CPU)."""
    builder = MODELS.get(cfg.model)
    gen = torch.Generator().manual_seed(cfg.seed)
    return builder(cfg, info, gen)


def _mlp(cfg: "Config", info: DataInfo, gen: torch.Generator, num_classes: int) -> tuple[nn.Module, nn.Module]:
    image = info.kind == "image"
    units = {} if image else {"center": info.center, "scale": info.scale}
    g = MLPGenerator(cfg.latent_dim, info.shape, cfg.g_layers, cfg.g_width, cfg.activation,
                     cfg.leaky_slope, num_classes=num_classes, out_tanh=image, **units)
    d = MLPDiscriminator(info.shape, cfg.d_layers, cfg.d_width, cfg.activation, cfg.leaky_slope,
                         cfg.d_dropout, num_classes=num_classes, pack=cfg.pack,
                         mbstd=cfg.d_mbstd, **units)
    init_default(g, gen)
    init_default(d, gen)
    return g, d


@MODELS.register("mlp", help="MLP generator and discriminator (toy sets; the seed MNIST GAN)")
def build_mlp(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    return _mlp(cfg, info, gen, 0)


@MODELS.register("cgan", help="conditional MLP GAN: class one-hot joined to G's and D's inputs")
def build_cgan(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    if info.num_classes < 2:
        raise ConfigError(f"model 'cgan' needs a labelled data set; {info.name!r} has no classes "
                          "(use model=mlp, or a labelled set such as mnist or ring8)")
    return _mlp(cfg, info, gen, info.num_classes)


@MODELS.register("pgan", help="progressive GAN (Karras et al. 2018), grown 4x4 -> image size by "
                 "ganlab.progressive")
def build_pgan(cfg: "Config", info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    from ganlab.progressive import build_pgan_models

    return build_pgan_models(cfg, info, gen)


# Model families in their own modules register themselves on import.
from ganlab.models import dcgan  # noqa: E402,F401
