"""Latent-lab comparisons: a base Config, the one setting the runs differ in, its values.

A lab preset names a base preset of `ganlab.presets` (all shared settings, the
data and the seed), the varied setting and its values, and the lesson the runs
show. `lab_configs` turns any such triple into the runs' Configs and labels, for
presets and for the page's own choices alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ganlab.config import FIELD_SPECS, Config
from ganlab.errors import ConfigError
from ganlab.train.side_by_side import MAX_RUNS
from ganlab.presets import PRESETS, resolve_config
from ganlab.registry import Registry

# Settings a comparison may vary (those with a FieldSpec.vary_label), in the order the
# page lists them -> how the page names them. "lr" stands for d_lr and sets d_lr and g_lr.
_VARY_ORDER = ("latent_dim", "loss", "d_steps", "d_lr", "pack")
VARY_FIELDS: dict[str, str] = {("lr" if f == "d_lr" else f): FIELD_SPECS[f].vary_label for f in _VARY_ORDER}
if set(_VARY_ORDER) != {n for n, s in FIELD_SPECS.items() if s.vary_label}:
    raise RuntimeError("lab_presets._VARY_ORDER must list exactly the fields with a vary_label")


@dataclass(frozen=True)
class LabPreset:
    """base: a PRESETS name; vary: a VARY_FIELDS key; values: one per run; lesson: what to see."""

    description: str
    base: str
    vary: str
    values: tuple[Any, ...]
    lesson: str


LAB_PRESETS: Registry[LabPreset] = Registry("lab preset")


def _add(name: str, preset: LabPreset) -> None:
    PRESETS.get(preset.base)
    lab_configs(resolve_config(preset=preset.base), preset.vary, preset.values)  # fail at import
    LAB_PRESETS.add(name, preset, preset.description)


def parse_values(vary: str, text: str) -> list[Any]:
    """'1, 2, 8' -> [1, 2, 8], each parsed as the varied field's type; ConfigError if bad."""
    if vary not in VARY_FIELDS:
        raise ConfigError(f"cannot compare runs by {vary!r}; choose one of {', '.join(VARY_FIELDS)}")
    field = "d_lr" if vary == "lr" else vary
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ConfigError(f"no values given for {VARY_FIELDS[vary]}; type them separated by commas, "
                          "e.g. 1, 2, 8, 100")
    return [getattr(Config().update({field: t}), field) for t in items]


def lab_configs(base: Config, vary: str, values: Sequence[Any]) -> tuple[list[Config], list[str]]:
    """One validated Config per value of `vary` on top of `base` -> (configs, labels)."""
    if vary not in VARY_FIELDS:
        raise ConfigError(f"cannot compare runs by {vary!r}; choose one of {', '.join(VARY_FIELDS)}")
    if not 1 <= len(values) <= MAX_RUNS:
        raise ConfigError(f"{len(values)} values given; compare 1 to {MAX_RUNS} values of "
                          f"{VARY_FIELDS[vary]}")
    if len(set(map(str, values))) != len(values):
        raise ConfigError(f"the values of {VARY_FIELDS[vary]} repeat ({', '.join(map(str, values))}); "
                          "give each value once")
    cfgs, labels = [], []
    for v in values:
        cfg = base.replace(**({"d_lr": v, "g_lr": v} if vary == "lr" else {vary: v}))
        cfg.validate()
        cfgs.append(cfg)
        labels.append(f"{vary} = {v:g}" if isinstance(v, float) else f"{vary} = {v}")
    return cfgs, labels


def preset_runs(name: str) -> tuple[Config, str, list[Any]]:
    """A lab preset's (base Config, varied setting, values)."""
    p = LAB_PRESETS.get(name)
    return resolve_config(preset=p.base), p.vary, list(p.values)


_add("latent-sweep", LabPreset(
    "latent dimension 1, 2, 8, 100 on a 2-D Gaussian (the page's default comparison)",
    "lab-latent-2d", "latent_dim", (1, 2, 8, 100),
    "a 1-D latent can only draw a curve (local dimension 1); from 2 latent dimensions on, "
    "the samples fill the plane like the data"))
_add("latent-1-vs-100-2d", LabPreset(
    "latent 1 vs 100 on a 2-D Gaussian",
    "lab-latent-2d", "latent_dim", (1, 100),
    "latent 1 captures the trend but not the variance: its samples lie on a curve; "
    "latent 100 covers the Gaussian"))
_add("latent-1-vs-100-3d", LabPreset(
    "the same in 3-D: latent 1, 2 and 100 on a 3-D Gaussian",
    "lab-latent-3d", "latent_dim", (1, 2, 100),
    "latent 1 draws a curve, latent 2 a surface (one covariance direction starved), "
    "latent 100 fills the 3-D Gaussian"))
_add("collapse-vs-pacgan", LabPreset(
    "a plain GAN collapses on ring8, the same set-up with PacGAN packing (pack 2) does not",
    "lab-collapse", "pack", (1, 2),
    "pack 1 piles its samples onto one mode (max mode mass near 100%); with D judging pairs "
    "of samples (Lin et al. 2018), a collapsed batch is easy to spot and G spreads over the "
    "ring. Packing changes D's input shape, so these runs train one after the other"))
