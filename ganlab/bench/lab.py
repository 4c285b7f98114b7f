"""`python -m ganlab bench lab`: steps/s of 1 run and of k side-by-side runs.

Four trainers are timed on the same configs, interleaved in rounds so that
machine noise hits them alike (the best round of each is reported). Each is
timed by the wall clock and by the CPU time of this thread (torch runs on
`--threads` 1 here), which a busy shared machine does not inflate:
  trainer x1  - one ordinary `Trainer` (the reference cost of one run);
  batched x1  - `MultiTrainer` with that one run (the batching's own overhead);
  batched xk  - `MultiTrainer` with k runs differing in latent dimension;
  loop xk     - the same k runs as k `Trainer`s stepped in turn (the baseline).
The issue's target is batched xk costing at most 2x trainer x1
(`cost_k_vs_1` = trainer x1 steps/s / batched xk steps/s).
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import torch

from ganlab.bench import at_least, format_table
from ganlab.config import Config, parse_assignments
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer
from ganlab.presets import resolve_config
from ganlab.train import Trainer

LATENTS = (1, 2, 8, 100, 4, 16, 32, 64)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="lab-latent-2d", help="base preset of the runs")
    p.add_argument("--runs", type=int, default=4, help="side-by-side runs k (latent dims 1, 2, 8, 100, ...)")
    p.add_argument("--steps", type=int, default=100, help="timed steps per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best is reported)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="cpu | auto | cuda | mps")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field")


def _configs(args: argparse.Namespace) -> list[Config]:
    over = {"eval_every": 0, "device": args.device, **parse_assignments(args.set)}
    base = resolve_config(None, args.preset, over)
    return [base.replace(latent_dim=LATENTS[i % len(LATENTS)]) for i in range(args.runs)]


def _rates(step: Callable[[], Any], steps: int, device: str) -> tuple[float, float]:
    """(steps per wall-clock second, steps per CPU second of this thread)."""
    sync = torch.cuda.synchronize if device in ("cuda", "auto") and torch.cuda.is_available() else None
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(steps):
        step()
    if sync:
        sync()
    return steps / (time.perf_counter() - t0), steps / max(time.thread_time() - c0, 1e-9)


def run(args: argparse.Namespace) -> dict:
    at_least(args.runs, "--runs")
    at_least(args.steps, "--steps")
    at_least(args.rounds, "--rounds")
    at_least(args.threads, "--threads")
    torch.set_num_threads(args.threads)
    cfgs = _configs(args)
    one = Trainer(cfgs[0])
    loop = LoopTrainer(cfgs)
    subjects: dict[str, Callable[[], Any]] = {
        "trainer_x1": one.step,
        "batched_x1": MultiTrainer(cfgs[:1]).step,
        "batched_xk": MultiTrainer(cfgs).step,
        "loop_xk": loop.step,
    }
    for step in subjects.values():  # warm-up: allocator, first-call dispatch
        for _ in range(5):
            step()
    wall = {name: 0.0 for name in subjects}
    cpu = {name: 0.0 for name in subjects}
    for _ in range(args.rounds):
        for name, step in subjects.items():
            w, c = _rates(step, args.steps, args.device)
            wall[name], cpu[name] = max(wall[name], w), max(cpu[name], c)
    c0 = cfgs[0]
    out: dict[str, Any] = {
        "preset": args.preset, "k": args.runs, "latent_dims": [x.latent_dim for x in cfgs],
        "net": f"G {c0.g_layers}x{c0.g_width}, D {c0.d_layers}x{c0.d_width}, batch {c0.batch_size}",
        "threads": args.threads, "device": str(one.device),
    }
    # On a GPU the thread's CPU time is not the cost: report the wall clock only.
    clocks = {"wall": wall} if one.device.type != "cpu" else {"wall": wall, "cpu": cpu}
    for clock, best in clocks.items():
        out[f"steps_per_s_{clock}"] = {k: round(v, 1) for k, v in best.items()}
        out[f"cost_k_vs_1_{clock}"] = round(best["trainer_x1"] / best["batched_xk"], 3)
        out[f"batched_overhead_x1_{clock}"] = round(best["trainer_x1"] / best["batched_x1"], 3)
        out[f"speedup_vs_loop_{clock}"] = round(best["batched_xk"] / best["loop_xk"], 3)
    return out


def table(result: dict) -> str:
    k = result["k"]
    clocks = [c for c in ("wall", "cpu") if f"steps_per_s_{c}" in result]
    names = [("trainer_x1", "Trainer x1", 1), ("batched_x1", "MultiTrainer x1", 1),
             ("batched_xk", f"MultiTrainer x{k}", k), ("loop_xk", f"loop of {k} Trainers", k)]
    rows = []
    for key, label, runs in names:
        row: dict[str, Any] = {"trainer": label, "runs": runs}
        for clock in clocks:
            sps = result[f"steps_per_s_{clock}"][key]
            row[f"steps/s ({clock})"] = sps
            row[f"run-steps/s ({clock})"] = round(runs * sps, 1)
        rows.append(row)
    head = (f"preset {result['preset']}: {result['net']}; latent dims {result['latent_dims']}; "
            f"{result['device']}, {result['threads']} thread(s)")
    tail = []
    for clock in clocks:
        tail.append(f"[{clock}] cost of {k} batched runs / 1 run: {result[f'cost_k_vs_1_{clock}']:.2f}x "
                    f"(target <= 2x); MultiTrainer x1 / Trainer x1: "
                    f"{result[f'batched_overhead_x1_{clock}']:.2f}x; batched vs loop of {k}: "
                    f"{result[f'speedup_vs_loop_{clock}']:.2f}x faster")
    return "\n".join([head, format_table(rows), *tail])
