"""Config fields as Streamlit widgets: a page's table of controls, built from the Config metadata.

Each control takes its label, help, choices and limits from the field's
`ganlab.config.FieldSpec` (its `widget` limits when narrower than the valid
range); a page's table lists which fields it shows, in which group, and may
narrow a range or the choices. The same table draws the sidebar, loads a Config
into the widgets (presets, the URL), reads the widgets back into a Config, and
checks URL values against the widgets' limits (a link cannot ask the server for
a 10^6-point evaluation). Widgets live in `st.session_state[<prefix><field>]`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from ganlab.config import FIELD_SPECS, Config, field_types
from ganlab.data import DATASETS
from ganlab.data.toy import ONE_D_SETS

KEY_PREFIX = "cfg."


@dataclass(frozen=True)
class Control:
    """One Config field's widget. kind: select | int | float | bool | hidden.

    hidden: no widget; the value comes from a preset or the URL (within lo..hi)
    and is kept as it is. prefix: the page's session-state key prefix.
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
    prefix: str = KEY_PREFIX

    @property
    def key(self) -> str:
        return self.prefix + self.field

    def check(self, value: Any) -> str | None:
        """None if the widget can show `value`, else why not."""
        if self.kind == "select" and value not in self.options:
            return f"choose one of {', '.join(map(str, self.options))}"
        if self.lo is not None and value < self.lo or self.hi is not None and value > self.hi:
            return f"this page accepts {self.field} from {self.lo:g} to {self.hi:g}"
        return None


def control(field: str, *, hidden: bool = False, prefix: str = KEY_PREFIX, **narrow: Any) -> Control:
    """The control of one Config field from its FieldSpec; `narrow` overrides any Control
    attribute (e.g. hi=64, options=(...), help="..."). KeyError for an unknown field."""
    spec = FIELD_SPECS[field]
    typ = field_types()[field]
    options = spec.options()
    if hidden:
        kind = "hidden"
    elif options:
        kind = "select"
    else:
        kind = {bool: "bool", int: "int", float: "float"}[typ]
    w = spec.widget
    lo, hi = (w.lo, w.hi) if w else (spec.lo, spec.hi)
    if typ is bool or options:
        lo = hi = None
    made = Control(field, spec.label, kind, options, lo, hi, w.step if w else None, w.fmt if w else None,
                   spec.help, prefix=prefix)
    return dataclasses.replace(made, **narrow)


def point_sets() -> tuple[str, ...]:
    """Registered data sets made of 2-D / 3-D points (the toy sets and user points)."""
    return tuple(n for n in DATASETS
                 if DATASETS.get(n).__module__ == "ganlab.data.toy" and n not in ONE_D_SETS)


def _data_label(name: str) -> str:
    return "your own points (draw or upload)" if name == "points_file" else name


def toy_controls(prefix: str = KEY_PREFIX) -> dict[str, list[Control]]:
    """The playground's settings, by sidebar group, keyed `<prefix><field>`: every page that
    draws them needs a prefix of its own (two pages on one prefix share widget values and
    their kept copies, so each overwrote the other's settings on a visit)."""
    def ctl(f: str, **narrow: Any) -> Control:
        return control(f, prefix=prefix, **narrow)

    def hide(f: str, **narrow: Any) -> Control:
        return ctl(f, hidden=True, **narrow)

    return {
        "Data": [ctl("data", options=point_sets(), labels=_data_label), hide("data_size")],
        "Model": [*map(ctl, ("g_layers", "g_width", "d_layers", "d_width", "activation")),
                  ctl("latent_dim", hi=256), ctl("latent_dist"), hide("leaky_slope")],
        "Loss and regularisation": [
            *map(ctl, ("loss", "label_smoothing", "d_dropout", "d_l2", "d_r1", "d_r1_every", "pack",
                       "d_mbstd", "gp_weight", "clip_value")),
            hide("d_l2_adaptive"),
        ],
        "Optimisation": [
            *map(ctl, ("d_opt", "d_lr", "g_opt", "g_lr", "d_beta1", "g_beta1", "d_steps", "g_steps",
                       "lr_schedule", "batch_size", "ema")),
            *map(hide, ("d_beta2", "g_beta2", "d_momentum", "g_momentum")),
        ],
        "Run": [ctl("seed"), ctl("eval_every"), ctl("log_every"), hide("eval_samples"),
                hide("n_fixed"), ctl("steps")],
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


def changed(groups: dict[str, list[Control]], cfg: Config, reference: Config) -> list[str]:
    """The labels of the controls (in table order, hidden ones included) whose value in
    `cfg` differs from `reference`: what a user changed since a preset was loaded."""
    return [c.label for c in all_controls(groups).values() if getattr(cfg, c.field) != getattr(reference, c.field)]


def follow_preset(key: str, changes_from: Callable[[str], list[str]]) -> list[str]:
    """Call before a page draws its preset widget (session state `key`): the widget marks
    a preset only while the settings are still that preset's. `changes_from(name)`: the
    labels of the settings that differ from preset `name` ([] for none). With changes,
    `key` becomes None (the widget shows no preset) and `key + ".from"` keeps the preset
    they started from; changed back, that preset is marked again. Returns the changes."""
    ss = st.session_state
    if ss.get(key) is not None:
        ss[key + ".from"] = ss[key]
    origin = ss.get(key + ".from")
    changes = changes_from(origin) if origin is not None else []
    ss[key] = None if changes else origin
    return changes


def own_settings_words(preset: str, changes: list[str], most: int = 4) -> str:
    """The caption under a preset radio once settings were changed by hand: which preset
    they started from and the labels of what changed (the first `most` of them)."""
    named = ", ".join(changes[:most]) + (f" and {len(changes) - most} more" if len(changes) > most else "")
    return (f"Your own settings: “{preset}” with {named or 'its settings'} changed. "
            "A click on a preset loads all of its settings again.")


def draw(c: Control) -> Any:
    """Draw the widget of one control (its value comes from session state)."""
    if c.kind == "hidden":
        return st.session_state.get(c.key)
    help_text = c.help
    if c.kind in ("int", "float"):
        # A number typed outside the range is only marked red in the box (Streamlit keeps,
        # and the run uses, the last valid value): the help says the range beforehand.
        help_text = f"{c.help.rstrip('.')}. " if c.help else ""
        help_text += f"From {c.lo:g} to {c.hi:g}; a number outside stays red and is not used."
    common: dict[str, Any] = {"key": c.key, "help": help_text or None}
    if c.kind == "select":
        return st.selectbox(c.label, c.options, format_func=c.labels or str, **common)
    if c.kind == "bool":
        return st.checkbox(c.label, **common)
    if c.kind == "int":
        return st.number_input(c.label, min_value=int(c.lo), max_value=int(c.hi), step=int(c.step or 1),
                               **common)
    return st.number_input(c.label, min_value=float(c.lo), max_value=float(c.hi),
                           step=float(c.step or 0.01), format=c.fmt, **common)
