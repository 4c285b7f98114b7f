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


def notes(fig: dict) -> list[str]:
    """The grey notes inside the metric panels (not the panel titles)."""
    return [a["text"] for a in fig["layout"]["annotations"] if a["text"] not in views.PANEL_TITLES]


def test_the_placeholder_names_the_next_metric_step_and_goes_when_metrics_come() -> None:
    losses = [{"step": s, "d_loss": 1.4, "g_loss": 0.7} for s in range(10, 880, 10)]
    # No metric row yet at step 870 (eval_every changed to 1000, say): the next is at 1000.
    assert notes(views.charts(losses, metrics_from=1000)) == ["metrics appear at step 1000"] * 2
    assert notes(views.charts(losses[:40], metrics_from=500)) == ["metrics appear at step 500"] * 2
    # A run on 1-D data: KL / JS / W2 at step 500, never modes. No placeholder after it.
    one_d = losses[:49] + [{"step": 500, "d_loss": 1.4, "g_loss": 0.7, "kl": 16.0, "js": 0.7, "w2": 0.6}] + losses[50:]
    fig = views.charts(one_d, metrics_from=500)
    assert notes(fig) == [views.NO_MODES_NOTE]
    assert notes({"layout": fig["narrow"]["layout"]}) == [views.NO_MODES_NOTE]
    # Metrics off, or the run stops before they come: no promise of them.
    assert notes(views.charts(losses, metrics_from=None)) == []
    assert notes(views.charts(losses, metrics_from=0)) == []
    assert notes(views.charts(losses[:20], metrics_from=500, stop_at=300)) == []
    assert notes(views.charts(losses[:20], metrics_from=500, stop_at=500)) == ["metrics appear at step 500"] * 2
    assert views.next_metrics_step([], 500) == 500 and views.next_metrics_step(losses[:50], 500) == 1000
    # Data known to have no modes: its panel says so before the first metrics, too.
    assert notes(views.charts(losses[:40], metrics_from=500, modes=False)) == [
        views.NO_MODES_NOTE, "metrics appear at step 500"]
    assert notes(views.charts(losses[:40], metrics_from=500, modes=True)) == ["metrics appear at step 500"] * 2
    hq = views.charts(losses)["layout"]["yaxis4"]  # % HQ ticks at 0, 25, ..., 100 (not 24.7, 49.4, ...)
    assert (hq["tick0"], hq["dtick"], hq["range"]) == (0, 25, [0, 105])


def test_the_legend_entries_have_a_fixed_share_of_the_width() -> None:
    """A chart drawn in a closed expander measured its legend's names as 0 px wide, and
    they were printed over each other: entries get a fixed width, 4 to a row (2 on a phone)."""
    rows = [{"step": 500, "d_loss": 1.0, "g_loss": 1.0, "modes_captured": 3.0, "modes_total": 8.0,
             "hq_pct": 40.0, "kl": 1.0, "js": 0.2, "w2": 0.5}]
    fig = views.charts(rows, metrics_from=500)
    assert len(fig["data"]) == 7
    legend = fig["layout"]["legend"]
    assert (legend["entrywidthmode"], legend["entrywidth"], legend["orientation"]) == ("fraction", 0.24, "h")
    assert int(1 / legend["entrywidth"]) == 4  # 7 names: two rows
    narrow = fig["narrow"]["layout"]["legend"]
    assert (narrow["entrywidthmode"], narrow["entrywidth"], narrow["x"]) == ("fraction", 0.49, -0.12)
    assert int(1 / narrow["entrywidth"]) == 2


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


def test_the_lab_charts_keep_room_for_titles_and_ticks() -> None:
    """The lab's titles sat on the tick labels of the row above (and a phone got 3 panels
    a row, their titles over each other): rows are laid out in pixels, 2 a row on a phone."""
    names = ["latent_dim = 1", "latent_dim = 2", "latent_dim = 8", "latent_dim = 100"]
    keys = [key for key, _ in views.COMPARISON_CHARTS]
    hist = [[{"step": s, **{k: 1.0 + i for k in keys}} for s in (10, 20)] for i in range(4)]
    fig = views.comparison_charts(hist, names, {"eig1": 0.5, "local_dim": 2.0}, None)
    for layout, cols in ((fig["layout"], 3), (fig["narrow"]["layout"], 2)):
        rows = -(-len(keys) // cols)
        assert layout["height"] == views.comparison_height(len(keys), 4, narrow=cols == 2)
        legend_lines = 1 if cols == 3 else 2  # 4 names: 4 a line, or 2 on a phone
        assert layout["height"] == 10 + 10 + 24 * legend_lines + 6 + rows * 190
        area = layout["height"] - 20
        titles = layout["annotations"]
        assert [a["text"] for a in titles] == [title for _, title in views.COMPARISON_CHARTS]
        for p, title in enumerate(titles):
            ax = "" if p == 0 else str(p + 1)
            y0, y1 = layout["yaxis" + ax]["domain"]
            assert title["yanchor"] == "bottom" and title["y"] > y1
            assert round((y1 - y0) * area) == views.COMPARISON_PLOT_PX
            if p >= cols:  # clear of the tick labels of the panel above
                above = layout["yaxis" + ("" if p == cols else str(p - cols + 1))]["domain"][0]
                assert round((above - title["y"]) * area) >= views.COMPARISON_TICKS_PX
        legend = layout["legend"]
        assert legend["traceorder"] == "normal" and legend["entrywidthmode"] == "fraction"
        assert int(1 / legend["entrywidth"]) == (4 if cols == 3 else 2)
    assert fig["narrow"]["height"] == fig["narrow"]["layout"]["height"]
    assert all(t["mode"] == "lines+markers" for t in fig["data"])  # two points each: markers show them
