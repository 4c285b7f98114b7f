"""Damaged run folders: each damage names the file, what is wrong and the fix; sampling
needs only config.json and the generator's weights; a saved state that already diverged
is refused with the advice to reset or rewind; a far-away points file's offset survives
the run folder, and `sample` adds it back in float64."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ganlab.cli import main
from ganlab.config import Config
from ganlab.data.toy import points_dataset
from ganlab.errors import CheckpointError
from ganlab.runs import info_from_json, info_to_json, load_generator_run, load_run, save_run
from ganlab.train import Trainer

CFG = dict(data_size=2000, g_layers=2, g_width=16, d_layers=2, d_width=16, batch_size=32,
           eval_every=0, log_every=2, ema=0.9, steps=6)


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    t = Trainer(Config(**CFG))
    t.run(6)
    return save_run(t, tmp_path / "run")


def sample_cli(run: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["sample", str(run), "--n", "50", "--seed", "3", "--out", str(out)])
    return code, capsys.readouterr().err


def cut(path: Path, keep: int) -> None:
    """Keep the first `keep` bytes of a file (a copy or save that did not finish)."""
    path.write_bytes(path.read_bytes()[:keep])


def test_a_history_cut_short_in_its_last_line_loses_that_line_only(run: Path) -> None:
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    text = (run / "history.jsonl").read_text()
    (run / "history.jsonl").write_text(text[:-15])  # the last row loses its end
    notes: list[str] = []
    t = load_run(run, notes=notes)
    assert t.history == rows[:2] and t.step_count == 6
    assert len(notes) == 1 and "line 3" in notes[0] and "cut short and was skipped" in notes[0]
    assert "after step 4" in notes[0] and "history.jsonl" in notes[0]


def test_a_damaged_history_line_before_the_last_is_named(run: Path) -> None:
    lines = (run / "history.jsonl").read_text().splitlines()
    lines[1] = lines[1][:10]
    (run / "history.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(CheckpointError) as e:
        load_run(run)
    assert "history.jsonl: line 2 is not a history row" in str(e.value)
    assert "delete that line" in str(e.value)


@pytest.mark.parametrize("key, shown", [("step", "'step'"), ("opt_d", "'opt_d'"), ("acc", "'acc'")])
def test_state_json_missing_a_key_names_the_file_and_key(run: Path, key: str, shown: str) -> None:
    meta = json.loads((run / "state.json").read_text())
    del meta[key]
    (run / "state.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError) as e:
        load_run(run)
    msg = str(e.value)
    assert f"state.json has no entry {shown}" in msg and "restore the file from a backup" in msg
    assert "python -m ganlab sample" in msg  # the way out that still works


@pytest.mark.parametrize("key", ["data", "model", "latent_dim"])
def test_a_config_without_a_core_entry_is_refused_not_defaulted(run: Path, tmp_path: Path, key: str,
                                                                 capsys) -> None:
    # Without "data" the run used to be read as the default data set (ring8) and
    # evaluated and resumed on it, with no word.
    cfg = json.loads((run / "config.json").read_text())
    del cfg[key]
    (run / "config.json").write_text(json.dumps(cfg))
    code, err = sample_cli(run, tmp_path / "s.npz", capsys)
    assert code == 2 and f"config.json has no '{key}' entry, which every run records; the file is damaged: " \
        "restore it from a backup" in err
    assert main(["train", "--resume", str(run), "--steps", "20", "--quiet"]) == 2
    assert not (tmp_path / "s.npz").exists()


def test_a_cut_config_and_one_from_another_run_are_named_with_the_fix(run: Path, tmp_path: Path,
                                                                      capsys) -> None:
    text = (run / "config.json").read_text()
    cut(run / "config.json", 100)
    code, err = sample_cli(run, tmp_path / "s.npz", capsys)
    assert code == 2 and "config.json is not readable JSON (" in err and "the file is damaged: restore it" in err
    cfg = json.loads(text)
    cfg["g_width"] = 17  # another run's width: the weights no longer fit
    (run / "config.json").write_text(json.dumps(cfg))
    code, err = sample_cli(run, tmp_path / "s.npz", capsys)
    assert code == 2 and "model.safetensors does not match config.json (G: size mismatch for net.0.weight: " \
        "copying a param with shape torch.Size([16, 2]) from checkpoint, the shape in current model is " \
        "torch.Size([17, 2])); config.json was edited or comes from another run: restore the run's own " \
        "config.json" in err


def test_a_truncated_weights_file_says_it_is_cut_short(run: Path, capsys) -> None:
    size = (run / "model.safetensors").stat().st_size
    cut(run / "model.safetensors", size - 100)
    with pytest.raises(CheckpointError) as e:
        load_run(run)
    assert "model.safetensors is cut short" in str(e.value) and f"of {size:,} bytes" in str(e.value)
    code, err = sample_cli(run, run.parent / "s.npz", capsys)
    assert code == 2 and err.startswith("error: ") and "model.safetensors is cut short" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_sample_and_eval_need_only_the_config_and_the_generator(run: Path, tmp_path: Path, capsys) -> None:
    assert sample_cli(run, tmp_path / "good.npz", capsys)[0] == 0
    # Damage all the training state: optimizer moments cut short, state.json without its step,
    # history garbled in the middle.
    cut(run / "state.safetensors", 100)
    meta = json.loads((run / "state.json").read_text())
    del meta["step"], meta["data_info"]
    (run / "state.json").write_text(json.dumps(meta))
    (run / "history.jsonl").write_text("garbage\n{}\n")
    with pytest.raises(CheckpointError, match="line 1 is not a history row"):
        load_run(run)
    code, err = sample_cli(run, tmp_path / "damaged.npz", capsys)
    assert code == 0, err
    with np.load(tmp_path / "good.npz") as a, np.load(tmp_path / "damaged.npz") as b:
        assert np.array_equal(a["points"], b["points"])
    assert main(["eval", str(run), "--n", "200"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["step"] == 6 and result["modes_total"] == 8


def test_runs_saved_before_the_weights_held_their_facts_sample_from_state_json(run: Path) -> None:
    weights = load_file(str(run / "model.safetensors"))
    save_file(weights, str(run / "model.safetensors"))  # no metadata: an older ganlab's file
    expected = load_run(run, with_data=False).sample(20, seed=1)[0]
    assert torch.equal(load_generator_run(run).sample(20, seed=1)[0], expected)
    (run / "state.json").unlink()
    with pytest.raises(CheckpointError, match="state.json is missing"):
        load_generator_run(run)


def test_resume_notes_a_skipped_history_line(run: Path, capsys) -> None:
    text = (run / "history.jsonl").read_text()
    (run / "history.jsonl").write_text(text[:-15])
    assert main(["train", "--resume", str(run), "--steps", "8", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "note: " in err and "cut short and was skipped" in err
    steps = [json.loads(line)["step"] for line in (run / "history.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 8]  # the damaged row 6 is gone; the run went on from its state


@pytest.mark.parametrize("extra, needle", [
    (["--data", "grid25"], "--data grid25 contradicts the run, which trains on 'ring8'"),
    (["--preset", "collapse"], "--preset collapse contradicts the run: "),
])
def test_resume_refuses_data_or_preset_that_contradict_the_run(run: Path, extra, needle, capsys) -> None:
    before = (run / "model.safetensors").read_bytes()
    assert main(["train", "--resume", str(run), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and len(err.strip().splitlines()) == 1
    assert (run / "model.safetensors").read_bytes() == before  # nothing trained or written


def test_resume_accepts_the_runs_own_data(run: Path, capsys) -> None:
    assert main(["train", "--resume", str(run), "--data", "ring8", "--steps", "8", "--quiet"]) == 0


def test_a_saved_state_that_already_diverged_says_reset_or_rewind(run: Path, tmp_path: Path, capsys) -> None:
    t = load_run(run)
    with torch.no_grad():
        next(t.G.parameters()).fill_(float("inf"))
    save_run(t, tmp_path / "blown")
    with pytest.raises(CheckpointError) as e:
        load_run(tmp_path / "blown")
    msg = str(e.value)
    assert "G.net.0.weight holds inf" in msg and str(tmp_path / "blown") in msg
    assert "reset" in msg and "rewind to the last snapshot" in msg and "lower the learning" not in msg
    code, err = sample_cli(tmp_path / "blown", tmp_path / "s.npz", capsys)
    assert code == 2 and "G.net.0.weight holds inf" in err


def test_huge_optimizer_moments_are_caught_on_resume_but_sampling_works(run: Path, tmp_path: Path) -> None:
    t = load_run(run)
    state = next(iter(t.opt_d.state.values()))
    state["exp_avg_sq"].fill_(float("nan"))
    save_run(t, tmp_path / "moments")
    with pytest.raises(CheckpointError, match=r"opt_d's exp_avg_sq of parameter 0 holds nan"):
        load_run(tmp_path / "moments")
    huge = load_run(run)
    with torch.no_grad():
        next(huge.D.parameters()).mul_(0).add_(3e7)
    save_run(huge, tmp_path / "huge")
    with pytest.raises(CheckpointError, match=r"D.net.0.weight holds values up to 3e\+07"):
        load_run(tmp_path / "huge")
    assert load_generator_run(tmp_path / "moments").sample(5)[0].isfinite().all()


def test_a_far_away_points_files_offset_survives_the_run_folder(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    points = np.array([1e6, -2e6]) + rng.normal(size=(400, 2)) * np.array([0.5, 2.0])
    ds = points_dataset(points)
    assert ds.info.offset == (1e6, -2e6)
    # The note tells where the user's units come back (it used to say "add the offset" to
    # samples that `sample` had already shifted back).
    assert "training sees them shifted by -(1000000, -2000000) (float32 precision); `python -m ganlab " \
        "sample` adds (1000000, -2000000) back" in ds.info.note and "back, the app's views and exports show the " \
        "shifted values" in ds.info.note
    assert info_from_json(info_to_json(ds.info)).offset == (1e6, -2e6)
    t = Trainer(Config(**{**CFG, "data": "points_file"}), dataset=ds)
    t.run(6)
    run = save_run(t, tmp_path / "far")
    assert load_run(run, with_data=False).info.offset == (1e6, -2e6)
    code, err = sample_cli(run, tmp_path / "s.npz", capsys)
    assert code == 0, err
    with np.load(tmp_path / "s.npz") as f:
        pts = f["points"]
    shifted = load_generator_run(run).sample(50, seed=3)[0].numpy()
    assert pts.dtype == np.float64 and pts.shape == (50, 2)
    # Added in float64: the samples keep their float32 detail (a float32 sum near 1e6 would
    # round to multiples of 0.06).
    assert np.array_equal(pts, shifted.astype(np.float64) + np.array([1e6, -2e6]))
    assert np.all(np.abs(pts - [1e6, -2e6]) < 100)
