"""Run folders: build, save, load, resume, list and name runs of every kind.

A run folder holds:
- config.json        the full Config (strict JSON round trip);
- model.safetensors  G.*, D.* and (if EMA is on) G_ema.* weights and buffers; its
                     header metadata repeats the step, data info and growth, so that
                     config.json + model.safetensors alone can sample (`load_generator_run`);
- state.safetensors  optimizer moments and RNG state (what `--resume` needs);
- state.json         step, elapsed time, optimizer hyperparameters, data info and,
                     for a progressive run, "kind": "pgan" with its growth;
- history.jsonl      one JSON object per recorded row (losses, metrics).
Each file is written to a temporary name in the same folder and renamed into
place (`ganlab.files.atomic_write`), so an interrupted save never leaves a half-written file.
A damaged file raises CheckpointError naming the file, what is wrong and the fix;
a history cut short in its last line loses that line only. Nothing is pickled. The trainers say what is saved (`named_networks`,
`named_optimizers`, `named_rngs`, `extra_state`); this module is the only one
that reads or writes these files.
"""
from __future__ import annotations

import json
import math
import os
import re
import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ganlab import __version__
from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import CheckpointError, ConfigError, GanlabError
from ganlab.files import atomic_write, write_text_atomic
from ganlab.train import PGANSchedule, ProgressiveTrainer, Trainer, build_trainer
from ganlab.train.side_by_side import SideBySide, side_by_side
from ganlab.train.base import broken_state, divergence_message

FORMAT = 1
FILES = ("config.json", "model.safetensors", "state.safetensors", "state.json", "history.jsonl")
RUNS_ENV = "GANLAB_RUNS"
MODEL_META = "ganlab"  # the key of model.safetensors' header metadata (a JSON string)
# What to do when the training state (state.json / state.safetensors) is damaged.
STATE_FIX = ("restore the file from a backup to continue training; the weights alone still sample "
             "(`python -m ganlab sample RUN_DIR`)")


def _flat_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> dict:
    sd = opt.state_dict()
    meta: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for idx, st in sd["state"].items():
        plain = {}
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{prefix}.{idx}.{k}"] = v.detach().cpu().contiguous()
            else:
                plain[k] = v
        meta["state"][str(idx)] = plain
    return meta


def _unflat_optimizer(prefix: str, meta: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in meta["state"].items()}
    for key, t in tensors.items():
        if key.startswith(prefix + "."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = t
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def info_to_json(info: DataInfo) -> dict[str, Any]:
    return {"name": info.name, "kind": info.kind, "shape": list(info.shape),
            "num_classes": info.num_classes, "class_names": list(info.class_names), "note": info.note,
            "center": None if info.center is None else info.center.tolist(), "scale": info.scale,
            "offset": None if info.offset is None else [float(v) for v in info.offset]}


def info_from_json(d: dict[str, Any]) -> DataInfo:
    """The DataInfo of `info_to_json`; KeyError / TypeError / ValueError when malformed."""
    center, offset = d.get("center"), d.get("offset")
    return DataInfo(name=d["name"], kind=d["kind"], shape=tuple(d["shape"]),
                    num_classes=d.get("num_classes", 0), class_names=tuple(d.get("class_names", ())),
                    note=d.get("note", ""), scale=d.get("scale"),
                    center=None if center is None else torch.tensor(center, dtype=torch.float32),
                    offset=None if offset is None else tuple(float(v) for v in offset))


def save_run(trainer: Trainer, run_dir: str | Path) -> Path:
    """Write (or update) the run folder of any trainer (plain or progressive); returns its path."""
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    weights: dict[str, torch.Tensor] = {}
    for name, net in trainer.named_networks().items():
        if net is not None:
            for k, v in net.state_dict().items():
                weights[f"{name}.{k}"] = v.detach().cpu().contiguous()
    state: dict[str, torch.Tensor] = {f"rng.{k}": g.get_state().cpu() for k, g in trainer.named_rngs().items()}
    meta = {
        "format": FORMAT,
        "ganlab_version": __version__,
        **trainer.extra_state(),
        "step": trainer.step_count,
        "elapsed": trainer.elapsed,
        "acc": trainer.losses.state_dict(),
        "last": trainer.last,
        "data_info": info_to_json(trainer.info),
        **{k: _flat_optimizer(k, opt, state) for k, opt in trainer.named_optimizers().items()},
    }
    # Enough to rebuild and sample G from config.json and this file alone (`load_generator_run`).
    facts = {"step": trainer.step_count, "data_info": meta["data_info"], **trainer.extra_state()}
    atomic_write(run / "model.safetensors",
                 lambda p: save_file(weights, str(p), metadata={MODEL_META: json.dumps(facts)}))
    atomic_write(run / "state.safetensors", lambda p: save_file(state, str(p)))
    write_text_atomic(run / "state.json", json.dumps(meta, indent=1))
    write_text_atomic(run / "config.json", trainer.cfg.to_json() + "\n")
    write_text_atomic(run / "history.jsonl", "".join(json.dumps(r) + "\n" for r in trainer.history))
    return run


# Entries every run's config.json has held since the first format: without one of them the
# run cannot be rebuilt as it was (a later field that is missing takes its default, which is
# what runs saved before it existed did).
RUN_CONFIG_REQUIRED = ("data", "model", "loss", "latent_dim", "seed", "steps")


def read_config(run_dir: str | Path) -> Config:
    """The run's config.json; CheckpointError when the folder is not a run or the file is
    damaged (not JSON, a required entry missing, a value out of range)."""
    run = Path(run_dir)
    path = run / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{str(run)!r} is not a ganlab run directory (no config.json); "
                              "give the folder written by `python -m ganlab train --out DIR`")
    damaged = "the file is damaged: restore it from a backup"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not readable JSON ({exc}); {damaged}") from None
    if not isinstance(d, dict):
        raise CheckpointError(f"{path} does not hold a JSON object; {damaged}")
    missing = [k for k in RUN_CONFIG_REQUIRED if k not in d]
    if missing:
        raise CheckpointError(f"{path} has no {', '.join(repr(k) for k in missing)} "
                              f"entr{'ies' if len(missing) > 1 else 'y'}, which every run records; {damaged}")
    try:
        return Config.from_dict(d)
    except ConfigError as exc:
        raise CheckpointError(f"{path} is invalid: {exc}; {damaged}") from None


def read_run_meta(run_dir: str | Path, device: str | None = None) -> tuple[Config, dict[str, Any]]:
    """(config, state.json) of a run directory; `device` overrides the saved device.
    CheckpointError when state.json is missing, not JSON or not an object."""
    run = Path(run_dir)
    cfg = read_config(run)
    if device is not None:
        cfg.device = device
    path = run / "state.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing; {STATE_FIX}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not readable JSON ({exc}); the file is damaged: {STATE_FIX}") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} does not hold a JSON object; the file is damaged: {STATE_FIX}")
    return cfg, meta


@contextmanager
def _reading(path: Path, fix: str) -> Iterator[None]:
    """Turn a missing entry or malformed value met while restoring from `path` into one
    CheckpointError naming the file, the entry and `fix` (never a KeyError traceback)."""
    try:
        yield
    except KeyError as exc:
        raise CheckpointError(f"{path} has no entry {exc.args[0]!r}; the file is damaged or was "
                              f"edited: {fix}") from None
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, GanlabError):  # already a message for the user
            raise
        raise CheckpointError(f"{path} holds a malformed value ({exc}); the file is damaged or was "
                              f"edited: {fix}") from None


def read_history_notes(run_dir: str | Path) -> tuple[list[dict[str, float]], list[str]]:
    """(history rows, notes) of a run: a last line cut short (a save interrupted by a
    crash or a full disk) is skipped with a note; a damaged line before the last is a
    CheckpointError naming the line and the fix."""
    path = Path(run_dir) / "history.jsonl"
    if not path.is_file():
        return [], []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    rows: list[dict[str, float]] = []
    for i, line in enumerate(lines[:last + 1]):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif i == last:
            since = f"after step {rows[-1].get('step')}" if rows else "from the start"
            return rows, [f"{path}: its last line (line {i + 1}) is cut short and was skipped; the "
                          f"history goes on {since}"]
        else:
            raise CheckpointError(f"{path}: line {i + 1} is not a history row (a JSON object); the file "
                                  "is damaged: delete that line, or the file (it only records losses "
                                  "and metrics; training state is kept elsewhere)")
    return rows, []


def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    """The run's history rows (a last line cut short is skipped; see `read_history_notes`)."""
    return read_history_notes(run_dir)[0]


def _damage(path: Path) -> str:
    """What is wrong with a safetensors file that does not load, in words: cut short (the
    header promises more bytes than the file has), or not a safetensors file at all."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n)) if 0 < n < size else None
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        expected = 8 + n + max(ends, default=0)
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error):
        return "is not a readable safetensors file"
    if size < expected:
        return f"is cut short ({size:,} of {expected:,} bytes: a copy or save that did not finish)"
    return "is not a readable safetensors file"


def _load_tensors(path: Path, fix: str = "restore the run folder from a backup, or retrain"
                  ) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; the run directory is incomplete (was training "
                              "interrupted before the first save?)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError):
        raise CheckpointError(f"{path} {_damage(path)}; the checkpoint is damaged: {fix}") from None


def load_nets(run: Path, nets: dict[str, "torch.nn.Module | None"]) -> None:
    """Load the run's model.safetensors into `nets` (prefix "G" / "D" / "G_ema" -> module;
    None is skipped); CheckpointError when the file is damaged or the tensors do not fit."""
    weights = _load_tensors(run / "model.safetensors")
    for name, net in nets.items():
        if net is None:
            continue
        sd = {k[len(name) + 1:]: v for k, v in weights.items() if k.startswith(name + ".")}
        try:
            net.load_state_dict(sd)
        except RuntimeError as exc:
            raise CheckpointError(f"{run / 'model.safetensors'} does not match config.json ({name}: "
                                  f"{_first_mismatch(exc)}); config.json was edited or comes from another run: "
                                  "restore the run's own config.json") from None


def _first_mismatch(exc: RuntimeError) -> str:
    """The first concrete line of torch's load_state_dict error (its first line is only a
    header, "Error(s) in loading state_dict for X:"), shortened."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = lines[1] if len(lines) > 1 else "".join(lines)
    detail = detail.rstrip(".")
    return detail if len(detail) <= 160 else detail[:157] + "..."


def is_progressive_run(run_dir: str | Path) -> bool:
    """True when run_dir's state.json was written for a progressive run."""
    try:
        return json.loads((Path(run_dir) / "state.json").read_text(encoding="utf-8")).get("kind") == "pgan"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def _model_facts(run: Path) -> dict[str, Any] | None:
    """The step, data info and growth saved in model.safetensors' header, or None (a run
    saved before they were, or a file whose header cannot be read)."""
    try:
        with safe_open(str(run / "model.safetensors"), "pt") as fh:
            text = (fh.metadata() or {}).get(MODEL_META)
        facts = json.loads(text) if text else None
    except (SafetensorError, OSError, ValueError):
        return None
    return facts if isinstance(facts, dict) else None


def _new_trainer(run: Path, cfg: Config, facts: dict[str, Any], where: Path, *, with_data: bool,
                 dataset: Dataset | None, schedule: PGANSchedule | None) -> Trainer:
    """The trainer of a saved run, shaped (grown) for its weights, before they load; `facts`
    holds "data_info" and the trainer's extra state, read from `where`."""
    with _reading(where, STATE_FIX):
        progressive = facts.get("kind") == "pgan"
        if progressive and "eps_drift" in facts["schedule"]:
            # Runs saved before the drift term became the Config's d_drift kept it in the schedule.
            cfg.d_drift = float(facts["schedule"].pop("eps_drift"))
        if dataset is None and not with_data:
            info = info_from_json(facts["data_info"])
            dataset = Dataset(torch.zeros((4, *info.shape), dtype=torch.uint8 if progressive else torch.float32),
                              info)
        saved = PGANSchedule.from_dict(facts["schedule"]) if progressive else None
    if saved is None:
        return build_trainer(cfg, dataset)
    if schedule is not None and schedule.depths != saved.depths:
        raise ConfigError(f"a new schedule must keep the run's depths {list(saved.depths)}, "
                          f"got {list(schedule.depths)}")
    trainer = ProgressiveTrainer(cfg, dataset, schedule or saved)
    with _reading(where, STATE_FIX):
        trainer.prepare_load(facts)
    return trainer


def _refuse_broken(trainer: Trainer, run: Path, step: int, *, optimizers: bool) -> None:
    """CheckpointError (the divergence message) when the loaded weights (and moments) are
    already non-finite or huge: a run saved after it diverged."""
    nets = trainer.named_networks()
    if not optimizers:
        nets = {k: v for k, v in nets.items() if k != "D"}
    broken = broken_state(nets, trainer.named_optimizers() if optimizers else None)
    if broken:
        raise CheckpointError(divergence_message(step, "", "", trainer.cfg, f"{broken} in {run}"))


def load_run(run_dir: str | Path, *, device: str | None = None, with_data: bool = True,
             dataset: Dataset | None = None, schedule: PGANSchedule | None = None,
             notes: list[str] | None = None) -> Trainer:
    """Rebuild the trainer of any run folder (weights, optimizers, rngs, history), grown
    to the saved scale for a progressive run.

    with_data=False skips loading the training data (enough to sample from G; see also
    `load_generator_run`, which needs no training state).
    `device` overrides the saved device (e.g. "cpu" for a run trained on a GPU).
    schedule: replaces a progressive run's saved schedule for the rest of the run (same
    depths), e.g. to shorten the remaining phases.
    notes: when given, sentences about what was repaired on loading (a history line cut
    short and skipped) are appended to it.
    Raises CheckpointError naming the damaged file and the fix, or saying that the saved
    state already diverged; ConfigError for a schedule with other depths.
    """
    run = Path(run_dir)
    cfg, meta = read_run_meta(run, device)
    history, history_notes = read_history_notes(run)
    trainer = _new_trainer(run, cfg, meta, run / "state.json", with_data=with_data, dataset=dataset,
                           schedule=schedule)
    load_nets(run, trainer.named_networks())
    state = _load_tensors(run / "state.safetensors", STATE_FIX)
    with _reading(run / "state.json", STATE_FIX):
        for name, opt in trainer.named_optimizers().items():
            opt.load_state_dict(_unflat_optimizer(name, meta[name], state))
        trainer.step_count = int(meta["step"])
        trainer.elapsed = float(meta["elapsed"])
        trainer.losses.load_state_dict(meta["acc"])
        trainer.last = dict(meta["last"])
    for name, rng in trainer.named_rngs().items():
        if f"rng.{name}" not in state:
            raise CheckpointError(f"{run / 'state.safetensors'} has no random state rng.{name}; the file "
                                  f"is damaged: {STATE_FIX}")
        rng.set_state(state[f"rng.{name}"])
    _refuse_broken(trainer, run, trainer.step_count, optimizers=True)
    trainer.history = history
    if notes is not None:
        notes.extend(history_notes)
    return trainer


def load_generator_run(run_dir: str | Path, *, device: str | None = None, with_data: bool = False,
                       dataset: Dataset | None = None) -> Trainer:
    """A trainer with the run's generator (G and G_ema) loaded, for `sample` and `eval`:
    needs only config.json and model.safetensors, so it works when the training state
    (state.json, state.safetensors, history) is damaged. D and the optimizers stay as
    built (untrained); step_count is the saved step.

    with_data / dataset / device as `load_run`. Raises CheckpointError naming the file
    and the fix (a run saved before model.safetensors held its data info also needs a
    readable state.json), or when G's weights are already non-finite or huge.
    """
    run = Path(run_dir)
    cfg = read_config(run)
    if device is not None:
        cfg.device = device
    facts, where = _model_facts(run), run / "model.safetensors"
    if facts is None:
        if not (run / "model.safetensors").is_file():
            _load_tensors(run / "model.safetensors")  # the message for a missing file
        _, facts = read_run_meta(run)
        where = run / "state.json"
    trainer = _new_trainer(run, cfg, facts, where, with_data=with_data, dataset=dataset, schedule=None)
    load_nets(run, {"G": trainer.G, "G_ema": trainer.G_ema})
    with _reading(where, STATE_FIX):
        trainer.step_count = int(facts.get("step", 0))
    _refuse_broken(trainer, run, trainer.step_count, optimizers=False)
    return trainer


# --- side-by-side runs (the latent lab's autosave) -------------------------------------
SIDE_BY_SIDE_JSON = "side_by_side.json"
SIDE_BY_SIDE_TENSORS = "side_by_side.safetensors"


def save_side_by_side(model: SideBySide, folder: str | Path) -> Path:
    """Write k side-by-side runs (`ganlab.train.side_by_side`) to a folder: their configs,
    labels and histories, and the trainer's `state_dict()` (networks, optimizers, random
    generators) as safetensors plus a JSON tree that names each tensor. Loaded by
    `load_side_by_side`, which continues them exactly (the same numbers as without the
    save, on CPU). No pickle: every value is JSON or a tensor."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    meta = {"format": FORMAT, "ganlab_version": __version__, "configs": [c.to_dict() for c in model.cfgs],
            "labels": list(model.labels), "histories": model.histories,
            "state": _tensors_out(model.state_dict(), tensors)}
    atomic_write(out / SIDE_BY_SIDE_TENSORS, lambda p: save_file(tensors, str(p)))
    write_text_atomic(out / SIDE_BY_SIDE_JSON, json.dumps(meta))
    return out


def load_side_by_side(folder: str | Path) -> SideBySide:
    """The side-by-side runs `save_side_by_side` wrote, ready to continue.

    Raises CheckpointError naming the damaged file (missing, cut short, another format)."""
    run = Path(folder)
    fix = "start the comparison again"
    if not (run / SIDE_BY_SIDE_JSON).is_file():
        raise CheckpointError(f"{run / SIDE_BY_SIDE_JSON} is missing; {fix}")
    with _reading(run / SIDE_BY_SIDE_JSON, fix):
        meta = json.loads((run / SIDE_BY_SIDE_JSON).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{run / SIDE_BY_SIDE_JSON} has format {meta.get('format')!r}, "
                                  f"this ganlab reads {FORMAT}; {fix}")
        cfgs = [Config.from_dict(c) for c in meta["configs"]]
        labels, histories, state = meta["labels"], meta["histories"], meta["state"]
    tensors = _load_tensors(run / SIDE_BY_SIDE_TENSORS, fix)
    model = side_by_side(cfgs, labels)
    try:
        model.histories = [list(h) for h in histories]
        model.load_state_dict(_tensors_in(state, tensors))
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise CheckpointError(f"{run} does not hold these side-by-side runs ({exc}); {fix}") from None
    return model


def _tensors_out(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A state tree as JSON: each tensor moved into `tensors` under a fresh name, dict
    keys and tuples kept as they were (optimizer states are keyed by int), a Config as
    its fields."""
    if isinstance(tree, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = tree.detach().cpu().contiguous()
        return {"tensor": name}
    if isinstance(tree, dict):
        return {"dict": [[k, _tensors_out(v, tensors)] for k, v in tree.items()]}
    if isinstance(tree, tuple):
        return {"tuple": [_tensors_out(v, tensors) for v in tree]}
    if isinstance(tree, Config):
        return {"config": tree.to_dict()}
    if isinstance(tree, list):
        return [_tensors_out(v, tensors) for v in tree]
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"cannot save a {type(tree).__name__} in a side-by-side state")


def _tensors_in(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `_tensors_out`."""
    if isinstance(tree, list):
        return [_tensors_in(v, tensors) for v in tree]
    if isinstance(tree, dict):
        if "tensor" in tree:
            return tensors[tree["tensor"]]
        if "tuple" in tree:
            return tuple(_tensors_in(v, tensors) for v in tree["tuple"])
        if "config" in tree:
            return Config.from_dict(tree["config"])
        return {k: _tensors_in(v, tensors) for k, v in tree["dict"]}
    return tree


# --- the runs folder -----------------------------------------------------------------

def runs_root() -> Path:
    """Where the app keeps runs: $GANLAB_RUNS, default runs/ under the current directory."""
    return Path(os.environ.get(RUNS_ENV) or "runs")


@dataclass
class RunSummary:
    """One run folder: its settings and the latest value of each metric it recorded."""

    name: str
    path: Path
    data: str
    model: str
    steps: int
    latest: dict[str, float] = field(default_factory=dict)

    METRICS = ("d_loss", "g_loss", "fd", "score", "classes_covered", "cond_acc")

    def metrics(self) -> dict[str, float]:
        """Each of METRICS as a float, NaN when the run never recorded it (or not a number)."""
        def number(v: Any) -> float:
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan

        return {k: number(self.latest.get(k)) for k in self.METRICS}

    def row(self) -> dict[str, Any]:
        """The runs table's row. One type per column (a table of rows that mix None and
        numbers, or text and numbers, fails Arrow's conversion): run, data, model text;
        steps int; each metric a float (NaN: not recorded)."""
        return {"run": self.name, "data": self.data, "model": self.model, "steps": int(self.steps),
                **self.metrics()}


def _step_and_kind(run: Path, history: list[dict[str, float]]) -> tuple[int, str]:
    """(saved step, data kind "image" | "points" | "") from model.safetensors' header (what
    `load_generator_run` reads), else state.json (older runs), else the history."""
    try:
        meta = _model_facts(run) or json.loads((run / "state.json").read_text(encoding="utf-8"))
        return int(meta["step"]), str(meta.get("data_info", {}).get("kind", ""))
    except (OSError, ValueError, KeyError, AttributeError):
        return (int(history[-1]["step"]) if history else 0), ""


def list_runs(root: Path | None = None, kind: str | None = "image") -> list[RunSummary]:
    """Runs under root (made by a page or the CLI) whose data is of `kind` ("image",
    "points"; None: all), newest first; folders that are not runs are skipped."""
    root = root if root is not None else runs_root()
    if not root.is_dir():
        return []
    found = []
    for run in root.iterdir():
        if not (run / "config.json").is_file() or not (run / "model.safetensors").is_file():
            continue
        try:
            cfg = read_config(run)
            history = read_history(run)
        except (CheckpointError, ValueError):
            continue  # a broken folder must not hide the others
        step, data_kind = _step_and_kind(run, history)
        if kind is not None and data_kind != kind:
            continue
        latest: dict[str, float] = {}
        for row in history:
            latest.update({k: v for k, v in row.items() if k not in ("step", "time")})
        found.append((run.stat().st_mtime, RunSummary(run.name, run, cfg.data, cfg.model, step, latest)))
    return [s for _, s in sorted(found, key=lambda f: f[0], reverse=True)]


def run_name(cfg: Config, taken: set[str]) -> str:
    """A fresh folder name like `mnist-cgan-3` (the first number not taken)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", f"{cfg.data}-{cfg.model}")
    for i in range(1, 10_000):
        if f"{base}-{i}" not in taken:
            return f"{base}-{i}"
    raise CheckpointError(f"too many runs named {base}-N in {runs_root()}; delete some")


def save_to_runs(trainer: Trainer, name: str | None = None, root: Path | None = None) -> Path:
    """Save the run under root (a fresh name unless given); returns the folder."""
    root = root if root is not None else runs_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create the runs folder {root} ({exc}); set {RUNS_ENV} "
                              "to a writable folder") from None
    if name is None:
        name = run_name(trainer.cfg, {p.name for p in root.iterdir()})
    return save_run(trainer, root / name)
