"""Train the bundled progressive GANs (assets/pgan/) from scratch: the committed recipe.

    python scripts/train_pgan_assets.py mnist --device cuda
    python scripts/train_pgan_assets.py fashion_mnist --device cuda

The bundled files came from `scripts/gpu_session.py pgan` (a 200 s budget on one H200, two runs at once,
phase lengths fitted to the measured speed); this script replays what that run did,
with the same recipe, seed, steps and phase lengths (recorded in
assets/pgan/<name>.training.json): it grows 4 -> 8 -> 16 -> 32 px (channels
128/128/64/32, latent 128, batch 64, the non-saturating loss with lazy R1 (weight 1,
every 4th step), Adam(0, 0.99) lr 1e-3, EMA 0.999) and exports the averaged generator
as assets/pgan/<name>.safetensors + .json (loadable with
`ganlab.pretrained.load_generator`) and writes <name>.training.json: data set and
split, steps, images, wall time, device, threads and the classifier metrics
(`ganlab.metrics.images`) of 5,000 samples next to those of 5,000 real images.
The run directory (--run-dir, resumable with --resume) keeps the full state.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

import ganlab
from ganlab.bench.pgan_assets import evaluate_generator
from ganlab.config import Config
from ganlab.errors import GanlabError
from ganlab.runs import load_run, save_run
from ganlab.pretrained.export import export_generator
from ganlab.train.progressive import PGANSchedule, ProgressiveTrainer

ASSET_DIR = Path(ganlab.__file__).resolve().parents[1] / "assets" / "pgan"
NAMES = {"mnist": "mnist-32", "fashion_mnist": "fashion-32"}
# The run of each bundled generator: (steps, images per phase) as the GPU session recorded them.
RUNS = {"mnist": (13_114, (121_342, 126_468, 95_404, 127_358, 54_928, 96_988)),
        "fashion_mnist": (13_104, (108_309, 128_324, 97_601, 142_266, 56_286, 78_719))}


def recipe(data: str, device: str, seed: int) -> Config:
    """The bundled generators' Config (`ganlab.bench.pgan_assets.recipe` "ns-r1")."""
    from ganlab.bench.pgan_assets import recipe as session_recipe

    return session_recipe(data, "ns-r1", seed=seed, device=device).replace(
        steps=RUNS[data][0], n_fixed=64, log_every=100, eval_every=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", choices=sorted(NAMES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="default: the bundled run's steps")
    ap.add_argument("--run-dir", default=None, help="default: runs/pgan-<name>")
    ap.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    ap.add_argument("--phase-images", default=None,
                    help="comma-separated images per phase (stabilise 4 px, fade-in 8 px, stabilise 8 px, ...); "
                         "default: the bundled run's")
    ap.add_argument("--out", default=str(ASSET_DIR))
    ap.add_argument("--eval-samples", type=int, default=5000)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = NAMES[args.data]
    run_dir = Path(args.run_dir or f"runs/pgan-{name}")
    try:
        steps, recorded = RUNS[args.data]
        args.steps = args.steps or steps
        cfg = recipe(args.data, args.device, args.seed).replace(steps=args.steps)
        phases = tuple(int(n) for n in args.phase_images.split(",")) if args.phase_images else recorded
        schedule = PGANSchedule.for_config(cfg, phase_images=phases)
        if args.resume:
            trainer = load_run(run_dir, device=args.device, schedule=schedule)
            trainer.update(steps=args.steps)
        else:
            trainer = ProgressiveTrainer(cfg, schedule=schedule)
        t0 = time.perf_counter()
        last_save = [t0]

        def progress(tr: ProgressiveTrainer, p) -> None:
            print(f"step {p.step}/{p.total} {tr.current_resolution}px alpha={tr.alpha:.2f} "
                  f"d={p.d_loss:.3f} g={p.g_loss:.3f} {p.elapsed:.0f}s", flush=True)
            if time.perf_counter() - last_save[0] > 120:
                save_run(tr, run_dir)
                last_save[0] = time.perf_counter()

        trainer.run(steps=max(args.steps - trainer.step_count, 0), on_progress=progress, progress_every=30.0)
        save_run(trainer, run_dir)
        weights = export_generator(trainer, Path(args.out) / name, name=name)
        t_eval = time.perf_counter()
        report = {
            "name": name, "data": args.data, "split": trainer.data.extras.get("split"),
            "train_images": len(trainer.data), "note": trainer.info.note,
            "resolution": trainer.resolution, "depths": list(trainer.schedule.depths),
            "latent_dim": trainer.cfg.latent_dim, "schedule": trainer.schedule.to_dict(),
            "steps": trainer.step_count, "images_shown": trainer.images_seen,
            "train_seconds": round(trainer.elapsed, 1), "device": str(trainer.device),
            "cpu": platform.processor() or platform.machine(), "torch_threads": args.threads,
            "torch": torch.__version__, "command": "python scripts/train_pgan_assets.py " + " ".join(
                sys.argv[1:] if argv is None else argv),
            "config": trainer.cfg.diff(), "size_bytes": weights.stat().st_size,
        }
        report["metrics"] = evaluate_generator(trainer, args.eval_samples)
        report["eval_seconds"] = round(time.perf_counter() - t_eval, 1)
        (Path(args.out) / f"{name}.training.json").write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(report, indent=1))
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
