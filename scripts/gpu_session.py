"""One-shot GPU session for issue 14: the preset sweep and the bundled progressive GANs,
many small trainings in parallel processes, each part under a hard wall-clock budget,
results written as they come so that a timeout still leaves partial results.

    PYTHONPATH=. GANLAB_DATA=.devicedata python3 scripts/gpu_session.py sweep --out $OUT
    PYTHONPATH=. GANLAB_DATA=.devicedata python3 scripts/gpu_session.py pgan --out $OUT
    python scripts/gpu_session.py sweep --tiny --out /tmp/o     # the CPU rehearsal (seconds)

Parts (scripts/gpu_session.sh runs them side by side, then packs the logs):
- sweep: `ganlab.bench.sweep.SETTINGS` (cgan 5,000 steps, cdcgan / dcgan 2,000) on MNIST,
  evaluated every 500 steps on 5,000 balanced samples; when every seed-0 job of a model has
  ended, the best setting is trained again with seeds 1 and 2. Writes OUT/sweep.json
  (rewritten every few seconds; every job's rows, first-reached steps, best setting).
- pgan: `ganlab.bench.pgan_assets.RECIPES` x {mnist, fashion_mnist}, each trained for
  --pgan-train-s seconds, exported, evaluated on 10,000 samples; the best per data set
  (meets the quality bar, then lowest FD) goes to OUT/<name>.safetensors, .json and
  .training.json (with every candidate's metrics).
Work files (rows, candidates, grids, runs) go to --work; the wrapper tars the small ones.
Each job runs in its own spawned process (CUDA needs spawn), torch threads 2; a job that
fails writes an "error" record and the others go on; at a part's deadline the jobs still
running are terminated and marked "killed".
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

from ganlab.bench.pgan_assets import NAMES, RECIPES
from ganlab.bench.sweep import SETTINGS, summarise, sweep_job
from ganlab.bench.pgan_assets import pgan_job
from ganlab.bench.thresholds import EVAL_EVERY, EVAL_SAMPLES, format_reached
from ganlab.files import write_text_atomic

PARTS = ("sweep", "pgan")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a JSONL file (a line being written is skipped)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def run_jobs(jobs: list[dict[str, Any]], target: Callable, extra_args: tuple, workers: int, deadline: float,
             on_poll: Callable[[], None], on_end: Callable[[dict[str, Any], int | None], list[dict[str, Any]]],
             poll_s: float = 1.0, report_s: float = 5.0) -> dict[str, str]:
    """Run target(job, *extra_args) for every job in spawned processes, `workers` at a time,
    until all ended or time.time() passes `deadline` (then the rest are terminated).
    on_end(job, exitcode) may return more jobs to queue. Returns job id -> "ended (rc)" /
    "killed" / "not started"."""
    ctx = mp.get_context("spawn")
    queue = list(jobs)
    running: dict[str, tuple[Any, dict[str, Any]]] = {}
    status: dict[str, str] = {}
    t_report = 0.0
    while queue or running:
        for jid, (proc, job) in list(running.items()):
            if not proc.is_alive():
                proc.join()
                status[jid] = f"ended ({proc.exitcode})"
                del running[jid]
                queue.extend(on_end(job, proc.exitcode))
        if time.time() >= deadline:
            break
        while queue and len(running) < workers:
            job = queue.pop(0)
            proc = ctx.Process(target=target, args=(job, *extra_args), name=job["id"], daemon=False)
            proc.start()
            running[job["id"]] = (proc, job)
            log(f"start {job['id']} (pid {proc.pid}; {len(running)} running, {len(queue)} queued)")
        if time.time() - t_report >= report_s:
            t_report = time.time()
            on_poll()
        time.sleep(poll_s)
    for jid, (proc, _) in running.items():
        log(f"deadline: terminating {jid}")
        proc.terminate()
    for jid, (proc, _) in running.items():
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(2)
        status[jid] = "killed"
    for job in queue:
        status[job["id"]] = "not started"
    on_poll()
    return status


# --- part a: the preset sweep ----------------------------------------------------------

def sweep_jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    jobs = []
    for model in ("cgan", "cdcgan", "dcgan"):  # cgan first: its jobs are the longest
        steps, settings = SETTINGS[model]
        names = list(settings)[:args.max_settings] if args.max_settings else list(settings)
        for name in names:
            jobs.append(_sweep_job(args, model, name, settings[name], steps, seed=0))
    return jobs


def _sweep_job(args, model: str, setting: str, overrides: dict, steps: int, seed: int) -> dict[str, Any]:
    return {"id": f"{model}-{setting}-s{seed}", "model": model, "setting": setting, "overrides": overrides,
            "steps": args.steps or steps, "seed": seed, "device": args.device, "eval_every": args.eval_every,
            "eval_samples": args.eval_samples}


def sweep_table(summary: dict[str, Any]) -> str:
    lines = [f"{'job':<34} {'status':<8} {'last step':>9} {'cond_acc':>8} {'classes':>7} {'score':>6} "
             f"{'fd':>7}  first reached"]
    for jid, j in sorted(summary["jobs"].items()):
        last = j["evals"][-1] if j["evals"] else {}
        lines.append(f"{jid:<34} {j['status']:<8} {last.get('step', 0):>9} {last.get('cond_acc', float('nan')):>8.3f} "
                     f"{last.get('classes_covered', float('nan')):>7.0f} {last.get('score', float('nan')):>6.2f} "
                     f"{last.get('fd', float('nan')):>7.2f}  {format_reached(j['first_reached'])}"
                     f"{'  TARGETS MET' if j['targets_met'] else ''}")
    lines.append("best (seed 0): " + ", ".join(f"{m}: {s}" for m, s in summary["best"].items()))
    return "\n".join(lines)


def run_sweep(args: argparse.Namespace, out: Path, work: Path) -> None:
    rows = work / "sweep.jsonl"
    jobs = sweep_jobs(args)
    seed0 = {m: {j["id"] for j in jobs if j["model"] == m} for m in SETTINGS}
    ended: set[str] = set()
    status: dict[str, str] = {}
    meta = {"part": "sweep", "device": args.device, "eval_every": args.eval_every,
            "eval_samples": args.eval_samples, "settings": {m: {"steps": s, "settings": v}
                                                            for m, (s, v) in SETTINGS.items()},
            "command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%d %H:%M:%S")}

    def summary() -> dict[str, Any]:
        found = summarise(read_jsonl(rows))
        for jid, j in found["jobs"].items():  # no end record: killed at the deadline, or crashed
            if j["status"] == "running" and status.get(jid) == "killed":
                j["status"] = "killed"
            elif j["status"] == "running" and status.get(jid, "").startswith("ended"):
                j["status"] = "crashed"
        return found

    def write() -> None:
        write_text_atomic(out / "sweep.json", json.dumps({**meta, **summary(), "process_status": status},
                                                         indent=1) + "\n")

    def on_end(job: dict[str, Any], rc: int | None) -> list[dict[str, Any]]:
        ended.add(job["id"])
        log(f"end {job['id']} rc={rc}")
        model = job["model"]
        if args.seeds <= 1 or job["seed"] != 0 or not seed0[model] <= ended:
            return []
        write()
        best = summarise(read_jsonl(rows))["best"].get(model)
        if best is None:
            return []
        steps, settings = SETTINGS[model]
        log(f"{model}: best setting {best}; queueing seeds 1..{args.seeds - 1}")
        return [_sweep_job(args, model, best, settings[best], steps, seed=s) for s in range(1, args.seeds)]

    status.update(run_jobs(jobs, sweep_job, (str(rows), args.threads), args.workers,
                           time.time() + args.sweep_s, write, on_end))
    write()
    print(sweep_table(summary()), flush=True)


# --- part b: the bundled progressive GANs ------------------------------------------------

def pgan_jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    jobs = []
    for data in args.pgan_data.split(","):
        for name in args.recipes.split(","):
            overrides = {"g_width": 8, "d_width": 8, "latent_dim": 8, "batch_size": 8} if args.tiny else {}
            jobs.append({"id": f"{NAMES[data]}-{name}", "data": data, "recipe": name, "seed": args.seed,
                         "device": args.device, "budget": args.pgan_train_s, "eval_samples": args.pgan_eval_samples,
                         "overrides": overrides, "tick_every": 60.0 if not args.tiny else 3.0,
                         "command": " ".join(["python3", "scripts/gpu_session.py", *sys.argv[1:]])})
    return jobs


def _candidate_rank(doc: dict[str, Any]) -> tuple:
    m = doc.get("metrics") or {}
    gen = m.get("generator") or {}
    fd = gen.get("fd", float("inf"))
    all_classes = gen.get("classes_covered", 0) >= gen.get("classes_total", 1)
    score_ok = gen.get("score", 0.0) >= (m.get("quality_bar") or {}).get("score_min", float("inf"))
    return (not m.get("meets_bar", False), not (all_classes and score_ok), fd)


def run_pgan(args: argparse.Namespace, out: Path, work: Path) -> None:
    rows = work / "pgan.jsonl"
    cand = work / "pgan"
    jobs = pgan_jobs(args)
    deadline = time.time() + args.pgan_train_s + args.pgan_margin_s
    status = run_jobs(jobs, pgan_job, (str(cand), str(rows), args.threads), len(jobs), deadline,
                      lambda: None, lambda job, rc: (log(f"end {job['id']} rc={rc}"), [])[1], report_s=30.0)
    records = read_jsonl(rows)
    write_text_atomic(work / "pgan_status.json", json.dumps(status, indent=1) + "\n")
    for data in args.pgan_data.split(","):
        name = NAMES[data]
        docs = []
        for job in (j for j in jobs if j["data"] == data):
            folder = cand / job["id"]
            tj = folder / f"{name}.training.json"
            if tj.is_file():
                docs.append((json.loads(tj.read_text()), folder))
            elif (folder / f"{name}.safetensors").is_file():  # killed: its last periodic export
                ticks = [r for r in records if r["id"] == job["id"] and r.get("event") == "tick"]
                doc = {"name": name, "data": data, "recipe": job["recipe"], "seed": job["seed"],
                       "status": status.get(job["id"]), "last_tick": ticks[-1] if ticks else None,
                       "note": "training was cut off; this is its last periodic export, not evaluated"}
                docs.append((doc, folder))
        if not docs:
            log(f"pgan {data}: no candidate produced a generator")
            continue
        docs.sort(key=lambda d: _candidate_rank(d[0]))
        best, folder = docs[0]
        best["candidates"] = [{"recipe": d.get("recipe"), "steps": d.get("steps"), "images": d.get("images_shown"),
                               "metrics": d.get("metrics"), "status": status.get(f"{name}-{d.get('recipe')}")}
                              for d, _ in docs]
        for suffix in (".safetensors", ".json"):
            shutil.copyfile(folder / f"{name}{suffix}", out / f"{name}{suffix}")
        write_text_atomic(out / f"{name}.training.json", json.dumps(best, indent=1) + "\n")
        gen = ((best.get("metrics") or {}).get("generator") or {})
        log(f"pgan {data}: picked {best.get('recipe')} fd={gen.get('fd')} score={gen.get('score')} "
            f"classes={gen.get('classes_covered')} meets_bar={(best.get('metrics') or {}).get('meets_bar')}")


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=list(PARTS), help=f"parts to run, in order ({', '.join(PARTS)})")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip")
    ap.add_argument("--out", required=True, help="results folder ($OUT on the device)")
    ap.add_argument("--work", default=os.environ.get("GPU_WORK", "/tmp/ganlab-gpu"), help="work folder")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--threads", type=int, default=2, help="torch threads per job")
    ap.add_argument("--workers", type=int, default=5, help="sweep jobs at a time")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of each model's best setting (1 = no re-runs)")
    ap.add_argument("--seed", type=int, default=0, help="the pgan runs' seed")
    ap.add_argument("--steps", type=int, default=0, help="override every sweep job's steps (0: the issue's)")
    ap.add_argument("--max-settings", type=int, default=0, help="first N settings per model (0: all)")
    ap.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    ap.add_argument("--eval-samples", type=int, default=EVAL_SAMPLES)
    ap.add_argument("--sweep-s", type=float, default=420.0, help="sweep deadline (s)")
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--pgan-data", default="mnist,fashion_mnist")
    ap.add_argument("--pgan-train-s", type=float, default=330.0, help="training seconds per pgan run")
    ap.add_argument("--pgan-margin-s", type=float, default=90.0,
                    help="start-up + export + evaluation time allowed after the training budget")
    ap.add_argument("--pgan-eval-samples", type=int, default=10_000)
    ap.add_argument("--tiny", action="store_true",
                    help="CPU rehearsal: 20 steps, 2 settings, 200 samples, tiny pgan nets, 30 s budgets")
    args = ap.parse_args(argv)
    if args.tiny:
        args.device = "cpu"
        args.steps, args.max_settings, args.eval_every, args.eval_samples = 20, 2, 10, 200
        args.seeds, args.workers, args.sweep_s, args.threads = 2, 2, 40.0, 1
        args.pgan_train_s, args.pgan_margin_s, args.pgan_eval_samples = 8.0, 30.0, 200
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    for part in args.parts:
        if part not in PARTS:
            ap.error(f"unknown part {part!r}; valid: {', '.join(PARTS)}")
        if part in skip:
            log(f"skip {part}")
            continue
        t0 = time.time()
        log(f"part {part}: start (device {args.device})")
        try:
            (run_sweep if part == "sweep" else run_pgan)(args, out, work)
        except Exception as exc:  # one part failing must not stop the next
            import traceback

            traceback.print_exc()
            log(f"part {part}: FAILED ({type(exc).__name__}: {exc})")
        log(f"part {part}: {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
