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
AMP_MODES = ("off", "bf16")
RECON_LOSSES = ("bce", "mse")
GROUPS = ("data", "model", "loss", "optimisation", "run")
# Registries a field's choices may name; resolved when asked (they import models and losses).
REGISTRIES = ("data", "model", "loss", "optimizer")


@dataclass(frozen=True)
class Widget:
    """How a page's widget offers a field when that is narrower than the valid range.

    lo, hi: the widget's limits (a link asking for more is refused by the page);
    step: the +/- increment; fmt: printf format of a float widget (None: "%g").
    """

    lo: float
    hi: float
    step: float | None = None
    fmt: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    """Everything known about one Config field besides its type and default.

    group: one of GROUPS. label / help: the widget's words. lo, hi: the valid range
    (None = unbounded), each end closed unless lo_open / hi_open; `why` replaces the
    generic "out of range" wording. choices: the valid values, or the name of a
    registry in REGISTRIES (resolved lazily by `options`). live: may change between
    steps of a running Trainer; progressive_live: also of a progressive run.
    per_run / shared: side-by-side runs may differ in it / must agree on it (a field
    with neither is not batched: runs that set it train one after the other).
    vary_label: how the latent lab names it when runs differ in it ("" = it cannot).
    widget: a page's default widget limits when narrower than lo..hi.
    """

    group: str
    label: str
    help: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    why: str = ""
    choices: tuple[str, ...] | str = ()
    live: bool = False
    progressive_live: bool = False
    per_run: bool = False
    shared: bool = False
    vary_label: str = ""
    widget: Widget | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"group {self.group!r} is not one of {GROUPS}")
        if self.per_run and self.shared:
            raise ValueError("a field is per_run or shared, not both")
        if self.progressive_live and not self.live:
            raise ValueError("progressive_live implies live")
        if isinstance(self.choices, str) and self.choices not in REGISTRIES:
            raise ValueError(f"choices {self.choices!r} names no registry in {REGISTRIES}")

    def options(self) -> tuple[str, ...]:
        """The valid values of a choice field (registry names in registration order); () if free."""
        if isinstance(self.choices, str):
            return tuple(registry(self.choices).names())
        return self.choices

    def range_text(self) -> str:
        """The valid range as an interval, e.g. "[0, 1)"."""
        lb, rb = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
        return f"{lb}{self.lo}, {self.hi}{rb}"


def registry(name: str) -> Any:
    """The registry behind a `FieldSpec.choices` name. Imported here, not at module
    level: the registries' modules import models and losses, which import this one."""
    if name == "data":
        from ganlab.data import DATASETS
        return DATASETS
    if name == "model":
        from ganlab.models import MODELS
        return MODELS
    if name == "loss":
        from ganlab.losses import LOSSES
        return LOSSES
    if name == "optimizer":
        from ganlab.optim import OPTIMIZERS
        return OPTIMIZERS
    raise ValueError(f"no registry {name!r}; choose one of {', '.join(REGISTRIES)}")


def _f(default: Any, group: str, label: str, help: str = "", **facts: Any) -> Any:
    """A dataclass field whose metadata["spec"] is its FieldSpec."""
    return dataclasses.field(default=default, metadata={"spec": FieldSpec(group, label, help, **facts)})


_LR_WHY = "a learning rate must be in (0, 10], typically 1e-4 .. 1e-2"
_BIG = 10**9
# Optimizer hyperparameters: Adam's betas, or RMSprop's alpha (beta2) and momentum.
_BETA = {"lo": 0.0, "hi": 1.0, "hi_open": True, "live": True, "per_run": True}


@dataclass(frozen=True)
class OptimizerSettings:
    """One network's optimizer: registry name, learning rate, betas, momentum (see ganlab.optim)."""

    name: str
    lr: float
    beta1: float
    beta2: float
    momentum: float

    @property
    def hyper(self) -> tuple[float, float, float, float]:
        """(lr, beta1, beta2, momentum): the argument order of `ganlab.optim.build_optimizer`."""
        return self.lr, self.beta1, self.beta2, self.momentum


@dataclass
class Config:
    """Every setting of a run. Groups: data, model, loss, optimisation, run.

    Each field's facts (range, live, per-run, label, help) are its FieldSpec in
    `FIELD_SPECS`; `validate` checks the ranges and choices declared there.
    """

    # data
    data: str = _f("ring8", "data", "Data set", "toy sets of the engine, or your own points",
                   choices="data", shared=True)
    data_path: str = _f("", "data", "Data file or folder", "user file / folder for points_file / image_folder",
                        shared=True)
    data_size: int = _f(0, "data", "points drawn (0 = default)",
                        "points drawn for synthetic sets; 0 = the set's default",
                        lo=0, hi=_BIG, shared=True, widget=Widget(0, 200_000))
    image_size: int = _f(0, "data", "image side (0 = native)", "image side in pixels; 0 = native",
                         lo=0, hi=_BIG, shared=True)
    channels: int = _f(0, "data", "channels (0 = native)", "1 grey / 3 RGB for image sets; 0 = native",
                       lo=0, hi=_BIG, shared=True)
    # model
    model: str = _f("mlp", "model", "Model", choices="model", shared=True)
    latent_dim: int = _f(2, "model", "Latent dimension", "size of G's input noise", lo=1, hi=512,
                         per_run=True, vary_label="latent dimension")
    latent_dist: str = _f("normal", "model", "Latent distribution", "normal: N(0, I); uniform: U(-1, 1)",
                          choices=LATENT_DISTS, per_run=True)
    g_layers: int = _f(3, "model", "G hidden layers", lo=0, hi=16, shared=True, widget=Widget(0, 8))
    g_width: int = _f(128, "model", "G width", "hidden units (MLP) / base channels (conv models)",
                      lo=1, hi=8192, shared=True, widget=Widget(1, 1024, 16))
    d_layers: int = _f(3, "model", "D hidden layers", lo=0, hi=16, shared=True, widget=Widget(0, 8))
    d_width: int = _f(128, "model", "D width", "hidden units (MLP) / base channels (conv models)",
                      lo=1, hi=8192, shared=True, widget=Widget(1, 1024, 16))
    activation: str = _f("relu", "model", "Activation", "hidden activation", choices=ACTIVATIONS, shared=True)
    leaky_slope: float = _f(0.2, "model", "leaky slope", "negative slope of leaky_relu",
                            lo=0.0, hi=1.0, hi_open=True, shared=True, widget=Widget(0.0, 0.99))
    d_dropout: float = _f(0.0, "model", "D dropout", "dropout after each hidden layer of D",
                          lo=0.0, hi=1.0, hi_open=True, shared=True, widget=Widget(0.0, 0.9, 0.05, "%.2f"))
    pack: int = _f(1, "model", "PacGAN pack", "D judges this many samples jointly (fights mode collapse)",
                   lo=1, hi=16, shared=True, vary_label="PacGAN pack", widget=Widget(1, 8))
    d_mbstd: int = _f(0, "model", "D minibatch-std group (0 = off)",
                      "D sees how varied each group of samples is (fights mode collapse); "
                      "must divide the batch size", lo=0, hi=256, widget=Widget(0, 256, 8))
    # loss and regularisers
    loss: str = _f("ns", "loss", "Loss", "see the engine's losses", choices="loss", live=True, per_run=True,
                   vary_label="loss")
    clip_value: float = _f(0.01, "loss", "Weight clip (wgan)", "weight clipping range of wgan",
                           lo=0.0, hi=100.0, lo_open=True, live=True, per_run=True,
                           widget=Widget(0.001, 1.0, 0.01, "%g"))
    gp_weight: float = _f(10.0, "loss", "Gradient penalty weight (wgan-gp)", "gradient-penalty weight of wgan-gp",
                          lo=0.0, hi=1e4, live=True, progressive_live=True, per_run=True,
                          widget=Widget(0.0, 100.0, 1.0, "%g"))
    label_smoothing: float = _f(0.0, "loss", "Label smoothing (one-sided)",
                                "real target 1 - s; losses with targets only",
                                lo=0.0, hi=0.5, hi_open=True, live=True, per_run=True,
                                widget=Widget(0.0, 0.45, 0.05, "%.2f"))
    d_l2: float = _f(0.0, "loss", "D L2 penalty", "L2 penalty on D's weights (sum of squares * d_l2)",
                     lo=0.0, hi=100.0, live=True, per_run=True, widget=Widget(0.0, 10.0, 1e-3, "%g"))
    d_l2_adaptive: bool = _f(False, "loss", "adaptive L2", "scale d_l2 by how far D is ahead (see trainer)",
                             live=True, per_run=True)
    d_r1: float = _f(0.0, "loss", "D R1 penalty (0 = off)",
                     "d_r1 / 2 * |grad D|^2 at real points: keeps D flat on the data, "
                     "so training settles (Mescheder et al. 2018)",
                     lo=0.0, hi=1000.0, live=True, widget=Widget(0.0, 100.0, 0.1, "%g"))
    d_r1_every: int = _f(1, "loss", "R1 every (steps)", "lazy R1: applied every this many steps, weighted up to match",
                         lo=1, hi=1000, live=True, widget=Widget(1, 64))
    d_drift: float = _f(0.0, "loss", "Drift penalty (0 = off)",
                        "drift penalty eps * E[D(real)^2] keeping a WGAN critic's output near 0 "
                        "(Karras et al. 2018); the pgan preset sets 1e-3",
                        lo=0.0, hi=1.0, hi_open=True, live=True, progressive_live=True, per_run=True)
    d_mismatch: float = _f(0.0, "loss", "Wrong-label share (conditional)",
                           "conditional models: this share of D's fake term is real images paired with "
                           "a wrong class, so D must check the label, not only the image "
                           "(the matching-aware D of Reed et al. 2016); 0 = off; ignored by models without classes",
                           lo=0.0, hi=1.0, widget=Widget(0.0, 1.0, 0.05, "%.2f"))
    recon_loss: str = _f("bce", "loss", "Reconstruction loss (autoencoders)",
                         "bce: binary cross-entropy of pixels in [0, 1] (the course's choice); "
                         "mse: squared error. Metrics report MSE per pixel either way",
                         choices=RECON_LOSSES, live=True, shared=True)
    # optimisation
    batch_size: int = _f(256, "optimisation", "Batch size", lo=2, hi=1 << 16, live=True, progressive_live=True,
                         shared=True, widget=Widget(2, 4096, 32))
    d_steps: int = _f(1, "optimisation", "D steps per iteration", "D updates per iteration", lo=1, hi=100,
                      live=True, per_run=True, vary_label="D steps per iteration", widget=Widget(1, 10))
    g_steps: int = _f(1, "optimisation", "G steps per iteration", "G updates per iteration", lo=1, hi=100,
                      live=True, per_run=True, widget=Widget(1, 10))
    d_opt: str = _f("adam", "optimisation", "D optimizer", choices="optimizer", live=True, shared=True)
    d_lr: float = _f(1e-3, "optimisation", "D learning rate", lo=0.0, hi=10.0, lo_open=True, why=_LR_WHY,
                     live=True, progressive_live=True, per_run=True, vary_label="learning rate (D and G)",
                     widget=Widget(1e-6, 1.0, 1e-4, "%g"))
    d_beta1: float = _f(0.5, "optimisation", "Adam beta1 (D)", "adam beta1", progressive_live=True,
                        widget=Widget(0.0, 0.99, 0.05, "%.2f"), **_BETA)
    d_beta2: float = _f(0.999, "optimisation", "beta2 (D)", "adam beta2 / rmsprop alpha", progressive_live=True,
                        widget=Widget(0.0, 0.9999), **_BETA)
    d_momentum: float = _f(0.0, "optimisation", "momentum (D)", "sgd / rmsprop momentum",
                           widget=Widget(0.0, 0.99), **_BETA)
    g_opt: str = _f("adam", "optimisation", "G optimizer", choices="optimizer", live=True, shared=True)
    g_lr: float = _f(1e-3, "optimisation", "G learning rate", lo=0.0, hi=10.0, lo_open=True, why=_LR_WHY,
                     live=True, progressive_live=True, per_run=True, widget=Widget(1e-6, 1.0, 1e-4, "%g"))
    g_beta1: float = _f(0.5, "optimisation", "Adam beta1 (G)", "adam beta1", progressive_live=True,
                        widget=Widget(0.0, 0.99, 0.05, "%.2f"), **_BETA)
    g_beta2: float = _f(0.999, "optimisation", "beta2 (G)", "adam beta2 / rmsprop alpha", progressive_live=True,
                        widget=Widget(0.0, 0.9999), **_BETA)
    g_momentum: float = _f(0.0, "optimisation", "momentum (G)", "sgd / rmsprop momentum",
                           widget=Widget(0.0, 0.99), **_BETA)
    lr_schedule: str = _f("constant", "optimisation", "Learning-rate schedule",
                          "linear / cosine: both learning rates decay to 1% at the run length",
                          choices=LR_SCHEDULES, live=True, per_run=True)
    ema: float = _f(0.0, "optimisation", "EMA of G (0 = off)",
                    "metrics use the averaged G when on; the view shows G itself",
                    lo=0.0, hi=1.0, hi_open=True, live=True, progressive_live=True, per_run=True,
                    widget=Widget(0.0, 0.9999, 0.001, "%g"))
    amp: str = _f("off", "optimisation", "Mixed precision", "off | bf16 (autocast on GPU)", choices=AMP_MODES,
                  live=True, shared=True)
    # run
    steps: int = _f(5000, "run", "Run length (steps, for the schedule)",
                    "training goes on after it; a decaying schedule ends here at 1%", lo=0, hi=_BIG,
                    live=True, progressive_live=True, per_run=True, widget=Widget(1, 10**7, 500))
    minutes: float = _f(0.0, "run", "Time budget (minutes, 0 = use steps)", "wall-clock budget; 0 = use `steps`",
                        lo=0.0, hi=1e6, live=True, progressive_live=True, per_run=True)
    seed: int = _f(0, "run", "Seed", shared=True, widget=Widget(0, 2**31 - 1))
    device: str = _f("cpu", "run", "Device", "cpu | auto | cuda | mps", choices=DEVICES, shared=True)
    n_fixed: int = _f(1000, "run", "fixed noise batch", "size of the fixed noise batch behind progress views",
                      lo=1, hi=100_000, shared=True, widget=Widget(10, 5000))
    log_every: int = _f(50, "run", "Losses every (steps)", "iterations between loss rows in the history",
                        lo=1, hi=_BIG, live=True, progressive_live=True, per_run=True, widget=Widget(1, 10_000, 5))
    eval_every: int = _f(500, "run", "Metrics every (steps, 0 = never)", "iterations between metric rows",
                         lo=0, hi=_BIG, live=True, progressive_live=True, per_run=True,
                         widget=Widget(0, 100_000, 50))
    eval_samples: int = _f(2500, "run", "Samples per metric evaluation", "samples per metric evaluation",
                           lo=10, hi=1_000_000, live=True, progressive_live=True, per_run=True,
                           widget=Widget(100, 20_000))
    progress_every: int = _f(0, "run", "Progress images every (steps, 0 = never)",
                             "iterations between saved progress images", lo=0, hi=_BIG,
                             live=True, progressive_live=True, per_run=True)

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

    def data_options(self) -> DataOptions:
        return DataOptions(name=self.data, path=self.data_path, size=self.data_size,
                           image_size=self.image_size, channels=self.channels, seed=self.seed)

    # --- derived views -------------------------------------------------
    def optimizer_settings(self, net: str) -> OptimizerSettings:
        """The optimizer of network "d" or "g" (ValueError for another name)."""
        if net not in ("d", "g"):
            raise ValueError(f"net must be 'd' or 'g', got {net!r}")
        return OptimizerSettings(*(getattr(self, f"{net}_{k}") for k in ("opt", "lr", "beta1", "beta2",
                                                                        "momentum")))

    # --- validation ----------------------------------------------------
    def validate(self) -> "Config":
        """Raise ConfigError for any impossible value; returns self.

        Each field is checked against its FieldSpec (choices, range); then the
        checks that involve several fields.
        """
        if self.log_every == 0:  # said plainly: 0 would mean "never log", which the history needs
            raise ConfigError("log_every must be at least 1")
        for name, spec in FIELD_SPECS.items():
            check_value(name, getattr(self, name), spec)
        if self.d_mbstd and self.batch_size % self.d_mbstd:
            raise ConfigError(f"batch_size {self.batch_size} is not a multiple of d_mbstd "
                              f"{self.d_mbstd}; use a group size that divides the batch")
        if self.batch_size % self.pack:
            raise ConfigError(f"batch_size {self.batch_size} is not a multiple of pack {self.pack}; "
                              f"use batch_size {self.batch_size - self.batch_size % self.pack or self.pack}")
        losses = registry("loss")
        if self.label_smoothing > 0 and not losses.get(self.loss).has_targets:
            raise ConfigError(f"label_smoothing applies to losses with real/fake targets "
                              f"({', '.join(n for n in losses if losses.get(n).has_targets)}); "
                              f"loss {self.loss!r} has none: set label_smoothing=0")
        return self


FIELD_SPECS: dict[str, FieldSpec] = {f.name: f.metadata["spec"] for f in fields(Config)}
# Derived views of FIELD_SPECS, for the trainers (live changes) and side-by-side runs.
LIVE_FIELDS: frozenset[str] = frozenset(n for n, s in FIELD_SPECS.items() if s.live)
PROGRESSIVE_LIVE_FIELDS: frozenset[str] = frozenset(n for n, s in FIELD_SPECS.items() if s.progressive_live)
PER_RUN_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELD_SPECS.items() if s.per_run)
SHARED_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELD_SPECS.items() if s.shared)


def check_value(name: str, value: Any, spec: FieldSpec) -> None:
    """ConfigError unless `value` is one of spec's choices and inside its range."""
    if isinstance(spec.choices, str):
        registry(spec.choices).get(value)  # its own message: unknown <kind> ..., did you mean
    elif spec.choices and value not in spec.choices:
        raise ConfigError(f"{name} = {value!r} is not valid; choose one of {', '.join(spec.choices)}")
    if spec.lo is None and spec.hi is None or _inside(value, spec):
        return
    if spec.why:
        raise ConfigError(f"{name} = {value} is impossible; {spec.why}")
    if isinstance(value, int):  # integer ranges are closed
        raise ConfigError(f"{name} = {value} is out of range; it must be between {spec.lo} and {spec.hi}")
    raise ConfigError(f"{name} = {value} is out of range; it must be in {spec.range_text()}")


def _inside(value: float, spec: FieldSpec) -> bool:
    """math.isfinite(value) and lo <(=) value <(=) hi, an absent end unbounded."""
    lo = -math.inf if spec.lo is None else spec.lo
    hi = math.inf if spec.hi is None else spec.hi
    return math.isfinite(value) and (value > lo if spec.lo_open else value >= lo) and \
        (value < hi if spec.hi_open else value <= hi)


def field_types() -> dict[str, type]:
    return {f.name: type(f.default) for f in fields(Config)}


def unknown_field_message(key: str) -> str:
    names = list(field_types())
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown config field {key!r}{hint}; valid fields: {', '.join(names)}"


# How a value's expected type is named to a user.
TYPE_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


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
    kind = TYPE_WORDS.get(typ, typ.__name__)
    raise ConfigError(f"config field {key!r} needs {kind}, got {value!r}")


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """['a=1', 'b=x'] -> {'a': '1', 'b': 'x'} (the CLI's --set)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out
