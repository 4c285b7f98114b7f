"""Config: strict JSON round trip, parsing of --set / URL strings, validation messages."""
import json

import pytest

from ganlab.config import Config, parse_assignments
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
