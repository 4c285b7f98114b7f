"""The latent lab page (AppTest): comparison set-up, URL state, controls, verdicts, exports."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from ganlab.lab_presets import LAB_PRESETS
from ganlab.train.side_by_side import LoopTrainer, MultiTrainer, SideBySide
from tests import helpers
from tests.helpers import wait_until
from ui import exports
from ui.runner import Runner

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Latent_lab.py")




# Every test ends with no page runner and no training thread left.
pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return helpers.open_page(PAGE, query)


def runner_of(at: AppTest) -> Runner:
    return at.session_state["lab.runner"]


def model_of(at: AppTest) -> SideBySide:
    return helpers.held_model(at, "lab.runner")


def param(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def test_page_opens_on_the_latent_sweep_trained_as_one_batch() -> None:
    at = open_page()
    assert not at.error and not at.warning
    m = model_of(at)
    assert isinstance(m, MultiTrainer) and [c.latent_dim for c in m.cfgs] == [1, 2, 8, 100]
    assert {c.data for c in m.cfgs} == {"gaussian2d"} and m.step_count == 0
    assert param(at, "vary") == "latent_dim" and param(at, "values") == "1, 2, 8, 100"
    assert param(at, "data") == "gaussian2d"
    assert [i.value for i in at.info] == [f"**latent_dim = {d}**: no metrics yet: they come at step 100"
                                          for d in (1, 2, 8, 100)]
    assert any("trained as one batched computation" in c.value for c in at.caption)
    labels = {b.label for b in at.button}
    assert {"Step D", "Step G", "Step D+G", "Reset"} <= labels and "Load lesson" not in labels
    assert [b.label for b in at.get("download_button")] == ["PNG of the runs", "GIF of the runs",
                                                            "CSV of the metrics"]


def test_a_step_measures_every_run_and_the_verdict_is_in_words() -> None:
    at = open_page({"lab": "latent-1-vs-100-2d", "eval_every": "1", "eval_samples": "500"})
    at.button(key="lab.step").click().run()
    m = model_of(at)
    assert m.step_count == 1 and all(h[-1]["step"] == 1 for h in m.histories)
    curve = [w.value for w in at.warning if w.value.startswith("**latent_dim = 1**")]
    assert len(curve) == 1 and "Diversity lost: the samples lie on a curve" in curve[0]
    table = at.dataframe[0].value
    assert list(table["run"]) == ["real data", "latent_dim = 1", "latent_dim = 100"]
    assert table["local_dim"][1] == pytest.approx(m.histories[0][-1]["local_dim"])
    at.button(key="lab.step_d").click().run()
    assert model_of(at).step_count == 2 and not at.exception


def test_play_pause_speed_and_reset() -> None:
    at = open_page({"lab": "latent-sweep", "values": "1,2"})
    r = runner_of(at)
    at.select_slider(key="lab.speed").set_value(5).run()
    assert r.steps_per_chunk == 5 and r.chunk_seconds == pytest.approx(0.2)
    at.button(key="lab.play").click().run()
    assert r.playing and wait_until(lambda: r.steps_done > 0)
    at.button(key="lab.pause").click().run()
    assert not r.playing and wait_until(lambda: not r.thread_alive)
    assert model_of(at).step_count > 0
    at.button(key="lab.reset").click().run()
    assert model_of(at).step_count == 0 and not r.playing


def test_the_url_reproduces_a_comparison_and_changes_rebuild_the_runs() -> None:
    at = open_page({"data": "ring8", "vary": "loss", "values": "ns, hinge", "seed": "3"})
    m = model_of(at)
    assert m.labels == ["loss = ns", "loss = hinge"] and [c.loss for c in m.cfgs] == ["ns", "hinge"]
    assert {(c.data, c.seed) for c in m.cfgs} == {("ring8", 3)} and isinstance(m, MultiTrainer)
    at.button(key="lab.step").click().run()
    at.text_input(key="lab.values").set_value("ns, lsgan, wgan-gp").run()
    m2 = model_of(at)
    assert m2 is not m and m2.labels == ["loss = ns", "loss = lsgan", "loss = wgan-gp"]
    assert m2.step_count == 0 and param(at, "values") == "ns, lsgan, wgan-gp"


def test_bad_input_is_a_message_not_a_traceback() -> None:
    at = open_page({"values": "1, two", "vary": "latent_dim"})
    assert [e.value for e in at.error] == ["config field 'latent_dim' needs a whole number, got 'two'."]
    at = open_page({"vary": "bogus", "lab": "nope"})
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("URL parameter vary='bogus' is ignored") for w in warnings)
    assert any(w.startswith("URL parameter lab='nope' is ignored: unknown lab preset") for w in warnings)


def test_collapse_lesson_is_flagged_in_words_on_the_page() -> None:
    at = open_page()
    at.selectbox(key="lab.preset").set_value("collapse-vs-pacgan").run()  # one click: no Load button
    m = model_of(at)
    assert isinstance(m, LoopTrainer) and m.labels == ["pack = 1", "pack = 2"]
    assert any("one after the other" in c.value for c in at.caption)
    with runner_of(at).hold() as model:
        model.run(400)
    at.run()
    flagged = [w.value for w in at.warning]
    assert len(flagged) == 1 and flagged[0].startswith("**pack = 1**: Mode collapse:")
    assert "sit nearest one mode" in flagged[0]
    assert not any("pack = 2" in w for w in flagged)


def test_exports_of_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}
    real = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):  # keep the deferred callables
        made[label] = data
        return real(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    at = open_page({"lab": "latent-sweep", "values": "1,2,8", "eval_every": "1", "eval_samples": "200"})
    for _ in range(3):
        at.button(key="lab.step").click().run()
    # Streamlit calls these in a server thread, outside any script run: so do we.
    # A slide, not a strip of thumbnails (1460 x 368 px with 10 px labels before).
    png = Image.open(io.BytesIO(made["PNG of the runs"]()))
    assert png.format == "PNG" and png.size == exports.comparison_slide_size(3) == (1600, 685)
    assert at.get("download_button")[0].help == "A slide of 1600 x 685 pixels: every run's samples now, each named."
    gif = Image.open(io.BytesIO(made["GIF of the runs"]()))
    assert gif.format == "GIF" and gif.n_frames == len(runner_of(at).frames()) >= 1
    assert gif.size == (1600, 685)
    lines = made["CSV of the metrics"]().strip().splitlines()
    head = lines[0].split(",")
    assert head[:2] == ["step", "time"] and "run" in head and "local_dim" in head
    runs = [line.split(",")[head.index("run")] for line in lines[1:]]
    assert runs == ["latent_dim = 1"] * 3 + ["latent_dim = 2"] * 3 + ["latent_dim = 8"] * 3


def test_the_playground_and_the_lab_keep_their_own_settings_across_visits() -> None:
    """Both pages draw the toy settings; on one key prefix they shared widget values, and a
    visit to one page left the other with the smallest value of every setting (learning
    rate 1e-6, batch 2: what a teacher met going back to the playground from the lab)."""
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_Gaussian_playground.py").run()
    at.number_input(key="cfg.d_lr").set_value(0.0005).run()
    pg_batch = at.number_input(key="cfg.batch_size").value
    at.switch_page("pages/2_Latent_lab.py").run()
    assert not at.exception
    lab_width = at.number_input(key="lab.cfg.g_width")
    lab_width.set_value(lab_width.value + 8).run()
    width = at.number_input(key="lab.cfg.g_width").value
    at.switch_page("pages/1_Gaussian_playground.py").run()
    assert at.number_input(key="cfg.d_lr").value == 0.0005
    assert at.number_input(key="cfg.batch_size").value == pg_batch
    assert dict(at.query_params)["d_lr"] == "0.0005"  # the URL a teacher shares says so too
    at.switch_page("pages/2_Latent_lab.py").run()
    assert at.number_input(key="lab.cfg.g_width").value == width
    assert not at.exception


def test_the_comparison_slide_is_readable() -> None:
    """Four runs in a row on 1600 px: each scatter about 300 px square, captions 30 px tall
    type, the run's name over its own scatter."""
    import numpy as np

    rng = np.random.default_rng(0)
    real, box = rng.normal(size=(500, 2)), np.array([[-3.0, 3.0], [-2.0, 4.0]])
    fakes = [rng.normal(size=(500, 2)) for _ in range(4)]
    img = exports.comparison_slide(box, real, fakes, ["a", "b", "c", "d"], 10, "ring8")
    assert img.shape == (555, 1600, 3) and exports.comparison_slide_size(4) == (1600, 555)
    _, _, _, tile, plot = exports._comparison_geometry(4, 1600)
    assert plot >= 300 and tile >= 360
    assert exports.comparison_slide_size(2) == (1600, 812) and exports.comparison_slide_size(6)[0] == 1600
    dark = (img < 100).all(axis=2)
    assert dark[:84].any() and dark[140:190].any()  # the title, then the captions, in dark type


def caption_texts(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def metric_charts(at: AppTest) -> list[dict]:
    """The figures of the live plots that chart the runs' losses."""
    import json

    figs = [json.loads(c.proto.json_args)["fig"] for c in at.get("component_instance")]
    return [f for f in figs if "G loss" in str(f["layout"])]


def test_the_3d_note_is_only_for_3d_data() -> None:
    at = open_page({"lab": "latent-sweep", "values": "1,2"})
    assert not any("3-D data" in c for c in caption_texts(at))
    at = open_page({"lab": "latent-sweep", "values": "1,2", "data": "gaussian3d"})
    assert model_of(at).cfgs[0].data == "gaussian3d"
    assert "3-D data is drawn in the PNG and the GIF from its first two axes." in caption_texts(at)


def test_step_0_says_when_the_charts_come_instead_of_an_empty_chart() -> None:
    at = open_page({"lab": "latent-sweep", "values": "1,2"})
    due = "The charts of every run start at step 10 with the losses, the metrics at step 100."
    assert due in caption_texts(at)
    assert "step 0 · 0 steps/s · no losses before the first step" in caption_texts(at)  # not "D nan G nan"
    assert len(at.get("component_instance")) == 2 and metric_charts(at) == []  # the two runs' views only
    with runner_of(at).hold() as m:
        m.run(10)
    at.run()
    assert due not in caption_texts(at)
    charts = metric_charts(at)
    assert len(charts) == 1 and [a["text"] for a in charts[0]["layout"]["annotations"]] == ["D loss", "G loss"]
    at = open_page({"lab": "latent-sweep", "values": "1,2", "eval_every": "0"})
    assert "The charts of every run start at step 10 with the losses." in caption_texts(at)


def test_a_setting_changed_by_hand_unmarks_the_lesson() -> None:
    at = open_page({"lab": "latent-sweep"})
    assert at.selectbox(key="lab.preset").value == "latent-sweep"
    at.text_input(key="lab.values").set_value("1, 2").run()
    at.number_input(key="lab.cfg.g_lr").set_value(0.002).run()
    assert at.selectbox(key="lab.preset").value is None
    captions = " ".join(c.value for c in at.sidebar.caption)
    description = LAB_PRESETS.get("latent-sweep").description
    assert f"Your own settings: \u201c{description}\u201d with G learning rate, values changed." in captions
    strip = " ".join(m.value for m in at.markdown)
    assert "Step 4 of" in strip and "You changed this step's settings" in strip
    at.selectbox(key="lab.preset").set_value("latent-sweep").run()  # loads the lesson again
    assert model_of(at).labels == ["latent_dim = 1", "latent_dim = 2", "latent_dim = 8", "latent_dim = 100"]
    assert "You changed" not in " ".join(m.value for m in at.markdown)


def test_the_tiles_share_one_colour_key_instead_of_four_legends() -> None:
    import json

    at = open_page()
    tiles = [json.loads(c.proto.json_args) for c in at.get("component_instance")]
    tiles = [t for t in tiles if "run" in t["meta"]]
    assert len(tiles) == 4 and all(t["fig"]["layout"]["showlegend"] is False for t in tiles)
    assert "Black: real data · orange: fake samples" in " ".join(c.value for c in at.caption)
