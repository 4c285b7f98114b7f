"""The mode-collapse detector on constructed samples, and the lab presets' promised lessons."""
import math

import numpy as np
import pytest
import torch

from ganlab.collapse import (
    collapse_metrics,
    diagnose,
    local_dimension,
    reference_metrics,
)
from ganlab.data.base import DataInfo
from ganlab.lab_presets import LAB_PRESETS, lab_configs, preset_runs
from ganlab.metrics.toy import covariance_eigs, toy_metrics
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, side_by_side

ANGLES = torch.arange(8) * (2 * math.pi / 8)
MODES = torch.stack([torch.cos(ANGLES), torch.sin(ANGLES)], 1)
SIGMA = 0.01
RING = DataInfo(name="ring8", kind="points", shape=(2,), num_classes=8, modes=MODES, sigma=SIGMA,
                bounds=torch.tensor([[-1.5, 1.5], [-1.5, 1.5]]))


def ring(n: int, modes: list[int], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    k = torch.tensor(modes)[torch.randint(len(modes), (n,), generator=g)]
    return MODES[k] + SIGMA * torch.randn(n, 2, generator=g)


def gaussian(n: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 2, generator=g) @ torch.tensor([[1.0, 0.0], [0.5, 0.6]])


def judge_ring(fake: torch.Tensor, history=()):
    metrics = toy_metrics(RING, ring(2000, list(range(8)), seed=9), fake)
    return diagnose({**metrics, **collapse_metrics(fake)}, history=history)


# --- the measures ------------------------------------------------------------------
def test_local_dimension_hand_cases():
    xs, ys = torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij")
    lattice = torch.stack([xs.flatten(), ys.flatten()], 1)
    centre_first = torch.cat([lattice[12:13], lattice[:12], lattice[13:]])  # (2, 2) is interior
    # its 4 nearest neighbours are the axis ones: covariance diag(0.5, 0.5) -> ratio exactly 2
    assert local_dimension(centre_first, anchors=1, neighbours=4) == pytest.approx(2.0, abs=1e-12)
    line = torch.stack([torch.linspace(0, 1, 50), 3 * torch.linspace(0, 1, 50)], 1)
    assert local_dimension(line) == pytest.approx(1.0, abs=1e-9)
    assert local_dimension(torch.ones(30, 2)) == 0.0


def test_covariance_eigenvalues_hand_case():
    pts = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    # unbiased: sum x^2 / 3 = 2/3, sum y^2 / 3 = 8/3, no correlation
    np.testing.assert_allclose(covariance_eigs(pts), [2 / 3, 8 / 3], rtol=1e-12)
    assert np.isinf(covariance_eigs(torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]))).all()


# --- mixtures ------------------------------------------------------------------------
def test_samples_on_two_modes_are_flagged_with_the_drop_in_words():
    history = [{"step": 500, "modes_captured": 8.0}, {"step": 1000, "modes_captured": 5.0}]
    d = judge_ring(ring(2000, [0, 3]), history)
    assert d.collapsed
    assert [f.kind for f in d.findings] == ["few_modes", "dominant_mode"]
    assert d.findings[0].message == "only 2 of 8 modes captured (down from 8 at step 500)"
    assert d.findings[1].message.startswith("5")  # ~50% on one of the two modes
    assert "flag is at 38%" in d.findings[1].message
    assert d.summary.startswith("Mode collapse: only 2 of 8 modes captured")


def test_one_heavy_mode_alone_is_flagged_even_with_every_mode_touched():
    fake = torch.cat([ring(1200, [2]), ring(800, list(range(8)), seed=1)])  # 60% + 1/8 of 40% on mode 2
    d = judge_ring(fake)
    assert d.collapsed and [f.kind for f in d.findings] == ["dominant_mode"]
    assert d.findings[0].message.startswith("65% of samples sit nearest one mode")


def test_samples_on_every_mode_are_healthy():
    d = judge_ring(ring(2000, list(range(8)), seed=3))
    assert d.status == "ok" and not d.findings
    assert d.summary == "8 of 8 modes captured, at most 14% of samples on one"


def test_spread_but_blurred_samples_are_not_collapse():
    g = torch.Generator().manual_seed(4)
    fake = ring(2000, list(range(8)), seed=4) + 0.1 * torch.randn(2000, 2, generator=g)  # 10 sigma blur
    d = judge_ring(fake)
    assert d.status == "ok" and not d.findings
    assert d.summary.startswith("8 of 8 modes captured, at most 1")
    assert d.summary.endswith("% of samples are sharp yet (within 3 sigma of a mode)")


def test_an_untrained_blob_between_the_modes_is_too_early_to_judge():
    blob = 0.1 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    d = judge_ring(blob)
    assert d.status == "learning" and not d.collapsed
    assert d.summary.startswith("only 0% of samples are on a mode yet")


# --- single Gaussians -------------------------------------------------------------------
def test_a_curve_through_a_gaussian_is_flagged_as_lower_dimensional():
    real = reference_metrics(DataInfo(name="g", kind="points", shape=(2,)), gaussian(2500, seed=1))
    t = torch.linspace(-2, 2, 2500)
    zigzag = torch.stack([t, 0.8 * torch.sin(4 * t)], 1)  # folded: both eigenvalues stay large
    m = collapse_metrics(zigzag)
    assert m["local_dim"] < 1.1 and m["eig1"] > 0.2 * real["eig1"]
    d = diagnose(m, real)
    assert d.collapsed and [f.kind for f in d.findings] == ["lower_dim"]
    assert "lie on a curve (local dimension 1.0, the data's is 1.8)" in d.findings[0].message


def test_a_straight_line_also_shows_the_eigenvalue_near_zero():
    info = DataInfo(name="g", kind="points", shape=(2,), cov=torch.tensor([[1.0, 0.5], [0.5, 0.61]]))
    real = reference_metrics(info, gaussian(2500, seed=1))
    assert [real["eig1"], real["eig2"]] == pytest.approx(np.linalg.eigvalsh([[1.0, 0.5], [0.5, 0.61]]).tolist())
    t = torch.linspace(-2, 2, 2500)
    d = diagnose(collapse_metrics(torch.stack([t, 0.5 * t], 1)), real)
    assert [f.kind for f in d.findings] == ["lower_dim", "flat"]
    assert "trend is captured, not the variance" in d.findings[1].message


def test_a_gaussian_cloud_is_healthy_and_a_shrunk_one_is_not():
    real = reference_metrics(DataInfo(name="g", kind="points", shape=(2,)), gaussian(2500, seed=1))
    assert diagnose(collapse_metrics(gaussian(2500, seed=2)), real).status == "ok"
    d = diagnose(collapse_metrics(gaussian(2500, seed=2, scale=0.2)), real)
    assert [f.kind for f in d.findings] == ["shrunk"]
    assert d.findings[0].message == "the samples shrank to 4% of the data's total variance"


# --- the presets keep their promises (fixed seeds, the engine's metrics) ------------------
def test_collapse_preset_plain_gan_collapses_and_pacgan_does_not():
    base, vary, values = preset_runs("collapse-vs-pacgan")
    cfgs, labels = lab_configs(base.replace(eval_every=400, eval_samples=2500), vary, values)
    runs = side_by_side(cfgs, labels)
    assert isinstance(runs, LoopTrainer)  # packing changes D's shape: no batch
    runs.run(400)
    plain, packed = (h[-1] for h in runs.histories)
    assert plain["step"] == packed["step"] == 400
    assert plain["max_mode_mass"] > 0.9 and plain["modes_captured"] <= 1
    assert packed["max_mode_mass"] < 0.25 and packed["modes_captured"] >= 5
    assert diagnose(plain).collapsed and "dominant_mode" in [f.kind for f in diagnose(plain).findings]
    assert not diagnose(packed).collapsed


def test_latent_preset_1_draws_a_curve_and_100_covers_the_gaussian():
    base, vary, values = preset_runs("latent-1-vs-100-2d")
    cfgs, labels = lab_configs(base.replace(eval_every=300), vary, values)
    runs = side_by_side(cfgs, labels)
    assert isinstance(runs, MultiTrainer) and labels == ["latent_dim = 1", "latent_dim = 100"]
    runs.run(300)
    real = reference_metrics(runs.info, runs.data.x[:2500])
    one, hundred = (h[-1] for h in runs.histories)
    assert one["local_dim"] < 1.1 and hundred["local_dim"] > 1.6
    assert "lower_dim" in [f.kind for f in diagnose(one, real).findings]
    assert "lower_dim" not in [f.kind for f in diagnose(hundred, real).findings]


def test_every_lab_preset_builds_its_runs():
    for name in LAB_PRESETS:
        base, vary, values = preset_runs(name)
        cfgs, labels = lab_configs(base, vary, values)
        assert len(cfgs) == len(values) >= 2 and all(c.data == base.data for c in cfgs)


def test_demo_presets_do_not_inherit_the_tuned_stabilisers():
    # Presets apply over their data set's default (ring8's has R1, beta2 0.99, EMA):
    # the collapse demos must stay plain GANs.
    from ganlab.presets import resolve_config
    tuned = resolve_config("ring8")
    assert (tuned.d_r1, tuned.d_r1_every, tuned.d_beta1, tuned.d_beta2) == (1.0, 4, 0.0, 0.99)
    for name in ("collapse", "lab-collapse"):
        cfg = resolve_config(None, name)
        assert cfg.data == "ring8"
        assert (cfg.d_r1, cfg.d_mbstd, cfg.pack, cfg.lr_schedule) == (0.0, 0, 1, "constant")
    assert resolve_config(None, "collapse").ema == 0.0  # the page shows G itself hopping
    # the collapse demo is Metz et al. 2017's plain GAN: a 256-d latent, Adam(0.5, 0.999)
    # lr 1e-4 for both (ganlab/presets.py, tests/test_collapse_preset.py)
    demo = resolve_config(None, "collapse")
    assert (demo.latent_dim, demo.d_lr, demo.g_lr, demo.d_beta1, demo.batch_size) == (256, 1e-4, 1e-4, 0.5, 512)
    lab = resolve_config(None, "lab-collapse")
    assert (lab.d_beta1, lab.d_beta2, lab.g_beta2) == (0.5, 0.999, 0.999)
