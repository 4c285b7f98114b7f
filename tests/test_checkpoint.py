"""Run directories: round trip, exact resume, and clear errors for damaged files."""
import json

import pytest
import torch

from ganlab.runs import FILES, load_run, read_history, save_run
from ganlab.config import Config
from ganlab.errors import CheckpointError
from ganlab.train import Trainer

CFG = dict(data_size=4000, g_layers=2, g_width=32, d_layers=2, d_width=32, batch_size=64,
           eval_every=10, eval_samples=200, log_every=5, ema=0.9, d_dropout=0.1)


def params(t):
    return torch.cat([p.detach().flatten() for p in [*t.G.parameters(), *t.D.parameters(),
                                                      *t.G_ema.parameters()]])


@pytest.mark.parametrize("opt", ["adam", "sgd", "rmsprop"])
def test_resume_gives_the_same_numbers_as_an_uninterrupted_run(tmp_path, opt):
    cfg = Config(**CFG, d_opt=opt, g_opt=opt, d_momentum=0.5, g_momentum=0.5)
    straight = Trainer(cfg)
    straight.run(20)
    first = Trainer(cfg)
    first.run(10)
    save_run(first, tmp_path / "run")
    resumed = load_run(tmp_path / "run")
    assert resumed.step_count == 10 and resumed.history == first.history
    resumed.run(10)
    assert torch.equal(params(straight), params(resumed))
    strip = lambda h: [{k: v for k, v in r.items() if k != "time"} for r in h]
    assert strip(resumed.history) == strip(straight.history)


def test_run_directory_contents(tmp_path):
    t = Trainer(Config(**CFG))
    t.run(10)
    run = save_run(t, tmp_path / "r")
    assert sorted(p.name for p in run.iterdir()) == sorted(FILES)
    assert Config.load(run / "config.json") == t.cfg
    assert read_history(run) == t.history
    state = json.loads((run / "state.json").read_text())
    assert state["step"] == 10 and state["data_info"]["shape"] == [2]
    assert not list(run.glob(".*tmp"))  # no temp files left behind


def test_sampling_without_data(tmp_path):
    t = Trainer(Config(**CFG))
    t.run(5)
    save_run(t, tmp_path / "r")
    light = load_run(tmp_path / "r", with_data=False)
    assert torch.equal(light.sample(50, seed=2)[0], t.sample(50, seed=2)[0])


def test_damaged_runs_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not a ganlab run directory"):
        load_run(tmp_path)
    t = Trainer(Config(**CFG))
    run = save_run(t, tmp_path / "r")
    (run / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_run(run)
    run = save_run(t, tmp_path / "r2")
    (run / "state.safetensors").unlink()
    with pytest.raises(CheckpointError, match="is missing"):
        load_run(run)
    run = save_run(t, tmp_path / "r3")
    cfg = json.loads((run / "config.json").read_text())
    cfg["g_width"] = 16
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match config.json"):
        load_run(run)
    cfg["bogus"] = 1
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="unknown config field 'bogus'"):
        load_run(run)
