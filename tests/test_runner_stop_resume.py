"""Issue 15 in the runner: stop exactly at a step count (ui.runner.Runner.set_stop_at), and
autosave / resume of a browser's run (ui.autosave) without a page."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
import torch

from ganlab.errors import DivergenceError
from ganlab.presets import resolve_config
from ganlab.train import Trainer
from tests.helpers import wait_until
from ui import autosave as autosave_mod
from ui import run_controls, state
from ui.autosave import Autosave, new_token, slot_folder, sweep, trainer_autosave, trainer_ident, valid_token
from ui.runner import Runner, live_runner_threads

pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


class Counter:
    """A model whose step counts, optionally slowly, and fails on request."""

    def __init__(self, pause: float = 0.0, fail_at: int | None = None) -> None:
        self.step_count = 0
        self.pause, self.fail_at = pause, fail_at

    def step(self, d: bool = True, g: bool = True) -> None:
        if self.fail_at is not None and self.step_count == self.fail_at:
            raise DivergenceError("diverged", self.step_count)
        if self.pause:
            time.sleep(self.pause)
        self.step_count += 1


def stopped(r: Runner) -> bool:
    """Wait until the run is paused and its thread gone, with its last autosave written."""
    return wait_until(lambda: not r.playing and not r.thread_alive and live_runner_threads() == 0, 20)


# --- stop at a step count ---------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_stops_exactly_at_the_limit_whatever_the_chunk(chunk: int) -> None:
    model = Counter()
    r = Runner(model, steps_per_chunk=chunk, chunk_seconds=0.0)
    r.set_stop_at(23)
    r.play()
    assert stopped(r)
    assert model.step_count == 23 and r.stopped_at == 23 and r.error is None
    time.sleep(0.1)
    assert model.step_count == 23


def test_play_at_the_limit_stays_until_the_limit_is_raised_or_removed() -> None:
    model = Counter()
    r = Runner(model, steps_per_chunk=10, chunk_seconds=0.0)
    r.set_stop_at(15)
    r.play()
    assert stopped(r) and model.step_count == 15
    r.play()  # Play again: it does not train past the limit, and says so again
    assert not r.playing and not r.thread_alive and r.stopped_at == 15
    time.sleep(0.1)
    assert model.step_count == 15
    r.set_stop_at(15)  # the same limit: still stopped
    assert r.stopped_at == 15
    r.set_stop_at(32)  # raised: the notice goes, Play goes on to the new limit
    assert r.stopped_at is None
    r.play()
    assert stopped(r) and model.step_count == 32 and r.stopped_at == 32
    r.set_stop_at(None)  # unticked: it keeps going
    assert r.stopped_at is None and r.stop_at is None
    r.play()
    assert wait_until(lambda: model.step_count > 60)
    r.pause()
    assert stopped(r) and r.stopped_at is None


def test_a_limit_lowered_below_the_step_stops_before_the_next_step() -> None:
    model = Counter(pause=0.002)
    r = Runner(model, steps_per_chunk=5, chunk_seconds=0.05)
    r.play()
    assert wait_until(lambda: model.step_count >= 10)
    r.set_stop_at(5)
    assert stopped(r)
    reached = model.step_count
    assert r.stopped_at == reached and reached >= 10
    assert "past the run length you set (5)" in run_controls.stop_message(r.stopped_at, r.stop_at)


def test_single_steps_may_pass_the_limit_and_reset_clears_the_notice() -> None:
    model = Counter()
    r = Runner(model, steps_per_chunk=3, chunk_seconds=0.0)
    r.set_stop_at(4)
    r.play()
    assert stopped(r) and r.stopped_at == 4
    r.step_once()
    assert model.step_count == 5 and r.stopped_at is None
    r.play()
    assert r.stopped_at == 5 and model.step_count == 5
    r.reset(Counter())
    assert r.stopped_at is None and r.stop_at == 4
    with pytest.raises(ValueError):
        r.set_stop_at(-1)


def test_stop_message_in_plain_words() -> None:
    text = run_controls.stop_message(2000, 2000)
    assert text.startswith("Stopped at step 2000 (the run length you set).")
    assert "raise" in text and "untick" in text
    assert run_controls.parse_stop("250") == (250, None)
    assert run_controls.parse_stop("abc")[0] is None and "ignored" in run_controls.parse_stop("abc")[1]
    assert run_controls.parse_stop("0")[0] is None
    assert set(state.RUN_PARAMS) == {autosave_mod.TOKEN_PARAM, run_controls.STOP_PARAM}
    assert run_controls.resume_message(1200, 100.0, now=112.0).startswith(
        "Resumed at step 1200 (autosaved 12 s ago)")
    assert [run_controls.ago(s) for s in (5, 600, 7200)] == ["5 s", "10 min", "2 h"]
    assert "Resume goes on" in run_controls.stop_message(10, 10, play="Resume")


# --- autosave and resume --------------------------------------------------------------------
def small_cfg(**changes):
    return resolve_config("ring8").replace(batch_size=32, g_width=16, d_width=16, eval_every=0,
                                           log_every=5, **changes)


def same_state(a: Trainer, b: Trainer) -> None:
    """Every weight, optimizer moment and random state equal, bit for bit."""
    assert a.step_count == b.step_count
    for name, net in a.named_networks().items():
        other = b.named_networks()[name]
        if net is None:
            assert other is None
            continue
        for (ka, va), (kb, vb) in zip(net.state_dict().items(), other.state_dict().items()):
            assert ka == kb and torch.equal(va, vb), f"{name}.{ka}"
    for name, opt in a.named_optimizers().items():
        sa, sb = opt.state_dict()["state"], b.named_optimizers()[name].state_dict()["state"]
        assert sa.keys() == sb.keys()
        for i in sa:
            for k, v in sa[i].items():
                assert torch.equal(torch.as_tensor(v), torch.as_tensor(sb[i][k])), f"{name}.{i}.{k}"
    for name, rng in a.named_rngs().items():
        assert torch.equal(rng.get_state(), b.named_rngs()[name].get_state())


def test_tokens_and_slot_names_are_safe() -> None:
    token = new_token()
    assert valid_token(token) and token != new_token()
    for bad in (None, "", "short", "../../etc/passwd-xxxxxxxxx", "a" * 65, "ab/cdefghijklmnopq"):
        assert not valid_token(bad)
    with pytest.raises(ValueError):
        slot_folder("playground", "../../../tmp/xxxxxxxxxxxxx")
    with pytest.raises(ValueError):
        slot_folder("../x", token)


def test_pause_autosaves_and_a_new_session_resumes_bit_for_bit(tmp_path: Path) -> None:
    cfg = small_cfg()
    token = new_token()
    slot = trainer_autosave("playground", cfg, browser=token, root=tmp_path)
    r = Runner(Trainer(cfg), steps_per_chunk=5, chunk_seconds=0.0, autosave=slot)
    r.play()
    assert wait_until(lambda: r.model_step() >= 12)
    r.pause()
    assert stopped(r)
    assert (slot.folder / "latest.json").is_file()
    with r.hold() as trainer:
        reached = trainer.step_count
    assert json.loads((slot.folder / "latest.json").read_text())["step"] == reached

    # a reload: a new session of the same browser, same settings
    again = trainer_autosave("playground", cfg, browser=token, root=tmp_path).restore()
    assert again is not None and again.problem is None and again.step == reached
    assert time.time() - again.saved_at < 60
    with r.hold() as trainer:
        same_state(trainer, again.model)
        assert again.model.history == trainer.history and again.model.cfg == trainer.cfg
        # both go on identically (the data, fixed noise and random state all came back)
        for _ in range(3):
            trainer.step()
            again.model.step()
        same_state(trainer, again.model)


def test_periodic_autosave_while_training_keeps_one_state(tmp_path: Path) -> None:
    cfg = small_cfg()
    slot = trainer_autosave("gan1d", cfg, browser=new_token(), root=tmp_path, period=0.05)
    r = Runner(Trainer(cfg), steps_per_chunk=2, chunk_seconds=0.01, autosave=slot)
    r.play()
    first = wait_until(lambda: slot.latest(), 20)
    assert first and first["step"] > 0
    assert wait_until(lambda: (slot.latest() or {}).get("step", 0) > first["step"], 20)
    r.pause()
    assert stopped(r)
    states = [p for p in slot.folder.iterdir() if p.is_dir()]
    assert [p.name for p in states] == [slot.latest()["dir"]]  # only the latest is kept


def test_a_foreign_token_or_other_settings_do_not_resume(tmp_path: Path) -> None:
    cfg = small_cfg()
    mine = new_token()
    trainer = Trainer(cfg)
    for _ in range(3):
        trainer.step()
    assert trainer_autosave("playground", cfg, browser=mine, root=tmp_path).save(trainer)
    # another browser (a shared link without my token): nothing to resume
    assert trainer_autosave("playground", cfg, browser=new_token(), root=tmp_path).restore() is None
    # another page of the same browser: nothing either
    assert trainer_autosave("gan1d", cfg, browser=mine, root=tmp_path).restore() is None
    # other settings that need a new run (the seed): a fresh start, the state kept
    assert trainer_autosave("playground", cfg.replace(seed=9), browser=mine, root=tmp_path).restore() is None
    # a setting that changes live (a learning rate) resumes: the page applies it afterwards
    live = trainer_autosave("playground", cfg.replace(d_lr=1e-3), browser=mine, root=tmp_path).restore()
    assert live is not None and live.model is not None and live.step == 3
    # own points are part of the experiment
    assert trainer_ident(cfg, "pts-a") != trainer_ident(cfg, "pts-b") != trainer_ident(cfg)


@pytest.mark.parametrize("damage", ["weights", "pointer", "missing", "step"])
def test_a_damaged_autosave_starts_fresh_with_a_notice(tmp_path: Path, damage: str) -> None:
    cfg = small_cfg()
    token = new_token()
    slot = trainer_autosave("playground", cfg, browser=token, root=tmp_path)
    trainer = Trainer(cfg)
    trainer.step()
    trainer.step()
    slot.save(trainer)
    meta = slot.latest()
    state_dir = slot.folder / meta["dir"]
    if damage == "weights":
        path = state_dir / "model.safetensors"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "pointer":
        (slot.folder / "latest.json").write_text("{not json")
    elif damage == "missing":
        import shutil
        shutil.rmtree(state_dir)
    else:
        (slot.folder / "latest.json").write_text(json.dumps({**meta, "step": 99}))
    got = trainer_autosave("playground", cfg, browser=token, root=tmp_path).restore()
    assert got is not None and got.model is None
    assert "could not be read" in got.problem and "starts fresh at step 0" in got.problem
    assert str(tmp_path) not in got.problem  # no server folders on the page
    assert not slot.folder.exists()  # deleted: the next visit starts quietly
    assert trainer_autosave("playground", cfg, browser=token, root=tmp_path).restore() is None


def test_reset_discards_the_autosave_and_errors_are_not_saved(tmp_path: Path) -> None:
    cfg = small_cfg()
    slot = trainer_autosave("playground", cfg, browser=new_token(), root=tmp_path)
    r = Runner(Trainer(cfg), autosave=slot)
    r.step_once()  # a single step is saved at once
    assert slot.latest()["step"] == 1
    r.reset(Trainer(cfg))
    assert slot.latest() is None and not slot.folder.exists()

    saves: list[int] = []
    failing = Autosave(tmp_path / "x", save=lambda m, p: saves.append(m.step_count), load=lambda p: None,
                       ident=lambda m: "", expect="")
    r2 = Runner(Counter(fail_at=7), steps_per_chunk=3, chunk_seconds=0.0, autosave=failing)
    r2.play()
    assert stopped(r2) and r2.error
    assert saves == []  # the broken state is not autosaved


def test_a_run_on_files_is_not_autosaved(tmp_path: Path) -> None:
    cfg = small_cfg()
    slot = trainer_autosave("studio", cfg, browser=new_token(), root=tmp_path)
    trainer = Trainer(cfg)
    trainer.step()
    trainer.cfg.data_path = "/some/upload/folder"  # as a run on uploaded pictures
    assert slot.save(trainer) is False and not slot.folder.exists()


def test_old_states_are_deleted_and_the_slots_are_bounded(tmp_path: Path) -> None:
    cfg = small_cfg()
    trainer = Trainer(cfg)
    trainer.step()
    tokens = [new_token() for _ in range(4)]
    for t in tokens:
        trainer_autosave("playground", cfg, browser=t, root=tmp_path).save(trainer)
    old = tmp_path / tokens[0] / "playground" / "latest.json"
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    assert sweep(tmp_path) == 1
    assert not (tmp_path / tokens[0]).exists() and (tmp_path / tokens[1]).exists()
    assert sweep(tmp_path, max_slots=2) == 1
    assert sum(1 for _ in tmp_path.iterdir()) == 2
    # a state older than a day is not resumed, even before a sweep
    slot = trainer_autosave("playground", cfg, browser=tokens[3], root=tmp_path)
    meta = slot.latest()
    (slot.folder / "latest.json").write_text(json.dumps({**meta, "saved_at": day_ago}))
    assert slot.restore() is None and not slot.folder.exists()


def test_saves_and_restores_of_one_slot_do_not_interleave(tmp_path: Path) -> None:
    cfg = small_cfg()
    token = new_token()
    trainer = Trainer(cfg)
    trainer.step()
    slot = trainer_autosave("playground", cfg, browser=token, root=tmp_path)
    slot.save(trainer)
    problems: list[str] = []

    def reader() -> None:
        for _ in range(10):
            got = trainer_autosave("playground", cfg, browser=token, root=tmp_path).restore()
            if got is None or got.model is None:
                problems.append(repr(got))

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(10):
        slot.save(trainer)
    t.join()
    assert problems == []
