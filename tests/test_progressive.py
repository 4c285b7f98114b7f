"""The progressive GAN trainer: schedule, growth through a fade-in, losses, export, save / resume."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import ConfigError
from ganlab.pretrained import load_generator
from ganlab.models.pgan import scale_depths
from ganlab.runs import is_progressive_run, load_run, save_run
from ganlab.train import Trainer, build_trainer
from ganlab.pretrained.export import export_generator
from ganlab.train.progressive import PGANSchedule, ProgressiveTrainer


def tiny_images(n: int = 64, side: int = 8, seed: int = 0) -> Dataset:
    """Bright squares at random places on black: (n, 1, side, side) uint8."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, side, side, dtype=torch.uint8)
    for i, (r, c) in enumerate(torch.randint(0, side - 3, (n, 2), generator=gen).tolist()):
        x[i, 0, r:r + 3, c:c + 3] = 255
    info = DataInfo(name="squares", kind="image", shape=(1, side, side))
    return Dataset(x, info, torch.zeros(n, dtype=torch.int64))


def tiny_cfg(**kw) -> Config:
    base = dict(data="mnist", model="pgan", loss="wgan-gp", d_drift=1e-3, latent_dim=8, g_width=8, batch_size=8, ema=0.9,
                d_lr=1e-3, g_lr=1e-3, d_beta1=0.0, g_beta1=0.0, d_beta2=0.99, g_beta2=0.99,
                steps=12, log_every=2, eval_every=0, n_fixed=4, seed=3)
    return Config(**{**base, **kw})


def tiny_trainer(**kw) -> ProgressiveTrainer:
    cfg = tiny_cfg(**kw)
    # 8 images per step: stabilise 4 px for 3 steps, fade in 8 px over 4 steps, then 8 px.
    schedule = PGANSchedule(depths=(8, 8), stabilize_images=24, fade_images=32)
    return ProgressiveTrainer(cfg, tiny_images(), schedule)


def test_schedule_phases_follow_the_zoo_alpha_convention() -> None:
    s = PGANSchedule(depths=(8, 8, 8), stabilize_images=10, fade_images=20)
    assert s.phase(0) == (0, 0.0) and s.phase(9) == (0, 0.0)
    assert s.phase(10) == (1, 1.0)          # new scale: only the low-resolution path
    assert s.phase(20) == (1, 0.5)
    assert s.phase(30) == (1, 0.0) and s.phase(39) == (1, 0.0)
    assert s.phase(40) == (2, 1.0)
    assert s.phase(60) == (2, 0.0) and s.phase(10**9) == (2, 0.0)
    assert s.resolution == 16 and s.growth_images == 60
    custom = PGANSchedule(depths=(8, 8, 8), phase_images=(5, 6, 7, 8))
    assert custom.phase(5) == (1, 1.0) and custom.phase(11) == (1, 0.0) and custom.phase(18) == (2, 1.0)
    assert PGANSchedule.from_dict(custom.to_dict()) == custom
    with pytest.raises(ConfigError, match="phase_images needs 4"):
        PGANSchedule(depths=(8, 8, 8), phase_images=(5, 6))


def test_default_depths_halve_from_the_8px_scale() -> None:
    assert scale_depths(32, 128) == (128, 128, 64, 32)
    assert scale_depths(64, 64) == (64, 64, 32, 16, 16)
    default = PGANSchedule.for_config(Config(image_size=32, g_width=64, steps=700, batch_size=32))
    assert default.depths == (64, 64, 32, 16)
    # 7 equal phases fill the run: the last 100 steps stabilise at 32 px.
    assert default.phases == (3200,) * 6 and default.phase(600 * 32) == (3, 0.0)
    assert default.phase(600 * 32 - 1)[0] == 3 and default.phase(600 * 32 - 1)[1] > 0
    with pytest.raises(ConfigError, match="power of two"):
        PGANSchedule.for_config(Config(image_size=28))


def test_trains_through_a_fade_in_on_a_tiny_data_set() -> None:
    tr = tiny_trainer()
    seen = []
    for _ in range(9):
        tr.step()
        seen.append((tr.current_resolution, round(tr.alpha, 3)))
    assert seen[:3] == [(4, 0.0)] * 3
    assert seen[3:7] == [(8, 1.0), (8, 0.75), (8, 0.5), (8, 0.25)]
    assert seen[7:] == [(8, 0.0)] * 2
    assert tr.G.alpha == tr.D.alpha == tr.G_ema.alpha == 0.0
    assert tr.G.resolution == tr.D.resolution == tr.G_ema.resolution == 8
    assert all(torch.isfinite(torch.tensor([r["d_loss"], r["g_loss"]])).all() for r in tr.history)
    assert [r["resolution"] for r in tr.history] == [4.0, 8.0, 8.0, 8.0]
    # The fresh layers trained: G's newest to-RGB differs from G_ema's copy, which trails it.
    assert not torch.equal(tr.G.to_rgb[-1].weight, tr.G_ema.to_rgb[-1].weight)
    x, y = tr.sample(5, seed=1)
    assert x.shape == (5, 1, 8, 8) and y is None
    assert torch.equal(x, tr.sample(5, seed=1)[0])


def test_real_images_are_pooled_and_faded_like_the_generator() -> None:
    tr = tiny_trainer()
    state = tr.rng.get_state()
    assert tr.real_batch(8).shape == (8, 1, 4, 4)
    tr.images_seen = 24 + 16  # halfway through the fade-in
    tr._set_phase()
    tr.rng.set_state(state)
    x, _ = tr.data.sample(8, tr.rng)
    tr.rng.set_state(state)
    blended = tr.real_batch(8)
    low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(blended, 0.5 * low + 0.5 * x)


def test_d_loss_is_wgan_gp_with_the_drift_term() -> None:
    loss = tiny_trainer(gp_weight=0.0).d_step()
    # A twin trainer (same seed: same networks, same draws) recomputes the loss by hand.
    tr2 = tiny_trainer(gp_weight=0.0)
    real = tr2.real_batch(8)
    with torch.no_grad():
        fake = tr2.G(torch.randn(8, 8, generator=tr2.rng))
        r, f = tr2.D(real).flatten(), tr2.D(fake).flatten()
    expected = f.mean() - r.mean() + 1e-3 * r.square().mean()
    assert loss == pytest.approx(float(expected), rel=1e-4, abs=1e-5)


def test_export_round_trips_through_load_generator(tmp_path) -> None:
    tr = tiny_trainer()
    tr.run(steps=9)
    path = export_generator(tr, tmp_path / "tiny", name="tiny")
    gen = load_generator(path)
    assert (gen.latent_dim, gen.resolution, gen.channels, gen.name) == (8, 8, 1, "tiny")
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(gen(z), tr.generate(z, ema=True), atol=1e-6)


def test_save_and_resume_continue_exactly(tmp_path) -> None:
    straight = tiny_trainer()
    straight.run(steps=9)
    first = tiny_trainer()
    first.run(steps=5)  # mid fade-in
    save_run(first, tmp_path / "run")
    assert is_progressive_run(tmp_path / "run")
    resumed = load_run(tmp_path / "run", dataset=tiny_images())
    assert isinstance(resumed, ProgressiveTrainer)
    assert (resumed.step_count, resumed.current_resolution, resumed.alpha) == (5, 8, first.alpha)
    resumed.run(steps=4)
    for a, b in zip(straight.G_ema.parameters(), resumed.G_ema.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    assert [r["step"] for r in resumed.history] == [r["step"] for r in straight.history]


def test_build_trainer_dispatches_on_the_model() -> None:
    assert isinstance(build_trainer(tiny_cfg(), tiny_images()), ProgressiveTrainer)
    toy = Config(data="ring8", steps=1)
    assert type(build_trainer(toy)) is Trainer
    with pytest.raises(ConfigError, match="multiple of 4"):
        ProgressiveTrainer(tiny_cfg(batch_size=6), tiny_images())
    with pytest.raises(ConfigError, match="image data set"):
        ProgressiveTrainer(tiny_cfg(data="ring8"))

def test_any_loss_and_regulariser_trains_a_progressive_gan() -> None:
    # The objective is the run's: the non-saturating loss with lazy R1 (no drift) works too.
    tr = ProgressiveTrainer(tiny_cfg(loss="ns", d_drift=0.0, d_r1=1.0, d_r1_every=2), tiny_images())
    tr.run(steps=6)
    assert tr.step_count == 6 and tr.current_resolution == 8
    assert all(torch.isfinite(torch.tensor(v)) for v in tr.last.values())


def test_plain_runs_still_save_and_load_through_the_dispatch(tmp_path) -> None:
    toy = Trainer(Config(data="ring8", steps=2, batch_size=16, eval_every=0, n_fixed=8))
    toy.run()
    save_run(toy, tmp_path / "toy")
    assert not is_progressive_run(tmp_path / "toy")
    again = load_run(tmp_path / "toy")
    assert type(again) is Trainer and again.step_count == 2
