"""Image metrics (ganlab.metrics.images) and the per-data-set classifiers (ganlab.classifier)."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

from ganlab.classifier import (
    CLASSIFIER_DIR,
    Classifier,
    accuracy,
    load_classifier,
    predict,
    to_classifier_input,
)
from ganlab.data.base import DataInfo, Dataset
from ganlab.data.images import available_splits, load_split
from ganlab.errors import CheckpointError, DataError
from ganlab.metrics import image_metrics
from ganlab.metrics.images import (
    PARZEN_SIGMAS,
    classifier_score,
    class_histogram,
    histogram_stats,
    metrics_from_samples,
    parzen_estimate,
    parzen_log_likelihood,
)

needs_mnist = pytest.mark.skipif("test" not in available_splits("mnist"),
                                 reason="the MNIST test split is not on this machine")


# --- classifier score and class histogram ------------------------------------------

def test_classifier_score_known_answers():
    eye = torch.eye(4).repeat(5, 1)  # confident, balanced over 4 classes
    assert classifier_score(eye) == pytest.approx(4.0, abs=1e-12)
    same = torch.tensor([[0.2, 0.3, 0.5]]).repeat(7, 1)  # every sample alike
    assert classifier_score(same) == pytest.approx(1.0, abs=1e-12)
    # Two samples p1 = (1, 0), p2 = (1/2, 1/2); p(y) = (3/4, 1/4).
    # KL1 = log(4/3); KL2 = 1/2 log(2/3) + 1/2 log(2) = 1/2 log(4/3).
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    assert classifier_score(p) == pytest.approx(math.exp(0.75 * math.log(4 / 3)), rel=1e-12)
    with pytest.raises(DataError, match=r"shape \(N, K\)"):
        classifier_score(torch.zeros(0, 3))


def test_histogram_stats_known_answers():
    counts = class_histogram(torch.tensor([0, 0, 1, 1, 3] + [0] * 95), 4)
    assert counts.tolist() == [97, 2, 0, 1]
    s = histogram_stats(torch.tensor([50, 50, 0, 0]))
    assert s == {"classes_covered": 2.0, "classes_total": 4.0, "class_entropy": 1.0, "max_class_share": 0.5}
    # Covered means >= 10% of the fair share 1/K: with K = 10, 1% of the samples.
    s = histogram_stats(torch.tensor([910, 10, 9, 71, 0, 0, 0, 0, 0, 0]))
    assert s["classes_covered"] == 3.0 and s["max_class_share"] == pytest.approx(0.91)
    assert histogram_stats(torch.full((10,), 7))["class_entropy"] == pytest.approx(math.log2(10), abs=1e-12)


# --- Parzen windows -----------------------------------------------------------------

def test_parzen_log_likelihood_single_centre_is_a_gaussian_density():
    d, s = 5, 0.3
    centre = torch.zeros(3, d)  # three copies of one centre: the same density as one
    x = torch.tensor([[0.0] * d, [0.6, 0.8, 0.0, 0.0, 0.0]], dtype=torch.float64)  # distances 0, 1
    ll = parzen_log_likelihood(centre, x, [s])
    expected = [-0.5 * d * math.log(2 * math.pi * s * s) - r * r / (2 * s * s) for r in (0.0, 1.0)]
    assert ll.shape == (1, 2)
    assert ll[0].tolist() == pytest.approx(expected, abs=1e-10)


def test_parzen_log_likelihood_matches_brute_force_mixture():
    gen = torch.Generator().manual_seed(0)
    c = torch.rand(37, 6, generator=gen, dtype=torch.float64)
    x = torch.rand(11, 6, generator=gen, dtype=torch.float64)
    sig = [0.1, 0.25, 1.0]
    ll = parzen_log_likelihood(c, x, sig, batch=4)
    for k, s in enumerate(sig):
        dens = torch.exp(-((x[:, None] - c[None]) ** 2).sum(-1) / (2 * s * s)).mean(1) / (2 * math.pi * s * s) ** 3
        assert torch.allclose(ll[k], torch.log(dens), atol=1e-9, rtol=0)


def test_parzen_estimate_picks_the_maximum_likelihood_sigma():
    # All samples at one point c (pixels 0.5); every validation image at distance r from c.
    # The validation log-likelihood -r^2 / (2 s^2) - D/2 log(2 pi s^2) peaks at s^2 = r^2 / D,
    # so with r = s4 * sqrt(D) the 5th candidate of logspace(-1, 0, 10) must win.
    d = 16
    s4 = PARZEN_SIGMAS[4]
    r = s4 * math.sqrt(d)
    c01 = torch.full((20, d), 0.5, dtype=torch.float64)
    signs = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(d // 2)
    v01 = c01[:4] + signs * (r / math.sqrt(d))  # |offset|^2 = d * r^2 / d = r^2, inside [0, 1]
    assert float(v01.min()) > 0 and float(v01.max()) < 1
    test01 = c01[:3].clone()
    test01[0, 3] += 0.2  # distances 0.2, 0, 0
    to_model = lambda t: t * 2.0 - 1.0  # noqa: E731 (the estimator scales [-1, 1] back to [0, 1])
    res = parzen_estimate(to_model(c01), to_model(v01), to_model(test01))
    assert res.sigma == pytest.approx(s4, rel=1e-12)
    assert max(res.valid_ll, key=res.valid_ll.get) == pytest.approx(s4, rel=1e-12)
    base = -0.5 * d * math.log(2 * math.pi * s4 * s4)
    lls = torch.tensor([base - 0.04 / (2 * s4 * s4), base, base], dtype=torch.float64)
    assert res.mean == pytest.approx(float(lls.mean()), abs=1e-9)
    assert res.stderr == pytest.approx(float(lls.std() / math.sqrt(3)), abs=1e-9)
    assert (res.n_samples, res.n_valid, res.n_test) == (20, 4, 3)


def test_parzen_reads_uint8_pixels_as_0_to_1():
    a = torch.tensor([[[[0, 255]]]], dtype=torch.uint8)
    ll_u8 = parzen_estimate(a, a, a, sigmas=(0.5,)).mean
    ll_f = parzen_estimate(a.float() / 127.5 - 1, a.float() / 127.5 - 1, a.float() / 127.5 - 1, sigmas=(0.5,)).mean
    assert ll_u8 == pytest.approx(-math.log(2 * math.pi * 0.25), abs=1e-12)
    assert ll_f == pytest.approx(ll_u8, abs=1e-12)


# --- the classifiers ------------------------------------------------------------------

@pytest.mark.parametrize("name, min_acc", [("mnist", 0.98), ("fashion_mnist", 0.89)])
def test_shipped_classifiers_are_small_and_documented(name, min_acc):
    info = json.loads((CLASSIFIER_DIR / f"{name}.json").read_text())
    assert info["num_classes"] == 10 and info["test_accuracy"] >= min_acc
    assert (CLASSIFIER_DIR / f"{name}.safetensors").stat().st_size < 1 << 20
    clf = load_classifier(name)
    assert isinstance(clf, Classifier) and not clf.training
    assert all(not p.requires_grad for p in clf.parameters())


def test_corrupt_classifier_is_refused(tmp_path):
    for ext in ("safetensors", "json"):
        shutil.copy(CLASSIFIER_DIR / f"mnist.{ext}", tmp_path / f"mnist.{ext}")
    raw = bytearray((tmp_path / "mnist.safetensors").read_bytes())
    raw[-5] ^= 0xFF
    (tmp_path / "mnist.safetensors").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="does not match the SHA-256 .* retrain it"):
        load_classifier("mnist", tmp_path)
    with pytest.raises(DataError, match="no classifier for data set 'cifar'.*train_classifier.py cifar"):
        load_classifier("cifar", tmp_path)


def test_classifier_input_resizes_and_greys():
    x = torch.full((2, 3, 64, 64), 255, dtype=torch.uint8)
    x[1] = 0
    out = to_classifier_input(x)
    assert out.shape == (2, 1, 28, 28)
    assert torch.allclose(out[0], torch.ones(1, 28, 28), atol=1e-5)
    assert torch.allclose(out[1], -torch.ones(1, 28, 28), atol=1e-6)
    g = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    assert torch.equal(to_classifier_input(g), g.float() * (2 / 255) - 1)


@pytest.fixture(scope="module")
def mnist_holdout():
    """The 2,000 MNIST test images the classifier did not train on (its script's seeded split)."""
    meta = json.loads((CLASSIFIER_DIR / "mnist.json").read_text())
    data = load_split("mnist", "test")
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(meta["seed"]))
    idx = perm[:meta["test_images"]]
    return data.x[idx], data.y[idx]


@needs_mnist
def test_mnist_classifier_accuracy_on_held_out_images(mnist_holdout):
    x, y = mnist_holdout
    acc = accuracy(load_classifier("mnist"), x, y)
    assert 0.975 <= acc <= 1.0
    feats, probs = predict(load_classifier("mnist"), x[:10])
    assert feats.shape == (10, 64) and probs.shape == (10, 10)
    assert torch.allclose(probs.sum(1), torch.ones(10, dtype=torch.float64), atol=1e-12)


@needs_mnist
def test_metrics_of_real_images_are_near_perfect(mnist_holdout):
    x, y = mnist_holdout
    clf = load_classifier("mnist")
    m = metrics_from_samples(clf, x[:1000], x[1000:], y[1000:])
    assert 0.5 < m["fd"] < 10.0  # two halves of one set: small, not 0 (finite-sample bias)
    assert 8.5 < m["score"] <= 10.0
    assert m["classes_covered"] == 10.0 and m["class_entropy"] > 3.25
    assert m["cond_acc"] >= 0.975
    shuffled = y[1000:][torch.randperm(1000, generator=torch.Generator().manual_seed(0))]
    assert 0.05 < metrics_from_samples(clf, x[:1000], x[1000:], shuffled)["cond_acc"] < 0.16
    assert metrics_from_samples(clf, x[:1000], x[:1000])["fd"] == pytest.approx(0.0, abs=1e-6)


@needs_mnist
def test_a_collapsed_generator_is_detected(mnist_holdout):
    x, y = mnist_holdout
    threes = x[y == 3][:150]
    m = metrics_from_samples(load_classifier("mnist"), x[:1000], threes)
    assert m["classes_covered"] <= 2.0 and m["max_class_share"] > 0.97  # a stray misread or two
    assert 1.0 <= m["score"] < 1.3 and m["class_entropy"] < 0.25
    assert m["fd"] > 20 * metrics_from_samples(load_classifier("mnist"), x[:1000], x[1000:])["fd"]


class _FakeTrainer:
    """What image_metrics reads from a Trainer: info, data and sample()."""

    def __init__(self, data: Dataset, fake: torch.Tensor, labels: torch.Tensor | None) -> None:
        self.info, self.data, self._fake, self._labels = data.info, data, fake, labels

    def sample(self, n: int, seed: int = 0):
        return self._fake[:n].float() * (2 / 255) - 1, None if self._labels is None else self._labels[:n]


@needs_mnist
def test_image_metrics_of_a_run(mnist_holdout):
    x, y = mnist_holdout
    data = Dataset(x[:1000], DataInfo("mnist", "image", (1, 28, 28), 10), y[:1000])
    tr = _FakeTrainer(data, x[1000:], y[1000:])
    m1 = image_metrics(tr, 500, seed=3)
    assert m1 == image_metrics(tr, 500, seed=3)  # deterministic for one seed
    assert set(m1) == {"fd", "score", "classes_covered", "classes_total", "class_entropy",
                       "max_class_share", "cond_acc"}
    assert m1["cond_acc"] >= 0.97 and m1["classes_covered"] == 10.0
    folder = Dataset(x[:10], DataInfo("image_folder", "image", (1, 28, 28)), None)
    assert image_metrics(_FakeTrainer(folder, x[:10], None), 10, seed=0) == {}


def test_diverged_samples_still_get_numbers():
    clf = load_classifier("mnist")
    real = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    fake = torch.full((20, 1, 28, 28), float("nan"))
    m = metrics_from_samples(clf, real, fake)
    assert m["fd"] == math.inf and np.isfinite(m["score"]) and m["classes_total"] == 10.0


@needs_mnist
def test_real_reference_scores_two_disjoint_halves_of_the_data():
    from ganlab.metrics.images import real_reference

    data = load_split("mnist", "test")
    ref = real_reference(data, 1000, seed=0)
    assert 0.5 < ref["fd"] < 10.0 and 8.5 < ref["score"] <= 10.0 and ref["classes_covered"] == 10.0
    assert ref["cond_acc"] >= 0.97  # the second half's own labels
    assert ref == real_reference(data, 1000, seed=0)  # seeded
    assert ref["fd"] != real_reference(data, 1000, seed=1)["fd"]
