"""Command line: `python -m ganlab train | sample | eval | data | bench | list | convert`.

A public interface (other tools script against these names). User errors exit
with status 2 and one line `error: ...` on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ganlab.errors import DivergenceError, GanlabError
from ganlab.seeds import EVAL_SEED

if TYPE_CHECKING:
    from ganlab.config import Config
    import torch

    from ganlab.train.distributed import DistContext


class ProgressBar:
    """A one-line progress bar on stderr (a line per 10% when not a terminal)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last_decile = -1

    def __call__(self, trainer, p) -> None:
        total = p.total or 0
        rate = p.step / p.elapsed if p.elapsed > 0 else 0.0
        frac = min(p.step / total, 1.0) if total else 0.0
        bar = "#" * int(frac * 24)
        extra = " ".join(f"{k}={v:.3g}" for k, v in list(p.metrics.items())[:4])
        line = (f"[{bar:<24}] {p.step}/{total or '?'} {rate:7.1f} it/s "
                f"d={p.d_loss:.4f} g={p.g_loss:.4f} {extra}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
        else:
            decile = int(frac * 10) if total else int(p.elapsed // 30)
            if decile == self.last_decile:
                return
            self.last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


# torch.Generator.manual_seed takes 0..2**64-1 (negative seeds are folded onto that range,
# so two different numbers would give the same stream: refused instead).
SEED_MAX = 2**64 - 1


def _check_seed(seed: int | None, used_up_to: int = 0, flag: str = "--seed") -> None:
    """GanlabError unless seed + used_up_to (the largest offset the command adds) fits manual_seed."""
    if seed is not None and not 0 <= seed <= SEED_MAX - used_up_to:
        raise GanlabError(f"{flag} {seed} is out of range; use a whole number from 0 to "
                          f"{SEED_MAX - used_up_to}")


def _check_count(value: int | None, flag: str) -> None:
    if value is not None and value <= 0:
        raise GanlabError(f"{flag} {value} is not a positive number of samples; use 1 or more")


def _writable_folder(folder: Path) -> Path | None:
    """The nearest existing ancestor of `folder` if we can write in it, else None. Tried
    for real (a temporary folder made and removed): permission bits say yes to root even
    where nothing can be written (/proc, a read-only mount)."""
    probe = folder.resolve()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return None
    try:
        with tempfile.TemporaryDirectory(dir=probe, prefix=".ganlab-write-test-"):
            pass
    except OSError:
        return None
    return probe


def _check_out_file(out: Path, suffix: str) -> None:
    """--out must end in `suffix`, not be a folder, and be creatable; nothing is created here."""
    if out.suffix.lower() != suffix:
        raise GanlabError(f"--out {str(out)!r} does not end in {suffix}; give a file name ending in "
                          f"{suffix} (e.g. {out.with_suffix(suffix).name})")
    if out.is_dir():
        raise GanlabError(f"--out {str(out)!r} is a folder; give a file name ending in {suffix}")
    if _writable_folder(out.parent) is None or (out.exists() and not os.access(out, os.W_OK)):
        raise GanlabError(f"--out {str(out)!r} cannot be written (no permission, or a file stands "
                          "where a folder is needed); choose a path in a folder you can write to")


def _check_out_dir(out: Path, keep: Path | None = None) -> None:
    """A run directory we can create or write into; nothing is created here. A folder that
    already holds files is refused (a new run would overwrite a run's files and mix its
    progress grids with the old ones) unless it is `keep`, the run being resumed."""
    _check_writable_dir(out)
    if out.is_dir() and any(out.iterdir()) and (keep is None or out.resolve() != keep.resolve()):
        what = "a run" if (out / "config.json").is_file() else "files"
        resume = f"continue it with --resume {out}, " if what == "a run" else ""
        raise GanlabError(f"--out {str(out)!r} already holds {what}; {resume}choose a new folder, or delete "
                          "it first")


def _check_writable_dir(out: Path) -> None:
    """A folder we can create or write into (it may hold files); nothing is created here."""
    if out.exists() and not out.is_dir():
        raise GanlabError(f"--out {str(out)!r} is a file; give a folder")
    if _writable_folder(out) is None:
        raise GanlabError(f"--out {str(out)!r} cannot be written (no permission, or a file stands "
                          "where a folder is needed); choose a folder you can write to")


def _is_main_rank(ctx: "DistContext | None") -> bool:
    """True in a plain run and on rank 0 under torchrun (the process that prints)."""
    return ctx is None or ctx.is_main


def _check_resume_matches(cfg: "Config", data: str | None, preset: str | None) -> None:
    """GanlabError when `--data` / `--preset` given with --resume contradict the run's config:
    a resumed run keeps its data and settings, so they would be silently ignored."""
    if data is not None and data != cfg.data:
        raise GanlabError(f"--data {data} contradicts the run, which trains on {cfg.data!r}; a resumed "
                          "run keeps its data: drop --data, or start a new run with --out")
    if preset is not None:
        from ganlab.presets import PRESETS

        settings = PRESETS.get(preset).settings
        differ = sorted(k for k, v in settings.items() if getattr(cfg, k, v) != v)
        if differ:
            shown = ", ".join(f"{k}={settings[k]!r} (run: {getattr(cfg, k)!r})" for k in differ[:4])
            more = " ..." if len(differ) > 4 else ""
            raise GanlabError(f"--preset {preset} contradicts the run: {shown}{more}; a resumed run keeps "
                              "its settings: drop --preset (change a live setting with --set KEY=VALUE), "
                              "or start a new run with --out")


def _cmd_train(args: argparse.Namespace) -> int:
    from ganlab.config import parse_assignments
    from ganlab.data import build_dataset
    from ganlab.presets import resolve_config
    from ganlab.runs import load_run, read_config, save_run
    from ganlab.train import build_trainer, distributed

    overrides = parse_assignments(args.set)
    for key in ("model", "steps", "minutes", "seed", "device", "progress_every"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    _check_seed(args.seed, used_up_to=2)  # the trainer seeds streams with seed, seed + 1, seed + 2
    if args.steps is not None and args.steps < 1:
        raise GanlabError(f"--steps {args.steps}: a run needs at least 1 step")
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_out_dir(out, keep=Path(args.resume) if args.resume else None)
    if args.resume:
        cfg = read_config(args.resume)
        _check_resume_matches(cfg, args.data, args.preset)
        if out is None:
            _check_out_dir(Path(args.resume), keep=Path(args.resume))
    else:
        if out is None:
            raise GanlabError("train needs --out RUN_DIR (where the run is written)")
        cfg = resolve_config(args.data, args.preset, overrides)
    _check_seed(cfg.seed, used_up_to=2, flag="seed")  # also a seed given with --set seed=...
    if cfg.model == "pgan" and distributed.launched_by_torchrun():
        raise GanlabError("model pgan trains in one process; run it without torchrun")
    # Under torchrun: join the group and train on this rank's shard (see ganlab.train.distributed).
    ctx = distributed.init_from_env(overrides.get("device", cfg.device))
    dataset = None
    if ctx is not None:
        cfg.validate()
        dataset = distributed.shard(build_dataset(cfg.data_options()), ctx)
    if args.resume:
        notes: list[str] = []
        trainer = load_run(args.resume, device=overrides.pop("device", None), dataset=dataset, notes=notes)
        if args.steps is not None and args.steps <= trainer.step_count and not args.minutes:
            raise GanlabError(f"--steps {args.steps}: the run is already at step {trainer.step_count} (--steps "
                              f"counts the run's total steps); give more than {trainer.step_count} to continue it")
        if _is_main_rank(ctx):
            for note in notes:
                print(f"note: {note}", file=sys.stderr)
        if overrides:
            trainer.update(**overrides)
        out = out or Path(args.resume)
    else:
        trainer = build_trainer(cfg, dataset=dataset)
    main_rank = _is_main_rank(ctx)
    if ctx is not None:
        distributed.wrap(trainer, ctx)
    if trainer.info.note and main_rank:
        print(f"note: {trainer.info.note}", file=sys.stderr)
    for note in _ignored_settings(trainer, args, overrides) if main_rank else ():
        print(f"note: {note}", file=sys.stderr)
    if args.steps is not None and args.minutes and main_rank:
        print(f"note: --minutes {args.minutes:g} sets how long the run trains; --steps {args.steps} only sets "
              "the length of its schedules (learning-rate decay, growth)", file=sys.stderr)
    stop = {"now": False}

    def on_sigint(signum, frame) -> None:  # finish the step, save, exit
        stop["now"] = True

    old = signal.signal(signal.SIGINT, on_sigint)
    bar = None if args.quiet or not main_rank else ProgressBar()
    t0 = time.perf_counter()
    last_save = [t0]
    grids = None
    if main_rank and trainer.info.kind == "image" and trainer.cfg.progress_every > 0:
        from ganlab.progress import ProgressGrids

        grids = ProgressGrids(out, trainer.cfg.progress_every)
        if trainer.step_count == 0:
            grids.save(trainer)

    def progress(tr, p) -> None:
        if bar:
            bar(tr, p)
        if main_rank and args.save_every > 0 and time.perf_counter() - last_save[0] > args.save_every:
            save_run(tr, out)
            last_save[0] = time.perf_counter()

    def interrupted() -> bool:
        return stop["now"]

    should_stop, run_kw = interrupted, {}
    if ctx is not None:
        # The time budget is checked by the synced stop, so every rank stops at the same step.
        budget = trainer.cfg.minutes * 60.0

        def local_stop() -> bool:
            return interrupted() or (budget > 0 and time.perf_counter() - t0 >= budget)

        should_stop = distributed.synced_stop(ctx, local_stop, trainer.device)
        run_kw = {"minutes": 0.0, "steps": (1 << 60) if budget > 0 else None}
    try:
        trainer.run(on_progress=progress, should_stop=should_stop, on_step=grids, **run_kw)
    except DivergenceError as exc:
        if bar:
            bar.close()
        if main_rank:
            save_run(trainer, out)
            print(f"error: {exc}\nthe last good state is saved in {out}", file=sys.stderr)
        return 3
    finally:
        signal.signal(signal.SIGINT, old)
    if bar:
        bar.close()
    if main_rank:
        save_run(trainer, out)
        if grids is not None:
            grids.write_gifs()
    distributed.barrier_and_close(ctx)
    if not main_rank:
        return 0
    summary = {"run_dir": str(out), "steps": trainer.step_count,
               "seconds": round(trainer.elapsed, 2)}
    if ctx is not None:
        summary["processes"] = ctx.world_size
    if trainer.history:
        summary.update({k: v for k, v in trainer.history[-1].items() if k not in ("step", "time")})
    print(json.dumps(summary))
    return 130 if stop["now"] else 0


def _not_a_generator(arg: str) -> GanlabError:
    """What `sample` / `eval` say for an argument that names no run, bundled model or file."""
    from ganlab.explore import bundled_models

    return GanlabError(f"{arg!r} is not a ganlab run directory, a bundled model ({', '.join(bundled_models())}) "
                       "or an exported NAME.safetensors; give the folder written by `python -m ganlab train "
                       "--out DIR`")


def _is_exported(arg: str) -> bool:
    """True for a bundled model's name or a generator file (not a run folder)."""
    from ganlab.explore import bundled_models

    return not Path(arg).is_dir() and (Path(arg).is_file() or arg in bundled_models())


SAMPLE_SUFFIXES = (".npz", ".png")  # arrays; a grid of images


# Data sets that read a user's file or folder (`data_path`).
USER_DATA = ("points_file", "image_folder")


def _ignored_settings(trainer, args: argparse.Namespace, overrides: dict) -> list[str]:
    """Notes for settings the user gave that this run does not use (silently ignored before)."""
    notes = []
    data = trainer.cfg.data
    if "data_path" in overrides and data not in USER_DATA:
        notes.append(f"data_path is read by {' and '.join(USER_DATA)} only; --data {data} ignores it")
    if args.progress_every is not None and trainer.info.kind != "image":
        notes.append(f"--progress-every saves grids of images; {data} is points, so none are saved")
    return notes


def _cmd_sample(args: argparse.Namespace) -> int:
    from ganlab.runs import load_generator_run

    import torch

    _check_count(args.n, "--n")
    _check_seed(args.seed)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in SAMPLE_SUFFIXES:
        raise GanlabError(f"--out {str(out)!r} does not end in .npz or .png; give a file name ending in .npz "
                          f"(arrays, e.g. {out.with_suffix('.npz').name}) or .png (a grid of images)")
    # Refused rather than fixed up: numpy's savez would silently append .npz to another name.
    _check_out_file(out, suffix)
    if _is_exported(args.run_dir):
        x, y, kind, offset = _sample_exported(args), None, "image", None
    elif not Path(args.run_dir).is_dir():
        raise _not_a_generator(args.run_dir)
    else:
        # Only config.json and G's weights: sampling works when the training state is damaged.
        trainer = load_generator_run(args.run_dir, device="cpu")
        labels = None
        if args.label is not None:
            if not trainer.num_classes:
                raise GanlabError("--label needs a conditional model; this run's model is "
                                  f"{trainer.cfg.model!r}")
            if not 0 <= args.label < trainer.num_classes:
                raise GanlabError(f"--label {args.label} is out of range; classes are "
                                  f"0..{trainer.num_classes - 1}")
            labels = torch.full((args.n,), args.label, dtype=torch.long)
        x, y = trainer.sample(args.n, seed=args.seed, ema=not args.no_ema, labels=labels)
        kind, offset = trainer.info.kind, trainer.info.offset
    if suffix == ".png":
        return _write_sample_grid(x, kind, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    if kind == "image":
        from ganlab.imageio import to_uint8

        arrays["images"] = to_uint8(x).numpy()
    elif offset is not None:
        # The data were shifted by the offset to keep float32 precision: add it back in
        # float64, so the samples are in the user's units at full precision.
        arrays["points"] = x.numpy().astype(np.float64) + np.asarray(offset, dtype=np.float64)
    else:
        arrays["points"] = x.numpy().astype(np.float32)
    if y is not None:
        arrays["labels"] = y.numpy().astype(np.int64)
    from ganlab.files import atomic_write

    def write(p: Path) -> None:
        with open(p, "wb") as fh:  # a file object: savez adds no suffix, so `out` is the path written
            np.savez(fh, **arrays)

    atomic_write(out, write)
    print(json.dumps({"out": str(out), **{k: list(v.shape) for k, v in arrays.items()}}))
    return 0


def _sample_exported(args: argparse.Namespace) -> "torch.Tensor":
    """Images (N, C, R, R) in [-1, 1] from a bundled or exported generator: latents
    `gen.latents(n, seed)`, the generator the file holds."""
    from ganlab.pretrained import load_generator

    if args.label is not None:
        raise GanlabError(f"--label needs a conditional model; {args.run_dir} is an unconditional generator")
    if args.no_ema:
        raise GanlabError(f"--no-ema is for run folders; {args.run_dir} holds one generator (its average)")
    gen = load_generator(args.run_dir)
    return gen(gen.latents(args.n, args.seed), batch_size=64)


def _write_sample_grid(x, kind: str, out: Path) -> int:
    """Images (N, C, H, W) in [-1, 1] -> one PNG grid, as near square as N allows (64 -> 8 x 8)."""
    import math

    from ganlab.files import atomic_write
    from ganlab.imageio import grid_to_png_bytes, make_grid, to_uint8

    if kind != "image":
        raise GanlabError(f"--out {str(out)!r}: a .png grid is for image generators; this run makes points: "
                          "give a file name ending in .npz")
    grid = make_grid(to_uint8(x), nrow=math.ceil(math.sqrt(x.shape[0])))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda p: p.write_bytes(grid_to_png_bytes(grid)))
    print(json.dumps({"out": str(out), "images": list(x.shape), "grid": list(grid.shape)}))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from ganlab.runs import load_generator_run

    _check_count(args.n, "--n")
    _check_count(args.parzen_samples, "--parzen-samples")
    _check_seed(args.seed, used_up_to=1 if args.parzen else 0)  # Parzen samples use seed + 1
    if _is_exported(args.run_dir):
        return _eval_exported(args)
    if not Path(args.run_dir).is_dir():
        raise _not_a_generator(args.run_dir)
    if args.data:
        raise GanlabError("--data is for exported generators; a run folder knows its data set")
    trainer = load_generator_run(args.run_dir, device=args.device, with_data=True)  # G and the data suffice
    n = args.n or trainer.cfg.eval_samples
    fd_note = _fd_size_note(trainer, n)
    if fd_note:
        print(f"warning: {fd_note}", file=sys.stderr)
    metrics = trainer.evaluate(n, seed=args.seed)
    result = {"run_dir": args.run_dir, "step": trainer.step_count, **metrics}
    if fd_note:
        result["fd_note"] = fd_note
    if trainer.info.kind == "image":
        from ganlab.classifier import has_classifier

        if not has_classifier(trainer.info.name):
            result["note"] = (f"no classifier for data set {trainer.info.name!r}: classifier metrics "
                              "(fd, score, classes, cond_acc) need one")
        if args.parzen:
            from ganlab.metrics.images import parzen_for_run

            pz = parzen_for_run(trainer, n_samples=args.parzen_samples, seed=args.seed)
            result.update(pz.as_metrics())
            result["parzen_note"] = (f"Parzen-window log-likelihood (nats per image, Goodfellow et al. "
                                     f"2014; a historical metric): {pz.n_samples} samples, sigma chosen "
                                     f"on {pz.n_valid} validation images, {pz.n_test} {pz.note}")
    elif args.parzen:
        raise GanlabError("--parzen applies to image runs; this run's data set "
                          f"{trainer.info.name!r} is made of points")
    print(json.dumps(result, indent=2))
    return 0


def _eval_exported(args: argparse.Namespace) -> int:
    """`eval` of a bundled model or an exported NAME.safetensors: metrics against its data set."""
    from ganlab.data import build_dataset
    from ganlab.data.base import DataOptions
    from ganlab.explore import BUNDLED_DATA
    from ganlab.metrics.images import generator_metrics
    from ganlab.pretrained import load_generator

    if args.parzen:
        raise GanlabError("--parzen applies to run folders; give the folder written by `train --out`")
    gen = load_generator(args.run_dir)
    known = BUNDLED_DATA.get(gen.name)
    if args.data and known and args.data != known:
        raise GanlabError(f"--data {args.data} contradicts {gen.name}, which was trained on {known}: drop --data "
                          "(the bundled models know their data set)")
    data = args.data or known
    if not data:
        raise GanlabError(f"{args.run_dir!r} is a generator without a run folder: say what it was trained "
                          "on with --data (e.g. --data mnist)")
    from ganlab.classifier import has_classifier

    with_classifier = [name for name in BUNDLED_DATA.values() if has_classifier(name)]
    if not has_classifier(data):
        raise GanlabError(f"--data {data}: the metrics need an image set with a trained classifier; "
                          f"give one of {', '.join(with_classifier)}")
    n = args.n or 10_000
    dataset = build_dataset(DataOptions(name=data, image_size=gen.resolution, channels=gen.channels))
    metrics = generator_metrics(gen, dataset, n, seed=args.seed)
    print(json.dumps({"generator": gen.name, "data": data, "samples": n, **metrics}, indent=2))
    return 0


def _fd_size_note(trainer, n: int) -> str:
    """A warning when n samples are too few for the Frechet distance's covariance, else ""."""
    if trainer.info.kind == "image":
        from ganlab.classifier import FEATURES, has_classifier

        if not has_classifier(trainer.info.name):
            return ""
        dim, what, key = FEATURES, f"the {FEATURES} classifier features", "fd"
    elif trainer.info.mean is not None:  # single-Gaussian sets report the distance as fid / w2
        dim, what, key = trainer.info.dim, f"the {trainer.info.dim} coordinates", "fid, w2"
    else:  # mixtures and shapes report no Frechet distance
        return ""
    if n > dim:
        return ""
    # With n <= dim samples the covariance has rank < dim: the distance is biased (far too large).
    return (f"--n {n} is not above {what}: the Frechet distance ({key}) is strongly biased at that size; "
            f"use --n {max(10 * dim, 1000)} or more for a value you can compare")


def _cmd_data(args: argparse.Namespace) -> int:
    from ganlab.data.summary import describe, format_text

    summary = describe(args.path, image_size=args.image_size, channels=args.channels)
    print(json.dumps(summary) if args.json else format_text(summary))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ganlab.data import DATASETS
    from ganlab.losses import LOSSES
    from ganlab.models import MODELS
    from ganlab.optim import OPTIMIZERS
    from ganlab.presets import PRESETS

    for title, reg in (("data sets", DATASETS), ("models", MODELS), ("losses", LOSSES),
                       ("optimizers", OPTIMIZERS), ("presets", PRESETS)):
        print(f"{title}:")
        for name in reg:
            print(f"  {name:<14} {reg.help(name)}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    """Any loadable generator (published name, zoo .pth, Karras .ot / .pth, a progressive run folder)
    -> NAME.safetensors + NAME.json."""
    from ganlab.pretrained import load_generator, save_generator
    from ganlab.pretrained.zoo import sha256_of

    def progress(done: int, total: int | None) -> None:  # the download of a published name
        shown = f"{done >> 20}/{total >> 20} MB" if total else f"{done >> 20} MB"
        print(f"\rdownloading {shown}", end="", file=sys.stderr, flush=True)

    _check_writable_dir(Path(args.out).expanduser().parent)  # before a long load or download
    name = args.name or Path(args.out).name.removesuffix(".safetensors")
    from ganlab.pretrained.from_run import is_run_folder

    if is_run_folder(args.src):
        return _convert_run(args.src, args.out, name)
    gen = load_generator(args.src, progress=progress)
    out = save_generator(gen, args.out, name=name)
    source = Path(gen.source)
    summary = {"out": str(out), "json": str(out.with_suffix(".json")), "kind": gen.kind,
               "format": gen.info.get("format"), "resolution": gen.resolution, "latent_dim": gen.latent_dim,
               "source": str(source),
               "source_sha256": gen.info.get("sha256") or (sha256_of(source) if source.is_file() else None)}
    print(f"SHA-256 of {source.name}: {summary['source_sha256']} (compare it with a trusted copy)", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def _convert_run(run_dir: str, out: str, name: str) -> int:
    """A progressive run's generator (its EMA) -> NAME.safetensors + NAME.json, as bundled."""
    from ganlab.pretrained.export import export_generator
    from ganlab.runs import load_generator_run

    trainer = load_generator_run(run_dir)
    if trainer.cfg.model != "pgan":
        raise GanlabError(f"{run_dir}: its model is {trainer.cfg.model!r}; convert writes progressive GANs (and published "
                          "checkpoints) as a generator file; sample, eval and the latent explorer take this run's "
                          "folder as it is")
    from ganlab.pretrained import load_generator

    weights = export_generator(trainer, out, name=name)
    gen = load_generator(weights)  # read back: what the file holds is what is reported
    print(json.dumps({"out": str(weights), "json": str(weights.with_suffix(".json")), "kind": gen.kind,
                      "resolution": gen.resolution, "latent_dim": gen.latent_dim, "step": trainer.step_count,
                      "source": str(run_dir)}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ganlab.bench import add_bench_parsers

    ap = argparse.ArgumentParser(prog="python -m ganlab", description="ganlab: a GAN laboratory")
    sub = ap.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN headless and write a run directory")
    t.add_argument("--data", help="data set name (see `list`)")
    t.add_argument("--model", help="model name (see `list`); with --data, picks the model's tuned preset")
    t.add_argument("--preset", help="named preset (see `list`)")
    t.add_argument("--steps", type=int, help="total training iterations of the run (with --resume: "
                   "continue up to this many)")
    t.add_argument("--minutes", type=float, help="wall-clock budget instead of --steps (0: none, train to "
                   "--steps); with both, --steps only sets the length of the schedules")
    t.add_argument("--seed", type=int)
    t.add_argument("--device", help="cpu | auto | cuda | mps")
    t.add_argument("--out", help="run directory to write")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a run (writes back to it unless --out)")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config field")
    t.add_argument("--save-every", type=float, default=60.0, help="seconds between checkpoints")
    t.add_argument("--progress-every", type=int, metavar="N",
                   help="image sets: save progress grids to RUN_DIR/progress every N steps (0 = never)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    s = sub.add_parser("sample", help="write samples of a trained run to an .npz file")
    s.add_argument("run_dir", help="a run folder, a bundled model (mnist-32, fashion-32) or an exported "
                   "NAME.safetensors")
    s.add_argument("--n", type=int, default=2500)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="the file to write (exactly this path): .npz (arrays `points` "
                   "or `images`, and `labels`) or .png (a grid of the images)")
    s.add_argument("--label", type=int, help="class for conditional models (default: balanced)")
    s.add_argument("--no-ema", action="store_true", help="use G rather than its EMA copy")
    s.set_defaults(func=_cmd_sample)

    e = sub.add_parser("eval", help="print a run's (or an exported generator's) quality metrics as JSON")
    e.add_argument("run_dir", help="a run folder, a bundled model (mnist-32, fashion-32) or an exported "
                   "NAME.safetensors")
    e.add_argument("--data", default=None, help="exported generators: the data set it was trained on "
                   "(bundled models know theirs)")
    e.add_argument("--n", type=int, default=None, help="samples (default: the run's eval_samples)")
    e.add_argument("--seed", type=int, default=EVAL_SEED)
    e.add_argument("--device", default="cpu")
    e.add_argument("--parzen", action="store_true",
                   help="image runs: add the Parzen-window log-likelihood of Goodfellow et al. 2014 (slow)")
    e.add_argument("--parzen-samples", type=int, default=10_000, help="generated samples for --parzen")
    e.set_defaults(func=_cmd_eval)

    dp = sub.add_parser("data", help="show what a points file, image folder or zip would train on")
    dp.add_argument("path", help="a .csv / .txt / .npy of points, or a folder / .zip of pictures")
    dp.add_argument("--json", action="store_true", help="print one JSON object")
    dp.add_argument("--image-size", type=int, default=0, help="images: side in pixels (28, 32, 64; image folders also 128)")
    dp.add_argument("--channels", type=int, default=0, help="images: 1 grey, 3 RGB, 0 automatic")
    dp.set_defaults(func=_cmd_data)

    ls = sub.add_parser("list", help="list data sets, models, losses, optimizers, presets")
    ls.set_defaults(func=_cmd_list)

    c = sub.add_parser("convert", help="write a pretrained generator (name, .pth, .ot) as ganlab "
                       "NAME.safetensors + NAME.json")
    c.add_argument("src", help="published name (e.g. karras-celebahq-1024), zoo .pth, Karras .ot or .pth")
    c.add_argument("--out", required=True, help="output path NAME (writes NAME.safetensors and NAME.json)")
    c.add_argument("--name", help="the generator's name in the JSON (default: the file name)")
    c.set_defaults(func=_cmd_convert)

    b = sub.add_parser("bench", help="speed / quality benchmarks")
    add_bench_parsers(b)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ganlab list | head`): no traceback; stdout is closed so
        # Python's exit-time flush does not raise again.
        sys.stdout = None  # type: ignore[assignment]
        return 0
