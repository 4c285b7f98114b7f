"""Multi-process training: torchrun with 2 CPU processes (gloo) against the single-process run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from PIL import Image

from ganlab.runs import read_history
from ganlab.cli import main
from ganlab.data.base import DataInfo, Dataset
from ganlab.train.distributed import DistContext, rank_seed, shard


def _folder_like(n: int) -> Dataset:
    """n labelled 28 px images in 3 classes: a bright bar whose row depends on the class."""
    y = torch.arange(n) % 3
    x = torch.zeros((n, 1, 28, 28), dtype=torch.uint8)
    for i in range(n):
        r = 4 + 8 * int(y[i])
        x[i, 0, r:r + 8, 6:22] = 200 + i % 50
    return Dataset(x, DataInfo("image_folder", "image", (1, 28, 28), 3, ("a", "b", "c")), y)


def _write_folder(root, n: int) -> None:
    data = _folder_like(n)
    for i in range(n):
        sub = root / "abc"[int(data.y[i])]
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.x[i, 0].numpy()).save(sub / f"{i:03d}.png")


def test_shard_takes_every_world_th_sample():
    data = _folder_like(10)
    parts = [shard(data, DistContext(r, 3, r, "gloo")) for r in range(3)]
    assert [len(p) for p in parts] == [4, 3, 3]
    assert torch.equal(parts[1].x, data.x[[1, 4, 7]]) and torch.equal(parts[2].y, data.y[[2, 5, 8]])
    assert parts[0].extras["shard"] == "0/3" and parts[0].info is data.info
    assert len({rank_seed(0, r, 0) for r in range(4)} | {rank_seed(1, 0, 0), rank_seed(0, 1, 5)}) == 6


def test_shard_refuses_more_processes_than_samples():
    from ganlab.errors import ConfigError

    with pytest.raises(ConfigError, match="fewer than the 4 processes; use fewer processes"):
        shard(Dataset(torch.zeros(3, 1, 28, 28), _folder_like(3).info), DistContext(0, 4, 0, "gloo"))


def test_torchrun_two_cpu_processes_match_the_single_process_run(tmp_path, capsys):
    _write_folder(tmp_path / "pics", 24)
    common = ["--data", "image_folder", "--model", "dcgan", "--steps", "4", "--quiet",
              "--set", f"data_path={tmp_path / 'pics'}", "--set", "batch_size=8", "--set", "log_every=2",
              "--set", "eval_every=0", "--progress-every", "2"]
    assert main(["train", *common, "--out", str(tmp_path / "single")]) == 0
    single = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "ganlab", "train", *common, "--out", str(tmp_path / "ddp")],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1  # only rank 0 reports
    ddp = lines[0]
    assert ddp["processes"] == 2 and ddp["steps"] == single["steps"] == 4

    a = load_file(str(tmp_path / "single" / "model.safetensors"))
    b = load_file(str(tmp_path / "ddp" / "model.safetensors"))
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
    # Same init, other batches (a shard, averaged with rank 1's gradients): the weights moved apart.
    assert not torch.equal(a["G.net.0.weight"], b["G.net.0.weight"])
    assert [r["step"] for r in read_history(tmp_path / "ddp")] == [r["step"] for r in read_history(tmp_path / "single")]
    state = json.loads((tmp_path / "ddp" / "state.json").read_text())
    assert state["step"] == 4
    assert sorted(p.name for p in (tmp_path / "ddp" / "progress").iterdir()) == \
        sorted(p.name for p in (tmp_path / "single" / "progress").iterdir())
