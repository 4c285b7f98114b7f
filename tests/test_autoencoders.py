"""Autoencoders (ae, conv_ae, aae): short real runs on the shared MNIST split, the adversarial
autoencoder's codes moving to the prior, run folders, the CLI, the reconstruction grid."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganlab.cli import main
from ganlab.config import Config
from ganlab.data import build_dataset
from ganlab.data.base import DataInfo, Dataset
from ganlab.data.images import available_splits
from ganlab.errors import ConfigError
from ganlab.metrics.images import reconstruction_mse
from ganlab.metrics.toy import fit_gaussian, frechet_distance
from ganlab.presets import resolve_config
from ganlab.progress import reconstruction_grid
from ganlab.runs import load_run, save_run
from ganlab.train import AutoencoderTrainer, Trainer, build_trainer

needs_mnist = pytest.mark.skipif("test" not in available_splits("mnist"),
                                 reason="the MNIST split is not on this machine (../shared/data/mnist)")


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return build_dataset(resolve_config("mnist").data_options())


def _small(model: str, **changes: object) -> Config:
    """The model's MNIST preset, narrowed so that a test trains in seconds on one core."""
    return resolve_config("mnist", None, {"model": model, "g_width": 64 if model == "aae" else 8,
                                          "d_width": 64, "batch_size": 64, "eval_every": 0, "log_every": 10,
                                          **changes})


def _blocks(n: int = 48) -> Dataset:
    """A tiny 28 px image set: a bright bar whose row depends on the index."""
    x = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i in range(n):
        r = 2 + (i % 6) * 4
        x[i, 0, r:r + 4, 4:24] = 255
    return Dataset(x, DataInfo("image_folder", "image", (1, 28, 28)))


@needs_mnist
@pytest.mark.parametrize("model, steps", [("ae", 60), ("conv_ae", 40), ("aae", 40)])
def test_a_short_run_lowers_the_reconstruction_error(mnist, model, steps):
    tr = build_trainer(_small(model), mnist)
    assert isinstance(tr, AutoencoderTrainer) and isinstance(tr, Trainer)
    before = reconstruction_mse(tr, 500, seed=3)
    # At init the sigmoid decoder outputs about 0.5 everywhere: MSE ~ 0.5^2 on black pixels.
    assert 0.15 < before < 0.35
    tr.run(steps=steps)
    after = reconstruction_mse(tr, 500, seed=3)
    # Units: mean squared error per pixel, pixels in [0, 1]. Falls by at least 40% and stays
    # above what a perfect copy (0) would be: a 32-d (or 8-d) code loses detail.
    assert 0.005 < after < 0.6 * before, (before, after)
    row = tr.history[-1]
    assert row["step"] == steps and 0.0 < row["batch_recon_mse"] < before
    assert (row["d_loss"] == 0.0) == (model != "aae")
    # What the GAN machinery reads: decoded prior codes in model space, in range.
    x, y = tr.sample(6, seed=1)
    assert x.shape == (6, 1, 28, 28) and y is None
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    z = tr.encode(mnist.decode(mnist.x[:5]))
    assert z.shape == (5, tr.cfg.latent_dim)
    assert tr.reconstruct(mnist.decode(mnist.x[:5])).shape == (5, 1, 28, 28)
    assert tr.fixed_samples().shape == (tr.cfg.n_fixed, 1, 28, 28)


def _prior_distance(tr: AutoencoderTrainer, data: Dataset) -> float:
    """Frechet distance between a Gaussian fitted to the codes of 500 images and N(0, I)."""
    codes = tr.encode(data.decode(data.draw(500, 7))).double().cpu().numpy()
    mu, cov = fit_gaussian(codes)
    k = codes.shape[1]
    return frechet_distance(np.zeros(k), np.eye(k), mu, cov)


@needs_mnist
def test_the_adversarial_autoencoders_codes_move_towards_the_prior(mnist):
    """The same 100 steps with and without the regularisation phase (step(d=False)): the
    reconstruction phase alone spreads the codes far from N(0, I) (Frechet distance about
    200-300 on seeds 0-1, pooled std about 2.5-6), with the code discriminator they stay
    near it (about 8-16, std 0.4-1.1). Asserted: at least 5x closer, std within [0.2, 2]."""
    cfg = _small("aae", d_lr=1e-3)
    free, regularised = build_trainer(cfg, mnist), build_trainer(cfg, mnist)
    for _ in range(100):
        free.step(d=False)
        regularised.step()
    far, near = _prior_distance(free, mnist), _prior_distance(regularised, mnist)
    assert near < far / 5, (near, far)
    codes = regularised.encode(mnist.decode(mnist.draw(500, 8)))
    assert abs(float(codes.mean())) < 0.6 and 0.2 < float(codes.std()) < 2.0


def test_runs_save_load_and_resume_the_same(tmp_path):
    cfg = Config(data="image_folder", model="aae", latent_dim=4, g_layers=1, g_width=16, d_layers=1,
                 d_width=16, batch_size=8, log_every=2, eval_every=0, n_fixed=4, label_smoothing=0.0)
    tr = build_trainer(cfg, _blocks())
    tr.run(steps=3)
    save_run(tr, tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "state.json").read_text())
    assert meta["kind"] == "autoencoder" and {"opt_g", "opt_d", "opt_e"} <= set(meta)
    back = load_run(tmp_path / "run", dataset=_blocks())
    assert isinstance(back, AutoencoderTrainer) and back.step_count == 3
    torch.testing.assert_close(back.sample(4, seed=2)[0], tr.sample(4, seed=2)[0], rtol=0, atol=0)
    tr.run(steps=2)
    back.run(steps=2)
    assert back.last == tr.last
    torch.testing.assert_close(back.sample(4, seed=2)[0], tr.sample(4, seed=2)[0], rtol=0, atol=0)
    sampler = load_run(tmp_path / "run", with_data=False)
    assert sampler.sample(2, seed=0)[0].shape == (2, 1, 28, 28)


def test_reconstruction_grid_puts_originals_above_reconstructions():
    cfg = Config(data="image_folder", model="ae", latent_dim=4, batch_size=8, eval_every=0, n_fixed=4)
    tr = build_trainer(cfg, _blocks())
    grid = reconstruction_grid(tr, n=16, per_row=8)
    # 16 originals in 2 rows, each followed by its reconstructions: 4 rows of 28 px + padding 2.
    assert grid.shape == (1, 4 * 30 + 2, 8 * 30 + 2) and grid.dtype == torch.uint8
    first = grid[0, 2:30, 2:30]
    assert torch.equal(first, tr.fixed_x[0, 0].add(1).mul(127.5).round().to(torch.uint8))
    with pytest.raises(ConfigError, match="autoencoder"):
        reconstruction_grid(build_trainer(Config(data="ring8", batch_size=8, n_fixed=4)))


def test_autoencoders_need_images():
    with pytest.raises(ConfigError, match="image autoencoder"):
        build_trainer(Config(data="ring8", model="ae"))
    with pytest.raises(ConfigError, match="AutoencoderTrainer trains"):
        AutoencoderTrainer(Config(data="ring8"))


@needs_mnist
def test_cli_trains_an_autoencoder_with_grids(tmp_path, capsys):
    out = tmp_path / "ae"
    assert main(["train", "--data", "mnist", "--model", "ae", "--out", str(out), "--steps", "6", "--quiet",
                 "--set", "progress_every=3", "--set", "eval_every=6", "--set", "eval_samples=200"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 6 and 0.0 < summary["recon_mse"] < 0.35 and summary["fd"] > 0
    assert sorted(p.name for p in (out / "progress").glob("recon_*.png")) == \
        ["recon_0000000.png", "recon_0000003.png", "recon_0000006.png"]
    assert (out / "progress" / "recon.gif").is_file()
    assert json.loads((out / "config.json").read_text())["latent_dim"] == 32  # the mnist_ae preset
