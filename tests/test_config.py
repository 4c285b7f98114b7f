"""Config: strict JSON round trip, parsing of --set / URL strings, validation messages."""
import dataclasses
import json
import math

import pytest

from ganlab.config import (FIELD_SPECS, GROUPS, LIVE_FIELDS, PER_RUN_FIELDS, PROGRESSIVE_LIVE_FIELDS,
                           SHARED_FIELDS, Config, FieldSpec, OptimizerSettings, parse_assignments)
from ganlab.lab_presets import VARY_FIELDS
from ganlab.errors import ConfigError
from ganlab.presets import DATA_DEFAULTS, PRESETS, resolve_config


def test_json_round_trip_is_exact():
    cfg = Config(data="grid25", latent_dim=7, d_lr=3e-4, d_l2_adaptive=True, loss="hinge")
    again = Config.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(cfg.to_json())["latent_dim"] == 7


def test_save_and_load(tmp_path):
    cfg = Config(seed=42, g_width=64)
    cfg.save(tmp_path / "c.json")
    assert Config.load(tmp_path / "c.json") == cfg


def test_unknown_key_is_rejected_with_a_suggestion():
    with pytest.raises(ConfigError) as e:
        Config.from_dict({"latent_dimm": 3})
    assert "unknown config field 'latent_dimm'" in str(e.value)
    assert "did you mean 'latent_dim'" in str(e.value)


@pytest.mark.parametrize("bad", ['[1, 2]', '"text"', '{"steps": '])
def test_bad_json(bad):
    with pytest.raises(ConfigError):
        Config.from_json(bad)


def test_strings_are_parsed_by_field_type():
    cfg = Config().update({"latent_dim": "5", "d_lr": "2e-4", "d_l2_adaptive": "true", "loss": "lsgan"})
    assert (cfg.latent_dim, cfg.d_lr, cfg.d_l2_adaptive, cfg.loss) == (5, 2e-4, True, "lsgan")
    assert Config().update({"ema": 0}).ema == 0.0
    assert Config().update({"steps": 10.0}).steps == 10


@pytest.mark.parametrize("key,value", [("latent_dim", "two"), ("latent_dim", 2.5), ("d_lr", "fast"),
                                       ("d_l2_adaptive", "maybe"), ("steps", True), ("loss", [1])])
def test_wrong_types_are_rejected(key, value):
    with pytest.raises(ConfigError) as e:
        Config().update({key: value})
    assert repr(key) in str(e.value)


def test_diff_lists_only_changed_fields():
    assert Config(seed=3, d_lr=0.01).diff() == {"seed": 3, "d_lr": 0.01}
    assert Config().diff() == {}


def test_parse_assignments():
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["novalue"])


@pytest.mark.parametrize("changes,needle", [
    ({"latent_dim": 0}, "latent_dim = 0 is out of range"),
    ({"latent_dim": 1000}, "between 1 and 512"),
    ({"d_lr": 0.0}, "d_lr = 0.0 is impossible"),
    ({"g_lr": float("nan")}, "g_lr = nan is impossible"),
    ({"batch_size": 1}, "batch_size = 1 is out of range"),
    ({"d_dropout": 1.0}, "d_dropout = 1.0 is out of range"),
    ({"d_beta1": 1.0}, "d_beta1"),
    ({"label_smoothing": 0.1, "loss": "wgan"}, "loss 'wgan' has none: set label_smoothing=0"),
    ({"pack": 3, "batch_size": 256}, "not a multiple of pack 3"),
    ({"activation": "tanh"}, "choose one of relu, leaky_relu"),
    ({"data": "ring9"}, "unknown data set 'ring9'"),
    ({"model": "resnet"}, "unknown model 'resnet'"),
    ({"d_opt": "adamw"}, "unknown optimizer 'adamw'"),
    ({"device": "tpu"}, "choose one of cpu, auto, cuda, mps"),
])
def test_validation_messages(changes, needle):
    with pytest.raises(ConfigError) as e:
        Config().update(changes).validate()
    assert needle in str(e.value)


def test_defaults_validate():
    assert Config().validate() == Config()


def test_every_preset_validates():
    for name in PRESETS:
        cfg = resolve_config(preset=name)
        cfg.validate()


def test_preset_layering():
    # the data set's tuned default applies when only --data is given
    assert DATA_DEFAULTS["ring8"] == "ring8"
    base = resolve_config("ring8")
    assert base.to_dict() == Config().update(PRESETS.get("ring8").settings).to_dict()
    # a named preset, then explicit data, then overrides win in that order
    cfg = resolve_config("gaussian2d", "collapse", {"seed": "9"})
    assert cfg.data == "gaussian2d" and cfg.seed == 9
    assert resolve_config(preset="collapse").data == "ring8"
    with pytest.raises(ConfigError, match="unknown preset"):
        resolve_config(preset="nope")


# --- field metadata: every fact of a field in its FieldSpec, the lists derived from it -------
LIVE = {"loss", "clip_value", "gp_weight", "label_smoothing", "d_l2", "d_l2_adaptive", "d_r1", "d_r1_every",
        "d_drift", "batch_size", "d_steps", "g_steps", "d_opt", "d_lr", "d_beta1", "d_beta2", "d_momentum",
        "g_opt", "g_lr", "g_beta1", "g_beta2", "g_momentum", "ema", "lr_schedule", "steps", "eval_every",
        "eval_samples", "log_every", "minutes", "progress_every", "amp", "recon_loss"}
PROGRESSIVE_LIVE = {"batch_size", "d_lr", "g_lr", "d_beta1", "d_beta2", "g_beta1", "g_beta2", "ema",
                    "gp_weight", "d_drift", "steps", "eval_every", "eval_samples", "log_every", "minutes",
                    "progress_every"}
PER_RUN = ("latent_dim", "latent_dist", "loss", "clip_value", "gp_weight", "label_smoothing", "d_l2",
           "d_l2_adaptive", "d_drift", "d_steps", "g_steps", "d_lr", "d_beta1", "d_beta2", "d_momentum",
           "g_lr", "g_beta1", "g_beta2", "g_momentum", "lr_schedule", "ema", "steps", "minutes",
           "log_every", "eval_every", "eval_samples", "progress_every")
SHARED = ("data", "data_path", "data_size", "image_size", "channels", "model", "g_layers", "g_width",
          "d_layers", "d_width", "activation", "leaky_slope", "d_dropout", "pack", "recon_loss", "batch_size",
          "d_opt", "g_opt", "amp", "seed", "device", "n_fixed")


def test_every_field_has_a_spec_with_group_label_and_help_or_label():
    names = [f.name for f in dataclasses.fields(Config)]
    assert list(FIELD_SPECS) == names
    for name, spec in FIELD_SPECS.items():
        assert isinstance(spec, FieldSpec)
        assert spec.group in GROUPS and spec.label, name
        assert not (spec.per_run and spec.shared), name


def test_derived_field_sets_are_exactly_the_expected_ones():
    assert LIVE_FIELDS == LIVE
    assert PROGRESSIVE_LIVE_FIELDS == PROGRESSIVE_LIVE
    assert PER_RUN_FIELDS == PER_RUN
    assert SHARED_FIELDS == SHARED
    # neither shared nor per run: side-by-side runs that set these train one after the other
    assert set(FIELD_SPECS) - set(PER_RUN) - set(SHARED) == {"d_mbstd", "d_r1", "d_r1_every", "d_mismatch"}


def test_vary_fields_come_from_the_specs():
    assert list(VARY_FIELDS.items()) == [("latent_dim", "latent dimension"), ("loss", "loss"),
                                         ("d_steps", "D steps per iteration"),
                                         ("lr", "learning rate (D and G)"), ("pack", "PacGAN pack")]


def test_drift_field():
    spec = FIELD_SPECS["d_drift"]
    assert Config().d_drift == 0.0 and spec.group == "loss"
    assert (spec.lo, spec.hi, spec.lo_open, spec.hi_open) == (0.0, 1.0, False, True)
    assert Config(d_drift=1e-3).validate().d_drift == 1e-3


def _just_outside(value: float, side: int, is_int: bool) -> float:
    """The first value past a bound: the next integer, or the next float."""
    return value + side if is_int else math.nextafter(value, side * math.inf)


RANGED = [n for n, s in FIELD_SPECS.items() if s.lo is not None or s.hi is not None]


@pytest.mark.parametrize("name", RANGED)
def test_validate_accepts_the_closed_bounds_and_rejects_just_outside(name):
    spec = FIELD_SPECS[name]
    is_int = isinstance(getattr(Config(), name), int)
    # a base that the cross-field checks accept at every bound
    base = {"batch_size": 2 if name in ("pack", "d_mbstd") else 256, "pack": 1, "d_mbstd": 0}
    for bound, is_open, side in ((spec.lo, spec.lo_open, -1), (spec.hi, spec.hi_open, 1)):
        if bound is None:
            continue
        inside = _just_outside(bound, -side, is_int) if is_open else bound
        if name in ("pack", "d_mbstd") and inside > 2:
            base["batch_size"] = int(inside)
        Config().update({**base, name: inside}).validate()
        with pytest.raises(ConfigError, match=name):
            Config().update({**base, name: _just_outside(bound, side, is_int)}).validate()


def test_ranges_of_the_specs_match_the_former_validation():
    # spot checks of the ranges the hand-written validate had
    expect = {"latent_dim": (1, 512), "batch_size": (2, 65536), "pack": (1, 16), "d_mbstd": (0, 256),
              "n_fixed": (1, 100_000), "eval_samples": (10, 1_000_000), "d_r1_every": (1, 1000),
              "clip_value": (0.0, 100.0), "gp_weight": (0.0, 1e4), "label_smoothing": (0.0, 0.5),
              "d_lr": (0.0, 10.0), "minutes": (0.0, 1e6)}
    for name, (lo, hi) in expect.items():
        assert (FIELD_SPECS[name].lo, FIELD_SPECS[name].hi) == (lo, hi), name
    assert FIELD_SPECS["clip_value"].lo_open and FIELD_SPECS["d_lr"].lo_open
    assert FIELD_SPECS["label_smoothing"].hi_open and FIELD_SPECS["ema"].hi_open


def test_log_every_zero_keeps_its_plain_message():
    with pytest.raises(ConfigError, match="log_every must be at least 1"):
        Config(log_every=0).validate()


def test_choices_are_tuples_or_registries_resolved_lazily():
    assert FIELD_SPECS["activation"].options() == ("relu", "leaky_relu")
    assert "wgan-gp" in FIELD_SPECS["loss"].options()
    assert "ring8" in FIELD_SPECS["data"].options()
    assert FIELD_SPECS["d_opt"].options() == FIELD_SPECS["g_opt"].options()
    assert FIELD_SPECS["seed"].options() == ()


def test_optimizer_settings():
    cfg = Config(d_opt="sgd", d_lr=0.02, d_beta1=0.1, d_beta2=0.2, d_momentum=0.9, g_lr=3e-4)
    assert cfg.optimizer_settings("d") == OptimizerSettings("sgd", 0.02, 0.1, 0.2, 0.9)
    assert cfg.optimizer_settings("g") == OptimizerSettings("adam", 3e-4, 0.5, 0.999, 0.0)
    with pytest.raises(ValueError, match="'d' or 'g'"):
        cfg.optimizer_settings("x")


def test_round_trip_is_strict_with_the_new_field():
    cfg = Config(d_drift=1e-3)
    assert Config.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError, match="did you mean 'd_drift'"):
        Config.from_dict({"d_drfit": 1e-3})
