"""Config fields as Streamlit widgets: one table says each field's widget and its limits.

The same table draws the sidebar, loads a Config into the widgets (presets, the
URL), reads the widgets back into a Config, and checks URL values against the
widgets' limits (a link cannot ask the server for a 10^6-point evaluation).
Widgets live in `st.session_state["cfg.<field>"]`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from ganlab.config import ACTIVATIONS, LATENT_DISTS, LR_SCHEDULES, Config
from ganlab.data import DATASETS
from ganlab.losses import LOSSES
from ganlab.optim import OPTIMIZERS

KEY_PREFIX = "cfg."


@dataclass(frozen=True)
class Control:
    """One Config field's widget. kind: select | int | float | bool | hidden.

    hidden: no widget; the value comes from a preset or the URL (within lo..hi)
    and is kept as it is.
    """

    field: str
    label: str
    kind: str
    options: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    fmt: str | None = None
    help: str = ""
    labels: Callable[[Any], str] | None = None

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.field

    def check(self, value: Any) -> str | None:
        """None if the widget can show `value`, else why not."""
        if self.kind == "select" and value not in self.options:
            return f"choose one of {', '.join(map(str, self.options))}"
        if self.lo is not None and value < self.lo or self.hi is not None and value > self.hi:
            return f"this page accepts {self.field} from {self.lo:g} to {self.hi:g}"
        return None


def point_sets() -> tuple[str, ...]:
    """Registered data sets made of 2-D / 3-D points (the toy sets and user points)."""
    return tuple(n for n in DATASETS if DATASETS.get(n).__module__ == "ganlab.data.toy")


def _data_label(name: str) -> str:
    return "your own points (draw or upload)" if name == "points_file" else name


def toy_controls() -> dict[str, list[Control]]:
    """The playground's settings, by sidebar group."""
    opts = tuple(OPTIMIZERS.names())
    return {
        "Data": [
            Control("data", "Data set", "select", point_sets(), labels=_data_label,
                    help="toy sets of the engine, or your own points"),
            Control("data_size", "points drawn (0 = default)", "hidden", lo=0, hi=200_000),
        ],
        "Model": [
            Control("g_layers", "G hidden layers", "int", lo=0, hi=8),
            Control("g_width", "G width", "int", lo=1, hi=1024, step=16),
            Control("d_layers", "D hidden layers", "int", lo=0, hi=8),
            Control("d_width", "D width", "int", lo=1, hi=1024, step=16),
            Control("activation", "Activation", "select", ACTIVATIONS),
            Control("latent_dim", "Latent dimension", "int", lo=1, hi=64),
            Control("latent_dist", "Latent distribution", "select", LATENT_DISTS,
                    help="normal: N(0, I); uniform: U(-1, 1)"),
            Control("leaky_slope", "leaky slope", "hidden", lo=0.0, hi=0.99),
        ],
        "Loss and regularisation": [
            Control("loss", "Loss", "select", tuple(LOSSES.names()), help="see the engine's losses"),
            Control("label_smoothing", "Label smoothing (one-sided)", "float", lo=0.0, hi=0.45,
                    step=0.05, fmt="%.2f", help="real target 1 - s; losses with targets only"),
            Control("d_dropout", "D dropout", "float", lo=0.0, hi=0.9, step=0.05, fmt="%.2f"),
            Control("d_l2", "D L2 penalty", "float", lo=0.0, hi=10.0, step=1e-3, fmt="%g"),
            Control("d_r1", "D R1 penalty (0 = off)", "float", lo=0.0, hi=100.0, step=0.1, fmt="%g",
                    help="d_r1 / 2 * |grad D|^2 at real points: keeps D flat on the data, "
                         "so training settles (Mescheder et al. 2018)"),
            Control("d_r1_every", "R1 every (steps)", "int", lo=1, hi=64,
                    help="lazy R1: applied every this many steps, weighted up to match"),
            Control("pack", "PacGAN pack", "int", lo=1, hi=8,
                    help="D judges this many samples jointly (fights mode collapse)"),
            Control("d_mbstd", "D minibatch-std group (0 = off)", "int", lo=0, hi=256, step=8,
                    help="D sees how varied each group of samples is (fights mode collapse); "
                         "must divide the batch size"),
            Control("gp_weight", "Gradient penalty weight (wgan-gp)", "float", lo=0.0, hi=100.0,
                    step=1.0, fmt="%g"),
            Control("clip_value", "Weight clip (wgan)", "float", lo=0.001, hi=1.0, step=0.01, fmt="%g"),
            Control("d_l2_adaptive", "adaptive L2", "hidden"),
        ],
        "Optimisation": [
            Control("d_opt", "D optimizer", "select", opts),
            Control("d_lr", "D learning rate", "float", lo=1e-6, hi=1.0, step=1e-4, fmt="%g"),
            Control("g_opt", "G optimizer", "select", opts),
            Control("g_lr", "G learning rate", "float", lo=1e-6, hi=1.0, step=1e-4, fmt="%g"),
            Control("d_beta1", "Adam beta1 (D)", "float", lo=0.0, hi=0.99, step=0.05, fmt="%.2f"),
            Control("g_beta1", "Adam beta1 (G)", "float", lo=0.0, hi=0.99, step=0.05, fmt="%.2f"),
            Control("d_steps", "D steps per iteration", "int", lo=1, hi=10),
            Control("g_steps", "G steps per iteration", "int", lo=1, hi=10),
            Control("lr_schedule", "Learning-rate schedule", "select", LR_SCHEDULES,
                    help="linear / cosine: both learning rates decay to 1% at the run length"),
            Control("batch_size", "Batch size", "int", lo=2, hi=4096, step=32),
            Control("ema", "EMA of G (0 = off)", "float", lo=0.0, hi=0.9999, step=0.001, fmt="%g",
                    help="metrics use the averaged G when on; the view shows G itself"),
            Control("d_beta2", "beta2 (D)", "hidden", lo=0.0, hi=0.9999),
            Control("g_beta2", "beta2 (G)", "hidden", lo=0.0, hi=0.9999),
            Control("d_momentum", "momentum (D)", "hidden", lo=0.0, hi=0.99),
            Control("g_momentum", "momentum (G)", "hidden", lo=0.0, hi=0.99),
        ],
        "Run": [
            Control("seed", "Seed", "int", lo=0, hi=2**31 - 1),
            Control("eval_every", "Metrics every (steps, 0 = never)", "int", lo=0, hi=100_000, step=50),
            Control("log_every", "Losses every (steps)", "int", lo=1, hi=10_000, step=5),
            Control("eval_samples", "metric samples", "hidden", lo=100, hi=20_000),
            Control("n_fixed", "fixed noise batch", "hidden", lo=10, hi=5000),
            Control("steps", "Run length (steps, for the schedule)", "int", lo=1, hi=10**7, step=500,
                    help="training goes on after it; a decaying schedule ends here at 1%"),
        ],
    }


def all_controls(groups: dict[str, list[Control]]) -> dict[str, Control]:
    return {c.field: c for cs in groups.values() for c in cs}


# Never from a link: the server's files and devices are not the visitor's to choose.
NOT_FROM_URL = frozenset({"data_path", "device", "model", "image_size", "channels", "amp"})


def url_check(groups: dict[str, list[Control]]) -> Callable[[str, Any], str | None]:
    """For `ui.state.config_from_query`: a control's limits, NOT_FROM_URL refused; other
    fields (new engine settings without a widget yet) pass to the trainer's validation."""
    controls = all_controls(groups)

    def check(field: str, value: Any) -> str | None:
        if field in NOT_FROM_URL:
            return "a link cannot set this"
        c = controls.get(field)
        return c.check(value) if c else None

    return check


def load(cfg: Config, groups: dict[str, list[Control]], missing_only: bool = False) -> None:
    """Put cfg's values into the widgets (call before the widgets are drawn).

    missing_only: fill only the keys Streamlit dropped. It forgets a widget's
    value when a run does not draw it (the user was on another page), so a page
    restores them from its own copy of the Config.
    """
    for c in all_controls(groups).values():
        if not (missing_only and c.key in st.session_state):
            st.session_state[c.key] = getattr(cfg, c.field)


def read(groups: dict[str, list[Control]], base: Config | None = None) -> Config:
    """The Config the widgets show; fields without a widget come from `base` (the last
    preset or URL loaded; default Config())."""
    cfg = dataclasses.replace(base) if base is not None else Config()
    for c in all_controls(groups).values():
        if c.key in st.session_state:
            setattr(cfg, c.field, st.session_state[c.key])
    return cfg


def draw(c: Control) -> Any:
    """Draw the widget of one control (its value comes from session state)."""
    if c.kind == "hidden":
        return st.session_state.get(c.key)
    common: dict[str, Any] = {"key": c.key, "help": c.help or None}
    if c.kind == "select":
        return st.selectbox(c.label, c.options, format_func=c.labels or str, **common)
    if c.kind == "bool":
        return st.checkbox(c.label, **common)
    if c.kind == "int":
        return st.number_input(c.label, min_value=int(c.lo), max_value=int(c.hi), step=int(c.step or 1),
                               **common)
    return st.number_input(c.label, min_value=float(c.lo), max_value=float(c.hi),
                           step=float(c.step or 0.01), format=c.fmt, **common)
