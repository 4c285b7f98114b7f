"""The run configuration <-> the URL query string, so that a copied URL reproduces a run.

The URL holds the Config fields that differ from `Config()`'s defaults (settings
and seed), written and read against the same base, so the round trip is exact
whatever the presets say. A hand-written URL may start from a preset
(`?preset=grid25&seed=3`); a URL with no fields at all gives `default`.

User points travel in the URL too (`pts`, at most MAX_URL_POINTS points, 3
decimals). Never from a URL: `data_path` (a server-side path; a link must not
make the server read its files); a page refuses more through `check`.
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Mapping

import numpy as np

from ganlab.config import Config, field_types
from ganlab.data import DATASETS
from ganlab.errors import ConfigError, DataError, GanlabError
from ganlab.presets import resolve_config

POINTS_PARAM = "pts"
PRESET_PARAM = "preset"
VIEW_PARAMS = ("projector",)  # how the app looks, not a setting (ui/projector.py)
# The run controls' parameters, not settings either: the browser token (ui.autosave.TOKEN_PARAM)
# and the step count to stop at (ui.run_controls.STOP_PARAM).
RUN_PARAMS = ("me", "stop")
MAX_URL_POINTS = 2000
POINTS_SCALE = 1000.0  # points are stored as int32 thousandths
NOT_FROM_URL = frozenset({"data_path"})

Check = Callable[[str, Any], "str | None"]


def to_text(value: Any) -> str:
    """A field value as the URL shows it: bools 0/1, floats in their shortest exact form."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


def config_to_query(cfg: Config) -> dict[str, str]:
    """The fields of cfg that differ from Config() defaults, as strings (data_path left out).

    `data` is always written, so a page's URL is never empty (an empty one means
    "the page's default", which need not be Config()).
    """
    diff = {"data": cfg.data, **cfg.diff()}
    return {k: to_text(v) for k, v in diff.items() if k not in NOT_FROM_URL}


def config_from_query(params: Mapping[str, str], default: Config | None = None,
                      check: Check | None = None) -> tuple[Config, list[str]]:
    """A Config from URL parameters -> (cfg, problems).

    Each parameter that names no field, does not parse, or fails `check(field,
    value)` (a message, or None when fine: e.g. the page's widget ranges) is
    skipped and explained in `problems`; the rest apply. The combination is not
    validated here (the trainer does that, with its own message).
    """
    fields = {k: v for k, v in params.items()
              if k not in (POINTS_PARAM, PRESET_PARAM, *VIEW_PARAMS, *RUN_PARAMS)}
    problems: list[str] = []
    if not fields and PRESET_PARAM not in params:
        return (default or Config()), problems
    cfg = Config()
    if PRESET_PARAM in params:
        name = params[PRESET_PARAM]
        try:
            # A data set beside the preset layers as `train --preset P --data D` does (the
            # data set's own defaults under the preset's), when the page accepts it.
            data = fields.get("data")
            usable = data in DATASETS and not (check and check("data", data))
            preset = resolve_config(preset=name, data=data if usable else None)
            refused = [m for k, v in preset.diff().items() if check and (m := check(k, v))]
            if refused:
                raise ConfigError(f"preset {name!r} is not for this page ({refused[0]})")
            cfg = preset
        except GanlabError as exc:
            problems.append(f"URL parameter preset is ignored: {exc}")
    types = field_types()
    for key, text in fields.items():
        if key in NOT_FROM_URL:
            problems.append(f"URL parameter {key!r} is ignored: upload or draw the points instead")
            continue
        try:
            if key not in types:
                raise ConfigError(f"unknown setting {key!r}")
            value = Config().update({key: text}).to_dict()[key]
        except ConfigError as exc:
            problems.append(f"URL parameter {key}={text!r} is ignored: {exc}")
            continue
        message = check(key, value) if check else None
        if message:
            problems.append(f"URL parameter {key}={text!r} is ignored: {message}")
            continue
        setattr(cfg, key, value)
    return cfg, problems


def encode_points(points: np.ndarray) -> str | None:
    """(N, 2 or 3) points -> a compact URL-safe string, or None if N > MAX_URL_POINTS."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) > MAX_URL_POINTS or pts.ndim != 2 or pts.shape[1] not in (2, 3):
        return None
    q = np.round(pts * POINTS_SCALE).astype("<i4")
    head = str(pts.shape[1])
    return head + base64.urlsafe_b64encode(q.tobytes()).decode("ascii").rstrip("=")


def decode_points(text: str) -> np.ndarray:
    """The inverse of `encode_points` -> float32 (N, D); DataError if it is not one."""
    try:
        dim = int(text[0])
        raw = base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
        if dim not in (2, 3) or len(raw) % (4 * dim):
            raise ValueError
    except (ValueError, IndexError):
        raise DataError("the points in the URL (pts=...) are damaged; draw or upload them again") from None
    q = np.frombuffer(raw, dtype="<i4").reshape(-1, dim)
    return (q / POINTS_SCALE).astype(np.float32)
