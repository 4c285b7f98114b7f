"""Issue 14's preset sweep: MNIST models trained with candidate settings, evaluated every
500 steps, and the step at which each target is first met (`ganlab.bench.thresholds`).

`SETTINGS` lists, per model, named overrides of the model's preset (`mnist_cgan`,
`mnist_cdcgan`, `mnist_dcgan` in `ganlab.presets`); the cgan candidates keep the seed
architecture (one hidden layer of 128, LeakyReLU, one-hot joined to both inputs) and
change only how it is trained. `train_and_track` trains one setting and appends a JSON
line per evaluation to a file as it goes, so a run cut short still leaves its rows;
`scripts/gpu_session.py` runs many of them in parallel processes.
"""
from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping

from ganlab.bench.thresholds import EVAL_EVERY, EVAL_SAMPLES, first_reached, met_targets

# model -> (steps, {setting name: overrides of the model's preset}). "preset" is today's preset.
_ADAM0 = dict(d_beta1=0.0, g_beta1=0.0, d_beta2=0.99, g_beta2=0.99)
SETTINGS: dict[str, tuple[int, dict[str, dict[str, Any]]]] = {
    "cgan": (5000, {
        "preset": {},
        "b256": dict(batch_size=256),
        "b256-ls0": dict(batch_size=256, label_smoothing=0.0),
        "b256-d2": dict(batch_size=256, d_steps=2),
        "b256-lr2e-3": dict(batch_size=256, d_lr=2e-3, g_lr=2e-3),
        "b512-adam0": dict(batch_size=512, **_ADAM0),
        "b128-dlr2e-3": dict(batch_size=128, d_lr=2e-3, g_lr=1e-3, ema=0.99),
        # Over today's preset (batch 512, Adam (0, 0.99), lr 2e-3): D steps, and a share of
        # D's fake term given to real images with wrong labels (the matching-aware D).
        "d2": dict(d_steps=2, d_mismatch=0.0),
        "mismatch0": dict(d_mismatch=0.0),
        "mismatch0.35": dict(d_mismatch=0.35),
        "mismatch0.5": dict(d_mismatch=0.5),
        "mismatch0.25-d2": dict(d_mismatch=0.25, d_steps=2),
    }),
    "cdcgan": (2000, {
        "preset": {},
        "b128": dict(batch_size=128),
        "b128-lr5e-4": dict(batch_size=128, d_lr=5e-4, g_lr=1e-3),
        "b256-lr5e-4-ls0": dict(batch_size=256, d_lr=5e-4, g_lr=1e-3, label_smoothing=0.0),
    }),
    "dcgan": (2000, {
        "preset": {},
        "b128": dict(batch_size=128),
        "b128-ema999": dict(batch_size=128, ema=0.999),
    }),
}
# How a setting's outcome ranks (lower is better): targets met first, then the step at
# which the model's main target was first reached, then the last main metric.
MAIN_METRIC = {"cgan": "cond_acc", "cdcgan": "cond_acc", "dcgan": "score", "mlp": "score"}


def job_config(model: str, overrides: Mapping[str, Any], seed: int, device: str, data: str = "mnist"):
    """The Config of one sweep job: the model's tuned preset, then the overrides."""
    from ganlab.presets import resolve_config

    return resolve_config(data, None, {"model": model, "seed": seed, "device": device, "eval_every": 0,
                                       "progress_every": 0, **overrides})


def train_and_track(cfg, steps: int, *, eval_every: int = EVAL_EVERY, eval_samples: int = EVAL_SAMPLES,
                    seconds: float = 0.0, dataset=None,
                    on_eval: Callable[[dict[str, float]], None] | None = None):
    """Train a fresh Trainer for `steps` (and at most `seconds` of training, 0 = no limit),
    evaluating every `eval_every` steps and at the end on `eval_samples` balanced samples.

    Evaluation time is kept out of the training time: the budget counts training only.
    Returns (trainer, rows): rows {"step", "train_s", metrics...}, one per evaluation,
    each also passed to `on_eval` as it is made.
    """
    from ganlab.train import Trainer

    trainer = Trainer(cfg, dataset=dataset)
    rows: list[dict[str, float]] = []
    while trainer.step_count < steps:
        if seconds and trainer.elapsed >= seconds:
            break
        chunk = min(eval_every - trainer.step_count % eval_every, steps - trainer.step_count)
        left = seconds - trainer.elapsed if seconds else 0.0
        trainer.run(steps=chunk, minutes=left / 60.0 if seconds else 0.0)
        if trainer.step_count % eval_every == 0 or trainer.step_count >= steps \
                or (seconds and trainer.elapsed >= seconds):
            row = {"step": trainer.step_count, "train_s": round(trainer.elapsed, 2),
                   **trainer.evaluate(eval_samples)}
            rows.append(row)
            if on_eval is not None:
                on_eval(row)
    return trainer, rows


def append_jsonl(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line with a single write (O_APPEND): lines from parallel processes
    never interleave, and what is written survives the writer being killed."""
    data = (json.dumps(record) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def sweep_job(job: Mapping[str, Any], rows_path: str, threads: int = 2) -> None:
    """One sweep job in its own process: job = {"id", "model", "setting", "overrides", "steps",
    "seed", "device", "eval_every", "eval_samples"}. Writes to `rows_path` (JSONL) a "start"
    record, one "eval" record per evaluation and a "done" (first-reached steps, whether the
    targets were met, seconds) or "error" (the traceback) record. Never raises."""
    import torch

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    base = {"id": job["id"], "model": job["model"], "setting": job["setting"], "seed": job["seed"]}
    try:
        cfg = job_config(job["model"], job["overrides"], job["seed"], job["device"])
        append_jsonl(rows_path, {**base, "event": "start", "config": cfg.diff(), "pid": os.getpid()})
        _, rows = train_and_track(
            cfg, job["steps"], eval_every=job["eval_every"], eval_samples=job["eval_samples"],
            on_eval=lambda r: append_jsonl(rows_path, {**base, "event": "eval", **r}))
        reached = first_reached(job["model"], rows)
        append_jsonl(rows_path, {**base, "event": "done", "first_reached": reached,
                                 "targets_met": met_targets(job["model"], reached),
                                 "wall_s": round(time.perf_counter() - t0, 1)})
    except BaseException as exc:  # a failing job must report, never take its siblings down
        append_jsonl(rows_path, {**base, "event": "error", "error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc()[-4000:],
                                 "wall_s": round(time.perf_counter() - t0, 1)})


def summarise(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """JSONL records of many jobs -> {"jobs": {id: {...model, setting, seed, config, evals, status,
    first_reached, targets_met}}, "best": {model: setting}}; status is "done", "error", or
    "running" / "killed" for jobs without an end record (the caller says which)."""
    jobs: dict[str, dict[str, Any]] = {}
    for r in records:
        j = jobs.setdefault(r["id"], {"model": r["model"], "setting": r["setting"], "seed": r["seed"],
                                      "status": "running", "evals": []})
        event = r.get("event")
        if event == "start":
            j["config"] = r.get("config", {})
        elif event == "eval":
            j["evals"].append({k: v for k, v in r.items() if k not in ("id", "model", "setting", "seed", "event")})
        elif event == "done":
            j.update(status="done", first_reached=r["first_reached"], targets_met=r["targets_met"],
                     wall_s=r["wall_s"])
        elif event == "error":
            j.update(status="error", error=r["error"], traceback=r.get("traceback", ""), wall_s=r.get("wall_s"))
    for j in jobs.values():
        if "first_reached" not in j:  # partial: what the rows so far show
            j["first_reached"] = first_reached(j["model"], j["evals"])
            j["targets_met"] = met_targets(j["model"], j["first_reached"])
    return {"jobs": jobs, "best": best_settings(jobs)}


def _rank(job: Mapping[str, Any]) -> tuple:
    reached = [v for v in job["first_reached"].values()]
    worst = max((v if v is not None else 10**9) for v in reached) if reached else 10**9
    last = job["evals"][-1].get(MAIN_METRIC.get(job["model"], "score"), 0.0) if job["evals"] else 0.0
    return (not job["targets_met"], worst, -float(last))


def best_settings(jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """model -> the setting whose seed-0 job ranks best (targets met, soonest, best last metric)."""
    best: dict[str, tuple[tuple, str]] = {}
    for j in jobs.values():
        if j["seed"] != 0 or not j["evals"]:
            continue
        key = _rank(j)
        if j["model"] not in best or key < best[j["model"]][0]:
            best[j["model"]] = (key, j["setting"])
    return {m: s for m, (_, s) in best.items()}
