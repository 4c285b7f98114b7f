"""Readable charts: a count and a percentage never share an axis, step 0 says when the
metrics come, a lone metric point shows, the heat map's scale and words, the 3-D view
names what it cannot draw."""
from __future__ import annotations

import numpy as np

from ganlab import probe
from ui import views


def test_step_0_says_when_metrics_appear() -> None:
    fig = views.charts([{"step": 0, "d_loss": 1.4, "g_loss": 0.7}], metrics_from=500)
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert texts.count("metrics appear at step 500") == 2  # the coverage and the distance panels
    assert [t["name"] for t in fig["data"]] == ["D loss", "G loss"]


def test_modes_and_percent_hq_on_separate_axes() -> None:
    rows = [{"step": 0, "d_loss": 1.0, "g_loss": 1.0},
            {"step": 500, "d_loss": 1.0, "g_loss": 1.0, "modes_captured": 3.0, "modes_total": 8.0,
             "hq_pct": 40.0, "kl": 1.0, "js": 0.2}]
    fig = views.charts(rows, metrics_from=500)
    axes = {t["name"]: t["yaxis"] for t in fig["data"]}
    assert axes["modes captured"] != axes["% high quality"]
    assert fig["layout"]["yaxis2"]["range"] == [0, 8.5] and fig["layout"]["yaxis4"]["range"] == [0, 105]
    lone = next(t for t in fig["data"] if t["name"] == "modes captured")
    assert lone["marker"]["size"] >= 6  # a single point is drawn big enough to see
    assert not any("metrics appear" in a["text"] for a in fig["layout"]["annotations"])
    legend_top = fig["layout"]["legend"]["y"]
    assert legend_top < -0.3  # below the x-axis titles, not on them


def test_a_phone_gets_the_panels_stacked() -> None:
    rows = [{"step": 0, "d_loss": 1.0, "g_loss": 1.0},
            {"step": 500, "d_loss": 1.0, "g_loss": 1.0, "modes_captured": 3.0, "modes_total": 8.0,
             "hq_pct": 40.0, "kl": 1.0, "js": 0.2}]
    narrow = views.charts(rows, marker_step=500, metrics_from=500)["narrow"]
    assert narrow["below"] == 640 and narrow["height"] > 3 * 200
    layout = narrow["layout"]
    domains = [layout[f"yaxis{s}"]["domain"] for s in ("", "2", "3")]
    # Top to bottom, apart, each as wide as the frame allows (the right axis keeps its room).
    assert domains[0][0] > domains[1][1] and domains[1][0] > domains[2][1] and domains[2][0] >= 0
    assert all(layout[f"xaxis{s}"]["domain"] == [0.0, 0.92] for s in ("", "2", "3"))
    titles = [a for a in layout["annotations"] if a["text"] in views.PANEL_TITLES]
    assert [a["y"] > d[1] for a, d in zip(titles, domains)] == [True] * 3  # each title above its panel
    assert layout["legend"]["y"] < 0 and layout["margin"]["b"] >= 150  # below the bottom panel
    assert len(layout["shapes"]) == 3  # the history marker in every panel


def test_score_scale_does_not_stretch_step_0_noise() -> None:
    noise = np.random.default_rng(0).normal(0, 0.01, (16, 16)).astype(np.float32)
    assert probe.surface_range(noise, "score") == (-probe.MIN_SCORE_HALF_RANGE, probe.MIN_SCORE_HALF_RANGE)
    assert probe.surface_range(noise * 1000, "score")[1] > 5
    assert probe.surface_range(noise, "probability") == (0.0, 1.0)
    assert "red: real" in views.surface_words("probability")[1]
    assert "score" in views.surface_words("score")[1]


def test_3d_view_names_what_it_cannot_draw() -> None:
    assert views.missing_in_3d(2, surface=True, manifold=False, arrows=False) == ""
    assert views.missing_in_3d(2, surface=True, manifold=True, arrows=True) == \
        "the G manifold or the gradient arrows"
    assert views.missing_in_3d(3, surface=True, manifold=True, arrows=True) == ""  # 3-D data: all drawn
