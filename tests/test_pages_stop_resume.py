"""Issue 15 on the pages (AppTest): "Stop at a step count" in every training page, and a
reload (a new session with the same browser token) resuming the autosaved run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab.data.images import available_splits
from tests import helpers
from tests.helpers import wait_until
from ui.autosave import new_token
from ui.runner import Runner, close_all, live_runner_threads

ROOT = Path(__file__).resolve().parents[1]
PLAYGROUND = str(ROOT / "pages" / "1_Gaussian_playground.py")
GAN1D = str(ROOT / "pages" / "0_GAN_in_1D.py")
LAB = str(ROOT / "pages" / "2_Latent_lab.py")
STUDIO = str(ROOT / "pages" / "3_MNIST_studio.py")
needs_mnist = pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")

pytestmark = pytest.mark.usefixtures("no_runner_left_behind")


@pytest.fixture
def saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GANLAB_AUTOSAVE", str(tmp_path / "autosave"))
    monkeypatch.setenv("GANLAB_RUNS", str(tmp_path / "runs"))
    return tmp_path / "autosave"


def url_of(at: AppTest) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def texts(elements: Any) -> str:
    return " | ".join(str(e.value) for e in elements)


def wait_paused(r: Runner) -> None:
    """Wait until the run is paused and its thread gone (with its last autosave written)."""
    assert wait_until(lambda: not r.playing and not r.thread_alive and live_runner_threads() == 0, 30)


def weights(model: Any) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, net in model.named_networks().items() if net is not None
            for k, v in net.state_dict().items()}


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- stop at a step count -----------------------------------------------------------------------
def test_playground_stops_exactly_at_the_step_count_and_says_so(saves: Path) -> None:
    at = helpers.open_page(PLAYGROUND)
    r: Runner = at.session_state["pg.runner"]
    assert not at.checkbox(key="pg.stop_on").value and r.stop_at is None  # the default: keep going
    assert "stop" not in url_of(at)
    at.checkbox(key="pg.stop_on").check().run()
    at.number_input(key="pg.stop_at").set_value(30).run()
    at.select_slider(key="pg.speed").set_value(20).run()
    assert r.stop_at == 30 and url_of(at)["stop"] == "30"
    at.button(key="pg.play").click().run()
    wait_paused(r)
    at.run()
    assert helpers.held_model(at, "pg.runner").step_count == 30
    assert "Stopped at step 30 (the run length you set)" in texts(at.info)
    assert at.button(key="pg.play").label == "Play"
    at.button(key="pg.play").click().run()  # Play at the limit: no training, the same words
    wait_paused(r)
    assert helpers.held_model(at, "pg.runner").step_count == 30
    assert "Stopped at step 30" in texts(at.info) and "raise" in texts(at.info)
    at.number_input(key="pg.stop_at").set_value(45).run()  # raised: the notice goes, Play goes on
    assert "Stopped at step" not in texts(at.info)
    at.button(key="pg.play").click().run()
    wait_paused(r)
    assert helpers.held_model(at, "pg.runner").step_count == 45
    at.checkbox(key="pg.stop_on").uncheck().run()
    assert r.stop_at is None and "stop" not in url_of(at)
    assert not at.exception


def test_the_url_carries_the_step_count(saves: Path) -> None:
    at = helpers.open_page(PLAYGROUND, {"stop": "250"})
    assert at.checkbox(key="pg.stop_on").value and at.number_input(key="pg.stop_at").value == 250
    assert at.session_state["pg.runner"].stop_at == 250 and not at.warning
    bad = helpers.open_page(GAN1D, {"stop": "lots"})
    assert "stop='lots' is ignored" in texts(bad.warning)
    assert not bad.checkbox(key="g1.stop_on").value


def test_gan1d_and_latent_lab_stop_at_their_step_count(saves: Path) -> None:
    at = helpers.open_page(GAN1D, {"stop": "12"})
    r: Runner = at.session_state["g1.runner"]
    at.button(key="g1.play").click().run()
    wait_paused(r)
    at.run()
    assert helpers.held_model(at, "g1.runner").step_count == 12
    assert "Stopped at step 12 (the run length you set)" in texts(at.info)

    lab = helpers.open_page(LAB, {"lab": "latent-sweep", "values": "1,2", "stop": "7"})
    r = lab.session_state["lab.runner"]
    lab.select_slider(key="lab.speed").set_value(5).run()
    lab.button(key="lab.play").click().run()
    wait_paused(r)
    lab.run()
    assert helpers.held_model(lab, "lab.runner").step_count == 7
    assert "Stopped at step 7 (the run length you set)" in texts(lab.info)
    assert url_of(lab)["stop"] == "7" and not lab.exception


# --- resume after a reload -----------------------------------------------------------------------
def train_and_pause(at: AppTest, key: str, steps: int) -> Runner:
    r: Runner = at.session_state[key]
    at.button(key=key.replace("runner", "play")).click().run()
    assert wait_until(lambda: r.model_step() >= steps, 30)
    at.button(key=key.replace("runner", "pause")).click().run()  # the thread saves as it ends
    wait_paused(r)
    return r


def test_a_reload_resumes_the_playground_run_bit_for_bit(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(PLAYGROUND, {"me": token, "seed": "4"})
    assert url_of(at)["me"] == token
    train_and_pause(at, "pg.runner", 20)
    before = helpers.held_model(at, "pg.runner")
    step, saved = before.step_count, weights(before)
    pointer = saves / token / "playground" / "latest.json"
    assert json.loads(pointer.read_text())["step"] == step
    url = url_of(at)
    close_all()

    again = helpers.open_page(PLAYGROUND, url)  # the same browser reloads the page
    model = helpers.held_model(again, "pg.runner")
    assert model.step_count == step and same_weights(weights(model), saved)
    assert model.cfg == before.cfg and model.history == before.history
    assert f"Resumed at step {step} (autosaved" in texts(again.info)
    assert not again.warning and not again.error
    again.button(key="pg.start_over").click().run()
    assert helpers.held_model(again, "pg.runner").step_count == 0
    assert "Resumed" not in texts(again.info) and not pointer.exists()
    assert not again.exception


def test_a_reload_resumes_the_latent_lab_comparison(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(LAB, {"me": token, "lab": "latent-sweep", "values": "1,2"})
    train_and_pause(at, "lab.runner", 15)
    before = helpers.held_model(at, "lab.runner")
    step, histories = before.step_count, before.histories
    samples = [x.clone() for x in before.fixed_samples()]
    assert json.loads((saves / token / "lab" / "latest.json").read_text())["step"] == step
    url = url_of(at)
    close_all()

    again = helpers.open_page(LAB, url)  # the same browser reloads: the same runs, where they were
    model = helpers.held_model(again, "lab.runner")
    assert model.step_count == step and model.labels == before.labels and model.histories == histories
    assert all(torch.equal(a, b) for a, b in zip(model.fixed_samples(), samples))
    assert f"Resumed at step {step} (autosaved" in texts(again.info)
    assert not again.exception and not again.error
    close_all()

    other = helpers.open_page(LAB, {**url, "values": "1,3"})  # another comparison: fresh
    assert helpers.held_model(other, "lab.runner").step_count == 0 and "Resumed" not in texts(other.info)
    other.button(key="lab.play").click().run()  # and it runs
    assert wait_until(lambda: helpers.held_model(other, "lab.runner").step_count > 0, 30)
    other.button(key="lab.pause").click().run()
    wait_paused(other.session_state["lab.runner"])
    assert not other.exception


def test_a_shared_link_without_the_token_starts_fresh(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(PLAYGROUND, {"me": token})
    train_and_pause(at, "pg.runner", 10)
    url = url_of(at)
    close_all()
    for shared in ({k: v for k, v in url.items() if k != "me"}, {**url, "me": new_token()},
                   {**url, "me": "../" + token}):
        other = helpers.open_page(PLAYGROUND, shared)
        assert helpers.held_model(other, "pg.runner").step_count == 0
        assert "Resumed" not in texts(other.info) and not other.warning
        assert url_of(other)["me"] != token
        close_all()
    assert (saves / token / "playground" / "latest.json").is_file()  # still there for its browser


def test_a_damaged_autosave_starts_fresh_with_a_notice(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(GAN1D, {"me": token})
    train_and_pause(at, "g1.runner", 10)
    url = url_of(at)
    close_all()
    slot = saves / token / "gan1d"
    state = slot / json.loads((slot / "latest.json").read_text())["dir"]
    (state / "model.safetensors").write_bytes(b"\x00" * 40)
    again = helpers.open_page(GAN1D, url)
    assert helpers.held_model(again, "g1.runner").step_count == 0
    assert "could not be read" in texts(again.warning) and "starts fresh at step 0" in texts(again.warning)
    assert not again.exception and not again.error
    again.run()
    assert "could not be read" not in texts(again.warning)  # said once


def test_a_reload_resumes_the_1d_lesson_and_live_settings_follow_the_url(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(GAN1D, {"me": token})
    train_and_pause(at, "g1.runner", 15)
    step = helpers.held_model(at, "g1.runner").step_count
    url = url_of(at)
    close_all()
    again = helpers.open_page(GAN1D, {**url, "d_lr": "0.0005"})  # a live setting changed in the URL
    model = helpers.held_model(again, "g1.runner")
    assert model.step_count == step and model.cfg.d_lr == 0.0005
    assert f"Resumed at step {step}" in texts(again.info)
    close_all()
    other = helpers.open_page(GAN1D, {**url, "seed": "77"})  # another experiment: fresh
    assert helpers.held_model(other, "g1.runner").step_count == 0


@needs_mnist
def test_a_reload_resumes_the_studio_run_with_its_settings(saves: Path) -> None:
    token = new_token()
    at = helpers.open_page(STUDIO, {"me": token})
    at.number_input(key="studio.batch_size").set_value(16)
    at.number_input(key="studio.eval_every").set_value(0)
    at.run()
    at.button(key="studio.start").click().run()
    r: Runner = at.session_state["studio.runner"]
    assert wait_until(lambda: r.model_step() >= 4, 60)
    at.button(key="studio.pause").click().run()
    wait_paused(r)
    before = helpers.held_model(at, "studio.runner")
    step, saved = before.step_count, weights(before)
    url = url_of(at)
    assert url["me"] == token
    close_all()
    again = helpers.open_page(STUDIO, url)
    model = helpers.held_model(again, "studio.runner")
    assert model.step_count == step and same_weights(weights(model), saved)
    assert again.number_input(key="studio.batch_size").value == 16
    assert f"Resumed at step {step}" in texts(again.info) and not again.warning
    assert not again.exception
    again.button(key="studio.stop").click().run()  # saved: the page says that, not the resume notice
    [saved_run] = list((saves.parent / "runs").iterdir())
    assert [s.value for s in again.success] == [f"Run stopped and saved to {saved_run}"]
    assert "Resumed at step" not in texts(again.info)


def test_a_restored_run_the_page_cannot_use_starts_fresh(saves: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = new_token()
    at = helpers.open_page(PLAYGROUND, {"me": token})
    train_and_pause(at, "pg.runner", 5)
    url = url_of(at)
    close_all()
    from ganlab import probe

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("cannot draw it")

    calls = {"n": 0}
    real = probe.real_points

    def once(*args: Any, **kwargs: Any) -> Any:  # the first call (on the restored run) fails
        calls["n"] += 1
        return broken() if calls["n"] == 1 else real(*args, **kwargs)

    monkeypatch.setattr(probe, "real_points", once)
    again = helpers.open_page(PLAYGROUND, url)
    assert helpers.held_model(again, "pg.runner").step_count == 0
    assert "could not be read" in texts(again.warning) and not again.exception
