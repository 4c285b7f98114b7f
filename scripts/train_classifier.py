"""Train the small classifier of an image data set (the feature space of the image metrics).

    python scripts/train_classifier.py mnist
    python scripts/train_classifier.py fashion_mnist

Splits: when the training split is on disk the classifier is trained on it and
tested on the test split. When only the test split is present (MNIST on this
project's machines) a seeded 80 / 20 split of it is used: trained on 8,000
images, tested on the 2,000 held out. The JSON beside the weights records which.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from ganlab.classifier import CLASSIFIER_DIR, EpochReport, accuracy, save_classifier, train_classifier
from ganlab.data.images import available_splits, load_split
from ganlab.errors import GanlabError

HOLDOUT = 0.2  # share of the test split held out when it is the only split present


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", choices=["mnist", "fashion_mnist"])
    ap.add_argument("--epochs", type=int, default=None, help="default: 8 (60k images) / 20 (8k images)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(CLASSIFIER_DIR), help="folder for <data>.safetensors / .json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        splits = available_splits(args.data)
        if "train" in splits:
            train, test = load_split(args.data, "train"), load_split(args.data, "test")
            xs, ys, xt, yt = train.x, train.y, test.x, test.y
            split = {"train": "train split (all)", "test": "test split (all)"}
        else:
            data = load_split(args.data, "test")
            perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed))
            n_test = int(round(HOLDOUT * len(data)))
            tr, te = perm[n_test:], perm[:n_test]
            xs, ys, xt, yt = data.x[tr], data.y[tr], data.x[te], data.y[te]
            split = {"train": f"test split, {len(tr)} images (seeded permutation, seed {args.seed})",
                     "test": f"test split, the other {len(te)} images (held out)"}
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    epochs = args.epochs or (8 if len(xs) > 30_000 else 20)
    print(f"{args.data}: training on {len(xs)} images, testing on {len(xt)}, {epochs} epochs")
    t0 = time.perf_counter()

    def report(r: EpochReport) -> None:
        print(f"epoch {r.epoch}/{r.epochs}  loss {r.train_loss:.4f}  test acc {r.valid_accuracy:.4f}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    clf = train_classifier(xs, ys, xt, yt, epochs=epochs, seed=args.seed, on_epoch=report)
    acc = accuracy(clf, xt, yt)
    meta = {"train_images": len(xs), "test_images": len(xt), "epochs": epochs, "seed": args.seed,
            "split": split, "test_accuracy": round(acc, 4)}
    path = save_classifier(clf, args.data, meta, Path(args.out))
    print(f"test accuracy {acc:.4f}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
