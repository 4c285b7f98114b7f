"""The pieces of issue 14's GPU session and of `bench mnist`'s first-reached steps:
thresholds, the sweep's bookkeeping, tracked training, and the time-fitted pgan schedule."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ganlab.bench.pgan_assets import GROWTH_SHARE, MIN_PHASE_IMAGES, PHASE_SHARES, plan_phase, recipe, train_budgeted
from ganlab.bench.sweep import SETTINGS, append_jsonl, job_config, summarise, train_and_track
from ganlab.bench.thresholds import first_reached, format_reached, met_targets
from ganlab.config import Config
from ganlab.data.base import DataInfo, Dataset


def squares(side: int, n: int = 40, classes: int = 2) -> Dataset:
    x = torch.zeros(n, 1, side, side, dtype=torch.uint8)
    y = torch.arange(n) % classes
    for i in range(n):
        x[i, 0, : 2 + int(y[i]), : 2 + int(y[i])] = 255
    info = DataInfo(name="squares", kind="image", shape=(1, side, side), num_classes=classes,
                    class_names=tuple(str(c) for c in range(classes)))
    return Dataset(x, info, y)


def test_first_reached_steps_and_targets() -> None:
    rows = [{"step": 500, "cond_acc": 0.5, "classes_covered": 9, "classes_total": 10},
            {"step": 1000, "cond_acc": 0.91, "classes_covered": 10, "classes_total": 10},
            {"step": 1500, "cond_acc": 0.96, "classes_covered": 10, "classes_total": 10}]
    assert first_reached("cgan", rows) == {"classes": 1000, "cond_acc>=0.90": 1000}
    assert first_reached("cdcgan", rows) == {"classes": 1000, "cond_acc>=0.95": 1500}
    assert met_targets("cdcgan", first_reached("cdcgan", rows))  # 1500 <= 2000
    assert not met_targets("cdcgan", first_reached("cdcgan", rows[:2]))
    assert first_reached("dcgan", rows[:1]) == {"classes": None}
    assert format_reached({"classes": 500, "cond_acc>=0.90": None}) == "classes@500 cond_acc>=0.90@-"
    assert first_reached("pgan", rows) == {}


def test_sweep_settings_keep_the_cgan_architecture() -> None:
    for name, overrides in SETTINGS["cgan"][1].items():
        cfg = job_config("cgan", overrides, seed=0, device="cpu").validate()
        assert (cfg.g_layers, cfg.g_width, cfg.d_layers, cfg.d_width, cfg.activation) == \
            (1, 128, 1, 128, "leaky_relu"), name
    assert SETTINGS["cgan"][0] == 5000 and SETTINGS["cdcgan"][0] == SETTINGS["dcgan"][0] == 2000


def test_summarise_partial_records_and_best(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    base = {"model": "cgan", "seed": 0}
    append_jsonl(path, {**base, "id": "a", "setting": "a", "event": "start", "config": {}})
    append_jsonl(path, {**base, "id": "a", "setting": "a", "event": "eval", "step": 500, "cond_acc": 0.95,
                        "classes_covered": 10, "classes_total": 10})
    append_jsonl(path, {**base, "id": "b", "setting": "b", "event": "eval", "step": 500, "cond_acc": 0.5,
                        "classes_covered": 10, "classes_total": 10})
    append_jsonl(path, {**base, "id": "c", "setting": "c", "event": "error", "error": "boom"})
    records = [json.loads(line) for line in path.read_text().splitlines()]
    s = summarise(records)
    assert s["jobs"]["a"]["status"] == "running" and s["jobs"]["a"]["first_reached"]["cond_acc>=0.90"] == 500
    assert s["jobs"]["a"]["targets_met"] and not s["jobs"]["b"]["targets_met"]
    assert s["jobs"]["c"]["status"] == "error" and s["best"] == {"cgan": "a"}


def test_train_and_track_evaluates_every_k_steps() -> None:
    cfg = Config(data="mnist", model="cgan", latent_dim=4, g_layers=1, g_width=8, d_layers=1, d_width=8,
                 batch_size=8, eval_every=0, n_fixed=4)
    seen: list[dict] = []
    trainer, rows = train_and_track(cfg, 7, eval_every=3, eval_samples=20, dataset=squares(28),
                                    on_eval=seen.append)
    assert trainer.step_count == 7 and [r["step"] for r in rows] == [3, 6, 7] and seen == rows
    assert rows[0]["train_s"] <= rows[-1]["train_s"]


def test_plan_phase_fits_the_growth_into_its_share_of_the_budget() -> None:
    lengths = plan_phase(0, (), elapsed=0.0, budget=100.0, rate=1000.0)
    assert len(lengths) == 6
    assert sum(lengths) == pytest.approx(GROWTH_SHARE * 100 * 1000, rel=1e-3)
    assert lengths[0] == int(PHASE_SHARES[0] * 100 * 1000)
    later = plan_phase(3, lengths[:3], elapsed=50.0, budget=100.0, rate=1000.0)
    assert later[:3] == lengths[:3] and min(later[3:]) >= MIN_PHASE_IMAGES  # behind schedule: floor
    assert sum(later[3:]) < sum(lengths[3:])


class _SteppedClock:
    """A clock for `time.perf_counter` that advances 5 ms per reading: a training step (the
    time between its two readings) then takes 5 ms, so a budgeted run is the same on any machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.005
        return self.now


def test_train_budgeted_grows_to_full_size_within_its_budget(monkeypatch) -> None:
    import types

    import ganlab.train.trainer as trainer_module

    clock = _SteppedClock()
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    cfg = recipe("mnist", "ns-r1", device="cpu", g_width=8, d_width=8, latent_dim=8, batch_size=8,
                 image_size=8)
    phases: list[int] = []
    tr = train_budgeted(cfg, 3.0, dataset=squares(8), warmup_steps=5, on_phase=lambda t, i: phases.append(i))
    assert tr.step_count in (600, 601)  # 3 s of 5 ms steps (+1 for float rounding of the sum)
    assert tr.elapsed >= 3.0 and phases == [0, 1] and len(tr.schedule.phase_images) == 2
    assert tr.current_resolution == 8 and tr.images_seen > sum(tr.schedule.phases)  # final phase reached
