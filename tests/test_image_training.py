"""Training image GANs: short real runs, resume equivalence, progress grids, the train / sample / eval CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.runs import load_run, read_history, save_run
from ganlab.cli import main
from ganlab.data import build_dataset
from ganlab.data.base import DataInfo, Dataset
from ganlab.data.images import available_splits
from ganlab.presets import PRESETS, resolve_config
from ganlab.progress import ProgressGrids, class_grid, fixed_grid, read_png
from ganlab.train import Trainer

needs_mnist = pytest.mark.skipif("test" not in available_splits("mnist"),
                                 reason="the MNIST test split is not on this machine")


@pytest.fixture(scope="module")
def mnist():
    return build_dataset(resolve_config("mnist").data_options())


# --- a short real run per model ----------------------------------------------------

@needs_mnist
@pytest.mark.parametrize("model, steps, batch", [("mlp", 150, 64), ("cgan", 150, 64),
                                                 ("dcgan", 25, 32), ("cdcgan", 25, 32)])
def test_short_real_training_run_moves_g_towards_mnist(mnist, model, steps, batch):
    cfg = resolve_config("mnist", None, {"model": model, "batch_size": batch, "d_lr": 1e-3,
                                         "g_lr": 1e-3, "eval_every": steps, "log_every": steps,
                                         "eval_samples": 500})
    tr = Trainer(cfg, dataset=mnist)
    before, _ = tr.sample(500, seed=1)
    tr.run(steps=steps)
    after, labels = tr.sample(500, seed=1)
    real_mean = float(mnist.decode(mnist.x[:2000]).mean())  # about -0.76: mostly black
    assert abs(float(before.mean())) < 0.05
    # G has moved at least a quarter of the way to the data's mean pixel, and not past it.
    assert real_mean - 0.1 < float(after.mean()) < 0.25 * real_mean
    row = tr.history[-1]
    assert row["step"] == steps and np.isfinite(row["d_loss"]) and np.isfinite(row["g_loss"])
    assert 0 < row["fd"] < 1e4 and 1.0 <= row["score"] <= 10.0
    assert (labels is not None) == model.startswith("c")
    if labels is not None:
        assert "cond_acc" in row and 0.0 <= row["cond_acc"] <= 1.0


# --- resume equivalence -------------------------------------------------------------

def _folder_like(n: int = 96, seed: int = 0) -> Dataset:
    """A small labelled image set: bright squares whose place depends on the class."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randint(0, 40, (n, 1, 28, 28), generator=gen, dtype=torch.uint8)
    for i in range(n):
        r = 4 + 8 * int(y[i])
        x[i, 0, r:r + 8, 6:22] = 220
    return Dataset(x, DataInfo("image_folder", "image", (1, 28, 28), 3, ("a", "b", "c")), y)


def _state(tr: Trainer) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v for k, v in tr.G.state_dict().items()}
    out.update({f"D.{k}": v for k, v in tr.D.state_dict().items()})
    out.update({f"E.{k}": v for k, v in tr.G_ema.state_dict().items()})
    for name, opt in (("od", tr.opt_d), ("og", tr.opt_g)):
        for i, st in opt.state_dict()["state"].items():
            out.update({f"{name}.{i}.{k}": torch.as_tensor(v) for k, v in st.items()})
    return out


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_resumed_run_gives_the_same_numbers(tmp_path, model):
    data = _folder_like()
    cfg = resolve_config("image_folder", None, {"model": model, "batch_size": 16, "d_dropout": 0.2,
                                                "ema": 0.9, "log_every": 2, "eval_every": 0,
                                                "progress_every": 3})
    whole = Trainer(cfg, dataset=data)
    whole.run(steps=8, on_step=ProgressGrids(tmp_path / "whole", 3))  # grids change nothing

    first = Trainer(cfg, dataset=data)
    first.run(steps=5)
    save_run(first, tmp_path / "run")
    resumed = load_run(tmp_path / "run", dataset=data)
    resumed.run(steps=3)

    a, b = _state(whole), _state(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    strip = lambda rows: [{k: v for k, v in r.items() if k != "time"} for r in rows]  # noqa: E731
    assert strip(whole.history) == strip(resumed.history) and len(whole.history) == 4
    assert whole.step_count == resumed.step_count == 8
    assert torch.equal(whole.sample(10, seed=4)[0], resumed.sample(10, seed=4)[0])


# --- progress grids -----------------------------------------------------------------

def test_progress_grids_and_gif(tmp_path):
    data = _folder_like()
    cfg = resolve_config("image_folder", None, {"model": "cdcgan", "batch_size": 8, "eval_every": 0,
                                                "n_fixed": 100})
    tr = Trainer(cfg, dataset=data)
    grids = ProgressGrids(tmp_path, every=2, n=16)
    grids.save(tr)
    g0 = fixed_grid(tr, 16).clone()
    tr.run(steps=4, on_step=grids)
    folder = tmp_path / "progress"
    assert sorted(p.name for p in folder.iterdir()) == [
        "classes_0000000.png", "classes_0000002.png", "classes_0000004.png",
        "fixed_0000000.png", "fixed_0000002.png", "fixed_0000004.png"]
    # 16 images of 28 px in a 4 x 4 grid with 2 px padding; classes: 3 rows x 10 columns.
    assert read_png(folder / "fixed_0000000.png").shape == (1, 4 * 30 + 2, 4 * 30 + 2)
    assert torch.equal(read_png(folder / "fixed_0000000.png"), g0)
    assert read_png(folder / "classes_0000004.png").shape == (1, 3 * 30 + 2, 10 * 30 + 2)
    assert torch.equal(read_png(folder / "classes_0000004.png"), class_grid(tr))
    assert not torch.equal(read_png(folder / "fixed_0000004.png"), g0)  # G has moved
    gifs = grids.write_gifs(fps=5)
    assert [p.name for p in gifs] == ["fixed.gif", "classes.gif"]
    with Image.open(folder / "fixed.gif") as im:
        assert im.n_frames == 3 and im.info["duration"] == 200


# --- the command line -----------------------------------------------------------------

def _write_folder(root, per_class: int = 8) -> None:
    data = _folder_like(3 * per_class)
    for i in range(len(data)):
        sub = root / ["a", "b", "c"][int(data.y[i])]
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.x[i, 0].numpy()).save(sub / f"{i:03d}.png")


def test_cli_train_sample_resume_on_an_image_folder(tmp_path, capsys):
    _write_folder(tmp_path / "pics")
    run = tmp_path / "run"
    args = ["train", "--data", "image_folder", "--model", "cdcgan", "--steps", "4", "--quiet",
            "--set", f"data_path={tmp_path / 'pics'}", "--set", "batch_size=8", "--set", "log_every=2",
            "--progress-every", "2", "--out", str(run)]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 4 and summary["run_dir"] == str(run)
    cfg = json.loads((run / "config.json").read_text())
    assert (cfg["model"], cfg["g_width"], cfg["latent_dim"], cfg["progress_every"]) == ("cdcgan", 32, 100, 2)
    names = sorted(p.name for p in (run / "progress").iterdir())
    assert names == ["classes.gif", "classes_0000000.png", "classes_0000002.png", "classes_0000004.png",
                     "fixed.gif", "fixed_0000000.png", "fixed_0000002.png", "fixed_0000004.png"]

    assert main(["sample", str(run), "--n", "30", "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (30, 1, 28, 28) and f["images"].dtype == np.uint8
        assert f["labels"].dtype == np.int64 and np.bincount(f["labels"]).tolist() == [10, 10, 10]
    assert main(["sample", str(run), "--n", "7", "--label", "2", "--out", str(tmp_path / "two.npz")]) == 0
    with np.load(tmp_path / "two.npz") as f:
        assert f["labels"].tolist() == [2] * 7
    assert main(["sample", str(run), "--n", "7", "--label", "3", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--label 3 is out of range; classes are 0..2" in capsys.readouterr().err

    assert main(["train", "--resume", str(run), "--steps", "6", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 6
    assert [r["step"] for r in read_history(run)] == [2, 4, 6]
    with Image.open(run / "progress" / "fixed.gif") as im:
        assert im.n_frames == 4  # steps 0, 2, 4 of the first run and 6 of the resumed one

    assert main(["eval", str(run), "--n", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["step"] == 6 and "no classifier for data set 'image_folder'" in out["note"]


@needs_mnist
def test_cli_eval_of_an_mnist_run_with_parzen(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", "mnist", "--model", "cgan", "--steps", "3", "--quiet",
                 "--set", "eval_every=0", "--progress-every", "0", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "200", "--parzen", "--parzen-samples", "300"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("fd", "score", "classes_covered", "class_entropy", "cond_acc", "parzen_ll", "parzen_se"):
        assert np.isfinite(out[key]), key
    assert out["classes_total"] == 10 and out["step"] == 3
    assert np.isclose(np.logspace(-1, 0, 10), out["parzen_sigma"], rtol=1e-12, atol=0).sum() == 1
    assert "historical metric" in out["parzen_note"] and "1000 validation images" in out["parzen_note"]
    assert "training images (no separate test split)" in out["parzen_note"]


@needs_mnist
def test_cli_train_with_a_time_budget(tmp_path, capsys):
    assert main(["train", "--data", "mnist", "--model", "mlp", "--minutes", "0.005", "--quiet",
                 "--set", "eval_every=0", "--progress-every", "0", "--out", str(tmp_path / "r")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    preset_steps = PRESETS.get("mnist_mlp").settings["steps"]
    assert summary["steps"] >= 1 and cfg["minutes"] == 0.005 and cfg["steps"] == preset_steps
    assert summary["steps"] < preset_steps
