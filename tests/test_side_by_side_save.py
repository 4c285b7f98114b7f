"""Side-by-side runs (the latent lab) saved and loaded: the loaded runs continue with the
same numbers as runs never saved, batched or not; a damaged folder is one clear error."""
from __future__ import annotations

import json

import pytest
import torch

from ganlab.config import Config
from ganlab.errors import CheckpointError
from ganlab.runs import SIDE_BY_SIDE_JSON, SIDE_BY_SIDE_TENSORS, load_side_by_side, save_side_by_side
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, side_by_side

BASE = Config(data="ring8", model="mlp", g_layers=2, g_width=16, d_layers=2, d_width=16, batch_size=32,
              latent_dim=2, ema=0.9, log_every=5, eval_every=10, eval_samples=200, seed=3)


def rows(model) -> list[list[dict]]:
    """Each run's history without the wall-clock column."""
    return [[{k: v for k, v in r.items() if k != "time"} for r in h] for h in model.histories]


def runs(vary: str, values: tuple) -> tuple[list[Config], list[str]]:
    return [BASE.replace(**{vary: v}) for v in values], [f"{vary} = {v}" for v in values]


@pytest.mark.parametrize("vary, values, kind", [("latent_dim", (1, 4), MultiTrainer),
                                                ("pack", (1, 2), LoopTrainer)])
def test_loaded_runs_continue_exactly(tmp_path, vary, values, kind) -> None:
    cfgs, labels = runs(vary, values)
    straight = side_by_side(cfgs, labels)
    assert isinstance(straight, kind)
    for _ in range(25):
        straight.step()
    save_side_by_side(straight, tmp_path / "saved")
    loaded = load_side_by_side(tmp_path / "saved")
    assert isinstance(loaded, kind) and loaded.labels == labels
    assert loaded.step_count == 25 and loaded.run_steps == straight.run_steps
    assert loaded.histories == straight.histories  # every logged row, metrics included
    for _ in range(12):  # past a metric row (eval_every 10) and two log rows
        a, b = straight.step(), loaded.step()
        assert a == b
    for x, y in zip(straight.fixed_samples(ema=True), loaded.fixed_samples(ema=True)):
        assert torch.equal(x, y)
    assert rows(loaded) == rows(straight)


def test_damaged_folders_are_named(tmp_path) -> None:
    cfgs, labels = runs("latent_dim", (1, 2))
    model = side_by_side(cfgs, labels)
    model.step()
    folder = save_side_by_side(model, tmp_path / "s")
    (folder / SIDE_BY_SIDE_TENSORS).write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="side_by_side.safetensors .*start the comparison again"):
        load_side_by_side(folder)
    folder = save_side_by_side(model, tmp_path / "t")
    meta = json.loads((folder / SIDE_BY_SIDE_JSON).read_text())
    del meta["labels"]
    (folder / SIDE_BY_SIDE_JSON).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="has no entry 'labels'"):
        load_side_by_side(folder)
    (folder / SIDE_BY_SIDE_JSON).unlink()
    with pytest.raises(CheckpointError, match="side_by_side.json is missing"):
        load_side_by_side(folder)
