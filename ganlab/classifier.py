"""A small CNN classifier per image data set: the feature space of the image metrics.

Architecture (28 x 28 grey input in model space [-1, 1], ~106k parameters):
  Conv(1->16, k3, p1) ReLU MaxPool2 -> Conv(16->32, k3, p1) ReLU MaxPool2
  -> Flatten (32*7*7) -> Linear(1568 -> 64) ReLU  [the 64 features]
  -> Linear(64 -> K)                               [class logits]
Images of another size or with 3 channels are brought to 28 x 28 grey first
(`to_classifier_input`): the image sets make 32 / 64 px by up-sampling 28 px
images, so down-sampling them back is close to the images the classifier saw.

The project trains one per data set with `scripts/train_classifier.py`
(`train_classifier` here); weights live in `assets/classifiers/<data>.safetensors`
with a JSON beside them (architecture, splits, test accuracy, SHA-256 of the
weights, which `load_classifier` checks). Training draws every random number
(init, batch order, shift augmentation) from one seeded generator.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

import ganlab
from ganlab.download import file_hash
from ganlab.errors import CheckpointError, DataError
from ganlab.models.layers import init_default

CLASSIFIER_DIR = Path(ganlab.__file__).resolve().parents[1] / "assets" / "classifiers"
INPUT_SIDE = 28
FEATURES = 64


class Classifier(nn.Module):
    """x (N, 1, 28, 28) in [-1, 1] -> logits (N, K); `features` gives the (N, 64) layer."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def to_classifier_input(x: Tensor) -> Tensor:
    """Images (N, C, S, S), uint8 or float in [-1, 1] -> float (N, 1, 28, 28) in [-1, 1]."""
    if x.dtype == torch.uint8:
        x = x.float().mul_(2.0 / 255.0).sub_(1.0)
    x = x.float()
    if x.shape[1] == 3:
        # ITU-R 601-2 luma, the grey of Pillow and of the image loaders.
        x = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    if x.shape[-1] != INPUT_SIDE or x.shape[-2] != INPUT_SIDE:
        x = F.interpolate(x, size=(INPUT_SIDE, INPUT_SIDE), mode="bilinear", align_corners=False,
                          antialias=True)
    return x


@torch.no_grad()
def predict(clf: Classifier, x: Tensor, batch: int = 1000) -> tuple[Tensor, Tensor]:
    """Images (N, C, S, S) -> (features (N, 64) float64, class probabilities (N, K) float64), on the CPU."""
    was = clf.training
    clf.eval()
    feats, probs = [], []
    try:
        for i in range(0, x.shape[0], batch):
            h = clf.features(to_classifier_input(x[i:i + batch]))
            feats.append(h.double().cpu())
            probs.append(torch.softmax(clf.head(h).double(), 1).cpu())
    finally:
        clf.train(was)
    if not feats:
        return torch.zeros((0, FEATURES), dtype=torch.float64), torch.zeros((0, clf.num_classes),
                                                                           dtype=torch.float64)
    return torch.cat(feats), torch.cat(probs)


def accuracy(clf: Classifier, x: Tensor, y: Tensor) -> float:
    """Fraction of images (N, C, S, S) whose predicted class equals y (N,)."""
    _, p = predict(clf, x)
    return float((p.argmax(1) == y.cpu()).double().mean())


# --- training -------------------------------------------------------------------

@dataclass
class EpochReport:
    """What the training callback receives after each epoch."""

    epoch: int
    epochs: int
    train_loss: float
    valid_accuracy: float


def _shift(x: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Translate each image (N, 1, S, S) by a random integer offset in [-max_shift, max_shift]^2
    (zero padding = background): cheap robustness to off-centre generated digits."""
    n, _, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4, value=-1.0)
    oy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    ox = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    rows = (oy[:, None] + torch.arange(h))[:, :, None]
    cols = (ox[:, None] + torch.arange(w))[:, None, :]
    return pad[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def train_classifier(x: Tensor, y: Tensor, x_valid: Tensor, y_valid: Tensor, *, num_classes: int = 10,
                     epochs: int = 10, batch_size: int = 128, lr: float = 2e-3, max_shift: int = 2,
                     seed: int = 0,
                     on_epoch: Callable[[EpochReport], None] | None = None) -> Classifier:
    """Train a Classifier on uint8 images x (N, C, S, S) with labels y (N,).

    Adam with a cosine learning-rate decay, random shifts of up to `max_shift` px.
    `on_epoch` gets the mean training loss and the accuracy on (x_valid, y_valid).
    """
    gen = torch.Generator().manual_seed(seed)
    clf = Classifier(num_classes)
    init_default(clf, gen)
    inputs = to_classifier_input(x)
    labels = y.long().cpu()
    opt = torch.optim.Adam(clf.parameters(), lr=lr)
    steps_per_epoch = -(-len(inputs) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch)
    for epoch in range(epochs):
        clf.train()
        order = torch.randperm(len(inputs), generator=gen)
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            xb = _shift(inputs[idx], max_shift, gen) if max_shift else inputs[idx]
            loss = F.cross_entropy(clf(xb), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        if on_epoch is not None:
            on_epoch(EpochReport(epoch + 1, epochs, total / len(inputs), accuracy(clf, x_valid, y_valid)))
    return clf.eval()


# --- files ----------------------------------------------------------------------

def save_classifier(clf: Classifier, name: str, meta: dict, folder: Path = CLASSIFIER_DIR) -> Path:
    """Write <folder>/<name>.safetensors and <name>.json (meta + architecture + SHA-256)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file({k: v.detach().contiguous() for k, v in clf.state_dict().items()}, str(path))
    info = {"data": name, "architecture": "ganlab.classifier.Classifier", "num_classes": clf.num_classes,
            "input": "1 x 28 x 28 grey in [-1, 1]", "features": FEATURES, **meta,
            "sha256": file_hash(path, "sha256")}
    (folder / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return path


def classifier_info(name: str, folder: Path = CLASSIFIER_DIR) -> dict | None:
    """The JSON beside a data set's classifier, or None when there is none."""
    path = folder / f"{name}.json"
    if not path.is_file() or not (folder / f"{name}.safetensors").is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def has_classifier(name: str, folder: Path = CLASSIFIER_DIR) -> bool:
    return classifier_info(name, folder) is not None


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, folder: Path) -> Classifier:
    info = classifier_info(name, folder)
    if info is None:
        raise DataError(f"there is no classifier for data set {name!r} in {folder}; train one with "
                        f"`python scripts/train_classifier.py {name}` (image metrics need it)")
    path = folder / f"{name}.safetensors"
    if file_hash(path, "sha256") != info["sha256"]:
        raise CheckpointError(f"{path} does not match the SHA-256 in {name}.json; the file is corrupt: "
                              f"restore it from the repository or retrain it with scripts/train_classifier.py")
    try:
        weights = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}); restore it from "
                              "the repository or retrain it with scripts/train_classifier.py") from None
    clf = Classifier(int(info["num_classes"]))
    clf.load_state_dict(weights)
    return clf.eval().requires_grad_(False)


def load_classifier(name: str, folder: Path = CLASSIFIER_DIR) -> Classifier:
    """The trained classifier of data set `name` (CPU, eval mode, frozen; cached, read-only)."""
    return _load_cached(name, Path(folder))
