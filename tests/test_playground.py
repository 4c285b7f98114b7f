"""The Gaussian playground page (AppTest) and the UI machinery under it: the shared
background runner, URL state, drawing, uploads and exports."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlab import probe
from ganlab.runs import load_run
from ganlab.config import Config
from ganlab.errors import DataError, DivergenceError
from ganlab.presets import PRESETS, resolve_config
from ganlab.train import Trainer
from tests import helpers
from tests.helpers import figures, wait_until
from ui import controls, exports, state
from ui.history import LIVE
from ui.runner import FairSlots, FrameBuffer, Runner, close_all, live_runner_threads, redraw_period
from ui.sketch import BLOB_POINTS, stroke_points
from ui.userpoints import read_upload, toy_trainer

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Gaussian_playground.py")




# Every test ends with no page runner and no training thread left.
pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


# --- the runner, on a stand-in model -----------------------------------------------------
class Counter:
    """A model whose step counts, optionally sleeps, and fails on request."""

    def __init__(self, fail_at: int | None = None, exc: Exception | None = None, pause: float = 0.0):
        self.step_count = 0
        self.fail_at, self.exc, self.pause = fail_at, exc, pause
        self.in_step = threading.Event()

    def step(self) -> None:
        if self.fail_at is not None and self.step_count == self.fail_at:
            raise self.exc or DivergenceError("diverged", self.step_count)
        self.in_step.set()
        if self.pause:
            time.sleep(self.pause)
        self.step_count += 1


def test_frame_buffer_thins_and_keeps_the_start() -> None:
    buf: FrameBuffer[int] = FrameBuffer(max_frames=4, every=1)
    for step in range(1, 40):
        if buf.tick():
            buf.add(step, step)
    steps = [s for s, _ in buf.items()]
    assert 1 < len(steps) <= 4 and steps[0] == 1 and steps == sorted(steps)
    assert buf.every > 1
    buf.clear()
    assert len(buf) == 0 and buf.every == 1


def test_runner_plays_pauses_and_leaves_no_thread() -> None:
    model = Counter()
    r = Runner(model, steps_per_chunk=5, chunk_seconds=0.0)
    assert not r.thread_alive and model.step_count == 0  # nothing runs until play
    r.play()
    assert wait_until(lambda: model.step_count >= 20)
    r.pause()
    assert wait_until(lambda: not r.thread_alive)
    n = model.step_count
    time.sleep(0.2)
    assert model.step_count == n and r.steps_done == n and not r.playing


def test_pause_takes_effect_after_the_step_in_progress() -> None:
    model = Counter(pause=0.01)
    r = Runner(model, steps_per_chunk=1000, chunk_seconds=0.0)
    r.play()
    assert wait_until(lambda: model.step_count >= 3)
    before = model.step_count
    r.pause()
    assert wait_until(lambda: not r.thread_alive)
    assert model.step_count - before <= 1  # not the rest of the 1000-step chunk


def test_hold_gets_in_between_two_steps() -> None:
    model = Counter(pause=0.005)
    r = Runner(model, steps_per_chunk=10_000, chunk_seconds=0.0)
    r.play()
    assert wait_until(lambda: model.step_count >= 2)
    for _ in range(5):
        before = model.step_count
        with r.hold() as m:
            inside = m.step_count
            time.sleep(0.02)
            assert m.step_count == inside  # training is held while we read
        assert inside - before <= 1
    r.close()


def test_chunk_size_is_the_speed() -> None:
    model = Counter()
    r = Runner(model, steps_per_chunk=7, chunk_seconds=30.0)
    r.play()
    assert wait_until(lambda: model.step_count == 7)
    time.sleep(0.1)
    assert model.step_count == 7  # the next chunk waits for its slot
    with pytest.raises(ValueError):
        r.set_speed(0)
    with pytest.raises(ValueError):
        r.set_speed(chunk_seconds=-1)


def test_errors_pause_with_a_message() -> None:
    model = Counter(fail_at=3)
    r = Runner(model, chunk_seconds=0.0)
    r.play()
    assert wait_until(lambda: not r.thread_alive)
    assert not r.playing and r.error == "diverged" and model.step_count == 3
    model.fail_at = None
    r.play()
    assert r.error is None and wait_until(lambda: model.step_count > 3)

    bug = Counter(fail_at=0, exc=ZeroDivisionError("boom"))
    rb = Runner(bug, chunk_seconds=0.0)
    rb.play()
    assert wait_until(lambda: not rb.thread_alive)
    assert rb.error.startswith("unexpected error") and "boom" in rb.error


def test_thread_stops_when_the_session_goes_and_resumes_on_return() -> None:
    connected = {"yes": True}
    model = Counter()
    r = Runner(model, chunk_seconds=0.0, alive=lambda: connected["yes"])
    r.play()
    assert wait_until(lambda: model.step_count > 0)
    connected["yes"] = False
    assert wait_until(lambda: not r.thread_alive, 5)
    n = model.step_count
    time.sleep(0.2)
    assert model.step_count == n and r.playing  # stopped, but still "playing" for a reconnect
    connected["yes"] = True
    r.resume()
    assert wait_until(lambda: model.step_count > n)


def test_step_once_reset_and_frames() -> None:
    model = Counter()
    r = Runner(model, capture=lambda m: m.step_count, capture_every=2, chunk_seconds=0.0)
    assert r.frames() == [(0, 0)]
    r.play()
    r.step_once()  # pauses first
    assert not r.playing and wait_until(lambda: not r.thread_alive)
    n = model.step_count
    r.step_once()
    assert model.step_count == n + 1
    assert all(s == v for s, v in r.frames())
    fresh = Counter()
    r.reset(fresh)
    with r.hold() as m:
        assert m is fresh
    assert r.frames() == [(0, 0)] and r.steps_done == 0
    failing = Runner(Counter(fail_at=0))
    with pytest.raises(DivergenceError):
        failing.step_once()
    assert failing.error == "diverged"
    # From a button: the error is kept for the page, not raised into Streamlit.
    seen = []
    failing.reset(Counter(fail_at=0))
    with failing.hold() as m:
        m.step = lambda d=True, g=True: (seen.append((d, g)), Counter(fail_at=0).step())
    failing.error = None
    failing.step_clicked(True, False)
    assert seen == [(True, False)] and failing.error == "diverged"


def tiny_config(seed: int) -> Config:
    return Config(data="ring8", data_size=500, g_width=8, d_width=8, g_layers=1, d_layers=1,
                  batch_size=32, n_fixed=50, eval_every=0, seed=seed)


def test_ten_sessions_train_in_isolation() -> None:
    idle = live_runner_threads()
    runners = [Runner(Trainer(tiny_config(i)), capture=probe.frame, chunk_seconds=0.0) for i in range(10)]
    for r in runners:
        r.play()
    assert wait_until(lambda: all(r.steps_done >= 5 for r in runners), 60)
    assert live_runner_threads() == idle + 10
    # Ten sessions share the server's redraw budget: each redraws less often.
    assert redraw_period(0.1, budget=40) == pytest.approx(10 / 40)
    assert redraw_period(0.1, budget=1000) == 0.1
    runners[3].reset(Trainer(tiny_config(3)))
    runners[3].pause()
    for i, r in enumerate(runners):
        with r.hold() as t:
            assert (t.step_count < 50) if i == 3 else (t.step_count >= 5)
    for r in runners:
        r.close()
    assert wait_until(lambda: live_runner_threads() == idle)


# --- URL state, drawing, uploads, exports ------------------------------------------------
def test_url_round_trip_is_exact() -> None:
    cfg = resolve_config("grid25").replace(d_lr=3e-4, ema=0.0, seed=11, d_l2_adaptive=True)
    query = state.config_to_query(cfg)
    assert query["d_lr"] == "0.0003" and query["data"] == "grid25"
    back, problems = state.config_from_query(query)
    assert problems == [] and back == cfg
    assert state.config_from_query({}, default=cfg) == (cfg, [])
    assert state.config_to_query(Config()) == {"data": "ring8"}


def test_url_problems_are_explained_and_skipped() -> None:
    check = controls.url_check(controls.toy_controls())
    cfg, problems = state.config_from_query(
        {"d_lr": "abc", "g_width": "99999", "nope": "1", "data_path": "/etc/passwd", "seed": "4",
         "device": "cuda", "minutes": "1.5", "preset": "grid25"}, check=check)
    assert cfg.seed == 4 and cfg.g_width == 128 and cfg.data_path == "" and cfg.device == "cpu"
    assert cfg.minutes == 1.5  # a setting without a widget still travels
    assert cfg.diff(resolve_config(preset="grid25")) == {"seed": 4, "minutes": 1.5}
    text = " | ".join(problems)
    for word in ("d_lr", "g_width", "nope", "data_path", "device"):
        assert word in text
    assert len(problems) == 5
    _, problems = state.config_from_query({"preset": "no-such-preset"}, check=check)
    assert "no-such-preset" in problems[0]
    image_presets = [n for n in PRESETS.names()
                     if PRESETS.get(n).settings.get("data", "ring8") not in controls.point_sets()]
    for name in image_presets[:1]:  # e.g. an MNIST preset: refused, not a crash
        cfg, problems = state.config_from_query({"preset": name}, check=check)
        assert cfg.data == "ring8" and "not for this page" in problems[0]
    # A data set beside a preset layers as on the command line: the page's "Draw your own".
    cfg, problems = state.config_from_query({"preset": "shapes", "data": "points_file"}, check=check)
    assert cfg == resolve_config(preset="shapes", data="points_file") and cfg.ema == 0.0 and not problems
    cfg, problems = state.config_from_query({"preset": "shapes", "data": "mnist"}, check=check)
    assert cfg == resolve_config(preset="shapes") and "data='mnist'" in problems[0]


def test_points_in_the_url() -> None:
    pts = np.array([[0.1234, -1.5], [2.0, 0.0005]], dtype=np.float32)
    text = state.encode_points(pts)
    np.testing.assert_allclose(state.decode_points(text), pts, atol=6e-4)
    assert state.encode_points(np.zeros((state.MAX_URL_POINTS + 1, 2))) is None
    with pytest.raises(DataError):
        state.decode_points("9@@@")


def test_strokes_become_points() -> None:
    assert stroke_points([]).shape == (0, 2)
    blob = stroke_points([[[1.0, 1.0]]], seed=1)
    assert blob.shape == (BLOB_POINTS, 2) and np.abs(blob.mean(0) - 1.0).max() < 0.1
    line = stroke_points([[[0.0, 0.0], [1.0, 0.0]]], seed=1, noise=0.0)
    assert len(line) == 51 and line[:, 0].min() == 0.0 and line[:, 0].max() == 1.0
    np.testing.assert_array_equal(stroke_points([[[0, 0], [1, 1]]], seed=2),
                                  stroke_points([[[0, 0], [1, 1]]], seed=2))


def test_uploads_are_checked_by_the_engine() -> None:
    good = read_upload("mine.csv", b"x,y\n" + b"".join(b"%d,%d\n" % (i, -i) for i in range(20)))
    assert good.shape == (20, 2)
    with pytest.raises(DataError, match="2 or 3 columns"):
        read_upload("wide.csv", b"1,2,3,4\n" * 20)
    with pytest.raises(DataError, match="points file 'e.csv' is empty"):
        read_upload("../../e.csv", b"")  # the name is reduced to its last part
    with pytest.raises(DataError, match="at least 10"):
        toy_trainer(Config(data="points_file"), good[:3])
    t = toy_trainer(Config(data="points_file", n_fixed=20, eval_every=0), good)
    assert t.info.name == "points_file" and len(t.data) == 20


def test_exports() -> None:
    t = Trainer(tiny_config(0).replace(log_every=2, eval_every=4, eval_samples=200))
    frames = [probe.frame(t, res=8)]
    for _ in range(8):
        t.step()
        frames.append(probe.frame(t, res=8))
    real = probe.real_points(t, 100)
    png = Image.open(io.BytesIO(exports.png_bytes(frames[-1], real, "probability")))
    assert png.format == "PNG" and png.size == (1600, 1000)  # a slide (tests/test_playground_view.py)
    gif = Image.open(io.BytesIO(exports.gif_of_run(frames, real, "probability")))
    assert gif.format == "GIF" and gif.n_frames == len(frames)
    text = exports.history_csv(t.history)
    lines = text.strip().splitlines()
    assert lines[0].split(",")[:2] == ["step", "time"] and "modes_captured" in lines[0]
    assert len(lines) == 1 + len(t.history)
    pts = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    user = toy_trainer(Config(data="points_file", n_fixed=20, eval_every=0, g_width=8, d_width=8), pts)
    blob = exports.checkpoint_zip(user, pts)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        assert {"run/config.json", "run/model.safetensors", "run/points.npy"} <= names
        assert '"data_path": "points.npy"' in zf.read("run/config.json").decode()
    with zipfile.ZipFile(io.BytesIO(exports.checkpoint_zip(t))) as zf, \
            __import__("tempfile").TemporaryDirectory() as tmp:
        zf.extractall(tmp)
        back = load_run(Path(tmp) / "run")
        assert back.step_count == t.step_count
        for a, b in zip(back.G.parameters(), t.G.parameters()):
            assert torch.equal(a, b)


# --- the page (AppTest) ---------------------------------------------------------------------
def open_page(query: dict[str, str] | None = None) -> AppTest:
    return helpers.open_page(PAGE, query)


def runner_of(at: AppTest) -> Runner:
    return at.session_state["pg.runner"]


def trainer_of(at: AppTest) -> Trainer:
    return helpers.held_model(at, "pg.runner")


def test_page_opens_on_the_tuned_ring8_run() -> None:
    at = open_page()
    assert not at.error and not at.warning
    assert at.query_params["data"] == ["ring8"] or at.query_params["data"] == "ring8"
    t = trainer_of(at)
    assert t.cfg == resolve_config("ring8") and t.step_count == 0
    assert any(c.value.startswith("step 0 · 0 steps/s · no losses before the first step") for c in at.caption)
    labels = {b.label for b in at.button}
    assert {"Play", "Step D", "Step G", "Step D+G", "Reset"} <= labels and "Load preset" not in labels
    assert len([e for e in at.get("download_button")]) == 4


def test_play_pause_and_speed() -> None:
    at = open_page()
    r = runner_of(at)
    at.select_slider(key="pg.speed").set_value(50).run()
    assert r.steps_per_chunk == 50 and r.chunk_seconds == pytest.approx(0.1)
    assert figures(at)["2-D"]["pace"] is None  # paused: the view asks for no frames
    at.button(key="pg.play").click().run()
    assert r.playing and wait_until(lambda: r.steps_done > 0)
    # While playing, the button is the Pause widget (a Play click can never reach it).
    assert at.button(key="pg.pause").label == "Pause"
    assert "pg.play" not in {b.key for b in at.button}
    assert figures(at)["2-D"]["pace"] == pytest.approx(0.1)  # playing: ~10 frames/s
    at.button(key="pg.pause").click().run()
    assert at.button(key="pg.play").label == "Play" and "pg.pause" not in {b.key for b in at.button}
    assert not r.playing and wait_until(lambda: not r.thread_alive)
    n = r.steps_done
    time.sleep(0.2)
    assert r.steps_done == n
    at.select_slider(key="pg.speed").set_value("max").run()
    assert r.chunk_seconds == 0.0


def test_single_steps_move_only_the_chosen_network() -> None:
    at = open_page()

    def snap() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        t = trainer_of(at)
        return ([p.detach().clone() for p in t.G.parameters()],
                [p.detach().clone() for p in t.D.parameters()])

    def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a, b))

    g0, d0 = snap()
    at.button(key="pg.step_d").click().run()
    g1, d1 = snap()
    assert same(g0, g1) and not same(d0, d1) and trainer_of(at).step_count == 1
    at.button(key="pg.step_g").click().run()
    g2, d2 = snap()
    assert not same(g1, g2) and same(d1, d2)
    at.button(key="pg.step_dg").click().run()
    g3, d3 = snap()
    assert not same(g2, g3) and not same(d2, d3) and trainer_of(at).step_count == 3
    at.button(key="pg.reset").click().run()
    assert trainer_of(at).step_count == 0 and not runner_of(at).playing


def test_live_changes_keep_the_run_and_structural_ones_restart_it() -> None:
    at = open_page()
    at.button(key="pg.step_dg").click().run()
    before = trainer_of(at)
    at.number_input(key="cfg.d_lr").set_value(0.0005).run()
    t = trainer_of(at)
    assert t is before and t.step_count == 1 and t.cfg.d_lr == 0.0005
    assert t.opt_d.param_groups[0]["lr"] == 0.0005  # takes effect on the next step
    assert at.query_params["d_lr"] in ("0.0005", ["0.0005"])
    at.number_input(key="cfg.g_width").set_value(64).run()
    t2 = trainer_of(at)
    assert t2 is not before and t2.step_count == 0 and t2.cfg.g_width == 64


NEW_SETTINGS = dict(
    data="two_blobs", g_layers=2, g_width=64, d_layers=2, d_width=48, activation="leaky_relu",
    latent_dim=3, latent_dist="uniform", loss="lsgan", label_smoothing=0.1, d_dropout=0.1,
    d_l2=0.001, d_r1=0.5, d_r1_every=2, pack=2, gp_weight=5.0, clip_value=0.05, d_opt="rmsprop",
    d_lr=0.0005, g_opt="sgd",
    g_lr=0.002, d_beta1=0.4, g_beta1=0.3, d_steps=2, g_steps=3, batch_size=128, ema=0.99, seed=7,
    eval_every=100, log_every=10, d_mbstd=16, lr_schedule="cosine", steps=4000,
)


def test_every_control_reaches_the_run_and_the_url_reproduces_it() -> None:
    groups = controls.toy_controls()
    visible = {c.field for c in controls.all_controls(groups).values() if c.kind != "hidden"}
    assert visible == set(NEW_SETTINGS)  # a new control needs a line in this test
    at = open_page()
    for field, value in NEW_SETTINGS.items():
        widget = at.selectbox(key=f"cfg.{field}") if isinstance(value, str) else \
            at.number_input(key=f"cfg.{field}")
        widget.set_value(value)
    at.run()
    assert not at.error, [e.value for e in at.error]
    cfg = trainer_of(at).cfg
    for field, value in NEW_SETTINGS.items():
        assert getattr(cfg, field) == value, field
    url = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    close_all()

    again = open_page(url)  # a copied URL, in a new browser session
    assert not again.warning and not again.error
    assert trainer_of(again).cfg == cfg
    assert again.number_input(key="cfg.g_steps").value == 3


def test_settings_without_a_widget_survive_presets_and_urls() -> None:
    at = open_page({"preset": "grid25", "minutes": "2.5"})
    cfg = trainer_of(at).cfg
    assert cfg == resolve_config(preset="grid25").replace(minutes=2.5)
    at.number_input(key="cfg.seed").set_value(3).run()  # a widget change keeps them
    assert trainer_of(at).cfg.minutes == 2.5 and trainer_of(at).cfg.seed == 3
    url = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert url["minutes"] == "2.5"


def test_bad_url_parameters_get_a_message() -> None:
    at = open_page({"d_lr": "abc", "g_width": "99999", "bogus": "1", "seed": "5"})
    text = " ".join(w.value for w in at.warning)
    assert "d_lr" in text and "g_width" in text and "bogus" in text
    assert trainer_of(at).cfg.seed == 5


def test_presets_load_with_one_click_and_restart() -> None:
    at = open_page()
    at.button(key="pg.step_dg").click().run()
    for label, name, data in (("Mode collapse", "collapse", None), ("25 blobs on a grid", "grid25", None),
                              ("Spiral", "shapes", "spiral")):
        at.radio(key="pg.preset").set_value(label).run()  # one click: no Load button
        t = trainer_of(at)
        want = resolve_config(data=data, preset=name)
        assert t.cfg == want and t.step_count == 0, label
        assert at.selectbox(key="cfg.data").value == want.data
    options = at.radio(key="pg.preset").options
    assert "8 blobs on a ring" in options and "Draw your own" in options
    assert not any("mnist" in o.lower() or "1-d" in o.lower() for o in options)  # only this page's
    assert "collapse" in PRESETS.names()


def test_a_lesson_link_loads_its_preset_on_a_page_already_open() -> None:
    at = open_page()
    at.query_params["preset"] = "collapse"
    at.run()
    assert trainer_of(at).cfg == resolve_config(preset="collapse")
    assert at.radio(key="pg.preset").value == "Mode collapse"
    assert "Step 3 of" in " ".join(m.value for m in at.markdown)


def strip_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_settings_changed_by_hand_are_no_longer_the_preset() -> None:
    at = open_page({"preset": "ring8"})  # step 2 of the path
    assert at.radio(key="pg.preset").value == "8 blobs on a ring"
    assert "Step 2 of" in strip_text(at) and "cover all eight blobs" in strip_text(at)
    at.selectbox(key="cfg.data").set_value("two_blobs").run()
    at.number_input(key="cfg.d_lr").set_value(0.002).run()
    assert at.radio(key="pg.preset").value is None  # no preset is in force
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Your own settings: \u201c8 blobs on a ring\u201d with Data set, D learning rate changed." in captions
    assert "tuned default for ring8" not in captions
    # The strip no longer promises eight blobs; it offers the step's preset back.
    assert "You changed this step's settings" in strip_text(at) and "cover all eight blobs" not in strip_text(at)
    assert trainer_of(at).cfg.data == "two_blobs"
    at.selectbox(key="cfg.data").set_value("ring8").run()
    assert at.radio(key="pg.preset").value is None  # the learning rate is still changed
    at.number_input(key="cfg.d_lr").set_value(resolve_config(preset="ring8").d_lr).run()
    assert at.radio(key="pg.preset").value == "8 blobs on a ring"  # changed back: the preset again
    at.selectbox(key="cfg.data").set_value("two_blobs").run()
    at.radio(key="pg.preset").set_value("8 blobs on a ring").run()  # one click loads it again
    assert trainer_of(at).cfg == resolve_config(preset="ring8") and trainer_of(at).step_count == 0
    assert "cover all eight blobs" in strip_text(at)
    assert "tuned default for ring8" in " ".join(c.value for c in at.sidebar.caption)


def test_a_preset_of_the_next_step_is_that_step_on_the_path() -> None:
    at = open_page({"preset": "ring8"})
    at.radio(key="pg.preset").set_value("Mode collapse").run()
    assert "Step 3 of" in strip_text(at) and "You changed" not in strip_text(at)
    at.radio(key="pg.preset").set_value("Spiral").run()  # no step of the path
    assert "Step 3 of" in strip_text(at) and "You changed this step's settings" in strip_text(at)


def test_the_preset_named_by_a_link_stays_marked_until_a_setting_changes() -> None:
    at = open_page({"preset": "collapse"})
    assert at.radio(key="pg.preset").value == "Mode collapse"
    at.run()
    assert at.radio(key="pg.preset").value == "Mode collapse"
    at = open_page({"data": "two_blobs"})  # a shared link with settings of its own: no preset
    assert at.radio(key="pg.preset").value is None


def test_number_boxes_say_their_range_in_their_help() -> None:
    at = open_page()
    lr = at.number_input(key="cfg.d_lr")
    lo, hi = lr.min, lr.max
    assert lr.help.endswith(f"From {lo:g} to {hi:g}; a number outside stays red and is not used.")
    assert at.number_input(key="cfg.batch_size").help == (
        f"From {at.number_input(key='cfg.batch_size').min:g} to {at.number_input(key='cfg.batch_size').max:g}; "
        "a number outside stays red and is not used.")


def test_own_settings_words_name_at_most_four_changes() -> None:
    assert controls.own_settings_words("Spiral", ["A", "B", "C", "D", "E", "F"]) == (
        "Your own settings: \u201cSpiral\u201d with A, B, C, D and 2 more changed. "
        "A click on a preset loads all of its settings again.")


def test_impossible_combination_is_a_message_not_a_traceback() -> None:
    at = open_page()
    at.selectbox(key="cfg.loss").set_value("wgan")
    at.number_input(key="cfg.label_smoothing").set_value(0.1)
    at.run()
    assert not at.exception
    assert any("label_smoothing" in e.value for e in at.error)
    assert trainer_of(at).cfg.loss == "ns"  # the run goes on with the previous settings


def test_divergence_is_shown_and_pauses() -> None:
    at = open_page()
    with runner_of(at).hold() as t:
        with torch.no_grad():
            next(t.G.parameters()).fill_(float("nan"))
    at.button(key="pg.step_dg").click().run()
    assert any("diverged" in e.value for e in at.error)
    assert not runner_of(at).playing


def upload_page() -> AppTest:
    at = open_page({"data": "points_file"})
    assert not at.error and any("at least 10" in i.value for i in at.info)  # no points yet: a hint
    at.radio(key="pg.source").set_value("upload").run()
    hint = " ".join(i.value for i in at.info)  # about the file, not a canvas that is not there
    assert "Upload your data below: a CSV file with x, y (and z) in each row" in hint and "canvas" not in hint
    return at


@pytest.mark.parametrize("name, content, message", [
    ("wide.csv", b"1,2,3,4\n" * 20, "2 or 3 columns"),
    ("nan.csv", b"x,y\n" + b"1,2\n" * 12 + b"nan,3\n", "NaN"),
    ("empty.csv", b"", "is empty"),
    ("words.csv", b"a,b\nc,d\ne,f\n", "not numeric"),
    ("huge.csv", b"0" * (50 * 2**20 + 1), "the limit is 50 MB"),
    ("flat.npy", None, "shape (30,)"),
])
def test_bad_uploads_get_a_clear_message(name: str, content: bytes | None, message: str) -> None:
    if content is None:
        buf = io.BytesIO()
        np.save(buf, np.zeros(30))
        content = buf.getvalue()
    at = upload_page()
    at.file_uploader(key="pg.upload").upload(name, content).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_an_upload_shows_what_will_be_trained_on() -> None:
    at = upload_page()
    # A pandas DataFrame saved with its index: an unnamed first column 0, 1, 2, ...
    rows = b",x,y\n" + b"".join(b"%d,%f,%f\n" % (i, np.cos(i), np.sin(i)) for i in range(40))
    at.file_uploader(key="pg.upload").upload("saved_by_pandas.csv", rows).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["40 points in 2-D from saved_by_pandas.csv: columns x, y"]
    assert any("not used: (unnamed column 1) (pandas index)" in c.value for c in at.caption)
    assert any("a pandas index, as DataFrame.to_csv writes it) and was dropped" in w.value for w in at.warning)
    assert trainer_of(at).data.x.shape == (40, 2)
    at.file_uploader(key="pg.upload").upload("bad.csv", b"x,y\n1,2\n3,nan\n" + b"4,5\n" * 12).run()
    assert not at.exception and not at.success
    assert any("bad.csv" in e.value and "NaN" in e.value for e in at.error), [e.value for e in at.error]


def test_good_upload_trains_on_the_users_points() -> None:
    at = upload_page()
    rows = b"".join(b"%f %f %f\n" % (np.cos(i), np.sin(i), i / 50) for i in range(60))
    at.file_uploader(key="pg.upload").upload("helix.txt", rows).run()
    assert not at.error, [e.value for e in at.error]
    t = trainer_of(at)
    assert t.info.name == "points_file" and t.data.x.shape == (60, 3)
    assert "pts" in at.query_params  # small sets travel in the URL




def names(args: dict) -> list[str]:
    return [t.get("name") for t in args["fig"]["data"]]


def test_view_options_history_scrubber_and_charts() -> None:
    at = open_page()
    view = figures(at)["2-D"]
    assert names(view) == ["P(real)", "real", "fake (fixed noise)"]
    box = probe.view_box(trainer_of(at))
    assert view["fig"]["layout"]["xaxis"]["range"] == pytest.approx(box[0].tolist())
    assert view["fig"]["layout"]["xaxis"]["autorange"] is False  # axes fixed to the data

    at.number_input(key="cfg.log_every").set_value(1).run()
    for _ in range(3):
        at.button(key="pg.step_dg").click().run()
    assert figures(at)["2-D"]["meta"]["step"] == 3
    assert figures(at)["2-D"]["fig"]["layout"]["xaxis"]["range"] == view["fig"]["layout"]["xaxis"]["range"]
    assert {"D loss", "G loss"} <= set(names(figures(at)["charts"]))

    at.checkbox(key="pg.surface").uncheck()
    at.checkbox(key="pg.manifold").check()
    at.checkbox(key="pg.arrows").check()
    at.checkbox(key="pg.ema").check()
    at.run()
    assert names(figures(at)["2-D"]) == ["G manifold", "real", "fake (fixed noise)", "G's push (gradient)"]

    at.radio(key="pg.view").set_value("3-D").run()
    three = figures(at)["3-D"]
    assert [t["type"] for t in three["fig"]["data"]] == ["surface", "scatter3d", "scatter3d"]
    assert three["fig"]["layout"]["uirevision"]  # the camera survives redraws

    at.radio(key="pg.view").set_value("2-D").run()
    at.select_slider(key="pg.scrub").set_value(0).run()
    assert figures(at)["2-D"]["meta"]["step"] == 0  # the recorded frame of step 0
    assert any("(history)" in c.value for c in at.caption)
    at.select_slider(key="pg.scrub").set_value(LIVE).run()
    assert figures(at)["2-D"]["meta"]["step"] == 3
    at.select_slider(key="pg.scrub").set_value(0).run()
    at.button(key="pg.step_d").click().run()  # a step returns the view to the live run
    assert at.select_slider(key="pg.scrub").value == LIVE
    assert figures(at)["2-D"]["meta"]["step"] == 4 and not any("(history)" in c.value for c in at.caption)


def test_exports_of_a_live_run_read_a_consistent_snapshot() -> None:
    r = Runner(Trainer(tiny_config(1).replace(log_every=1)), capture=lambda t: probe.frame(t, res=8),
               capture_every=1, chunk_seconds=0.0)
    r.play()
    assert wait_until(lambda: r.steps_done >= 5)
    with r.hold() as t:
        real = probe.real_points(t, 50)
    assert Image.open(io.BytesIO(exports.png_now(r, real))).format == "PNG"
    assert Image.open(io.BytesIO(exports.gif_recorded(r, real))).n_frames >= 2
    rows = exports.csv_now(r).strip().splitlines()
    r.pause()
    assert len(rows) >= 6 and rows[0].startswith("step,time")
    assert zipfile.ZipFile(io.BytesIO(exports.checkpoint_now(r))).namelist()


def test_3d_data_in_both_views() -> None:
    at = open_page({"data": "helix"})
    assert names(figures(at)["2-D"])[:1] == ["P(real)"]  # D's slice through the middle
    at.radio(key="pg.view").set_value("3-D").run()
    three = figures(at)["3-D"]["fig"]
    # D's slice through the middle (the heat map, ticked by default) as a flat plane
    assert [t["type"] for t in three["data"]] == ["surface", "scatter3d", "scatter3d"]
    assert three["layout"]["scene"]["zaxis"]["autorange"] is False


@pytest.mark.slow
def test_collapse_preset_collapses() -> None:
    t = Trainer(resolve_config(preset="collapse").replace(eval_every=0))
    for _ in range(1000):
        t.step()
    m = t.evaluate(2500)
    assert m["max_mode_mass"] >= 0.4 and m["modes_captured"] <= 2  # spread evenly: 0.125, 8


def test_step_slots_bound_concurrency_and_serve_in_turn() -> None:
    slots = FairSlots(1)
    inside, most, counts = [0], [0], [0, 0, 0]
    guard = threading.Lock()
    start = threading.Barrier(3)

    def worker(i: int) -> None:
        start.wait()
        for _ in range(100):
            with slots:
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                counts[i] += 1
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    snapshot = list(counts)  # while all three compete
    for t in threads:
        t.join(30)
    assert most[0] == 1 and counts == [100, 100, 100]
    # First come, first served: nobody runs far ahead (a plain Semaphore lets the releasing
    # thread retake its slot, e.g. [100, 0, 0]); a loaded machine may delay a thread's
    # return to the queue by a few turns.
    assert max(snapshot) - min(snapshot) <= 10


def test_every_point_set_preset_fits_the_playground_widgets() -> None:
    """A preset value outside a widget's range would be replaced by the widget's minimum
    without a word (Streamlit's number_input), e.g. the collapse demo's 256-d latent."""
    toy = set(controls.point_sets())
    widgets = controls.all_controls(controls.toy_controls()).values()
    checked = 0
    for name in PRESETS.names():
        cfg = resolve_config(preset=name)
        if cfg.data not in toy:
            continue
        for c in widgets:
            assert c.check(getattr(cfg, c.field)) is None, (name, c.field, getattr(cfg, c.field))
        checked += 1
    assert checked >= 8  # ring8, grid25, collapse, gaussian, shapes, ...


def test_step_slots_follow_their_capacity() -> None:
    capacity = [2]
    slots = FairSlots(lambda: capacity[0])
    slots.__enter__()
    slots.__enter__()  # two holders: the capacity
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (slots.__enter__(), got.set()))
    waiter.start()
    assert not got.wait(0.2)  # a third waits
    capacity[0] = 1  # a class started training: one slot fewer
    slots.__exit__()  # two held -> one: still at the new capacity, the waiter waits
    assert not got.wait(0.2)
    slots.__exit__()  # none held: the waiter gets the slot
    assert got.wait(5)
    capacity[0] = 2
    slots.__enter__()  # room again for a second holder at once
    slots.__exit__()
    slots.__exit__()
    waiter.join(5)


def test_a_capacity_that_raises_never_strands_a_waiter() -> None:
    """The capacity function counts every session's runner; if that count raises (a set
    changing while it is listed), a release must still hand its slot on: the last good
    capacity is used."""
    answers = [1]

    def capacity() -> int:
        if answers[0] is None:
            raise RuntimeError("Set changed size during iteration")
        return answers[0]

    slots = FairSlots(capacity)
    slots.__enter__()
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (slots.__enter__(), got.set()))
    waiter.start()
    assert not got.wait(0.2)
    answers[0] = None
    slots.__exit__()  # raises inside: the waiter must still get the slot
    assert got.wait(5)
    slots.__exit__()
    waiter.join(5)
    assert slots._held == 0


def test_counting_sessions_while_others_start_never_raises() -> None:
    """Sessions are counted at every step (step_capacity) while other sessions create their
    runners; a bare WeakSet listed meanwhile raises "Set changed size during iteration"
    (it did here within 3,000 new runners)."""
    from ui.runner import training_sessions

    errors: list[Exception] = []
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            try:
                training_sessions()
            except RuntimeError as exc:
                errors.append(exc)
                return

    counter = threading.Thread(target=count)
    counter.start()
    kept: list[Runner] = []
    try:
        for _ in range(3000):
            kept.append(Runner(object()))
            if len(kept) > 200:
                kept.clear()
    finally:
        done.set()
        counter.join(10)
    assert errors == []


def test_a_class_leaves_a_core_to_the_server(monkeypatch) -> None:
    from ui import runner as runner_mod

    monkeypatch.delenv("GANLAB_STEP_SLOTS", raising=False)
    monkeypatch.setattr(runner_mod.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(runner_mod, "training_sessions", lambda: 2)
    assert runner_mod.step_capacity() == 4
    monkeypatch.setattr(runner_mod, "training_sessions", lambda: runner_mod.CLASS_SESSIONS)
    assert runner_mod.step_capacity() == 3
    monkeypatch.setattr(runner_mod.os, "cpu_count", lambda: 1)
    assert runner_mod.step_capacity() == 1
    monkeypatch.setenv("GANLAB_STEP_SLOTS", "5")
    assert runner_mod.step_capacity() == 5


def test_speed_and_view_options_survive_a_visit_to_another_page() -> None:
    """Streamlit forgets a widget's value when a run does not draw it: back from the lab,
    the speed was 10 again and the heat map back on."""
    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_Gaussian_playground.py").run()
    at.select_slider(key="pg.speed").set_value("max").run()
    at.checkbox(key="pg.surface").uncheck().run()
    at.checkbox(key="pg.manifold").check().run()
    at.switch_page("pages/2_Latent_lab.py").run()
    at.switch_page("pages/1_Gaussian_playground.py").run()
    assert not at.exception and not at.warning
    assert at.select_slider(key="pg.speed").value == "max"
    assert at.checkbox(key="pg.surface").value is False and at.checkbox(key="pg.manifold").value is True
    at.switch_page("pages/2_Latent_lab.py").run()
    at.select_slider(key="lab.speed").set_value(50).run()
    at.switch_page("pages/0_GAN_in_1D.py").run()
    at.select_slider(key="g1.speed").set_value(2).run()
    at.switch_page("pages/2_Latent_lab.py").run()
    assert at.select_slider(key="lab.speed").value == 50
    at.switch_page("pages/0_GAN_in_1D.py").run()
    assert at.select_slider(key="g1.speed").value == 2 and not at.exception
