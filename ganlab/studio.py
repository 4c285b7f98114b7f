"""View computations of the MNIST studio page: configs, sample grids, class views, run folders.

Everything the studio page shows that involves tensors is made here, so the
page only draws. Grids are uint8 (C, H, W) tensors (`ganlab.imageio.make_grid`);
they use the EMA generator when the run has one, in eval mode and without
gradients, from their own seeded random streams: drawing a view never changes
the run's state or random stream.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ganlab.classifier import has_classifier, load_classifier, predict
from ganlab.config import Config
from ganlab.errors import CheckpointError, ConfigError
from ganlab.imageio import make_grid
from ganlab.metrics.images import class_histogram
from ganlab.presets import resolve_config
from ganlab.progress import class_grid, fixed_grid, generate_images
from ganlab.runs import RUNS_ENV, RunSummary, list_runs, run_name, runs_root, save_to_runs  # noqa: F401

if TYPE_CHECKING:
    from ganlab.train import Trainer

IMAGE_DATA = ("mnist", "fashion_mnist", "image_folder")
IMAGE_MODELS = ("mlp", "cgan", "dcgan", "cdcgan")
CONDITIONAL_MODELS = frozenset({"cgan", "cdcgan"})
DEVICES = ("auto", "cpu", "cuda")
# The studio's live defaults: frequent loss rows for the charts, and classifier
# metrics on a modest sample (about 1 s on a CPU, taken between two steps).
LIVE_DEFAULTS: dict[str, Any] = {"log_every": 10, "eval_every": 500, "eval_samples": 1000}
GRID_SIZE = 64


def studio_config(data: str, model: str, overrides: dict[str, Any] | None = None) -> Config:
    """The model's tuned preset for this data set, with the studio's live defaults, then overrides."""
    if data not in IMAGE_DATA:
        raise ConfigError(f"the studio trains on image sets: choose one of {', '.join(IMAGE_DATA)}")
    if model not in IMAGE_MODELS:
        raise ConfigError(f"the studio's models are {', '.join(IMAGE_MODELS)}; got {model!r}")
    return resolve_config(data, None, {"model": model, **LIVE_DEFAULTS, **(overrides or {})})


def device_summary() -> str:
    """Which accelerator torch sees, in words (the page shows it beside the device choice)."""
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"GPU available: {names}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "Apple GPU (MPS) available"
    return "no GPU visible: training runs on the CPU"


# --- views of a live run --------------------------------------------------------
def progress_grid(trainer: "Trainer", n: int = GRID_SIZE) -> Tensor:
    """G on the first n latents of the fixed noise batch: the same latents at every step."""
    return fixed_grid(trainer, n)


def _latents(trainer: "Trainer", n: int, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return trainer._latent(n, gen, torch.device("cpu"))


def _check_class(trainer: "Trainer", label: int) -> None:
    if not trainer.num_classes:
        raise ConfigError("class views need a conditional model (cgan or cdcgan)")
    if not 0 <= label < trainer.num_classes:
        raise ConfigError(f"class {label} is out of range: the model has classes 0..{trainer.num_classes - 1}")


def class_row(trainer: "Trainer", label: int, n: int = 10, seed: int = 0) -> Tensor:
    """n samples of one class from n seeded latents, in one row."""
    _check_class(trainer, label)
    z = _latents(trainer, n, seed)
    return make_grid(generate_images(trainer, z, torch.full((n,), label, dtype=torch.long)), nrow=n)


def classes_grid(trainer: "Trainer", per_class: int = 10) -> Tensor:
    """Classes x samples: row k made with class k, column j with fixed latent j."""
    _check_class(trainer, 0)
    return class_grid(trainer, per_class)


def interpolation(trainer: "Trainer", label: int, seed_a: int, seed_b: int, n: int = 10) -> Tensor:
    """One row from latent(seed_a) to latent(seed_b) for a fixed class.

    Spherical interpolation for normal latents (a straight line would pass through
    low-norm latents G rarely saw), linear for uniform ones.
    """
    _check_class(trainer, label)
    if n < 2:
        raise ConfigError("an interpolation needs at least 2 images")
    a, b = _latents(trainer, 1, seed_a)[0], _latents(trainer, 1, seed_b)[0]
    t = torch.linspace(0, 1, n)[:, None]
    if trainer.cfg.latent_dist == "normal":
        omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
        if float(omega) > 1e-4:
            z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        else:
            z = (1 - t) * a + t * b
    else:
        z = (1 - t) * a + t * b
    return make_grid(generate_images(trainer, z, torch.full((n,), label, dtype=torch.long)), nrow=n)


def histogram_samples(trainer: "Trainer", n: int = 500, seed: int = 4321) -> Tensor | None:
    """Samples for the class histogram (fast: hold the run only for this), None without a classifier."""
    if not has_classifier(trainer.info.name):
        return None
    return trainer.sample(n, seed=seed)[0]


def predicted_classes(data_name: str, samples: Tensor) -> list[int]:
    """How many samples the data set's classifier puts in each class (run off the training lock)."""
    clf = load_classifier(data_name)
    _, probs = predict(clf, samples)
    return [int(c) for c in class_histogram(probs.argmax(1), clf.num_classes)]
