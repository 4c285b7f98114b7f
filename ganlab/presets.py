"""Named presets: sets of Config fields, and each data set's tuned default.

`resolve_config` layers, lowest first: Config defaults < the data set's default
preset < the named preset < an explicit data set < `--set` overrides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ganlab.config import Config
from ganlab.registry import Registry


@dataclass(frozen=True)
class Preset:
    """A named set of Config fields with a sentence saying what it shows."""

    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)


PRESETS: Registry[Preset] = Registry("preset")
# data set -> the preset `train --data NAME` uses when no --preset is given.
DATA_DEFAULTS: dict[str, str] = {}


def register(name: str, description: str, default_for: tuple[str, ...] = (), **settings: Any) -> None:
    Config().update(settings)  # fail at import time on a typo in a preset
    PRESETS.add(name, Preset(description, dict(settings)), description)
    for data in default_for:
        DATA_DEFAULTS[data] = name


def resolve_config(data: str | None = None, preset: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> Config:
    """The Config for a run: defaults, data default preset, named preset, data, overrides."""
    cfg = Config()
    named = PRESETS.get(preset) if preset else None
    target = data or (named.settings.get("data") if named else None) or cfg.data
    if target in DATA_DEFAULTS:
        cfg.update(PRESETS.get(DATA_DEFAULTS[target]).settings)
    if named:
        cfg.update(named.settings)
    if data:
        cfg.data = data
    if overrides:
        cfg.update(overrides)
    return cfg


# --- toy presets -------------------------------------------------------------
_TOY = dict(model="mlp", g_layers=3, g_width=128, d_layers=3, d_width=128, activation="relu",
            batch_size=256, loss="ns", d_opt="adam", g_opt="adam", d_lr=1e-3, g_lr=1e-3,
            d_beta1=0.5, g_beta1=0.5)

register("ring8", "tuned default for ring8: all 8 modes, >= 90% high-quality samples",
         default_for=("ring8",), data="ring8", **{**_TOY, "latent_dim": 2, "steps": 5000, "ema": 0.999})
register("grid25", "tuned default for grid25: all 25 modes, >= 90% high-quality samples",
         default_for=("grid25",), data="grid25", **{**_TOY, "latent_dim": 2, "steps": 5000, "ema": 0.999})
register("gaussian", "a single Gaussian: does G learn the mean and the covariance?",
         default_for=("gaussian2d", "gaussian3d"), data="gaussian2d",
         **{**_TOY, "latent_dim": 8, "steps": 3000})
register("shapes", "default for the 2-D / 3-D shapes and user points",
         default_for=("line", "spiral", "moons", "two_blobs", "cube8", "helix", "points_file"),
         **{**_TOY, "latent_dim": 8, "steps": 5000})
register("collapse", "a plain GAN that collapses onto a few modes of ring8 (mode-collapse demo)",
         data="ring8", **{**_TOY, "latent_dim": 2, "d_lr": 1e-3, "g_lr": 1e-3, "steps": 3000})
