"""`python -m ganlab bench mnist`: image GANs, speed against the textbook loop, and quality.

For each model (mlp, cgan, dcgan, cdcgan), with the model's default preset on
the data that is present:
- speed: real images per second seen by D in the ganlab Trainer and in the
  plain textbook PyTorch loop for the same architecture (a DataLoader over
  per-image tensors in [0, 1], each batch normalised to [-1, 1], separate D
  passes on real and fake with two backward calls, BCE with the same smoothed
  real label, plain torch layers, as the classic PyTorch GAN examples do); each
  loop runs `--speed-seconds` in alternating chunks, the EMA of G off (the
  textbook loop has none); ratio > 1 means ganlab is faster (cpu_ratio: the
  same per CPU second, steadier on a shared machine). Where ganlab wins:
  no per-image loading (batches are sliced from one uint8 tensor), one D pass
  on real + fake when D has no BatchNorm, no D weight gradients in G's update,
  fused Adam, and, in the DCGANs, G's bottom layer and D's top layer computed as
  the matrix products they are (`BottomConvT`, `TopConv`);
- quality: a fresh Trainer trains for a budget of training time (`--seconds`),
  evaluated every `--eval-every` steps (500) on `--eval-samples` balanced samples to
  find the step at which each target of `ganlab.bench.thresholds` is first reached
  (the `first_reached` column: cgan cond_acc >= 0.90, cdcgan >= 0.95, every class
  covered); then its generator gets the classifier metrics of
  `ganlab.metrics.images` on `--eval-samples` samples (and the Parzen estimate
  with `--parzen`), next to the same metrics of real images as a reference.
Targets on a 2-core CPU with the 10,000-image MNIST split: every model covers
all 10 classes, cgan's cond_acc >= 0.9, DCGAN's digits recognisable after 2
minutes (look at the grids written with `--out DIR`), ratio > 1.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from ganlab.bench import at_least, choices, format_table, positive_seconds
from ganlab.seeds import EVAL_SEED
from ganlab.metrics.images import real_reference

MODEL_NAMES = ("mlp", "cgan", "dcgan", "cdcgan")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="mnist", help="mnist or fashion_mnist")
    p.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated model names")
    p.add_argument("--seconds", type=float, default=120.0, help="Trainer budget per model")
    p.add_argument("--speed-seconds", type=float, default=30.0,
                   help="per model: seconds of each loop (Trainer, textbook) in the speed comparison")
    p.add_argument("--eval-samples", type=int, default=5000)
    p.add_argument("--eval-every", type=int, default=500,
                   help="steps between the evaluations that find when each target is first reached")
    p.add_argument("--parzen", action="store_true", help="add the Parzen estimate (10,000 samples; slow)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for each model's run directory and progress grid")


class _PerImage(TorchDataset):
    """Per-image float tensors (C, H, W) in [0, 1] and int labels, like torchvision's MNIST + ToTensor."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.images = [img.float().div(255.0) for img in x.cpu()]
        self.labels = [int(v) for v in y.cpu()]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], self.labels[i]


def plain_layers(module: torch.nn.Module) -> torch.nn.Module:
    """The same network with ganlab's matmul layers (`BottomConvT`, `TopConv`) swapped for the
    plain nn.ConvTranspose2d / nn.Conv2d a textbook model uses (same weights, same function)."""
    from ganlab.models.dcgan import BottomConvT, TopConv

    for name, child in module.named_children():
        if isinstance(child, (BottomConvT, TopConv)):
            cls = torch.nn.ConvTranspose2d if isinstance(child, BottomConvT) else torch.nn.Conv2d
            plain = cls(child.in_channels, child.out_channels, child.kernel_size, child.stride,
                        child.padding, bias=child.bias is not None)
            plain.load_state_dict(child.state_dict())
            setattr(module, name, plain)
        else:
            plain_layers(child)
    return module


class TextbookLoop:
    """The classic PyTorch GAN loop for cfg's architecture (fresh G and D), run in timed chunks."""

    def __init__(self, cfg, data, device: torch.device) -> None:
        from ganlab.models import build_models

        torch.manual_seed(cfg.seed)
        self.cfg, self.device = cfg, device
        self.G, self.D = (plain_layers(net) for net in build_models(cfg, data.info))
        self.G.to(device)
        self.D.to(device)
        self.cond = getattr(self.G, "num_classes", 0)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.d_lr, betas=(cfg.d_beta1, cfg.d_beta2))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.g_lr, betas=(cfg.g_beta1, cfg.g_beta2))
        self.loader = DataLoader(_PerImage(data.x, data.y), batch_size=cfg.batch_size, shuffle=True,
                                 drop_last=True)
        self.batches = iter(self.loader)
        b = cfg.batch_size
        self.real_label = torch.full((b,), 1.0 - cfg.label_smoothing, device=device)
        self.fake_label = torch.zeros(b, device=device)
        self.ones = torch.ones(b, device=device)

    def _next(self) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            return next(self.batches)
        except StopIteration:  # a new epoch
            self.batches = iter(self.loader)
            return next(self.batches)

    def step(self) -> None:
        cfg, G, D, b = self.cfg, self.G, self.D, self.cfg.batch_size
        real, y = self._next()
        real = (real.to(self.device) - 0.5) / 0.5  # normalise the batch to [-1, 1]
        y = y.to(self.device) if self.cond else None
        D.zero_grad()
        F.binary_cross_entropy_with_logits(D(real, y), self.real_label).backward()
        z = torch.randn(b, cfg.latent_dim, device=self.device)
        y_fake = torch.randint(self.cond, (b,), device=self.device) if self.cond else None
        fake = G(z, y_fake)
        F.binary_cross_entropy_with_logits(D(fake.detach(), y_fake), self.fake_label).backward()
        self.opt_d.step()
        G.zero_grad()
        F.binary_cross_entropy_with_logits(D(fake, y_fake), self.ones).backward()
        self.opt_g.step()

    def run(self, seconds: float) -> tuple[int, float, float]:
        """Steps for about `seconds` -> (real images seen, wall seconds, CPU seconds)."""
        images, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            self.step()
            images += self.cfg.batch_size
        return images, time.perf_counter() - t0, time.process_time() - c0


@dataclass
class Speed:
    """Images per second of the two loops, by the wall clock and per CPU second."""

    ours: float
    textbook: float
    ours_cpu: float
    textbook_cpu: float


def compare_speed(cfg, data, seconds: float, rounds: int = 10) -> Speed:
    """Speeds of the Trainer and of the textbook loop for cfg, each run `seconds` in total.

    The two loops alternate in `rounds` chunks so that a change in the machine's
    load (these CPUs are shared) hits both alike; images per CPU second (process
    time) are reported too, as they depend much less on other processes.
    """
    from ganlab.train import Trainer

    trainer = Trainer(cfg, dataset=data)
    book = TextbookLoop(cfg, data, trainer.device)
    trainer.run(steps=3)  # warm-up (allocator, first-call overheads), not timed
    for _ in range(3):
        book.step()
    ours = [0, 0.0, 0.0]
    theirs = [0, 0.0, 0.0]
    for _ in range(rounds):
        s0, t0, c0 = trainer.step_count, time.perf_counter(), time.process_time()
        trainer.run(minutes=seconds / rounds / 60.0)
        ours[0] += (trainer.step_count - s0) * cfg.batch_size * cfg.d_steps
        ours[1] += time.perf_counter() - t0
        ours[2] += time.process_time() - c0
        for i, v in enumerate(book.run(seconds / rounds)):
            theirs[i] += v
    return Speed(ours[0] / ours[1], theirs[0] / theirs[1], ours[0] / ours[2], theirs[0] / theirs[2])


def run(args: argparse.Namespace) -> dict:
    from ganlab.runs import save_run
    from ganlab.data import build_dataset
    from ganlab.errors import ConfigError
    from ganlab.imageio import save_png
    from ganlab.metrics.images import image_metrics, parzen_for_run
    from ganlab.presets import resolve_config
    from ganlab.progress import class_grid, fixed_grid
    from ganlab.bench.sweep import train_and_track
    from ganlab.bench.thresholds import first_reached, format_reached, met_targets
    from ganlab.data.images import IDX_SETS

    if args.data not in IDX_SETS:
        raise ConfigError(f"--data takes one of {', '.join(IDX_SETS)}; got {args.data!r}")
    models = choices(args.models, "--models", MODEL_NAMES)
    # 0 s would mean "no limit" to the training loop, and no measurement at all to the speed loops.
    positive_seconds(args.seconds, "--seconds")
    positive_seconds(args.speed_seconds, "--speed-seconds")
    at_least(args.eval_samples, "--eval-samples")
    at_least(args.eval_every, "--eval-every")
    at_least(args.threads, "--threads")
    at_least(args.seed, "--seed", 0)
    torch.set_num_threads(args.threads)
    base = resolve_config(args.data, None, {"seed": args.seed, "device": args.device})
    data = build_dataset(base.data_options())
    out = Path(args.out) if args.out else None
    rows = []
    for m in models:
        cfg = resolve_config(args.data, None, {"model": m, "seed": args.seed, "device": args.device,
                                               "eval_every": 0, "progress_every": 0})
        # Speed with the EMA of G off: the textbook loop keeps no average, so both do the same work.
        sp = compare_speed(cfg.replace(ema=0.0), data, args.speed_seconds)
        # Evaluated every --eval-every steps (outside the training budget) to find the step at
        # which each of issue 14's targets is first met.
        trainer, evals = train_and_track(cfg, 1 << 62, eval_every=args.eval_every,
                                         eval_samples=args.eval_samples, seconds=args.seconds, dataset=data)
        reached = first_reached(m, evals)
        row = {"model": m, "steps": trainer.step_count, "train_s": round(trainer.elapsed, 1),
               "first_reached": format_reached(reached), "reached": reached,
               "targets_met": met_targets(m, reached), "evals": evals,
               "img_s": sp.ours, "textbook_img_s": sp.textbook, "ratio": sp.ours / sp.textbook,
               "cpu_ratio": sp.ours_cpu / sp.textbook_cpu}
        row.update(image_metrics(trainer, args.eval_samples, seed=args.seed + EVAL_SEED))
        if args.parzen:
            row.update(parzen_for_run(trainer, seed=args.seed).as_metrics())
        if out is not None:
            save_run(trainer, out / m)
            save_png(fixed_grid(trainer, 100), out / f"{m}.png")
            if trainer.num_classes:
                save_png(class_grid(trainer), out / f"{m}_classes.png")
        rows.append(row)
    reference = real_reference(data, args.eval_samples, args.seed)
    return {"data": args.data, "images": len(data), "note": data.info.note, "threads": args.threads,
            "seconds": args.seconds, "speed_seconds": args.speed_seconds,
            "eval_samples": args.eval_samples, "eval_every": args.eval_every, "rows": rows, "real_reference": reference}


def table(result: dict) -> str:
    cols = ["model", "steps", "img_s", "textbook_img_s", "ratio", "cpu_ratio", "fd", "score", "classes_covered",
            "class_entropy", "cond_acc", "first_reached"]
    if any("parzen_ll" in r for r in result["rows"]):
        cols += ["parzen_ll", "parzen_se", "parzen_sigma"]
    real = {"model": "(real images)", **result["real_reference"]}
    head = (f"bench mnist: {result['data']}, {result['images']:,} images, {result['threads']} thread(s), "
            f"{result['seconds']:g} s of training per model; speed: {result['speed_seconds']:g} s of each "
            "loop, alternating; "
            f"metrics on {result['eval_samples']} samples; first_reached: the step of the first evaluation "
            f"(every {result.get('eval_every', 500)} steps) meeting each target (- = not within the budget)")
    note = f"\nnote: {result['note']}" if result["note"] else ""
    return head + note + "\n" + format_table(result["rows"] + [real], cols)
