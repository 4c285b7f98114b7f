"""The run configuration: one flat dataclass, saved as JSON beside the weights.

Flat on purpose: every field is addressable the same way from the CLI
(`--set d_lr=2e-4`), from a page's URL query string and from JSON. Unknown keys
and out-of-range values are rejected with a message naming the fix.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from ganlab.data.base import DataOptions
from ganlab.errors import ConfigError

ACTIVATIONS = ("relu", "leaky_relu")
LATENT_DISTS = ("normal", "uniform")
DEVICES = ("cpu", "auto", "cuda", "mps")
LR_SCHEDULES = ("constant", "linear", "cosine")
# Fields that may change between steps of a live run; the rest need a reset.
LIVE_FIELDS = frozenset({
    "loss", "clip_value", "gp_weight", "label_smoothing", "d_l2", "d_l2_adaptive",
    "d_r1", "d_r1_every",
    "batch_size", "d_steps", "g_steps", "d_opt", "d_lr", "d_beta1", "d_beta2", "d_momentum",
    "g_opt", "g_lr", "g_beta1", "g_beta2", "g_momentum", "ema", "lr_schedule", "steps", "eval_every",
    "eval_samples", "log_every", "minutes", "progress_every", "amp", "d_drift",
})
# Live changes that make sense for a progressive run (architecture and loss are fixed).
PROGRESSIVE_LIVE_FIELDS = frozenset({
    "batch_size", "d_lr", "g_lr", "d_beta1", "d_beta2", "g_beta1", "g_beta2", "ema", "gp_weight",
    "steps", "eval_every", "eval_samples", "log_every", "minutes", "progress_every", "d_drift",
}) & LIVE_FIELDS
# Fields every side-by-side run of one batch must share: they fix the tensors' shapes,
# the data, or which optimizer formula runs.
SHARED_FIELDS = ("data", "data_path", "data_size", "image_size", "channels", "seed", "model",
                 "g_layers", "g_width", "d_layers", "d_width", "activation", "leaky_slope",
                 "d_dropout", "pack", "batch_size", "n_fixed", "d_opt", "g_opt", "amp", "device")
# Fields that may differ per side-by-side run, each trained as Trainer trains it.
PER_RUN_FIELDS = ("latent_dim", "latent_dist", "loss", "clip_value", "gp_weight", "label_smoothing",
                  "d_l2", "d_l2_adaptive", "d_steps", "g_steps", "d_lr", "d_beta1", "d_beta2",
                  "d_momentum", "g_lr", "g_beta1", "g_beta2", "g_momentum", "lr_schedule", "ema",
                  "steps", "minutes", "log_every", "eval_every", "eval_samples", "progress_every", "d_drift")


@dataclass(frozen=True)
class OptimizerSettings:
    """One network's optimizer: its registry name and hyperparameters (beta2 is RMSprop's alpha)."""

    name: str
    lr: float
    beta1: float
    beta2: float
    momentum: float

    @property
    def hyper(self) -> tuple[float, float, float, float]:
        """(lr, beta1, beta2, momentum), the argument order of `ganlab.optim.build_optimizer`."""
        return self.lr, self.beta1, self.beta2, self.momentum


@dataclass
class Config:
    """Every setting of a run. Groups: data, model, loss, optimisation, run."""

    # data
    data: str = "ring8"
    data_path: str = ""        # user file / folder for points_file / image_folder
    data_size: int = 0         # points drawn for synthetic sets; 0 = the set's default
    image_size: int = 0        # image side in pixels; 0 = native
    channels: int = 0          # 1 grey / 3 RGB for image sets; 0 = native
    # model
    model: str = "mlp"
    latent_dim: int = 2
    latent_dist: str = "normal"  # normal: N(0, I); uniform: U(-1, 1)
    g_layers: int = 3           # hidden layers
    g_width: int = 128          # hidden units (MLP) / base channels (conv models)
    d_layers: int = 3
    d_width: int = 128
    activation: str = "relu"    # hidden activation: relu | leaky_relu
    leaky_slope: float = 0.2
    d_dropout: float = 0.0      # dropout after each hidden layer of D
    pack: int = 1               # PacGAN: D judges `pack` samples jointly (1 = off)
    d_mbstd: int = 0            # minibatch-std feature in D over groups of this size (0 = off)
    # loss and regularisers
    loss: str = "ns"
    clip_value: float = 0.01    # weight clipping range of wgan
    gp_weight: float = 10.0     # gradient-penalty weight of wgan-gp
    label_smoothing: float = 0.0  # one-sided: real target 1 - s
    d_l2: float = 0.0           # L2 penalty on D's weights (sum of squares * d_l2)
    d_l2_adaptive: bool = False  # scale d_l2 by how far D is ahead (see trainer)
    d_r1: float = 0.0           # R1 penalty weight: d_r1 / 2 * E ||grad_x D(real)||^2 (0 = off)
    d_r1_every: int = 1         # lazy R1: apply every this many iterations, scaled up to match
    d_drift: float = 0.0        # drift penalty d_drift * E[D(real)^2] (Karras et al. 2018: 1e-3)
    # optimisation
    batch_size: int = 256
    d_steps: int = 1            # D updates per iteration
    g_steps: int = 1            # G updates per iteration
    d_opt: str = "adam"
    d_lr: float = 1e-3
    d_beta1: float = 0.5        # adam beta1
    d_beta2: float = 0.999      # adam beta2 / rmsprop alpha
    d_momentum: float = 0.0     # sgd / rmsprop momentum
    g_opt: str = "adam"
    g_lr: float = 1e-3
    g_beta1: float = 0.5
    g_beta2: float = 0.999
    g_momentum: float = 0.0
    lr_schedule: str = "constant"  # constant | linear | cosine: both lrs decay to 1% at `steps`
    ema: float = 0.0            # decay of the EMA copy of G; 0 = off
    amp: str = "off"            # off | bf16 (autocast on GPU)
    # run
    steps: int = 5000           # iterations (each: d_steps D updates, g_steps G updates)
    minutes: float = 0.0        # wall-clock budget; 0 = use `steps`
    seed: int = 0
    device: str = "cpu"         # cpu | auto | cuda | mps
    n_fixed: int = 1000         # size of the fixed noise batch behind progress views
    log_every: int = 50         # iterations between loss rows in the history
    eval_every: int = 500       # iterations between metric rows (0 = never)
    eval_samples: int = 2500    # samples per metric evaluation
    progress_every: int = 0     # iterations between saved progress images (0 = never)

    # --- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Config":
        """Strict: unknown keys raise ConfigError; values are type-checked."""
        cfg = cls()
        cfg.update(d)
        return cfg

    @classmethod
    def from_json(cls, text: str) -> "Config":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON ({exc})") from None
        if not isinstance(d, dict):
            raise ConfigError("config JSON must be an object of field: value")
        return cls.from_dict(d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def update(self, d: Mapping[str, Any]) -> "Config":
        """Set fields from a mapping (values may be strings, as from --set or a URL)."""
        types = field_types()
        for key, value in d.items():
            if key not in types:
                raise ConfigError(unknown_field_message(key))
            setattr(self, key, coerce(key, value, types[key]))
        return self

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed (strings are parsed like --set values)."""
        return dataclasses.replace(self).update(changes)

    def diff(self, other: "Config | None" = None) -> dict[str, Any]:
        """Fields that differ from `other` (default: the defaults), e.g. for a URL."""
        base = (other or Config()).to_dict()
        return {k: v for k, v in self.to_dict().items() if base[k] != v}

    def optimizer_settings(self, net: str) -> OptimizerSettings:
        """The optimizer of network "d" (discriminator) or "g" (generator)."""
        if net == "d":
            return OptimizerSettings(self.d_opt, self.d_lr, self.d_beta1, self.d_beta2, self.d_momentum)
        if net == "g":
            return OptimizerSettings(self.g_opt, self.g_lr, self.g_beta1, self.g_beta2, self.g_momentum)
        raise ValueError(f"net must be 'd' or 'g', got {net!r}")

    def data_options(self) -> DataOptions:
        return DataOptions(name=self.data, path=self.data_path, size=self.data_size,
                           image_size=self.image_size, channels=self.channels, seed=self.seed)

    # --- validation ----------------------------------------------------
    def validate(self) -> "Config":
        """Raise ConfigError for any impossible value; returns self."""
        from ganlab.data import DATASETS
        from ganlab.losses import LOSSES
        from ganlab.models import MODELS
        from ganlab.optim import OPTIMIZERS

        DATASETS.get(self.data)
        MODELS.get(self.model)
        loss = LOSSES.get(self.loss)
        OPTIMIZERS.get(self.d_opt)
        OPTIMIZERS.get(self.g_opt)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("latent_dist", self.latent_dist, LATENT_DISTS)
        _choice("device", self.device, DEVICES)
        _choice("amp", self.amp, ("off", "bf16"))
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _range("latent_dim", self.latent_dim, 1, 512)
        for name in ("g_layers", "d_layers"):
            _range(name, getattr(self, name), 0, 16)
        for name in ("g_width", "d_width"):
            _range(name, getattr(self, name), 1, 8192)
        _range("batch_size", self.batch_size, 2, 1 << 16)
        _range("d_steps", self.d_steps, 1, 100)
        _range("g_steps", self.g_steps, 1, 100)
        _range("pack", self.pack, 1, 16)
        _range("d_mbstd", self.d_mbstd, 0, 256)
        if self.d_mbstd and self.batch_size % self.d_mbstd:
            raise ConfigError(f"batch_size {self.batch_size} is not a multiple of d_mbstd "
                              f"{self.d_mbstd}; use a group size that divides the batch")
        if self.batch_size % self.pack:
            raise ConfigError(f"batch_size {self.batch_size} is not a multiple of pack {self.pack}; "
                              f"use batch_size {self.batch_size - self.batch_size % self.pack or self.pack}")
        for name in ("d_lr", "g_lr"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 < v <= 10):
                raise ConfigError(f"{name} = {v} is impossible; a learning rate must be in (0, 10], "
                                  "typically 1e-4 .. 1e-2")
        for name in ("d_beta1", "d_beta2", "g_beta1", "g_beta2", "d_momentum", "g_momentum"):
            _frange(name, getattr(self, name), 0.0, 1.0, hi_open=True)
        _frange("d_dropout", self.d_dropout, 0.0, 1.0, hi_open=True)
        _frange("label_smoothing", self.label_smoothing, 0.0, 0.5, hi_open=True)
        if self.label_smoothing > 0 and not loss.has_targets:
            raise ConfigError(f"label_smoothing applies to losses with real/fake targets "
                              f"({', '.join(n for n in LOSSES if LOSSES.get(n).has_targets)}); "
                              f"loss {self.loss!r} has none: set label_smoothing=0")
        _frange("ema", self.ema, 0.0, 1.0, hi_open=True)
        _frange("leaky_slope", self.leaky_slope, 0.0, 1.0, hi_open=True)
        _frange("clip_value", self.clip_value, 0.0, 100.0, lo_open=True)
        _frange("gp_weight", self.gp_weight, 0.0, 1e4)
        _frange("d_l2", self.d_l2, 0.0, 100.0)
        _frange("d_r1", self.d_r1, 0.0, 1000.0)
        _frange("d_drift", self.d_drift, 0.0, 1.0, hi_open=True)
        _range("d_r1_every", self.d_r1_every, 1, 1000)
        _frange("minutes", self.minutes, 0.0, 1e6)
        _range("steps", self.steps, 0, 10**9)
        _range("n_fixed", self.n_fixed, 1, 100_000)
        _range("eval_samples", self.eval_samples, 10, 1_000_000)
        for name in ("log_every", "eval_every", "progress_every", "data_size", "image_size", "channels"):
            _range(name, getattr(self, name), 0, 10**9)
        if self.log_every == 0:
            raise ConfigError("log_every must be at least 1")
        return self


def field_types() -> dict[str, type]:
    return {f.name: type(f.default) for f in fields(Config)}


def unknown_field_message(key: str) -> str:
    names = list(field_types())
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown config field {key!r}{hint}; valid fields: {', '.join(names)}"


def coerce(key: str, value: Any, typ: type) -> Any:
    """Parse `value` (possibly a string from the CLI or a URL) into the field's type."""
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
                return True
            if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
                return False
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise ValueError
        if typ is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(value)
        if typ is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"config field {key!r} needs a {typ.__name__}, got {value!r}")


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """['a=1', 'b=x'] -> {'a': '1', 'b': 'x'} (the CLI's --set)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{name} = {value!r} is not valid; choose one of {', '.join(valid)}")


def _range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{name} = {value} is out of range; it must be between {lo} and {hi}")


def _frange(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False) -> None:
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and \
        (value < hi if hi_open else value <= hi)
    if not ok:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ConfigError(f"{name} = {value} is out of range; it must be in {lb}{lo}, {hi}{rb}")
