"""The model registry: `build_models(cfg, info)` -> (G, D), freshly initialised from the seed.

Every model family has the same call signature, so one trainer drives them all:
G(z (N, latent_dim), y (N,) | None) -> samples (N, *info.shape) in model space;
D(x (N, *info.shape), y (N,) | None) -> logits (N // pack,) (or (N, 1)).
A family's builder registers itself with `@MODELS.register(name)` in its own
module and takes (cfg, info, rng) -> (G, D); conditional families set
`G.num_classes > 0`. `ganlab.models` imports every family's module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from ganlab.data.base import DataInfo
from ganlab.registry import Registry

if TYPE_CHECKING:
    from ganlab.config import Config

Builder = Callable[["Config", DataInfo, torch.Generator], tuple[nn.Module, nn.Module]]
MODELS: Registry[Builder] = Registry("model")


def build_models(cfg: "Config", info: DataInfo) -> tuple[nn.Module, nn.Module]:
    """(G, D) for the run, weights drawn from a generator seeded by cfg.seed (CPU)."""
    builder = MODELS.get(cfg.model)
    rng = torch.Generator().manual_seed(cfg.seed)
    return builder(cfg, info, rng)
