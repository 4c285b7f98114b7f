"""The 1-D lesson page (AppTest): opens on the gan1d preset, steps D only / G only,
one click on a preset restarts, and the lesson strip links the next step."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganlab.presets import resolve_config
from ui.runner import Runner

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "0_GAN_in_1D.py")
pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def runner_of(at: AppTest) -> Runner:
    return at.session_state["g1.runner"]


def test_opens_ready_to_play_with_the_lesson() -> None:
    at = open_page({"preset": "gan1d"})
    assert not at.exception and not at.error
    assert at.button(key="g1.play").label == "Play"
    with runner_of(at).hold() as t:
        assert t.cfg == resolve_config(preset="gan1d") and t.step_count == 0
    strip = " ".join(m.value for m in at.markdown)
    assert "Step 1 of" in strip and "D (blue)" in strip
    assert "Next: Eight blobs in 2-D" in " ".join(c.value for c in at.caption)


def test_projector_mode_keeps_the_lesson_strip_to_one_line() -> None:
    """On a projector the strip names the step and links the next one; the sentence on
    what to watch (three lines at projector size) is left to the teacher."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "gan1d"
    at.session_state["projector.on"] = True
    at.run()
    strip = " ".join(m.value for m in at.markdown)
    assert "Step 1 of" in strip and "D (blue)" not in strip
    assert "Next: Eight blobs in 2-D" in " ".join(c.value for c in at.caption)


def test_step_d_moves_only_d_and_step_g_only_g() -> None:
    at = open_page()
    runner = runner_of(at)
    with runner.hold() as t:
        g0 = [p.detach().clone() for p in t.G.parameters()]
        d0 = [p.detach().clone() for p in t.D.parameters()]
    at.button(key="g1.step_d").click().run()
    with runner.hold() as t:
        assert all((a == b).all() for a, b in zip(g0, t.G.parameters()))
        assert any((a != b).any() for a, b in zip(d0, t.D.parameters()))
        d1 = [p.detach().clone() for p in t.D.parameters()]
    at.button(key="g1.step_g").click().run()
    with runner.hold() as t:
        assert all((a == b).all() for a, b in zip(d1, t.D.parameters()))
        assert any((a != b).any() for a, b in zip(g0, t.G.parameters()))
    assert "step 2" in " ".join(c.value for c in at.caption)


def test_one_click_preset_restarts_on_its_data() -> None:
    at = open_page()
    at.button(key="g1.step_dg").click().run()
    at.radio(key="g1.preset").set_value("gan1d-mixture").run()
    assert not at.exception
    with runner_of(at).hold() as t:
        assert t.cfg.data == "mixture1d" and t.step_count == 0
    assert at.query_params["preset"] in ("gan1d-mixture", ["gan1d-mixture"])


def loss_charts(at: AppTest) -> dict:
    """The figure of the "Losses" expander (the live plot whose panels include "losses")."""
    import json

    for c in at.get("component_instance"):
        fig = json.loads(c.proto.json_args)["fig"]
        if any(a["text"] == "losses" for a in fig["layout"].get("annotations", [])):
            return fig
    raise AssertionError("no loss charts on the page")


def chart_notes(fig: dict) -> list[str]:
    from ui.views import PANEL_TITLES

    return [a["text"] for a in fig["layout"]["annotations"] if a["text"] not in PANEL_TITLES]


def test_the_metrics_placeholder_goes_once_the_run_passes_eval_every() -> None:
    """The trial saw "metrics appear at step 500" at step 871: 1-D data has KL / JS / W2
    but no modes, and the modes panel kept the promise. It goes with the first metrics."""
    at = open_page({"preset": "gan1d"})
    # The page knows 1-D data has no modes: that panel says so from step 0, not a promise.
    assert chart_notes(loss_charts(at)) == ["this data has no modes to count", "metrics appear at step 500"]
    assert any(c.value.startswith("step 0 · 0 steps/s · no losses before the first step · D(x) from")
               for c in at.caption)  # not "D loss nan"
    with runner_of(at).hold() as t:
        t.run(510)
        assert any("kl" in r for r in t.history) and not any("modes_captured" in r for r in t.history)
    at.run()
    fig = loss_charts(at)
    assert chart_notes(fig) == ["this data has no modes to count"]
    assert {t["name"] for t in fig["data"]} == {"D loss", "G loss", "KL (nats)", "JS (bits)", "W2"}
    assert fig["layout"]["legend"]["entrywidthmode"] == "fraction"  # names never printed over each other


def test_no_metrics_placeholder_when_the_run_stops_before_them() -> None:
    at = open_page({"preset": "gan1d", "stop": "300"})
    assert runner_of(at).stop_at == 300 and chart_notes(loss_charts(at)) == ["this data has no modes to count"]


def test_a_setting_changed_by_hand_unmarks_the_preset_and_the_lesson_says_so() -> None:
    at = open_page({"preset": "gan1d"})
    at.number_input(key="g1.d_lr").set_value(0.005).run()
    assert at.radio(key="g1.preset").value is None
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Your own settings: \u201cOne Gaussian\u201d with D learning rate changed." in captions
    strip = " ".join(m.value for m in at.markdown)
    assert "Step 1 of" in strip and "You changed this step's settings" in strip and "D (blue)" not in strip
    at.radio(key="g1.preset").set_value("gan1d").run()  # a click loads the preset again
    with runner_of(at).hold() as t:
        assert t.cfg == resolve_config(preset="gan1d") and t.step_count == 0
    assert "D (blue)" in " ".join(m.value for m in at.markdown)
