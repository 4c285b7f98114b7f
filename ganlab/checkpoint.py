"""Run directories: safetensors weights + JSON, written atomically, read without pickle.

A run directory holds:
- config.json        the full Config (strict JSON round trip);
- model.safetensors  G.*, D.* and (if EMA is on) G_ema.* weights and buffers;
- state.safetensors  optimizer moments and RNG state (what `--resume` needs);
- state.json         step, elapsed time, optimizer hyperparameters, data info;
- history.jsonl      one JSON object per recorded row (losses, metrics).
Each file is written to a temporary name in the same folder and renamed into
place, so an interrupted save never leaves a half-written file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ganlab import __version__
from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset
from ganlab.errors import CheckpointError, ConfigError

FORMAT = 1
FILES = ("config.json", "model.safetensors", "state.safetensors", "state.json", "history.jsonl")


def _atomic_write(path: Path, write: Any) -> None:
    """write(tmp_path) then rename over `path`; the temp file is removed on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a text file atomically (temp file + rename)."""
    path = Path(path)
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


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
            "center": None if info.center is None else info.center.tolist(), "scale": info.scale}


def info_from_json(d: dict[str, Any]) -> DataInfo:
    center = d.get("center")
    return DataInfo(name=d["name"], kind=d["kind"], shape=tuple(d["shape"]),
                    num_classes=d.get("num_classes", 0), class_names=tuple(d.get("class_names", ())),
                    note=d.get("note", ""), scale=d.get("scale"),
                    center=None if center is None else torch.tensor(center, dtype=torch.float32))


def save_run(trainer: "Trainer", run_dir: str | Path) -> Path:  # noqa: F821
    """Write (or update) a run directory for `trainer`; returns its path."""
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    weights: dict[str, torch.Tensor] = {}
    nets = {"G": trainer.G, "D": trainer.D, "G_ema": trainer.G_ema}
    for name, net in nets.items():
        if net is not None:
            for k, v in net.state_dict().items():
                weights[f"{name}.{k}"] = v.detach().cpu().contiguous()
    state: dict[str, torch.Tensor] = {"rng.gen": trainer.gen.get_state().cpu()}
    meta = {
        "format": FORMAT,
        "ganlab_version": __version__,
        "step": trainer.step_count,
        "elapsed": trainer.elapsed,
        "acc": trainer._acc,
        "last": trainer.last,
        "data_info": info_to_json(trainer.info),
        "opt_d": _flat_optimizer("opt_d", trainer.opt_d, state),
        "opt_g": _flat_optimizer("opt_g", trainer.opt_g, state),
    }
    _atomic_write(run / "model.safetensors", lambda p: save_file(weights, str(p)))
    _atomic_write(run / "state.safetensors", lambda p: save_file(state, str(p)))
    write_text_atomic(run / "state.json", json.dumps(meta, indent=1))
    write_text_atomic(run / "config.json", trainer.cfg.to_json() + "\n")
    rows = "".join(json.dumps(r) + "\n" for r in trainer.history)
    write_text_atomic(run / "history.jsonl", rows)
    return run


def read_config(run_dir: str | Path) -> Config:
    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise CheckpointError(f"{str(run)!r} is not a ganlab run directory (no config.json); "
                              "give the folder written by `python -m ganlab train --out DIR`")
    try:
        return Config.load(run / "config.json")
    except ConfigError as exc:
        raise CheckpointError(f"{run / 'config.json'} is invalid: {exc}") from None


def read_run_meta(run_dir: str | Path, device: str | None = None) -> tuple[Config, dict[str, Any]]:
    """(config, state.json) of a run directory; `device` overrides the saved device."""
    run = Path(run_dir)
    cfg = read_config(run)
    if device is not None:
        cfg.device = device
    try:
        meta = json.loads((run / "state.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{run / 'state.json'} is missing or unreadable ({exc})") from None
    return cfg, meta


def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    path = Path(run_dir) / "history.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; the run directory is incomplete (was training "
                              "interrupted before the first save?)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}); "
                              "the checkpoint is corrupt: retrain or restore it") from None


def load_nets(run: Path, nets: dict[str, "torch.nn.Module | None"]) -> None:
    """Load the run's model.safetensors into `nets` (prefix "G" / "D" / "G_ema" -> module;
    None is skipped); CheckpointError when the tensors do not fit the modules."""
    weights = _load_tensors(run / "model.safetensors")
    for name, net in nets.items():
        if net is None:
            continue
        sd = {k[len(name) + 1:]: v for k, v in weights.items() if k.startswith(name + ".")}
        try:
            net.load_state_dict(sd)
        except RuntimeError as exc:
            raise CheckpointError(f"{run / 'model.safetensors'} does not match config.json "
                                  f"({name}: {str(exc).splitlines()[0]})") from None


def restore_training_state(trainer: Any, run: Path, meta: dict[str, Any],
                           state: dict[str, torch.Tensor]) -> None:
    """What a resumed run needs besides the weights: optimizer moments, the run's RNG,
    step, clock, metric accumulators, last losses and the history."""
    trainer.opt_d.load_state_dict(_unflat_optimizer("opt_d", meta["opt_d"], state))
    trainer.opt_g.load_state_dict(_unflat_optimizer("opt_g", meta["opt_g"], state))
    trainer.gen.set_state(state["rng.gen"])
    trainer.step_count = int(meta["step"])
    trainer.elapsed = float(meta["elapsed"])
    trainer._acc = dict(meta["acc"])
    trainer.last = dict(meta["last"])
    trainer.history = read_history(run)


def load_run(run_dir: str | Path, *, device: str | None = None, with_data: bool = True,
             dataset: Dataset | None = None) -> "Trainer":  # noqa: F821
    """Rebuild the Trainer of a run directory (weights, optimizers, RNG, history).

    with_data=False skips loading the training data (enough to sample from G).
    `device` overrides the saved device (e.g. "cpu" for a run trained on a GPU).
    """
    from ganlab.trainer import Trainer

    run = Path(run_dir)
    cfg, meta = read_run_meta(run, device)
    if dataset is None and not with_data:
        info = info_from_json(meta["data_info"])
        dataset = Dataset(torch.zeros((1, *info.shape), dtype=torch.float32), info)
    trainer = Trainer(cfg, dataset=dataset)
    load_nets(run, {"G": trainer.G, "D": trainer.D, "G_ema": trainer.G_ema})
    restore_training_state(trainer, run, meta, _load_tensors(run / "state.safetensors"))
    return trainer
