"""Issue 15, the Gaussian playground's view: "Draw your own" opens on an empty canvas
with a hint and shows each stroke at once; the axes follow points that leave the
data's box (with hysteresis, up to a limit) in 2-D and 3-D; the history slider is in
training steps and agrees with the status line, Step and Play return it to live;
the 3-D view draws or names every ticked overlay, the G manifold without chords
across gaps; the PNG / GIF exports are slides (>= 1000 px, title, axes, legend,
colour bar)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlab import probe
from ganlab.config import Config
from ganlab.train import Trainer
from tests import helpers
from tests.helpers import figures, wait_until
from ui import exports, views
from ui.history import LIVE, PointsRecorder, frame_at, scrub_label, scrub_options
from ui.render import FAKE_RGB, REAL_RGB, SLIDE_SIZE, slide, slide_layout
from ui.runner import Runner
from ui.viewrange import (HEADROOM, LIMIT, MARGIN, SHRINK_AFTER, ViewRange, count_outside, grown_box,
                          steady_scale, view_range_for)

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Gaussian_playground.py")
DATA_BOX = np.array([[-1.0, 1.0], [-2.0, 2.0]])  # spans 2 and 4

pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


# --- the view's range ------------------------------------------------------------------------
def test_the_view_stays_on_the_data_box_while_the_points_are_inside() -> None:
    vr = ViewRange(DATA_BOX)
    inside = np.random.default_rng(0).uniform(-0.8, 0.8, (500, 2))
    np.testing.assert_allclose(vr.follow(inside), DATA_BOX)
    assert vr.outside(inside) == 0


def test_the_view_grows_past_the_data_box_with_room_to_spare() -> None:
    vr = ViewRange(DATA_BOX)
    box = vr.follow(np.array([[1.5, 0.0]]))  # 0.5 past the right side (x span 2)
    # right side: 0.5 past the box + margin + headroom, each a fraction of the span
    assert box[0, 1] == pytest.approx(1.0 + 0.5 + (MARGIN + HEADROOM) * 2.0)
    np.testing.assert_allclose(box[0, 0], -1.0)  # the other sides stay
    np.testing.assert_allclose(box[1], DATA_BOX[1])


def test_small_drifts_do_not_move_the_axes() -> None:
    vr = ViewRange(DATA_BOX)
    first = vr.follow(np.array([[1.5, 0.0]])).copy()
    for x in (1.52, 1.6, 1.45, 1.4, 1.55, 1.3):  # the points wander near where they went
        np.testing.assert_array_equal(vr.follow(np.array([[x, 0.0]])), first)


def test_the_view_grows_at_most_to_the_limit_and_counts_what_is_beyond() -> None:
    vr = ViewRange(DATA_BOX)
    far = np.array([[50.0, -80.0], [0.0, 0.0], [np.nan, 1.0]])
    box = vr.follow(far)
    span = DATA_BOX[:, 1] - DATA_BOX[:, 0]
    # Only the sides the points left grow: right of x, below y, each by (LIMIT - 1) / 2 spans.
    np.testing.assert_allclose(box[:, 1] - box[:, 0], (1 + (LIMIT - 1) / 2) * span)
    assert box[0, 1] == pytest.approx(1.0 + (LIMIT - 1) / 2 * 2.0)  # 3x the data box about its centre
    assert box[1, 0] == pytest.approx(-2.0 - (LIMIT - 1) / 2 * 4.0)
    assert (box[:, 1] - box[:, 0] <= LIMIT * span + 1e-6).all()
    assert vr.outside(far) == 2  # the far point and the NaN one
    np.testing.assert_array_equal(vr.follow(far * 10), box)  # still the limit, no jump


def test_the_view_returns_to_the_data_box_once_the_points_stay_back() -> None:
    vr = ViewRange(DATA_BOX)
    grown = vr.follow(np.array([[3.0, 0.0]])).copy()
    for _ in range(SHRINK_AFTER - 1):  # back for a moment: the axes wait
        np.testing.assert_array_equal(vr.follow(np.zeros((10, 2))), grown)
    vr.follow(np.array([[2.9, 0.0]]))  # out again: the count starts over
    for _ in range(SHRINK_AFTER - 1):
        np.testing.assert_array_equal(vr.follow(np.zeros((10, 2))), grown)
    np.testing.assert_allclose(vr.follow(np.zeros((10, 2))), DATA_BOX)  # back for long enough: one move


def test_nan_points_leave_the_view_alone_and_a_new_data_box_starts_over() -> None:
    vr = ViewRange(DATA_BOX)
    np.testing.assert_allclose(vr.follow(np.full((5, 2), np.nan)), DATA_BOX)
    np.testing.assert_allclose(vr.follow(None), DATA_BOX)
    vr.follow(np.array([[2.0, 0.0]]))
    assert view_range_for(vr, DATA_BOX) is vr
    fresh = view_range_for(vr, DATA_BOX * 2)
    assert fresh is not vr
    np.testing.assert_allclose(fresh.box(), DATA_BOX * 2)


def test_3d_boxes_grow_on_every_axis() -> None:
    box3 = np.array([[-1.0, 1.0], [-1.0, 1.0], [0.0, 2.0]])
    vr = ViewRange(box3)
    grown = vr.follow(np.array([[0.0, 0.0, 2.6]]))
    assert grown[2, 1] > 2.6 and grown[2, 1] <= 2.0 + (LIMIT - 1) / 2 * 2.0
    np.testing.assert_allclose(grown[:2], box3[:2])


def test_a_gif_gets_one_box_holding_every_frame() -> None:
    box = grown_box(DATA_BOX, [np.array([[1.5, 0.0]]), np.array([[0.0, -2.5]]), np.zeros((3, 2))])
    assert box[0, 1] > 1.5 and box[1, 0] < -2.5 and box[0, 0] == -1.0


def test_the_score_scale_grows_at_once_and_shrinks_only_when_far_too_wide() -> None:
    wide = 1 + HEADROOM
    assert steady_scale(None, (-1.0, 1.0)) == pytest.approx((-wide, wide))
    assert steady_scale((-1.0, 1.0), (-0.9, 0.9)) == (-1.0, 1.0)  # a little narrower: kept
    assert steady_scale((-1.0, 1.0), (-1.2, 1.2)) == pytest.approx((-1.2 * wide, 1.2 * wide))  # wider
    assert steady_scale((-1.0, 1.0), (-0.3, 0.3)) == pytest.approx((-0.3 * wide, 0.3 * wide))  # under half
    assert steady_scale((0.0, 1.0), (0.0, 1.0)) == (0.0, 1.0)  # a probability's fixed scale stays
    scale, changes = None, 0
    for half in np.linspace(0.5, 2.0, 100):  # a critic's scores growing steadily
        new = steady_scale(scale, (-half, half))
        changes += new != scale
        scale = new
    assert changes <= 8 and scale[1] >= 2.0


# --- the history slider ----------------------------------------------------------------------
def test_the_history_slider_is_in_training_steps() -> None:
    frames = [(0, "a"), (25, "b"), (50, "c"), (50, "c again")]
    assert scrub_options(frames) == [0, 25, 50, LIVE]
    assert [scrub_label(o) for o in scrub_options(frames)] == ["0", "25", "50", "live"]
    assert frame_at(frames, 25) == (25, "b")
    assert frame_at(frames, 30) == (25, "b") and frame_at(frames, 40) == (50, "c")
    assert frame_at(frames, LIVE) is None and frame_at([], 25) is None


# --- the G manifold without chords -----------------------------------------------------------
def test_the_manifold_is_not_drawn_across_gaps_in_the_data() -> None:
    rng = np.random.default_rng(0)
    # Data: two blobs at x = -2 and x = +2. G maps the left half of a latent grid onto
    # the left blob and the right half onto the right blob: one jump per grid row.
    real = np.concatenate([rng.normal((-2, 0), 0.1, (300, 2)), rng.normal((2, 0), 0.1, (300, 2))])
    t = np.linspace(-1, 1, 10)
    gx, gy = np.meshgrid(t, t)
    mesh = np.stack([np.where(gx < 0, -2 + 0.1 * gx, 2 + 0.1 * gx), 0.1 * gy], axis=-1)
    v = views.manifold_lines(mesh, real)
    x = v[:, 0]
    finite = np.isfinite(x)
    # Consecutive drawn vertices never jump from one blob to the other.
    pairs = finite[1:] & finite[:-1]
    assert (np.abs(np.diff(x))[pairs] < 1.0).all()
    assert finite.sum() > 0.8 * 2 * mesh.size / 2  # the rest of the mesh is drawn

    # A mesh in one piece (an untrained G in the middle, away from the data) is drawn whole.
    compact = np.stack([0.2 * gx, 0.2 * gy], axis=-1)
    w = views.manifold_lines(compact, real)
    seq = w.reshape(2, 10, 20, 2)  # rows then columns, each vertex + middle, NaN at the end
    assert np.isfinite(seq[:, :, :-1]).all() and np.isnan(seq[:, :, -1]).all()


def test_the_3d_view_draws_the_overlays_of_3d_data_and_names_the_others() -> None:
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(50, 3)), rng.normal(size=(40, 3))
    box = np.array([[-3, 3], [-3, 3], [-3, 3]], dtype=np.float32)
    big = box * 2
    fig = views.view_3d(box, real, fake, surface=np.zeros((8, 8), np.float32), view_range=big,
                        manifold=rng.normal(size=(5, 5, 3)), arrows=rng.normal(size=(40, 3)))
    assert [t.get("name") for t in fig["data"]] == ["D(x)", "real", "fake (fixed noise)", "G manifold",
                                                     "G's push (gradient)"]
    assert fig["layout"]["scene"]["zaxis"]["range"] == [-6.0, 6.0]  # the grown range, not the box
    assert views.missing_in_3d(3, surface=True, manifold=True, arrows=True) == ""
    assert "G manifold" in views.missing_in_3d(2, surface=True, manifold=True, arrows=False)


def test_the_2d_view_takes_its_axes_from_the_view_range() -> None:
    box = np.array([[-1, 1], [-1, 1]], dtype=np.float32)
    grown = np.array([[-1, 2.5], [-1, 1]], dtype=np.float32)
    fig = views.view_2d(box, np.zeros((3, 2)), np.ones((3, 2)), surface=np.zeros((4, 4), np.float32),
                        view_range=grown)
    assert fig["layout"]["xaxis"]["range"] == [-1.0, 2.5]
    assert fig["data"][0]["x0"] == -1.0  # the heat map stays where it was computed


# --- slides ----------------------------------------------------------------------------------
def _colour_share(region: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> float:
    return float((np.abs(region.astype(int) - np.array(rgb)).max(axis=-1) <= tol).mean())


def test_a_slide_has_a_title_axes_legend_and_colour_bar() -> None:
    rng = np.random.default_rng(0)
    box = np.array([[-2.0, 2.0], [-2.0, 2.0]])
    surface = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))  # blue left, red right
    img = slide(box, rng.normal(size=(300, 2)), rng.normal(0.5, 0.3, (300, 2)), surface=surface,
                surface_box=box, title="ring8 · ns loss · step 1200")
    h, w, _ = img.shape
    assert (w, h) == SLIDE_SIZE and min(w, h) >= 1000
    lay = slide_layout(box)

    def part(b: tuple[int, int, int, int]) -> np.ndarray:
        return img[b[1]:b[3], b[0]:b[2]]

    assert _colour_share(part(lay.title), (20, 20, 20), 80) > 0.01  # the title's letters
    legend = part(lay.legend)
    assert _colour_share(legend, FAKE_RGB) > 0.001 and _colour_share(legend, REAL_RGB) > 0.001
    bar = part(lay.colorbar)
    assert _colour_share(bar[:10], (178, 24, 43), 10) > 0.5  # red (real-looking) on top
    assert _colour_share(bar[-10:], (33, 102, 172), 10) > 0.5  # blue at the bottom
    l, t, r, b = lay.plot
    assert r - l == b - t and r - l > 700  # equal scales on a square box, most of the height
    # Tick labels left of and below the plot: dark pixels there.
    assert _colour_share(img[t:b, l - 80:l - 12], (20, 20, 20), 80) > 0.002
    assert _colour_share(img[b + 12:b + 45, l:r], (20, 20, 20), 80) > 0.002
    plot = img[t:b, l:r]
    assert _colour_share(plot, FAKE_RGB) > 0.002  # the fake points
    assert _colour_share(plot[:, :20], (33, 102, 172), 25) > 0.5  # D's map, blue on the left

    bare = slide(box, rng.normal(size=(30, 2)), None)  # no heat map: no colour bar
    assert slide_layout(box, colorbar=False).colorbar is None
    assert _colour_share(bare[lay.colorbar[1]:lay.colorbar[3], lay.colorbar[0]:lay.colorbar[2]],
                         (255, 255, 255), 0) > 0.99


def tiny_trainer(seed: int = 0) -> Trainer:
    return Trainer(Config(data="ring8", data_size=500, g_width=8, d_width=8, g_layers=1, d_layers=1,
                          batch_size=32, n_fixed=50, eval_every=0, seed=seed))


def test_png_and_gif_exports_are_slides() -> None:
    t = tiny_trainer()
    frames = [probe.frame(t, res=8)]
    for _ in range(4):
        t.step()
        frames.append(probe.frame(t, res=8))
    real = probe.real_points(t, 100)
    png = Image.open(io.BytesIO(exports.png_bytes(frames[-1], real, "probability", title="ring8 · ns loss")))
    assert png.format == "PNG" and png.size == SLIDE_SIZE and min(png.size) >= 1000
    gif = Image.open(io.BytesIO(exports.gif_of_run(frames, real, "probability", title="ring8 · ns loss")))
    assert gif.format == "GIF" and gif.size == SLIDE_SIZE and gif.n_frames == len(frames)
    assert exports.slide_title("points_file", "wgan") == "your points · wgan loss"

    # From a live run, on the live view's axes (grown), the heat map over all of it.
    r = Runner(t, capture=lambda m: probe.frame(m, res=8), capture_every=1, chunk_seconds=0.0)
    vr = ViewRange(probe.view_box(t))
    with r.hold() as m:
        lin = [mod for mod in m.G.modules() if isinstance(mod, torch.nn.Linear)][-1]
        with torch.no_grad():
            lin.bias[0] += 1.5
    img = np.asarray(Image.open(io.BytesIO(exports.png_now(r, real, vr, title="t"))).convert("RGB"))
    assert img.shape[:2] == (SLIDE_SIZE[1], SLIDE_SIZE[0])
    np.testing.assert_allclose(vr.box(), probe.view_box(t))  # the page's range is not changed by an export
    r.close()


def shift_g(trainer: Trainer, dx: float) -> None:
    """Move every fake point by dx along x (G's last bias): points that leave the data's box."""
    lin = [mod for mod in trainer.G.modules() if isinstance(mod, torch.nn.Linear)][-1]
    with torch.no_grad():
        lin.bias[0] += dx


def test_the_recording_covers_the_points_that_left_the_data_box() -> None:
    t = tiny_trainer()
    data_box = probe.view_box(t)
    record = PointsRecorder(res=8)
    first = record(t)
    np.testing.assert_allclose(first.box, data_box)
    assert first.surface.shape == (8, 8)
    shift_g(t, 1.5)
    t.step()
    far = record(t)
    assert far.box[0, 1] > data_box[0, 1] + 0.5 and count_outside(far.box, far.fake) == 0
    widest = float(np.max((far.box[:, 1] - far.box[:, 0]) / (data_box[:, 1] - data_box[:, 0])))
    assert 1.2 < widest <= LIMIT
    assert far.surface.shape == (8, 8)  # as many cells as the live view, over the grown box
    # D's surface is over the grown box: its right column is D at the box's right edge.
    np.testing.assert_allclose(far.surface, probe.d_surface(t, far.box, 8))
    shift_g(t, -1.5)
    t.step()
    back = record(t)  # the points came back: the box stays (earlier frames stay in view)
    np.testing.assert_array_equal(back.box, far.box)
    assert count_outside(data_box, back.fake) == 0
    np.testing.assert_allclose(record(tiny_trainer(seed=1)).box, data_box)  # a new run starts over
    # A GIF draws each frame on the box it was recorded on (axes that only grow): every
    # frame's heat map covers its plot (one box for all left the first frames a patch).
    axes = exports.gif_axes([first, far, back])
    for got, want in zip(axes, (data_box, far.box, far.box)):
        np.testing.assert_allclose(got, want)
    gif = Image.open(io.BytesIO(exports.gif_of_run([first, far, back], probe.real_points(t, 50), "probability")))
    assert gif.n_frames == 3 and gif.size == SLIDE_SIZE


# --- the page (AppTest) -------------------------------------------------------------------------


def shape_of(trace: dict) -> int:
    return int(trace["x"]["shape"]) if isinstance(trace["x"], dict) else len(trace["x"])


def small_query(**extra: str) -> dict[str, str]:
    return {"g_width": "16", "d_width": "16", "n_fixed": "200", "eval_every": "0", **extra}


def test_draw_your_own_opens_on_an_empty_canvas_and_shows_each_stroke_at_once() -> None:
    at = helpers.open_page(PAGE, {"preset": "shapes", "data": "points_file"})
    assert not at.error and not at.exception
    assert any("Draw your data on the canvas below" in i.value for i in at.info)
    assert "pg.runner" not in at.session_state  # no run, no error box, until there are points
    assert at.radio(key="pg.preset").value == "Draw your own"  # the link's preset, not the default
    sketch = figures(at)["sketch"]
    assert [shape_of(t) for t in sketch["fig"]["data"]] == [0]
    assert not [b for b in at.button if b.label == "Play"]

    # One stroke: the canvas of this same rerun shows its points (it used to show the
    # previous stroke's), and the run trains on them.
    at.session_state["pg.canvas"] = {"token": 0, "strokes": [[[-1.0, -1.0], [1.0, 1.0]]]}
    at.run()
    points = at.session_state["pg.points"]
    assert len(points) > 100
    assert shape_of(figures(at)["sketch"]["fig"]["data"][0]) == len(points)
    assert not at.info and not at.error
    assert helpers.held_model(at, "pg.runner").data.x.shape == points.shape
    at.session_state["pg.canvas"] = {"token": 0, "strokes": [[[-1.0, -1.0], [1.0, 1.0]], [[1.5, -1.5]]]}
    at.run()
    assert shape_of(figures(at)["sketch"]["fig"]["data"][0]) == len(at.session_state["pg.points"]) > len(points)

    at.button(key="pg.clear").click().run()  # Clear: back to the hint
    assert any("Draw your data" in i.value for i in at.info) and not at.error
    assert shape_of(figures(at)["sketch"]["fig"]["data"][0]) == 0


def push_g(at: AppTest, dx: float) -> None:
    """Move every fake point by about dx along x (G's last bias), as a run that drifts."""
    with at.session_state["pg.runner"].hold() as t:
        lin = [m for m in t.G.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            lin.bias[0] += dx


@pytest.mark.parametrize("view", ["2-D", "3-D"])
def test_the_axes_follow_points_that_leave_the_data_box(view: str) -> None:
    at = helpers.open_page(PAGE, small_query())
    if view == "3-D":
        at.radio(key="pg.view").set_value("3-D").run()
    data_box = at.session_state["pg.data_box"]

    def xrange() -> list[float]:
        layout = figures(at)[view]["fig"]["layout"]
        return (layout["xaxis"] if view == "2-D" else layout["scene"]["xaxis"])["range"]

    assert xrange() == pytest.approx(data_box[0].tolist())
    push_g(at, 3.0)
    at.button(key="pg.step_d").click().run()  # a D step: G (and the fakes) as pushed
    grown = xrange()
    with at.session_state["pg.runner"].hold() as t:
        fake = probe.fake_points(t)
    assert grown[1] > fake[:, 0].max() and grown[0] == pytest.approx(data_box[0, 0])
    at.button(key="pg.step_d").click().run()
    assert xrange() == grown  # the same points: the same axes

    push_g(at, 100.0)  # a run gone far away: the view stops at the limit and says so
    at.button(key="pg.step_d").click().run()
    span = data_box[0, 1] - data_box[0, 0]
    assert xrange()[1] == pytest.approx(data_box[0, 1] + (LIMIT - 1) / 2 * span, rel=1e-5)
    assert xrange()[1] - xrange()[0] <= LIMIT * span
    assert any("beyond the view" in c.value for c in at.caption)
    if view == "2-D":  # D's heat map covers the whole grown view
        heat = figures(at)["2-D"]["fig"]["data"][0]
        assert heat["x0"] == pytest.approx(xrange()[0], rel=1e-5)


def test_history_slider_in_steps_agrees_with_the_status_and_play_returns_to_live() -> None:
    at = helpers.open_page(PAGE, small_query())
    r: Runner = at.session_state["pg.runner"]
    for _ in range(60):
        r.step_once()  # frames are recorded every 25 steps
    at.run()
    slider = at.select_slider(key="pg.scrub")
    assert slider.options == ["0", "25", "50", "live"] and slider.value == LIVE
    assert figures(at)["2-D"]["meta"]["step"] == 60

    at.select_slider(key="pg.scrub").set_value(25).run()
    assert at.select_slider(key="pg.scrub").value == 25
    assert figures(at)["2-D"]["meta"]["step"] == 25
    assert any(c.value.startswith("step 25 (history)") for c in at.caption)
    # ... with the losses recorded by that step, not the live ones (step 60). The preset
    # records them every 50 steps: none yet at 25.
    with r.hold() as trainer:
        assert [h["step"] for h in trainer.history if "d_loss" in h] == [50]
        row, live = trainer.history[0], dict(trainer.last)
    caption = next(c.value for c in at.caption if c.value.startswith("step 25 (history)"))
    assert "losses not recorded yet at this step" in caption and f"{live['d_loss']:.4f}" not in caption
    at.select_slider(key="pg.scrub").set_value(50).run()
    caption = next(c.value for c in at.caption if c.value.startswith("step 50 (history)"))
    assert f"D loss {row['d_loss']:.4f} · G loss {row['g_loss']:.4f}" in caption
    at.select_slider(key="pg.scrub").set_value(25).run()
    assert not r.playing

    at.button(key="pg.play").click().run()  # Play: the view returns to the live run
    assert r.playing and at.select_slider(key="pg.scrub").value == LIVE
    assert wait_until(lambda: r.steps_done > 61)
    at.run()
    assert figures(at)["2-D"]["meta"]["step"] > 60
    assert not any("(history)" in c.value for c in at.caption)
    at.button(key="pg.pause").click().run()
    assert wait_until(lambda: not r.thread_alive)

    at.run()
    at.select_slider(key="pg.scrub").set_value(0).run()
    assert figures(at)["2-D"]["meta"]["step"] == 0
    at.button(key="pg.step_dg").click().run()  # a step: live again
    assert at.select_slider(key="pg.scrub").value == LIVE
    with r.hold() as t:
        assert figures(at)["2-D"]["meta"]["step"] == t.step_count


def test_a_rewound_view_is_drawn_on_its_own_axes_with_d_over_all_of_them() -> None:
    at = helpers.open_page(PAGE, small_query())
    r: Runner = at.session_state["pg.runner"]
    with r.hold() as trainer:
        data_box = probe.view_box(trainer)
        shift_g(trainer, 2.0)
    for _ in range(25):
        r.step_once()
    at.run()  # live: the view grows for step 25's points...
    with r.hold() as trainer:
        shift_g(trainer, -2.0)
    for _ in range(5):
        r.step_once()
    at.run()  # ... and has not shrunk back yet
    fig = figures(at)["2-D"]["fig"]
    assert fig["layout"]["xaxis"]["range"][1] > data_box[0, 1] + 0.5
    for step, grown in ((0, False), (25, True)):
        at.select_slider(key="pg.scrub").set_value(step).run()
        fig = figures(at)["2-D"]["fig"]
        frame = frame_at(r.frames(), step)[1]
        xr, yr = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
        np.testing.assert_allclose([xr, yr], frame.box, rtol=1e-6)
        assert (xr[1] > data_box[0, 1] + 0.5) == grown
        heat = fig["data"][0]
        cells = len(frame.surface)
        assert heat["x0"] == pytest.approx(xr[0], rel=1e-6)
        assert heat["x0"] + heat["dx"] * (cells - 1) == pytest.approx(xr[1], rel=1e-6)
        assert heat["y0"] == pytest.approx(yr[0], rel=1e-6)


def test_3d_view_draws_or_names_each_ticked_overlay() -> None:
    at = helpers.open_page(PAGE, small_query())
    at.checkbox(key="pg.manifold").check()
    at.checkbox(key="pg.arrows").check()
    at.radio(key="pg.view").set_value("3-D").run()
    assert any("does not draw the G manifold or the gradient arrows" in c.value for c in at.caption)

    at3 = helpers.open_page(PAGE, small_query(data="helix"))
    at3.checkbox(key="pg.manifold").check()
    at3.checkbox(key="pg.arrows").check()
    at3.radio(key="pg.view").set_value("3-D").run()
    names = [t.get("name") for t in figures(at3)["3-D"]["fig"]["data"]]
    assert {"G manifold", "G's push (gradient)", "P(real)"} <= set(names)
    assert not any("does not draw" in c.value for c in at3.caption)
