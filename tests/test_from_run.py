"""Every kind of run folder opens through `load_generator` as a generator (issue 14):
tiny runs trained here, saved with `save_run`, loaded back, and compared with the
trainer's own `generate(z, y, ema=True)`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import CheckpointError, ConfigError
from ganlab.pretrained import load_generator
from ganlab.pretrained.from_run import RunGenerator
from ganlab.runs import save_run
from ganlab.train import ProgressiveTrainer, Trainer
from ganlab.train.progressive import PGANSchedule

CLASSES = ("zero", "one", "two")


def squares(side: int, n: int = 48) -> Dataset:
    """Bright squares on black whose size depends on the class: (n, 1, side, side) uint8, 3 classes."""
    x = torch.zeros(n, 1, side, side, dtype=torch.uint8)
    y = torch.arange(n) % 3
    for i in range(n):
        k = 2 + int(y[i])
        x[i, 0, 1:1 + k, 1:1 + k] = 255
    info = DataInfo(name="squares", kind="image", shape=(1, side, side), num_classes=3, class_names=CLASSES)
    return Dataset(x, info, y)


SMALL = dict(data="mnist", latent_dim=5, batch_size=8, steps=3, log_every=1, eval_every=0, n_fixed=4, ema=0.9,
             g_width=8, d_width=8)


def train(kind: str, tmp_path: Path) -> tuple[Trainer, Path]:
    if kind == "pgan":
        cfg = Config(**{**SMALL, "model": "pgan", "loss": "wgan-gp", "d_drift": 1e-3})
        tr: Trainer = ProgressiveTrainer(cfg, squares(8), PGANSchedule(depths=(8, 8), stabilize_images=8,
                                                                        fade_images=8))
    elif kind in ("mlp", "cgan"):
        tr = Trainer(Config(**SMALL, model=kind, g_layers=1, d_layers=1), squares(28))
    else:
        tr = Trainer(Config(**SMALL, model=kind), squares(28))
    tr.run()
    return tr, save_run(tr, tmp_path / f"run-{kind}")


@pytest.mark.parametrize("kind", ["mlp", "cgan", "dcgan", "cdcgan", "pgan"])
def test_every_kind_of_run_loads_as_a_generator(kind: str, tmp_path: Path) -> None:
    trainer, folder = train(kind, tmp_path)
    gen = load_generator(folder)
    assert isinstance(gen, RunGenerator)
    side = 8 if kind == "pgan" else 28
    assert (gen.latent_dim, gen.resolution, gen.channels) == (5, side, 1)
    assert gen.name == f"run-{kind}" and gen.info["model"] == kind and gen.info["step"] == 3
    assert gen.ema is True  # the run kept an EMA generator, and that is what is sampled
    conditional = kind in ("cgan", "cdcgan")
    assert gen.num_classes == (3 if conditional else 0)
    assert gen.class_names == (CLASSES if conditional else ())
    z = gen.latents(7, seed=3)
    assert z.shape == (7, 5) and torch.equal(z, gen.latents(9, seed=3)[:7])
    x = gen(z)
    assert x.shape == (7, 1, side, side) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert bool(torch.isfinite(x).all())
    y = (torch.arange(7) % 3) if conditional else None
    assert torch.equal(x, trainer.generate(z, y, ema=True).cpu())
    if kind != "pgan":  # tanh outputs; pgan's output layer is linear as in the paper
        assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    # batching changes only the float rounding of the matrix products
    assert torch.allclose(gen(z, batch_size=2), x, atol=1e-6)


@pytest.mark.parametrize("kind", ["cgan", "cdcgan"])
def test_conditional_runs_take_labels(kind: str, tmp_path: Path) -> None:
    trainer, folder = train(kind, tmp_path)
    gen = load_generator(str(folder))
    z = gen.latents(4, seed=0)
    same = gen(z, labels=2)
    assert torch.equal(same, trainer.generate(z, torch.full((4,), 2), ema=True).cpu())
    mixed = gen(z, labels=torch.tensor([0, 1, 2, 0]))
    assert torch.equal(mixed[2], same[2])  # same latent, same class -> same image
    assert not torch.equal(mixed[0], same[0])  # the label changes the image
    with pytest.raises(ConfigError, match="classes 0..2"):
        gen(z, labels=3)
    with pytest.raises(ConfigError, match="3 labels for 4 latents"):
        gen(z, labels=torch.tensor([0, 1, 2]))


def test_unconditional_runs_refuse_labels_and_bad_latents(tmp_path: Path) -> None:
    _, folder = train("dcgan", tmp_path)
    gen = load_generator(folder)
    with pytest.raises(ConfigError, match="takes no labels"):
        gen(gen.latents(2, 0), labels=1)
    with pytest.raises(ConfigError, match=r"shape \(N, 5\)"):
        gen(torch.zeros(2, 4))


def test_a_run_without_ema_samples_g(tmp_path: Path) -> None:
    tr = Trainer(Config(**{**SMALL, "ema": 0.0}, model="mlp", g_layers=1, d_layers=1), squares(28))
    tr.run()
    gen = load_generator(save_run(tr, tmp_path / "plain"))
    z = gen.latents(3, 1)
    assert gen.ema is False and torch.equal(gen(z), tr.generate(z).cpu())


def test_points_runs_and_broken_folders_are_refused(tmp_path: Path) -> None:
    tr = Trainer(Config(data="ring8", g_width=8, d_width=8, g_layers=1, d_layers=1, batch_size=8, steps=1,
                        eval_every=0, n_fixed=4))
    tr.run()
    with pytest.raises(ConfigError, match="trained on points"):
        load_generator(save_run(tr, tmp_path / "toy"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="has no 'data', 'model', 'loss', 'latent_dim', 'seed', 'steps' "
                                              "entries, which every run records; the file is damaged"):
        load_generator(broken)
    (broken / "config.json").write_text(Config(data="mnist", model="dcgan").to_json())
    with pytest.raises(CheckpointError, match="state.json"):
        load_generator(broken)


def test_cli_converts_a_progressive_run_and_samples_its_file(tmp_path: Path, capsys) -> None:
    from ganlab.cli import main

    _, run = train("pgan", tmp_path)
    assert main(["convert", str(run), "--out", str(tmp_path / "mine")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "pgan" and summary["resolution"] == 8 and summary["latent_dim"] == 5
    z = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(load_generator(tmp_path / "mine.safetensors")(z), load_generator(run)(z))  # the EMA, as is
    # `sample` takes the file too: a grid (2 x 2 for 4 images of 8 px, 2 px apart) and arrays.
    assert main(["sample", str(tmp_path / "mine.safetensors"), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (2 * 10 + 2, 2 * 10 + 2)
    assert main(["sample", str(tmp_path / "mine.safetensors"), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (4, 1, 8, 8) and f["images"].dtype == np.uint8
    capsys.readouterr()
    _, mlp = train("mlp", tmp_path)
    assert main(["convert", str(mlp), "--out", str(tmp_path / "other")]) == 2
    assert f"{mlp}: its model is 'mlp'; convert writes progressive GANs" in capsys.readouterr().err
    assert not (tmp_path / "other.safetensors").exists()
