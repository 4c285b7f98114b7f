"""The pages' shared helpers: scrubber frame, GIF frame picking, widget persistence,
update-live-or-reset, controls built from the Config metadata, chart tables, user points."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ganlab.config import FIELD_SPECS, LIVE_FIELDS, Config
from ganlab.data.toy import points_dataset
from ganlab.errors import ConfigError, DataError
from ui import controls, persist, views
from ui.history import gif_frames, nearest_frame, spread_indices
from ui.live import apply_settings
from ui.runner import Runner, close_all
from ui.studio import settings_config, studio_config

FRAMES = [(0, "a"), (10, "b"), (20, "c"), (50, "d"), (100, "e")]


@pytest.fixture(autouse=True)
def _close_runners():
    yield
    close_all()


@pytest.mark.parametrize("percent,expected", [(0, (0, "a")), (14, (10, "b")), (15, (10, "b")),
                                              (16, (20, "c")), (35, (20, "c")), (36, (50, "d")),
                                              (99, (100, "e"))])
def test_nearest_frame_picks_the_frame_nearest_to_the_percent_of_the_last_step(percent, expected):
    assert nearest_frame(FRAMES, percent) == expected


def test_nearest_frame_is_none_for_the_live_view():
    assert nearest_frame(FRAMES, 100) is None
    assert nearest_frame([], 30) is None


def test_spread_indices():
    assert spread_indices(10, 4) == [0, 3, 6, 9]
    assert spread_indices(5, 60) == [0, 1, 2, 3, 4]
    assert spread_indices(1, 3) == [0]
    assert spread_indices(0, 3) == [] and spread_indices(4, 0) == []
    assert len(spread_indices(121, 60)) == 60 and spread_indices(121, 60)[-1] == 120
    assert gif_frames(FRAMES, 3) == [(0, "a"), (20, "c"), (100, "e")]


def test_persist_keeps_and_restores_only_missing_keys():
    ss: dict[str, Any] = {"a": 1, "b": "x"}
    assert not persist.restore(["a", "b"], ss)  # nothing kept yet: a first visit
    persist.keep(["a", "b", "c"], ss)
    assert ss == {"a": 1, "b": "x", "a.kept": 1, "b.kept": "x"}
    del ss["a"]  # Streamlit forgot a widget that was not drawn
    ss["b"] = "set by a callback"
    assert persist.restore(["a", "b", "c"], ss)
    assert ss["a"] == 1 and ss["b"] == "set by a callback" and "c" not in ss
    del ss["a"]
    persist.restore_or({"a": 5, "b": "first", "d": 10}, ss)  # kept copy, then the present value, then the default
    assert (ss["a"], ss["b"], ss["d"]) == (1, "set by a callback", 10)


class FakeRun:
    """A model with a cfg and update(): what apply_settings needs."""

    def __init__(self, cfg: Config, fail: bool = False) -> None:
        self.cfg, self.fail, self.updates = cfg, fail, []

    def step(self) -> None:
        pass

    def update(self, **changes: Any) -> None:
        if self.fail:
            raise ConfigError("no")
        self.updates.append(changes)
        self.cfg = self.cfg.replace(**changes)


def test_apply_settings_updates_live_changes_in_place():
    run = FakeRun(Config())
    runner = Runner(run)
    assert apply_settings(runner, Config(), lambda: FakeRun(Config()), reset=True).action == "same"
    done = apply_settings(runner, Config(d_lr=2e-4, data_path="x"), lambda: FakeRun(Config()), reset=True,
                          ignore=("data_path",))
    assert done.action == "updated" and run.updates == [{"d_lr": 2e-4}]
    with runner.hold() as model:
        assert model is run


def test_apply_settings_resets_or_reports_changes_that_cannot_apply_live():
    assert "latent_dim" not in LIVE_FIELDS
    run = FakeRun(Config())
    runner = Runner(run)
    wanted = Config(latent_dim=3, d_lr=2e-4)
    held = apply_settings(runner, wanted, lambda: FakeRun(wanted), reset=False)
    assert (held.action, held.pending, run.updates) == ("pending", ["latent_dim"], [])
    done = apply_settings(runner, wanted, lambda: FakeRun(wanted), reset=True)
    assert done.action == "reset"
    with runner.hold() as model:
        assert model is not run and model.cfg == wanted
    again = apply_settings(runner, wanted, lambda: FakeRun(wanted), reset=False, restart=True)
    assert again.action == "reset"


def test_apply_settings_keeps_the_run_when_an_update_fails():
    run = FakeRun(Config(), fail=True)
    runner = Runner(run)
    done = apply_settings(runner, Config(d_lr=2e-4), lambda: FakeRun(Config()), reset=True)
    assert done.action == "same" and done.error == "no (the run goes on with the previous settings)"

    def broken() -> FakeRun:
        raise DataError("cannot build")

    done = apply_settings(runner, Config(latent_dim=5), broken, reset=True)
    assert done.error.startswith("cannot build") and done.pending == ["latent_dim"]
    with runner.hold() as model:
        assert model is run


def test_controls_take_labels_ranges_and_choices_from_the_config_metadata():
    c = controls.control("d_lr")
    assert (c.label, c.kind, c.lo, c.hi, c.step, c.fmt) == ("D learning rate", "float", 1e-6, 1.0, 1e-4, "%g")
    assert c.key == "cfg.d_lr"
    assert controls.control("loss").options == FIELD_SPECS["loss"].options()
    assert controls.control("activation").kind == "select"
    assert controls.control("d_l2_adaptive").kind == "bool"
    latent = controls.control("latent_dim", hi=64, prefix="x.")  # a page narrows a range
    assert (latent.lo, latent.hi, latent.key) == (1, 64, "x.latent_dim")
    assert controls.control("n_fixed", hidden=True).kind == "hidden"
    # every control of the playground's table is a Config field with its spec's label
    for ctrl in controls.all_controls(controls.toy_controls()).values():
        assert ctrl.label == FIELD_SPECS[ctrl.field].label
        if ctrl.lo is not None and FIELD_SPECS[ctrl.field].lo is not None:
            assert ctrl.lo >= FIELD_SPECS[ctrl.field].lo and ctrl.hi <= FIELD_SPECS[ctrl.field].hi


def test_studio_settings_keep_the_opened_run_for_the_same_data_and_model():
    values = {"data": "mnist", "model": "mlp", "d_lr": 5e-4}
    fresh = settings_config(values)
    assert fresh == studio_config("mnist", "mlp", {"d_lr": 5e-4})
    opened = fresh.replace(seed=7, steps=123)
    assert settings_config(values, opened) == opened.replace(d_lr=5e-4)
    assert settings_config({**values, "model": "cgan"}, opened).steps == studio_config("mnist", "cgan").steps


def test_history_columns_and_eigenvalue_rows():
    rows = [{"step": 1, "d_loss": 0.5}, {"step": 2, "fd": 3.0}, {"step": 3, "time": 1.0}]
    cols = views.history_columns(rows, ("d_loss", "fd"))
    assert cols["step"] == [1, 2] and cols["d_loss"][0] == 0.5 and np.isnan(cols["d_loss"][1])
    real = {"eig1": 0.1, "eig2": 1.0, "local_dim": 2.0}
    hist = [[{"step": 5, "js": 0.1, "eig1": 0.2, "eig2": 0.9, "local_dim": 1.5}], [{"step": 5, "d_loss": 1.0}]]
    assert views.eigenvalue_rows(hist, ["a", "b"], real) == [
        {"run": "real data", "eig1": 0.1, "eig2": 1.0, "local_dim": 2.0},
        {"run": "a", "eig1": 0.2, "eig2": 0.9, "local_dim": 1.5}]
    fig = views.comparison_charts(hist, ["a", "b"], real, marker=5)
    # panels in COMPARISON_CHARTS order, for the keys some run records: d_loss (b), js, local_dim, eig1 (a)
    assert [(t["name"], t["yaxis"]) for t in fig["data"]] == [("b", "y"), ("a", "y2"), ("a", "y3"), ("a", "y4")]
    assert fig["layout"]["shapes"][-1]["x0"] == 5


def test_points_dataset_is_the_points_file_set_in_memory(tmp_path):
    pts = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    np.save(tmp_path / "p.npy", pts)
    from ganlab.data import build_dataset
    from ganlab.data.base import DataOptions
    from_file = build_dataset(DataOptions(name="points_file", path=str(tmp_path / "p.npy")))
    in_memory = points_dataset(pts)
    assert (in_memory.info.name, in_memory.info.shape) == (from_file.info.name, from_file.info.shape)
    assert np.array_equal(in_memory.info.bounds.numpy(), from_file.info.bounds.numpy())
    assert np.array_equal(in_memory.x.numpy(), from_file.x.numpy())
    with pytest.raises(DataError, match="your points has shape"):
        points_dataset(np.zeros((30, 4)))
    with pytest.raises(DataError, match="between 10"):
        points_dataset(pts[:3])



def test_losses_beside_a_rewound_view_are_those_recorded_by_its_step() -> None:
    from ui.history import loss_words, losses_at

    history = [{"step": 5, "time": 0.1, "d_loss": 1.25, "g_loss": 0.5},
               {"step": 10, "time": 0.2, "fd": 3.0},  # a metrics row without losses
               {"step": 10, "time": 0.2, "d_loss": 1.0, "g_loss": 0.75}]
    assert losses_at(history, 4) is None
    assert losses_at(history, 7)["d_loss"] == 1.25 and losses_at(history, 12)["d_loss"] == 1.0
    assert loss_words(losses_at(history, 10), 10) == "D loss 1.0000 · G loss 0.7500"
    assert loss_words(losses_at(history, 7), 7) == "D loss 1.2500 · G loss 0.5000 (recorded at step 5)"
    assert loss_words(None, 4) == "losses not recorded yet at this step"
    nan = float("nan")  # a trainer's last losses before its first step
    assert loss_words({"d_loss": nan, "g_loss": nan}, 0) == "no losses before the first step"
    assert loss_words({"d_loss": 2.0, "g_loss": 1.0}, 9, "D ", "G ", 3, " ") == "D 2.000 G 1.000"  # live: no step


def test_engine_messages_end_as_sentences_in_a_box() -> None:
    from ganlab.errors import DataError
    from ui.messages import sentence

    assert sentence(DataError("points file 'a.csv' is empty; it needs one point per row")) == \
        "points file 'a.csv' is empty; it needs one point per row."
    assert sentence("mine.json is missing: keep both files together.") == "mine.json is missing: keep both files together."
    assert sentence("is it a zip?") == "is it a zip?"
    assert sentence("choose one of ns, wgan (see `--help`.)") == "choose one of ns, wgan (see `--help`.)"
    assert sentence("  a name in **bold**  ") == "a name in **bold**."
    assert sentence("") == ""


def test_projector_fonts_reach_the_figure_title() -> None:
    from ui.projector import PLOT_FONT_PX, big_fonts

    fig = {"data": [], "layout": {"title": {"text": "step 40", "font": {"size": 13}},
                                  "annotations": [{"text": "losses", "font": {"size": 12}}]}}
    big = big_fonts(fig)
    assert big["layout"]["title"] == {"text": "step 40", "font": {"size": PLOT_FONT_PX}}
    assert big["layout"]["annotations"][0]["font"]["size"] == PLOT_FONT_PX and big["layout"]["font"]["size"] == PLOT_FONT_PX
    assert fig["layout"]["title"]["font"]["size"] == 13  # the page's own figure is not changed
