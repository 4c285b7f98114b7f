"""Every trainer kind through the one contract (`ganlab.train.base`): the same names, the
same return types, the same guarantees (as diffusers' common scheduler tests do)."""
from __future__ import annotations

from typing import Callable

import pytest
import torch

from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.train import (AutoencoderTrainer, LoopTrainer, MultiTrainer, Progress, ProgressiveTrainer, RunBase, Trainer, TrainerBase,
                          side_by_side)
from ganlab.train.progressive import PGANSchedule

TOY = dict(data="ring8", g_width=16, d_width=16, g_layers=2, d_layers=2, batch_size=32, steps=6,
           log_every=2, eval_every=3, eval_samples=200, n_fixed=10, ema=0.9)


def squares(n: int = 64, side: int = 8) -> Dataset:
    """Bright 3x3 squares on black, two classes: (n, 1, side, side) uint8."""
    rng = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, side, side, dtype=torch.uint8)
    for i, (r, c) in enumerate(torch.randint(0, side - 3, (n, 2), generator=rng).tolist()):
        x[i, 0, r:r + 3, c:c + 3] = 255
    info = DataInfo(name="squares", kind="image", shape=(1, side, side), num_classes=2, class_names=("a", "b"))
    return Dataset(x, info, torch.arange(n) % 2)


def plain() -> TrainerBase:
    return Trainer(Config(**TOY))


def conditional() -> TrainerBase:
    cfg = Config(data="mnist", model="cgan", latent_dim=4, g_layers=1, g_width=16, d_layers=1, d_width=16,
                 batch_size=8, steps=4, log_every=2, eval_every=0, n_fixed=6, ema=0.9)
    return Trainer(cfg, squares())


def progressive() -> TrainerBase:
    cfg = Config(data="mnist", model="pgan", loss="wgan-gp", d_drift=1e-3, latent_dim=8, g_width=8,
                 batch_size=8, steps=6, log_every=2, eval_every=0, n_fixed=4, ema=0.9,
                 d_beta1=0.0, g_beta1=0.0, d_beta2=0.99, g_beta2=0.99)
    return ProgressiveTrainer(cfg, squares(), PGANSchedule(depths=(8, 8), stabilize_images=16, fade_images=16))


def autoencoder(model: str = "aae") -> TrainerBase:
    """An adversarial autoencoder (encoder, decoder, code D and three optimizers)."""
    cfg = Config(data="mnist", model=model, latent_dim=4, g_layers=1, g_width=8, d_layers=1, d_width=8,
                 batch_size=8, steps=4, log_every=2, eval_every=0, n_fixed=6, ema=0.9, label_smoothing=0.0)
    return AutoencoderTrainer(cfg, squares())


def batched() -> TrainerBase:
    return side_by_side([Config(**TOY, latent_dim=1), Config(**TOY, latent_dim=3, loss="hinge")])


def looped() -> TrainerBase:
    return LoopTrainer([Config(**TOY), Config(**TOY, d_r1=1.0)])


KINDS: dict[str, Callable[[], TrainerBase]] = {
    "plain": plain, "conditional": conditional, "progressive": progressive, "batched": batched, "looped": looped,
    "autoencoder": autoencoder, "conv_autoencoder": lambda: autoencoder("conv_ae")}


@pytest.fixture(params=list(KINDS))
def trainer(request: pytest.FixtureRequest) -> TrainerBase:
    return KINDS[request.param]()


def test_the_kinds_are_the_ones_meant() -> None:
    assert isinstance(batched(), MultiTrainer) and isinstance(looped(), LoopTrainer)
    assert type(plain()) is Trainer and isinstance(progressive(), Trainer)


def test_step_run_and_progress(trainer: TrainerBase) -> None:
    assert isinstance(trainer, TrainerBase)
    trainer.step()
    reports: list[Progress] = []
    trainer.run(steps=3, on_progress=lambda t, p: reports.append(p))
    assert trainer.step_count == 4
    assert reports and isinstance(reports[-1], Progress) and reports[-1].step == 4
    trainer.run()  # the default: up to cfg.steps
    assert trainer.step_count == max(r.cfg.steps for r in trainer.runs)


def test_each_run_samples_generates_and_records(trainer: TrainerBase) -> None:
    trainer.run(steps=4)
    assert trainer.runs and all(isinstance(r, RunBase) for r in trainer.runs)
    for run in trainer.runs:
        shape = tuple(run.info.shape)
        x, y = run.sample(5, seed=1)
        assert x.shape == (5, *shape) and x.device.type == "cpu" and torch.isfinite(x).all()
        again, _ = run.sample(300, seed=1)  # more than one G block (Trainer's SAMPLE_BLOCK)
        torch.testing.assert_close(again[:5], x, rtol=0, atol=0 if isinstance(run, Trainer) else 1e-6)
        assert (y is None) == (run.num_classes == 0)
        if y is not None:
            assert y.tolist() == [0, 1, 0, 1, 0]  # balanced classes by default
        z = torch.randn(3, run.cfg.latent_dim, generator=torch.Generator().manual_seed(0))
        labels = torch.tensor([0, 1, 0]) if run.num_classes else None
        assert tuple(run.generate(z, labels).shape) == (3, *shape)
        assert tuple(run.fixed_samples().shape) == (run.cfg.n_fixed, *shape)
        assert [r["step"] for r in run.history if "d_loss" in r] == [2, 4]
        assert set(run.last) == {"d_loss", "g_loss"}


def test_evaluate_on_points_gives_the_toy_metrics(trainer: TrainerBase) -> None:
    if trainer.runs[0].info.kind != "points":
        pytest.skip("image metrics need the data set's classifier (tests/test_image_metrics.py)")
    trainer.run(steps=3)
    for run in trainer.runs:
        m = run.evaluate(n=200)
        assert {"modes_captured", "hq_pct", "js"} <= set(m) and 0.0 <= m["js"] <= 1.0
        assert m["modes_total"] == 8.0
        assert any("js" in row for row in run.history)  # eval_every = 3


def test_state_dict_rewinds_exactly(trainer: TrainerBase) -> None:
    trainer.run(steps=2)
    state = trainer.state_dict()
    trainer.run(steps=3)
    first = [dict(r.last) for r in trainer.runs]
    samples = [r.sample(4, seed=2)[0] for r in trainer.runs]
    rows = [len(r.history) for r in trainer.runs]
    trainer.load_state_dict(state)
    assert trainer.step_count == 2
    assert all(len(r.history) <= n for r, n in zip(trainer.runs, rows))
    trainer.run(steps=3)
    assert [dict(r.last) for r in trainer.runs] == first
    for run, x in zip(trainer.runs, samples):
        torch.testing.assert_close(run.sample(4, seed=2)[0], x, rtol=0, atol=0)
    assert [len(r.history) for r in trainer.runs] == rows


def test_seeded_latents_are_a_prefix_whatever_the_count() -> None:
    from ganlab.train.base import seeded_latents

    long = seeded_latents(1500, 3, "normal", seed=7)
    for n in (1, 5, 1024, 1030):
        torch.testing.assert_close(seeded_latents(n, 3, "normal", seed=7), long[:n], rtol=0, atol=0)
    assert not torch.equal(seeded_latents(5, 3, "normal", seed=8), long[:5])
    u = seeded_latents(2000, 2, "uniform", seed=0)
    assert float(u.min()) >= -1.0 and float(u.max()) < 1.0 and abs(float(u.mean())) < 0.05
