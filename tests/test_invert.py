"""GAN inversion: a tiny generator's latent recovered from its own picture; autoencoders encode."""
from __future__ import annotations

import io

import pytest
import torch
from PIL import Image
from torch import nn

from ganlab.config import Config
from ganlab.errors import ConfigError
from ganlab.invert import as_target, invert, pixel_distance
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import PretrainedGenerator
from ganlab.train import build_trainer
from tests.test_autoencoders import _blocks


def _tiny_pretrained() -> PretrainedGenerator:
    """A random 8 px progressive generator (latent 8) behind the loaded-generator interface."""
    cfg = PGANConfig(latent_dim=8, depth_scale0=16, depth_other_scales=(16,), channels=1)
    return PretrainedGenerator(Generator(cfg, torch.Generator().manual_seed(0)), "tiny", None)


def test_inversion_recovers_a_latent_much_closer_than_random_ones():
    g = _tiny_pretrained()
    z_true = g.latents(1, seed=5)
    target = g(z_true)[0]
    reports: list[tuple[int, int, float]] = []
    found = invert(g, target, starts=4, steps=150, lr=0.05, seed=1,
                   on_progress=lambda s, n, best: reports.append((s, n, best)))
    random_d = pixel_distance(g(g.latents(16, seed=9)), target[None]).mean()
    # Measured: random latents 0.91, the recovered one 3e-8 (this random network's outputs
    # overshoot [-1, 1]); asserted: 1000x closer.
    assert found.distance < float(random_d) / 1000, (found.distance, float(random_d))
    assert found.latent.shape == (1, 8) and found.image.shape == (1, 8, 8) and found.steps == 150
    assert 0 <= found.start < 4
    assert [r[0] for r in reports] == list(range(1, 151)) and reports[-1][1] == 150
    assert reports[-1][2] <= reports[0][2]
    torch.testing.assert_close(g(found.latent)[0], found.image, rtol=0, atol=1e-5)


def test_inversion_of_a_trainer_keeps_its_mode_and_uses_features():
    cfg = Config(data="image_folder", model="dcgan", latent_dim=6, g_width=4, d_width=4, batch_size=8,
                 n_fixed=2, eval_every=0)
    tr = build_trainer(cfg, _blocks())
    target = tr.generate(torch.ones(1, 6))[0]
    calls = []
    found = invert(tr, target, starts=2, steps=30, features=lambda x: calls.append(1) or x.mean((2, 3)))
    assert tr.G.training and calls and found.image.shape == (1, 28, 28)
    assert found.loss >= found.distance >= 0.0


def test_autoencoders_are_encoded_directly():
    tr = build_trainer(Config(data="image_folder", model="ae", latent_dim=4, batch_size=8, n_fixed=2,
                              eval_every=0), _blocks())
    x = tr.data.x[3]
    found = invert(tr, x)
    assert found.steps == 0 and found.latent.shape == (1, 4)
    torch.testing.assert_close(found.image, tr.reconstruct(tr.data.decode(x[None]))[0], rtol=0, atol=1e-6)


def test_targets_are_fitted_to_the_generator():
    rgb = torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
    t = as_target(rgb, 1, 28)
    assert t.shape == (1, 1, 28, 28) and float(t.min()) >= -1 and float(t.max()) <= 1
    assert as_target(torch.zeros(1, 8, 8), 3, 16).shape == (1, 3, 16, 16)
    with pytest.raises(ConfigError, match="C = 1 or 3"):
        as_target(torch.zeros(2, 8, 8), 1, 8)
    with pytest.raises(ConfigError, match="cannot invert"):
        invert(nn.Linear(2, 2), torch.zeros(1, 8, 8))


def test_a_file_that_is_not_a_picture_is_named_without_internals() -> None:
    from ganlab.explore import read_picture

    with pytest.raises(ConfigError) as e:
        read_picture(b"my notes, not a picture")
    assert str(e.value) == "this file is not a picture (not a format Pillow reads); upload a PNG or JPEG"
    png = io.BytesIO()
    Image.new("L", (8, 8), 200).save(png, format="PNG")
    with pytest.raises(ConfigError, match=r"this picture cannot be read \(.*\): it may be cut short"):
        read_picture(png.getvalue()[:-20])
    assert read_picture(png.getvalue()).shape == (1, 8, 8)
