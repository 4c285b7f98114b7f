"""The bundled progressive GANs (assets/pgan/): recipes, a time-budgeted training run whose
phase lengths are fitted to the measured speed, and the report written beside each export.

Recipes (both: 32 px grey, grown 4 -> 8 -> 16 -> 32, channels `scale_depths(32, width)`
= 128/128/64/32 for width 128, batch 64, Adam(0, 0.99), EMA of G 0.999):
- "wgangp": WGAN-GP (weight 10) + drift 1e-3, lr 1e-3 (Karras et al. 2018's objective);
- "ns-r1":  non-saturating loss + lazy R1 (d_r1 = 1, every 4th step; Mescheder et al.
  2018, as in StyleGAN2), no drift, lr 1e-3.

`train_budgeted` trains for a wall-clock budget: growth (the first 6 phases) may use
`GROWTH_SHARE` of it, each phase a fixed share (`PHASE_SHARES`); at the start of every
phase the remaining growth time is split again and turned into images with the speed
measured over the last seconds, so a slower or faster machine still grows to 32 px in
time and spends the rest stabilising at full size.
"""
from __future__ import annotations

import json
import math
import platform
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

NAMES = {"mnist": "mnist-32", "fashion_mnist": "fashion-32"}
# Issue 14's quality bar: FD at least 5x lower than the bundled models' before it.
FD_BEFORE = {"mnist": 104.4, "fashion_mnist": 44.0}
FD_FACTOR = 5.0
SCORE_TOLERANCE = 0.10

BASE = dict(image_size=32, channels=1, model="pgan", latent_dim=128, g_width=128, d_width=128, batch_size=64,
            d_beta1=0.0, g_beta1=0.0, d_beta2=0.99, g_beta2=0.99, ema=0.999, label_smoothing=0.0, n_fixed=64,
            log_every=100, eval_every=0, progress_every=0)
RECIPES: dict[str, dict[str, Any]] = {
    "wgangp": dict(loss="wgan-gp", gp_weight=10.0, d_drift=1e-3, d_lr=1e-3, g_lr=1e-3),
    "ns-r1": dict(loss="ns", d_r1=1.0, d_r1_every=4, d_drift=0.0, d_lr=1e-3, g_lr=1e-3),
    # Larger batches: on a GPU a step of these small networks costs about the same at 64
    # and 256 images (launch-bound), so they see 2-4x the images in the same time.
    "ns-r1-b128": dict(loss="ns", d_r1=1.0, d_r1_every=4, d_drift=0.0, d_lr=1e-3, g_lr=1e-3, batch_size=128),
    "ns-r1-b256": dict(loss="ns", d_r1=1.0, d_r1_every=4, d_drift=0.0, d_lr=1e-3, g_lr=1e-3, batch_size=256),
    "ns-r1-b256-lr2e-3": dict(loss="ns", d_r1=1.0, d_r1_every=4, d_drift=0.0, d_lr=2e-3, g_lr=2e-3,
                              batch_size=256),
}
# Shares of the budget for stabilise 4, fade 8, stabilise 8, fade 16, stabilise 16, fade 32;
# the rest (1 - GROWTH_SHARE) is the final stabilisation at 32 px.
PHASE_SHARES = (0.06, 0.07, 0.08, 0.10, 0.10, 0.14)
GROWTH_SHARE = sum(PHASE_SHARES)
MIN_PHASE_IMAGES = 1024


def recipe(data: str, name: str, seed: int = 0, device: str = "cpu", **overrides: Any):
    """The Config of recipe `name` ("wgangp" or "ns-r1") on `data`, with overrides."""
    from ganlab.config import Config
    from ganlab.errors import ConfigError

    if name not in RECIPES:
        raise ConfigError(f"unknown pgan recipe {name!r}; valid: {', '.join(RECIPES)}")
    return Config(data=data, seed=seed, device=device, **{**BASE, **RECIPES[name], **overrides})


def plan_phase(phase: int, phases_done: tuple[int, ...], elapsed: float, budget: float, rate: float,
               shares: tuple[float, ...] = PHASE_SHARES) -> tuple[int, ...]:
    """Phase lengths in images from phase `phase` on, given the lengths already used
    (`phases_done`, len == phase), training seconds so far, the budget (s) and the speed
    (images / s): the growth time left (GROWTH_SHARE * budget - elapsed, at least 2% of the
    budget) split over the remaining phases in proportion to their shares.
    Returns all len(shares) lengths (done ones unchanged), each >= MIN_PHASE_IMAGES."""
    growth_left = max(sum(shares) * budget - elapsed, 0.02 * budget)
    rest = shares[phase:]
    planned = tuple(max(MIN_PHASE_IMAGES, int(growth_left * s / sum(rest) * rate)) for s in rest)
    return tuple(phases_done) + planned


class _Speed:
    """Images per second over the last `window` seconds of training."""

    def __init__(self, window: float = 8.0) -> None:
        self.window = window
        self.marks: deque[tuple[float, int]] = deque()

    def add(self, t: float, images: int) -> None:
        self.marks.append((t, images))
        while len(self.marks) > 2 and t - self.marks[0][0] > self.window:
            self.marks.popleft()

    def rate(self) -> float:
        (t0, i0), (t1, i1) = self.marks[0], self.marks[-1]
        return (i1 - i0) / (t1 - t0) if t1 > t0 else 0.0


def train_budgeted(cfg, budget: float, dataset=None, warmup_steps: int = 30,
                   on_phase: Callable[[Any, int], None] | None = None,
                   on_tick: Callable[[Any], None] | None = None, tick_every: float = 30.0):
    """A ProgressiveTrainer trained for `budget` seconds of training (its `elapsed`), the phase
    lengths fitted as the module says. on_phase(trainer, phase index) at each phase start;
    on_tick(trainer) about every `tick_every` s (e.g. to save). Returns the trainer; its
    schedule holds the phase lengths actually used."""
    from ganlab.models.pgan import scale_depths
    from ganlab.train.progressive import PGANSchedule, ProgressiveTrainer

    depths = scale_depths(cfg.image_size, cfg.g_width)
    n_phases = 2 * len(depths) - 2
    shares = PHASE_SHARES[-n_phases:] if n_phases <= len(PHASE_SHARES) else (GROWTH_SHARE / n_phases,) * n_phases
    # Provisional: phase 0 long enough for the warm-up, re-planned once the speed is known.
    trainer = ProgressiveTrainer(cfg, dataset, PGANSchedule(depths, phase_images=(10**9,) * n_phases))
    speed = _Speed()
    planned = 0  # phases whose lengths are final
    t_tick = time.perf_counter()
    while trainer.elapsed < budget:
        trainer.step()
        speed.add(trainer.elapsed, trainer.images_seen)
        starts = [sum(trainer.schedule.phases[:i]) for i in range(n_phases)]
        current = max(i for i in range(n_phases) if starts[i] <= trainer.images_seen) \
            if trainer.images_seen < sum(trainer.schedule.phases) else n_phases
        if current < n_phases and current >= planned and trainer.step_count >= warmup_steps:
            done = tuple(trainer.schedule.phases[:current])
            if current == 0:
                done = ()
            lengths = plan_phase(current, done, trainer.elapsed, budget, speed.rate(), shares)
            if current == 0:  # phase 0 already ran `images_seen` images: keep them
                lengths = (max(lengths[0], trainer.images_seen + cfg.batch_size),) + lengths[1:]
            trainer.schedule = PGANSchedule(depths, phase_images=lengths)
            planned = current + 1
            if on_phase is not None:
                on_phase(trainer, current)
        if on_tick is not None and time.perf_counter() - t_tick >= tick_every:
            t_tick = time.perf_counter()
            on_tick(trainer)
    return trainer


def evaluate_generator(trainer, n: int) -> dict[str, Any]:
    """`python -m ganlab eval`'s metrics of the run (n samples, EVAL_SEED) next to real images':
    real_reference = two disjoint halves of the data (n // 2 each) against each other, and the
    score of n real images; plus whether issue 14's quality bar is met."""
    from ganlab.classifier import has_classifier, load_classifier, predict
    from ganlab.metrics.images import classifier_score, real_images, real_reference

    if not has_classifier(trainer.info.name):
        return {"note": f"no classifier for {trainer.info.name}"}
    clf = load_classifier(trainer.info.name)
    gen = trainer.evaluate(n)
    half = min(n, len(trainer.data)) // 2
    ref = real_reference(trainer.data, n, seed=1)
    real_score = classifier_score(predict(clf, real_images(trainer, n, seed=2))[1])
    data = trainer.cfg.data
    bar = {"fd_max": FD_BEFORE.get(data, math.inf) / FD_FACTOR,
           "score_min": (1.0 - SCORE_TOLERANCE) * real_score, "classes": gen.get("classes_total")}
    ok = (gen["fd"] < bar["fd_max"] and gen["score"] >= bar["score_min"]
          and gen["classes_covered"] >= gen["classes_total"])
    return {"samples": n, "generator": gen, "real_reference": {**ref, "real_score": real_score,
                                                               "halves": half},
            "quality_bar": bar, "meets_bar": bool(ok)}


def report(trainer, name: str, command: str, threads: int, weights: Path, metrics: Mapping[str, Any],
           recipe_name: str = "", budget: float = 0.0) -> dict[str, Any]:
    """The <name>.training.json of an exported generator: recipe, command, seed, steps, images,
    seconds, device, schedule and metrics."""
    dev = trainer.device
    return {
        "name": name, "data": trainer.cfg.data, "split": trainer.data.extras.get("split"),
        "train_images": len(trainer.data), "note": trainer.info.note, "recipe": recipe_name,
        "resolution": trainer.resolution, "depths": list(trainer.schedule.depths),
        "latent_dim": trainer.cfg.latent_dim, "schedule": trainer.schedule.to_dict(),
        "steps": trainer.step_count, "images_shown": trainer.images_seen, "seed": trainer.cfg.seed,
        "train_seconds": round(trainer.elapsed, 1), "budget_seconds": budget, "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else
        (platform.processor() or platform.machine()),
        "torch_threads": threads, "torch": torch.__version__, "command": command,
        "config": trainer.cfg.diff(), "size_bytes": weights.stat().st_size, "metrics": dict(metrics),
    }


def pgan_job(job: Mapping[str, Any], work: str, rows_path: str, threads: int = 2) -> None:
    """One recipe on one data set in its own process: job = {"id", "data", "recipe", "seed",
    "device", "budget" (training seconds), "eval_samples", "command"}. Exports
    work/<id>/<name>.safetensors + .json + .training.json, appends "start" / "phase" /
    "done" / "error" records to rows_path. Never raises."""
    from ganlab.bench.sweep import append_jsonl
    from ganlab.pretrained.export import export_generator
    from ganlab.runs import save_run

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    base = {"id": job["id"], "data": job["data"], "recipe": job["recipe"], "seed": job["seed"]}
    folder = Path(work) / job["id"]
    folder.mkdir(parents=True, exist_ok=True)
    name = NAMES.get(job["data"], job["data"])
    try:
        cfg = recipe(job["data"], job["recipe"], job["seed"], job["device"], **job.get("overrides", {}))
        append_jsonl(rows_path, {**base, "event": "start", "config": cfg.diff()})

        def phase(tr, i: int) -> None:
            append_jsonl(rows_path, {**base, "event": "phase", "phase": i, "step": tr.step_count,
                                     "images": tr.images_seen, "train_s": round(tr.elapsed, 1),
                                     "phases": list(tr.schedule.phases), "d_loss": tr.last["d_loss"],
                                     "g_loss": tr.last["g_loss"]})

        def tick(tr) -> None:  # a timeout still leaves a generator to look at
            export_generator(tr, folder / name, name=name)
            append_jsonl(rows_path, {**base, "event": "tick", "step": tr.step_count, "images": tr.images_seen,
                                     "resolution": tr.current_resolution, "alpha": round(tr.alpha, 3),
                                     "train_s": round(tr.elapsed, 1), "d_loss": tr.last["d_loss"],
                                     "g_loss": tr.last["g_loss"]})

        trainer = train_budgeted(cfg, job["budget"], on_phase=phase, on_tick=tick,
                                 tick_every=job.get("tick_every", 60.0))
        weights = export_generator(trainer, folder / name, name=name)
        save_run(trainer, folder / "run")
        from ganlab.imageio import save_png
        from ganlab.progress import fixed_grid

        save_png(fixed_grid(trainer, 64), folder / f"{name}.png")  # the README's 8x8 grid (EMA G)
        t_eval = time.perf_counter()
        metrics = evaluate_generator(trainer, job["eval_samples"])
        rep = report(trainer, name, job["command"], threads, weights, metrics, job["recipe"], job["budget"])
        rep["eval_seconds"] = round(time.perf_counter() - t_eval, 1)
        (folder / f"{name}.training.json").write_text(json.dumps(rep, indent=1) + "\n")
        append_jsonl(rows_path, {**base, "event": "done", "steps": trainer.step_count,
                                 "images": trainer.images_seen, "train_s": round(trainer.elapsed, 1),
                                 "metrics": metrics, "folder": str(folder),
                                 "wall_s": round(time.perf_counter() - t0, 1)})
    except BaseException as exc:  # report, never take the sibling runs down
        append_jsonl(rows_path, {**base, "event": "error", "error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc()[-4000:],
                                 "wall_s": round(time.perf_counter() - t0, 1)})
