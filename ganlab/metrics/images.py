"""Quality metrics for generated images.

1. In the feature space of the data set's small classifier (`ganlab.classifier`):
   - fd: Frechet distance between Gaussians fitted to the 64 classifier features of
     real and generated images (FID's recipe, Heusel et al. 2017, with a small
     per-data-set network instead of Inception: comparable within this project only);
   - score: exp(E_x KL(p(y|x) || p(y))), the Inception score's recipe (Salimans
     et al. 2016) with the same classifier; between 1 and K (K classes);
   - class histogram of the predicted classes: classes_covered (classes holding at
     least MIN_SHARE_OF_UNIFORM of the uniform share 1/K of the samples),
     classes_total, class_entropy (bits; log2 K when balanced), max_class_share;
   - cond_acc: for conditional models, the fraction of samples classified as the
     class they were generated for (balanced labels).
2. The Parzen-window log-likelihood of Goodfellow et al. 2014 (section 5): a
   Gaussian kernel density with one isotropic sigma fitted to generated samples,
   evaluated on held-out images, pixels in [0, 1]. A historical metric: it is
   known to rank models poorly (Theis et al. 2016); it is here to compare with
   the 2014 paper's table, not to judge models.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ganlab.classifier import Classifier, has_classifier, load_classifier, predict
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import DataError
from ganlab.metrics.toy import fit_gaussian, frechet_distance
from ganlab.seeds import EVAL_SEED

if TYPE_CHECKING:
    from ganlab.pretrained import PretrainedGenerator
    from ganlab.train import Trainer
    from ganlab.train.autoencoder import AutoencoderTrainer

MIN_SHARE_OF_UNIFORM = 0.1  # a class is covered when it holds >= 10% of its fair share 1/K
PARZEN_SIGMAS = tuple(float(s) for s in np.logspace(-1, 0, 10))
PARZEN_SAMPLES = 10_000
PARZEN_VALID = 1_000


# --------------------------------------------------------------------------
# 1. Classifier-based metrics
# --------------------------------------------------------------------------

def classifier_score(probs: Tensor | np.ndarray) -> float:
    """exp(mean_i KL(p(y|x_i) || p(y))) for class probabilities (N, K); p(y) = mean_i p(y|x_i).

    1 when every sample has the same distribution; K when each sample is one class
    with certainty and the classes are balanced.
    """
    p = torch.as_tensor(probs, dtype=torch.float64)
    if p.dim() != 2 or p.shape[0] == 0:
        raise DataError(f"classifier_score needs probabilities of shape (N, K), N >= 1; got {tuple(p.shape)}")
    marginal = p.mean(0, keepdim=True)
    # xlogy: 0 * log 0 = 0 for classes a sample rules out.
    kl = (torch.special.xlogy(p, p) - torch.special.xlogy(p, marginal)).sum(1)
    return float(torch.exp(kl.mean()))


def class_histogram(pred: Tensor, num_classes: int) -> Tensor:
    """Predicted classes (N,) -> counts (K,) int64."""
    return torch.bincount(pred.long().cpu(), minlength=num_classes)[:num_classes]


def histogram_samples(trainer: "Trainer", n: int = 500, seed: int = 4321) -> Tensor | None:
    """n samples (n, C, H, W) for a class histogram, None without a classifier for the data set.

    Quick, so a live page holds the run only for this and classifies off its lock
    (`predicted_classes`).
    """
    if not has_classifier(trainer.info.name):
        return None
    return trainer.sample(n, seed=seed)[0]


def predicted_classes(data_name: str, samples: Tensor) -> list[int]:
    """How many of `samples` (N, C, H, W) the data set's classifier puts in each class (K counts)."""
    clf = load_classifier(data_name)
    _, probs = predict(clf, samples)
    return [int(c) for c in class_histogram(probs.argmax(1), clf.num_classes)]


def histogram_stats(counts: Tensor) -> dict[str, float]:
    """classes_covered, classes_total, class_entropy (bits), max_class_share of counts (K,)."""
    k = counts.numel()
    share = counts.double() / max(int(counts.sum()), 1)
    entropy = max(0.0, float(-torch.special.xlogy(share, share).sum() / math.log(2)))  # no -0.0
    return {"classes_covered": float((share >= MIN_SHARE_OF_UNIFORM / k).sum()),
            "classes_total": float(k),
            "class_entropy": entropy,
            "max_class_share": float(share.max())}


class _PerTensor:
    """A cache slot per live tensor (tensors compare elementwise, so they cannot be dict keys)."""

    def __init__(self) -> None:
        self._slots: dict[int, tuple[weakref.ref, dict]] = {}

    def slot(self, t: Tensor) -> dict:
        entry = self._slots.get(id(t))
        if entry is None or entry[0]() is not t:
            entry = (weakref.ref(t), {})
            self._slots[id(t)] = entry
            weakref.finalize(t, self._slots.pop, id(t), None)
        return entry[1]


# real images -> {classifier id: (feature mean, covariance)}: evaluations repeat on one subset.
_REAL_STATS = _PerTensor()


def _real_stats(clf: Classifier, real: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Feature mean (F,) and covariance (F, F) of real images (cached per tensor)."""
    cache = _REAL_STATS.slot(real)
    if id(clf) not in cache:
        feats, _ = predict(clf, real)
        cache[id(clf)] = fit_gaussian(feats.numpy())
    return cache[id(clf)]


def metrics_from_samples(clf: Classifier, real: Tensor, fake: Tensor,
                         fake_labels: Tensor | None = None) -> dict[str, float]:
    """Classifier metrics of fake images (M, C, S, S) against real ones (N, C, S, S).

    Images are uint8 or float in [-1, 1]. fake_labels (M,): the classes a
    conditional model was asked for (adds cond_acc).
    """
    if fake.shape[0] < 2 or real.shape[0] < 2:
        raise DataError("image metrics need at least 2 real and 2 generated images")
    feats, probs = predict(clf, fake)
    out: dict[str, float] = {}
    if bool(torch.isfinite(feats).all()):
        mu_r, cov_r = _real_stats(clf, real)
        mu_f, cov_f = fit_gaussian(feats.numpy())
        out["fd"] = frechet_distance(mu_r, cov_r, mu_f, cov_f)
    else:
        out["fd"] = math.inf
    probs = torch.nan_to_num(probs, nan=1.0 / probs.shape[1])
    out["score"] = classifier_score(probs)
    pred = probs.argmax(1)
    out.update(histogram_stats(class_histogram(pred, clf.num_classes)))
    if fake_labels is not None:
        out["cond_acc"] = float((pred == fake_labels.cpu()).double().mean())
    return out


def seeded_subset(x: Tensor, n: int, seed: int) -> Tensor:
    """n rows of x (on the CPU), a choice seeded by `seed`, without replacement when n <= len(x)."""
    rng = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=rng)[:n] if n <= len(x) else torch.randint(len(x), (n,), generator=rng)
    return x[idx.to(x.device)].cpu()


def real_images(trainer: "Trainer", n: int, seed: int) -> Tensor:
    """n of the run's training images (uint8, CPU), a seeded choice without replacement when possible."""
    return seeded_subset(trainer.data.x, n, seed)


# data tensor -> {(n, seed): real subset}, so repeated evaluations reuse one subset
# (and, through _REAL_STATS, its features).
_REAL_CACHE = _PerTensor()


def image_metrics(trainer: "Trainer", n: int, seed: int = EVAL_SEED) -> dict[str, float]:
    """The classifier metrics of a run's generator on n fresh samples (the trainer's evaluator).

    Data sets without a trained classifier (image folders) get no metrics ({}).
    """
    info: DataInfo = trainer.info
    if not has_classifier(info.name):
        return {}
    clf = load_classifier(info.name)
    fake, labels = trainer.sample(n, seed=seed)
    per_data = _REAL_CACHE.slot(trainer.data.x)
    if (n, seed) not in per_data:
        per_data[(n, seed)] = real_images(trainer, n, seed)
    return metrics_from_samples(clf, per_data[(n, seed)], fake, labels)


@torch.no_grad()
def reconstruction_mse(trainer: "AutoencoderTrainer", n: int, seed: int = EVAL_SEED, batch: int = 1024) -> float:
    """An autoencoder's reconstruction error: the mean squared error per pixel, pixels in
    [0, 1] (so the value is in [0, 1]; 0 = perfect), between n of the run's images (a
    seeded draw with replacement, the same for every run) and their reconstructions."""
    x = trainer.data.decode(trainer.data.draw(n, seed))
    total = 0.0
    for i in range(0, n, batch):
        xb = x[i:i + batch]
        rec = trainer.reconstruct(xb).float().cpu()
        total += float((rec - xb).square().sum()) / 4.0  # [-1, 1] -> [0, 1] halves each difference
    return total / x.numel()


# --------------------------------------------------------------------------
# 2. Parzen-window log-likelihood (Goodfellow et al. 2014)
# --------------------------------------------------------------------------

def _flat01(x: Tensor) -> Tensor:
    """Images uint8 or float in [-1, 1] (N, ...) -> float64 (N, D) in [0, 1]."""
    if x.dtype == torch.uint8:
        return x.reshape(x.shape[0], -1).double() / 255.0
    return ((x.reshape(x.shape[0], -1).double() + 1.0) / 2.0).clamp(0.0, 1.0)


def parzen_log_likelihood(centres: Tensor, x: Tensor, sigmas: tuple[float, ...] | list[float],
                          batch: int = 256) -> Tensor:
    """Per-point log densities (len(sigmas), M) of x (M, D) under Parzen windows on centres (N, D).

    log p(x) = logsumexp_i(-|x - c_i|^2 / (2 s^2)) - log N - D/2 log(2 pi s^2), in float64.
    The squared distances are computed once and reused for every sigma.
    """
    c = centres.double()
    x = x.double()
    n, d = c.shape
    sig = torch.tensor(list(sigmas), dtype=torch.float64)
    c_sq = c.square().sum(1)
    out = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        d2 = (xb.square().sum(1, keepdim=True) + c_sq - 2.0 * xb @ c.T).clamp_min_(0.0)  # (B, N)
        lse = torch.stack([torch.logsumexp(d2 / (-2.0 * s * s), dim=1) for s in sig.tolist()])  # (S, B)
        out.append(lse - math.log(n) - 0.5 * d * torch.log(2.0 * math.pi * sig[:, None] ** 2))
    return torch.cat(out, 1)


@dataclass
class ParzenResult:
    """mean and standard error (nats per image) of the test log-likelihood, the chosen sigma,
    the validation mean per candidate sigma, the set sizes and a note on what was used."""

    mean: float
    stderr: float
    sigma: float
    valid_ll: dict[float, float]
    n_samples: int
    n_valid: int
    n_test: int
    note: str

    def as_metrics(self) -> dict[str, float]:
        return {"parzen_ll": self.mean, "parzen_se": self.stderr, "parzen_sigma": self.sigma}


def parzen_estimate(samples: Tensor, valid: Tensor, test: Tensor,
                    sigmas: tuple[float, ...] = PARZEN_SIGMAS, note: str = "") -> ParzenResult:
    """Pick sigma maximising the mean validation log-likelihood, then score the test set.

    samples, valid, test: images (N, ...) uint8 or float in [-1, 1] (scaled to [0, 1]).
    """
    c = _flat01(samples)
    v_ll = parzen_log_likelihood(c, _flat01(valid), sigmas).mean(1)
    best = int(torch.argmax(v_ll))
    t = parzen_log_likelihood(c, _flat01(test), (sigmas[best],))[0]
    se = float(t.std(unbiased=True) / math.sqrt(t.numel())) if t.numel() > 1 else math.nan
    return ParzenResult(float(t.mean()), se, float(sigmas[best]),
                        {float(s): float(v) for s, v in zip(sigmas, v_ll)},
                        samples.shape[0], valid.shape[0], test.shape[0], note)


def parzen_for_run(trainer: "Trainer", n_samples: int = PARZEN_SAMPLES, n_valid: int = PARZEN_VALID,
                   n_test: int = 10_000, seed: int = 0) -> ParzenResult:
    """The Goodfellow et al. 2014 protocol for a run: n_samples generated images, sigma
    chosen on n_valid training images, the log-likelihood of up to n_test test images.

    The test images are the data set's test split when it differs from the training
    data; otherwise (MNIST here trains on its test split; image folders) they are
    training images disjoint from the validation ones, and the note says so.
    """
    from ganlab.data.images import IDX_SETS, available_splits, load_split

    info = trainer.info
    data = trainer.data.x.cpu()
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    valid = data[perm[:n_valid]]
    trained_on = trainer.data.extras.get("split")
    if info.name in IDX_SETS and trained_on == "train" and "test" in available_splits(info.name):
        test = load_split(info.name, "test", image_size=info.shape[1], channels=info.shape[0],
                          allow_download=False).x[:n_test]
        note = f"test images: the {info.name} test split"
    else:
        test = data[perm[n_valid:n_valid + n_test]]
        note = (f"test images: {len(test)} training images (no separate test split), disjoint "
                "from the validation images; the likelihood is optimistic")
    if len(test) == 0:
        raise DataError(f"the data set has {len(data)} images, too few for a Parzen estimate with "
                        f"{n_valid} validation images; lower n_valid")
    fake, _ = trainer.sample(n_samples, seed=seed + 1)
    return parzen_estimate(fake, valid, test, note=note)


def generator_metrics(gen: "PretrainedGenerator", data: "Dataset", n: int, seed: int = EVAL_SEED,
                      real_seed: int = 2) -> dict[str, float]:
    """The classifier metrics of an exported generator (a bundled or converted model) on
    n samples of latents `seed` (`gen.latents`), against n of its data set's images (a
    seeded draw, `real_seed`), plus `real_score`: the classifier score of those real
    images, the ceiling a generator's score is compared with. `data` must hold images of
    the generator's size and channels (ConfigError otherwise); DataError without a classifier."""
    from ganlab.errors import ConfigError

    shape = (gen.channels, gen.resolution, gen.resolution)
    if tuple(data.x.shape[1:]) != shape:
        raise ConfigError(f"{gen.name} makes {shape[0]} x {shape[1]} x {shape[2]} images but the data set's "
                          f"are {' x '.join(map(str, data.x.shape[1:]))}; load it at image_size={gen.resolution}, "
                          f"channels={gen.channels}")
    if not has_classifier(data.info.name):
        raise DataError(f"no classifier for data set {data.info.name!r}: the metrics need one")
    clf = load_classifier(data.info.name)
    real = seeded_subset(data.x, n, real_seed)
    fake = gen(gen.latents(n, seed), batch_size=256)  # unclamped, as a run's own samples
    out = metrics_from_samples(clf, real, fake)
    out["real_score"] = classifier_score(predict(clf, real)[1])
    return out


def real_reference(data: "Dataset", n: int, seed: int) -> dict[str, float]:
    """Classifier metrics of real images against other real images: two disjoint halves
    of min(n, N // 2) images each, drawn with `seed` (the best a generator can score).
    Needs the data set's classifier (DataError otherwise)."""
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed + 7))
    half = min(n, len(data) // 2)
    a, b = perm[:half], perm[half:2 * half]
    x, y = data.x.cpu(), None if data.y is None else data.y.cpu()
    return metrics_from_samples(load_classifier(data.info.name), x[a], x[b], None if y is None else y[b])
