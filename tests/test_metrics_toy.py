"""Tests for ganlab.metrics.toy: hand-computed cases, exact where the maths is exact."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError, DataError
from ganlab.metrics import (
    KL_EPS,
    covariance_eigs,
    fit_gaussian,
    frechet_distance,
    grid_divergences,
    histogram_counts,
    js_divergence_bits,
    kl_divergence_nats,
    mode_stats,
    toy_metrics,
    w2_distance,
)

RING_ANGLES = np.arange(8) * 2 * np.pi / 8
RING_MODES = np.stack([2 * np.cos(RING_ANGLES), 2 * np.sin(RING_ANGLES)], axis=1)
RING_SIGMA = 0.02


def ring_samples(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return RING_MODES[rng.integers(0, 8, n)] + RING_SIGMA * rng.standard_normal((n, 2))


def ring_info(bounds: bool = True) -> DataInfo:
    return DataInfo(
        name="ring8",
        kind="points",
        shape=(2,),
        modes=torch.tensor(RING_MODES, dtype=torch.float32),
        sigma=RING_SIGMA,
        bounds=torch.tensor([[-3.0, 3.0], [-3.0, 3.0]]) if bounds else None,
    )


# ---------------------------------------------------------------- mode_stats

SQUARE_MODES = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
# sigma 0.1 -> HQ radius 0.3. Nearest mode / distance / HQ, worked out by hand:
HAND_FAKE = np.array(
    [
        [1.0, 0.0],  # mode 0, d 0.00, HQ
        [1.2, 0.0],  # mode 0, d 0.20, HQ
        [1.0, 0.29],  # mode 0, d 0.29, HQ
        [0.0, 1.31],  # mode 1, d 0.31, not HQ
        [-1.0, 0.1],  # mode 2, d 0.10, HQ
        [np.nan, 0.0],  # non-finite: no mode, not HQ
        [0.0, -0.5],  # mode 3, d 0.50, not HQ
        [np.inf, np.inf],  # non-finite: no mode, not HQ
    ]
)


def test_mode_stats_hand_case():
    st = mode_stats(HAND_FAKE, SQUARE_MODES, sigma=0.1)
    np.testing.assert_array_equal(st.counts, [3, 0, 1, 0])
    np.testing.assert_array_equal(st.mass_per_mode, [3 / 8, 1 / 8, 1 / 8, 1 / 8])
    assert st.hq_fraction == 0.5
    assert st.modes_captured == 2
    assert st.max_mode_mass == 3 / 8
    assert st.counts.dtype == np.int64


def test_mode_stats_min_count_and_threshold():
    assert mode_stats(HAND_FAKE, SQUARE_MODES, 0.1, min_count=2).modes_captured == 1
    assert mode_stats(HAND_FAKE, SQUARE_MODES, 0.1, min_count=3).modes_captured == 1
    assert mode_stats(HAND_FAKE, SQUARE_MODES, 0.1, min_count=4).modes_captured == 0
    # A 4-sigma radius (0.4) takes in the point at 0.31 from mode 1.
    wide = mode_stats(HAND_FAKE, SQUARE_MODES, 0.1, threshold_std=4.0)
    np.testing.assert_array_equal(wide.counts, [3, 1, 1, 0])
    assert wide.modes_captured == 3
    assert wide.hq_fraction == 5 / 8


def test_mode_stats_threshold_is_strict():
    # PacGAN's reference code tests `distance < 3`: a point exactly at 3 sigma is not HQ.
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    st = mode_stats(np.array([[3.0, 0.0], [0.0, 2.999]]), modes, sigma=1.0)
    np.testing.assert_array_equal(st.counts, [1, 0])
    assert st.hq_fraction == 0.5


def test_mode_stats_with_one_sigma_per_mode():
    # two_blobs' spreads: sigma 0.1 at (-1, 0), 0.4 at (1, 0). A point is HQ within 3 sigma
    # of its own (nearest) mode: 0.29 from the narrow one yes, 0.31 no; 1.19 from the wide one yes.
    modes = np.array([[-1.0, 0.0], [1.0, 0.0]])
    fake = np.array([[-1.29, 0.0], [-0.69, 0.0], [1.0, 1.19], [2.21, 0.0], [0.1, 0.0]])
    st = mode_stats(fake, modes, sigma=[0.1, 0.4])
    # HQ: (-1.29, 0); (1, 1.19); (0.1, 0), whose nearest mode is the wide one (0.9 < 1.2).
    np.testing.assert_array_equal(st.counts, [1, 2])
    np.testing.assert_array_equal(mode_stats(fake, modes, sigma=(0.1, 0.4)).counts, [1, 2])
    assert st.hq_fraction == 3 / 5
    assert st.modes_captured == 2
    assert mode_stats(fake, modes, sigma=0.1).counts.tolist() == [1, 0]  # one sigma for both
    with pytest.raises(ConfigError, match=r"one number or one per mode \(2\), got 3"):
        mode_stats(fake, modes, sigma=[0.1, 0.4, 0.2])
    with pytest.raises(ConfigError, match="sigma must be a positive"):
        mode_stats(fake, modes, sigma=[0.1, -0.4])


def test_mode_stats_huge_finite_points_belong_to_no_mode():
    # Squared distances overflow to inf: such rows must not be credited to mode 0.
    st = mode_stats(np.array([[1e200, 1e200], [1.0, 0.0]]), SQUARE_MODES, sigma=0.1)
    np.testing.assert_array_equal(st.mass_per_mode, [0.5, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(st.counts, [1, 0, 0, 0])


def test_mode_stats_on_true_ring_samples():
    st = mode_stats(ring_samples(2500, seed=1), RING_MODES, RING_SIGMA)
    assert st.modes_captured == 8
    # P(|N(0, s^2 I_2)| < 3s) = 1 - exp(-9/2) = 0.98889; binomial sd ~ 0.0021.
    assert 1 - math.exp(-4.5) - 0.01 < st.hq_fraction < 1 - math.exp(-4.5) + 0.01
    assert np.all(np.abs(st.mass_per_mode - 1 / 8) < 0.03)
    assert 1 / 8 <= st.max_mode_mass < 1 / 8 + 0.03


def test_mode_stats_detects_collapse_and_accepts_tensors():
    rng = np.random.default_rng(2)
    fake = RING_MODES[3] + RING_SIGMA * rng.standard_normal((500, 2))
    st = mode_stats(torch.tensor(fake, dtype=torch.float32), torch.tensor(RING_MODES), RING_SIGMA)
    assert st.modes_captured == 1
    assert st.max_mode_mass == 1.0
    assert st.counts[3] == st.counts.sum() > 480


def test_mode_stats_errors():
    with pytest.raises(ConfigError, match="sigma must be a positive"):
        mode_stats(HAND_FAKE, SQUARE_MODES, sigma=0.0)
    with pytest.raises(ConfigError, match="min_count must be at least 1"):
        mode_stats(HAND_FAKE, SQUARE_MODES, 0.1, min_count=0)
    with pytest.raises(DataError, match="2 features but mode centres have 3"):
        mode_stats(HAND_FAKE, np.zeros((4, 3)), 0.1)
    with pytest.raises(DataError, match=r"got shape \(8,\)"):
        mode_stats(np.zeros(8), SQUARE_MODES, 0.1)
    with pytest.raises(DataError, match="no fake samples"):
        mode_stats(np.zeros((0, 2)), SQUARE_MODES, 0.1)


# ---------------------------------------------------------- JS / KL on masses


def test_js_hand_computed_half_bit():
    # M = (1/4, 1/2, 1/4): KL(P||M) = 1/2 log2(2) + 1/2 log2(1) = 1/2, same for Q.
    assert js_divergence_bits(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])) == 0.5


def test_js_hand_computed_asymmetric_case_and_symmetry():
    p, q = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    # M = (3/4, 1/4): 1/2 log2(4/3) + 1/2 (1/2 log2(2/3) + 1/2 log2(2)).
    expected = 0.5 * math.log2(4 / 3) + 0.25 * math.log2(2 / 3) + 0.25
    assert js_divergence_bits(p, q) == pytest.approx(expected, rel=1e-12, abs=0)
    assert js_divergence_bits(q, p) == pytest.approx(expected, rel=1e-12, abs=0)
    assert expected == pytest.approx(0.3112781, abs=1e-7)


def test_js_takes_counts_or_masses():
    assert js_divergence_bits(np.array([2, 2, 0]), np.array([0, 7, 7])) == 0.5
    assert js_divergence_bits(np.array([3, 0, 5]), np.array([0, 9, 0])) == 1.0


def test_kl_hand_computed():
    p, q = np.array([0.25, 0.75]), np.array([0.5, 0.5])
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert kl_divergence_nats(p, q) == pytest.approx(expected, abs=1e-8)
    # With zeros, the smoothed closed form: masses (1/2,1/2,0) vs (0,1/2,1/2), Z = 1 + 3 eps.
    eps = 1e-3
    z = 1 + 3 * eps
    got = kl_divergence_nats(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5]), eps=eps)
    assert got == pytest.approx(0.5 / z * math.log((0.5 + eps) / eps), rel=1e-12)


def test_kl_of_identical_histograms_is_exactly_zero():
    h = np.array([0, 3, 1, 0, 7])
    assert kl_divergence_nats(h, h) == 0.0
    assert kl_divergence_nats(h, 4 * h) == 0.0


def test_divergence_errors():
    with pytest.raises(DataError, match="positive total"):
        js_divergence_bits(np.zeros(3), np.ones(3))
    with pytest.raises(DataError, match="differ in length"):
        kl_divergence_nats(np.ones(3), np.ones(4))
    with pytest.raises(ConfigError, match="eps must be a positive"):
        kl_divergence_nats(np.ones(3), np.ones(3), eps=0.0)


# --------------------------------------------------------- grid histograms


def test_histogram_counts_matches_numpy_histogramdd():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1.5, 1.5, size=(400, 2))
    x[:5] = [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [0.0, 1.0], [np.nan, 0.0]]  # edges + NaN
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    counts = histogram_counts(x, bounds, bins=7)
    finite = x[np.isfinite(x).all(axis=1)]
    ref, _ = np.histogramdd(finite, bins=7, range=[(-1, 1), (-1, 1)])
    np.testing.assert_array_equal(counts[:-1], ref.astype(np.int64).ravel())
    inside = np.all(np.abs(finite) <= 1.0, axis=1).sum()
    assert counts[-1] == len(x) - inside
    assert counts.sum() == len(x)


def test_histogram_default_bins():
    assert histogram_counts(np.zeros((3, 2)), np.array([[-1, 1], [-1, 1]])).shape == (50 * 50 + 1,)
    assert histogram_counts(np.zeros((3, 3)), np.array([[-1, 1]] * 3)).shape == (20**3 + 1,)


def test_grid_identical_samples_give_exact_zero():
    x = ring_samples(1000, seed=4)
    assert grid_divergences(x, x, np.array([[-3, 3], [-3, 3]])) == (0.0, 0.0)
    # Sample-count invariance: duplicated points give the same masses, hence the same numbers.
    assert grid_divergences(x, np.concatenate([x, x]), np.array([[-3, 3], [-3, 3]])) == (0.0, 0.0)


def test_grid_duplicated_samples_give_same_values():
    bounds = np.array([[-3.0, 3.0], [-3.0, 3.0]])
    real, fake = ring_samples(800, seed=5), ring_samples(600, seed=6) * 1.1
    base = grid_divergences(real, fake, bounds)
    assert base[0] > 0.1 and base[1] > 0.1  # the comparison is not trivially zero
    assert grid_divergences(real, np.concatenate([fake, fake]), bounds) == base
    assert grid_divergences(np.concatenate([real] * 3), fake, bounds) == base


def test_grid_hand_made_histograms():
    # 3 x 3 grid on [0,3] x [0,1]; the points sit in cells (0,1), (1,1) and (1,1), (2,1).
    bounds = np.array([[0.0, 3.0], [0.0, 1.0]])
    real = np.array([[0.5, 0.5], [1.5, 0.5]])
    fake = np.array([[1.5, 0.5], [2.5, 0.5]])
    kl, js = grid_divergences(real, fake, bounds, bins=3)
    assert js == 0.5
    z = 1 + 10 * KL_EPS  # 9 cells + the outside cell
    assert kl == pytest.approx(0.5 / z * math.log((0.5 + KL_EPS) / KL_EPS), rel=1e-12)


def test_grid_disjoint_supports_give_one_bit():
    bounds = np.array([[-3.0, 3.0], [-3.0, 3.0]])
    real = ring_samples(500, seed=7)
    fake = real[real[:, 0] < 0]  # only left-half modes
    real = real[real[:, 0] > 0]
    kl, js = grid_divergences(real, fake, bounds)
    assert js == 1.0
    assert 15.0 < kl < math.log(1 / KL_EPS)  # finite, and near the ln(1/eps) ceiling
    # Each side in a single cell: KL = ((1+e) ln((1+e)/e) + e ln(e/(1+e))) / Z = ln((1+e)/e) / Z.
    kl, js = grid_divergences(np.full((7, 2), -2.0), np.full((3, 2), 2.0), bounds)
    assert js == 1.0
    z = 1 + (50 * 50 + 1) * KL_EPS
    assert kl == pytest.approx(math.log((1 + KL_EPS) / KL_EPS) / z, rel=1e-12)


def test_grid_points_outside_or_nan_are_kept_as_outside_mass():
    bounds = np.array([[-3.0, 3.0], [-3.0, 3.0]])
    real = ring_samples(300, seed=8)
    assert grid_divergences(real, np.full((300, 2), np.nan), bounds)[1] == 1.0
    assert grid_divergences(real, real + 100.0, bounds)[1] == 1.0
    # Half the fake points exact copies, half off the grid: P vs (P/2, outside 1/2).
    # JS = 1/2 log2(2/1.5) + 1/2 (1/2 log2(1/1.5) + 1/2 log2(2)) = 0.311278 bit.
    fake = np.concatenate([real, real + 100.0])
    expected = 0.5 * math.log2(4 / 3) + 0.25 * math.log2(2 / 3) + 0.25
    assert grid_divergences(real, fake, bounds)[1] == pytest.approx(expected, rel=1e-12)


def test_grid_errors():
    x = np.zeros((4, 2))
    with pytest.raises(ConfigError, match=r"shape \(2, 2\)"):
        grid_divergences(x, x, np.array([-1.0, 1.0]))
    with pytest.raises(ConfigError, match="max > min"):
        grid_divergences(x, x, np.array([[1.0, -1.0], [-1.0, 1.0]]))
    with pytest.raises(ConfigError, match="bins must be at least 1"):
        grid_divergences(x, x, np.array([[-1.0, 1.0]] * 2), bins=0)
    with pytest.raises(ConfigError, match="use fewer bins"):
        histogram_counts(np.zeros((4, 6)), np.array([[-1.0, 1.0]] * 6), bins=50)
    with pytest.raises(DataError, match="2 features but fake samples have 3"):
        grid_divergences(x, np.zeros((4, 3)), np.array([[-1.0, 1.0]] * 2))


# ---------------------------------------------------------------- Frechet / W2


def test_frechet_identical_gaussians_is_zero():
    mu, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.7], [0.7, 1.0]])
    assert frechet_distance(mu, cov, mu, cov) == 0.0
    assert frechet_distance(mu, cov, mu, cov.copy() + 0.0) == 0.0


def test_frechet_commuting_covariances_by_hand():
    # Diagonal: W2^2 = |m1 - m2|^2 + sum (s1 - s2)^2 = 25 + (1-2)^2 + (2-3)^2 = 27.
    got = frechet_distance(np.zeros(2), np.diag([1.0, 4.0]), np.array([3.0, 4.0]), np.diag([4.0, 9.0]))
    assert got == pytest.approx(27.0, rel=1e-12)
    # 1-D: (0 - 1)^2 + (2 - 0.5)^2 = 3.25.
    assert frechet_distance([0.0], [[4.0]], [1.0], [[0.25]]) == pytest.approx(3.25, rel=1e-12)
    assert w2_distance(np.zeros(2), np.diag([1.0, 4.0]), np.array([3.0, 4.0]), np.diag([4.0, 9.0])) == (
        pytest.approx(math.sqrt(27.0), rel=1e-12)
    )


def _w2sq_2x2_closed_form(c1: np.ndarray, c2: np.ndarray) -> float:
    """tr C1 + tr C2 - 2 sqrt(tr(C1 C2) + 2 sqrt(det(C1 C2))) (zero means)."""
    cross = math.sqrt(np.trace(c1 @ c2) + 2 * math.sqrt(max(np.linalg.det(c1 @ c2), 0.0)))
    return float(np.trace(c1) + np.trace(c2) - 2 * cross)


def test_frechet_non_commuting_2x2_against_closed_form():
    c1 = np.array([[2.0, 1.0], [1.0, 2.0]])
    c2 = np.array([[1.0, 0.0], [0.0, 3.0]])
    assert not np.allclose(c1 @ c2, c2 @ c1)
    expected = _w2sq_2x2_closed_form(c1, c2)
    assert expected > 0.1
    assert frechet_distance(np.zeros(2), c1, np.zeros(2), c2) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(np.zeros(2), c2, np.zeros(2), c1) == pytest.approx(expected, rel=1e-10)
    mu2 = np.array([0.5, -1.0])
    assert frechet_distance(np.zeros(2), c1, mu2, c2) == pytest.approx(expected + 1.25, rel=1e-10)


def test_frechet_singular_covariance_is_finite():
    # Rank-1 C1 (and a slightly indefinite rounding of it): tr C1 C2 = 2, det = 0.
    c1 = np.array([[1.0, 1.0], [1.0, 1.0]])
    expected = 2.0 + 2.0 - 2.0 * math.sqrt(2.0)
    assert frechet_distance(np.zeros(2), c1, np.zeros(2), np.eye(2)) == pytest.approx(expected, rel=1e-10)
    c1_bad = np.array([[1.0, 1.0], [1.0, 1.0 - 1e-13]])  # one eigenvalue ~ -5e-14
    got = frechet_distance(np.zeros(2), c1_bad, np.zeros(2), np.eye(2))
    assert got == pytest.approx(expected, abs=1e-6)


def test_frechet_errors():
    with pytest.raises(DataError, match=r"cov1 must have shape \(2, 2\)"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(DataError, match="mu2 contains NaN"):
        frechet_distance(np.zeros(2), np.eye(2), np.array([np.nan, 0.0]), np.eye(2))


def test_covariance_eigs_of_a_line_and_a_disc():
    z = np.random.default_rng(9).standard_normal(1000)
    line = np.stack([z, 2 * z], axis=1)  # a 1-D latent pushed onto a 2-D line
    eig = covariance_eigs(torch.tensor(line))
    assert eig.shape == (2,)
    assert abs(eig[0]) < 1e-12
    assert eig[1] == pytest.approx(5 * np.var(z, ddof=1), rel=1e-12)
    disc = np.random.default_rng(10).standard_normal((4000, 2))
    eig = covariance_eigs(disc)
    assert eig[0] <= eig[1]
    assert np.all((eig > 0.9) & (eig < 1.1))


def test_fit_gaussian_needs_two_samples():
    mu, cov = fit_gaussian(np.array([[0.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(mu, [1.0, 2.0])
    np.testing.assert_array_equal(cov, [[2.0, 2.0], [2.0, 2.0]])
    with pytest.raises(DataError, match="at least 2 samples"):
        fit_gaussian(np.zeros((1, 2)))


# ---------------------------------------------------------------- toy_metrics


def test_toy_metrics_on_a_ring():
    info = ring_info()
    real = ring_samples(2500, seed=11)
    good = toy_metrics(info, real, torch.tensor(ring_samples(2500, seed=12), dtype=torch.float32))
    assert set(good) == {"modes_captured", "modes_total", "hq_pct", "max_mode_mass", "kl", "js"}
    assert good["modes_captured"] == 8.0 and good["modes_total"] == 8.0
    assert 97.5 < good["hq_pct"] < 100.0
    assert 0.0 < good["js"] < 0.05
    collapsed = RING_MODES[0] + RING_SIGMA * np.random.default_rng(13).standard_normal((2500, 2))
    bad = toy_metrics(info, real, collapsed)
    assert bad["modes_captured"] == 1.0
    assert bad["max_mode_mass"] == 1.0
    assert bad["js"] > 0.6 and bad["kl"] > 1.0


def test_toy_metrics_survives_a_diverged_generator():
    info = DataInfo(
        "gauss", "points", (2,), modes=torch.tensor(RING_MODES), sigma=RING_SIGMA,
        mean=torch.zeros(2), cov=torch.eye(2), bounds=None,
    )
    real = ring_samples(1000, seed=14)
    fake = ring_samples(1000, seed=15)
    fake[::2] = np.nan
    out = toy_metrics(info, real, fake)
    assert not any(math.isnan(v) for v in out.values())
    assert 47.0 < out["hq_pct"] < 50.0  # half the rows are NaN, hence non-HQ
    assert out["fid"] == math.inf and out["w2"] == math.inf
    assert 0.2 < out["js"] < 0.4  # about 0.311 bit: half of the mass in the outside cell
    all_nan = toy_metrics(info, real, np.full((1000, 2), np.nan))
    assert all_nan["js"] == 1.0 and all_nan["hq_pct"] == 0.0 and all_nan["modes_captured"] == 0.0


def test_toy_metrics_gaussian_set_without_bounds():
    mean, cov = np.array([1.0, -1.0]), np.array([[1.0, 0.6], [0.6, 0.5]])
    info = DataInfo("gaussian2d", "points", (2,), mean=torch.tensor(mean), cov=torch.tensor(cov))
    rng = np.random.default_rng(16)
    real = rng.multivariate_normal(mean, cov, size=3000)
    out = toy_metrics(info, real, real)
    assert set(out) == {"kl", "js", "w2", "fid"}
    assert out["kl"] == 0.0 and out["js"] == 0.0
    mu, c = fit_gaussian(real)
    assert out["fid"] == pytest.approx(frechet_distance(mean, cov, mu, c), rel=1e-12)
    assert 0.0 < out["fid"] < 0.01
    assert out["w2"] == pytest.approx(math.sqrt(out["fid"]), rel=1e-12)
    shifted = toy_metrics(info, real, real + np.array([3.0, 4.0]))
    assert shifted["w2"] == pytest.approx(5.0, abs=0.05)


def test_toy_metrics_torch_and_numpy_agree():
    info = ring_info(bounds=False)
    real, fake = ring_samples(700, seed=17), ring_samples(600, seed=18)
    assert toy_metrics(info, torch.tensor(real), torch.tensor(fake)) == toy_metrics(info, real, fake)


def test_toy_metrics_errors():
    info = ring_info()
    with pytest.raises(DataError, match="real samples contain NaN"):
        toy_metrics(info, np.full((5, 2), np.nan), np.zeros((5, 2)))
    no_sigma = DataInfo("ring8", "points", (2,), modes=torch.tensor(RING_MODES))
    with pytest.raises(DataError, match="no sigma"):
        toy_metrics(no_sigma, np.zeros((5, 2)), np.zeros((5, 2)))
