"""The latent explorer on the user's runs (issues 14, 16, 12): a run folder of each kind,
a conditional model's classes, picture inversion, GIF / MP4 export, the studio's "Open in
explorer", and GANSpace directions kept on disk."""
from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlab import explore
from ganlab.config import Config
from ganlab.data.images import available_splits
from ganlab.errors import ConfigError
from ganlab.pretrained import load_generator
from ganlab.runs import save_run
from ganlab.train import build_trainer
from tests.helpers import open_page
from tests.test_from_run import CLASSES, SMALL, squares, train

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Latent_explorer.py")
KINDS = ("mlp", "cgan", "dcgan", "cdcgan", "pgan", "ae")
_ganspace = explore.ganspace


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """One tiny run of each kind (3 steps on 3-class squares), saved as the user's runs."""
    root = tmp_path_factory.mktemp("runs")
    for kind in KINDS:
        if kind == "ae":
            cfg = Config(**{**SMALL, "model": "ae", "g_layers": 1})
            tr = build_trainer(cfg, squares(28))
            tr.run()
            save_run(tr, root / "run-ae")
        else:
            train(kind, root)
    return root


@pytest.fixture(autouse=True)
def _isolated(runs_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GANLAB_RUNS", str(runs_dir))
    monkeypatch.setattr(explore, "directions_dir", lambda: tmp_path / "directions")
    # 256 latents instead of 2,048: the same code path at a fraction of the time on 2 cores.
    monkeypatch.setattr(explore, "ganspace", partial(_ganspace, n=256))


def explorer(run: str) -> AppTest:
    """The explorer opened on one run through the URL (?run=NAME)."""
    at = open_page(PAGE, {"run": run})
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_run_opens_with_directions_and_samples(kind: str) -> None:
    at = explorer(f"run-{kind}")
    assert at.radio(key="source").value == "Runs" and at.selectbox(key="run").value == f"run-{kind}"
    side = 8 if kind == "pgan" else 28
    assert f"run-{kind}: {side}x{side}, 1 channel(s), latent 5" in [c.value for c in at.sidebar.caption]
    assert len(at.session_state["grid_png"]) == 8
    with Image.open(io.BytesIO(at.session_state["grid_png"][0])) as im:
        assert im.size[0] >= 64 and im.size[0] % side == 0
    assert [s.key for s in at.slider if s.key.startswith("dir")] == [f"dir{k}" for k in range(6)]
    z0 = torch.tensor(at.session_state["z"])
    at.slider(key="dir0").set_value(1.0).run()
    assert not at.exception and not torch.allclose(torch.tensor(at.session_state["z"]), z0)
    at.select_slider(key="truncation").set_value(0.5).run()
    assert float(torch.tensor(at.session_state["z"]).abs().max()) <= 0.5
    # Conditional runs get the class selector with the data set's names, others none.
    conditional = kind in ("cgan", "cdcgan")
    assert bool([s for s in at.sidebar.selectbox if s.key == "class"]) == conditional


def test_conditional_run_class_selector_every_class_row_and_class_sweep() -> None:
    at = explorer("run-cdcgan")
    chooser = at.sidebar.selectbox(key="class")
    assert chooser.options == list(CLASSES) and chooser.value == 0
    assert any("Same latent, every class" in m.value for m in at.markdown)
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert [c for c in captions if c in CLASSES] == list(CLASSES)
    z = torch.tensor(at.session_state["z"])
    chooser.set_value(2).run()
    assert not at.exception
    assert torch.allclose(torch.tensor(at.session_state["z"]), z)  # the latent stays, the class changes
    gen = load_generator(_run_path("run-cdcgan"))
    shown = explore.every_class(gen, z)
    assert shown.shape == (3, 1, 28, 28)
    assert torch.allclose(shown[2], gen(z[None], 2)[0])
    at.radio(key="across").set_value("classes").run()
    at.slider(key="frames").set_value(6).run()
    at.select_slider(key="export.side").set_value(64).run()
    at.button(key="export.make_gif").click().run()
    assert not at.exception
    with Image.open(io.BytesIO(at.session_state["export.gif"])) as im:
        assert im.size == (64, 64)  # Pillow merges equal neighbouring frames: count what was rendered
    assert at.session_state["export.frames"] == 6
    sweep = explore.class_sweep(gen, z, [0, 1, 2], 6)
    assert torch.equal(sweep[0], shown[0]) and torch.equal(sweep[2], shown[1]) and torch.equal(sweep[5], shown[2])


def _run_path(name: str) -> Path:
    from ganlab.runs import runs_root

    return runs_root() / name


def test_mp4_of_a_smoothed_random_walk() -> None:
    at = explorer("run-dcgan")
    at.radio(key="export.what").set_value("smoothed random walk").run()
    at.slider(key="export.fps").set_value(4).run()
    at.slider(key="export.seconds").set_value(2).run()
    at.select_slider(key="export.side").set_value(64).run()
    at.button(key="export.make_mp4").click().run()
    assert not at.exception and not at.error
    mp4 = at.session_state["export.mp4"]
    assert mp4[4:8] == b"ftyp" and at.session_state["export.frames"] == 8
    import av

    with av.open(io.BytesIO(mp4)) as video:
        frames = list(video.decode(video=0))
    assert len(frames) == 8 and (frames[0].width, frames[0].height) == (64, 64)
    assert any(b.label == "Download MP4" for b in at.get("download_button"))
    assert "MP4: 8 frames of 64 x 64 px at 4 frames per second." in [c.value for c in at.caption]


def _png_of(image: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image[0].add(1).mul(127.5).round().clamp(0, 255).byte().numpy()).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["mlp", "ae"])
def test_inverting_a_picture_makes_its_latent_the_current_one(kind: str) -> None:
    at = explorer(f"run-{kind}")
    gen = load_generator(_run_path(f"run-{kind}"))
    target = gen(gen.latents(1, 123))[0]
    assert any("reproduces only what its training data resembles" in m.value for m in at.markdown)
    at.file_uploader(key="invert.upload").set_value(("me.png", _png_of(target), "image/png")).run()
    at.slider(key="invert.steps").set_value(20).run()
    at.slider(key="invert.starts").set_value(2).run()
    before = torch.tensor(at.session_state["z"])
    at.button(key="invert.run").click().run()
    assert not at.exception and not at.error
    original, image, distance, steps = at.session_state["invert.result"]
    assert steps == (0 if kind == "ae" else 20)
    assert 0.0 <= distance < 0.25
    after = torch.tensor(at.session_state["z"])
    assert after.shape == before.shape and not torch.equal(after, before)
    assert any("Distance" in m.label for m in at.metric)
    assert Image.open(io.BytesIO(image)).size == (140, 140)  # 28 px enlarged 5x to reach 128


def test_a_bad_picture_is_an_error_box() -> None:
    at = explorer("run-mlp")
    at.file_uploader(key="invert.upload").set_value(("me.png", b"not a picture", "image/png")).run()
    assert not at.exception and any("not a picture" in e.value for e in at.error)


def test_unknown_run_in_the_url_is_a_warning() -> None:
    at = open_page(PAGE, {"run": "no-such-run"})
    assert any("no-such-run" in w.value for w in at.warning)


def test_directions_are_computed_once_and_kept_on_disk(monkeypatch, tmp_path) -> None:
    calls: list[int] = []
    early = explore.early_features

    def counted(gen, z):
        calls.append(z.shape[0])
        return early(gen, z)

    monkeypatch.setattr(explore, "early_features", counted)
    first = _ganspace(load_generator(_run_path("run-dcgan")), k=4, n=128)
    assert calls and sum(calls) == 128
    files = list((tmp_path / "directions").glob("run-*-k4-n128-s0.safetensors"))
    assert len(files) == 1
    calls.clear()
    again = _ganspace(load_generator(_run_path("run-dcgan")), k=4, n=128)  # a new object: memory cache missed
    assert calls == []
    assert torch.equal(first.vectors, again.vectors) and torch.equal(first.explained, again.explained)
    # Another class of a conditional run is another model; a damaged file is recomputed.
    files[0].write_bytes(b"garbage")
    explore._DIRECTIONS.clear()
    third = _ganspace(load_generator(_run_path("run-dcgan")), k=4, n=128)
    assert sum(calls) == 128 and torch.allclose(third.vectors, first.vectors)


def test_uploads_are_not_cached_on_disk(tmp_path) -> None:
    gen = load_generator(_run_path("run-mlp"))
    gen.info["upload"] = True
    assert explore.model_key(gen) is None


def test_studio_opens_its_run_in_the_explorer(monkeypatch, tmp_path) -> None:
    from ui.runner import close_all

    monkeypatch.setenv("GANLAB_RUNS", str(tmp_path / "studio-runs"))
    # From the app's entry point, as a browser has it: st.switch_page paths are relative to it.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/3_MNIST_studio.py").run()
    assert not at.exception
    try:
        at.button(key="studio.explore").click().run()
        assert not at.exception
        saved = list((tmp_path / "studio-runs").iterdir())
        assert [p.name for p in saved] == ["mnist-mlp-1"]
        assert at.radio(key="source").value == "Runs" and at.selectbox(key="run").value == "mnist-mlp-1"
        assert any(c.value.startswith("mnist-mlp-1: 28x28") for c in at.sidebar.caption)
    finally:
        close_all()


def test_frames_at_sides_and_output_sides() -> None:
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    assert explore.frames_at(images, 112).shape == (3, 1, 112, 112)
    big = explore.frames_at(torch.rand(2, 3, 256, 256) * 2 - 1, 64)
    assert big.shape == (2, 3, 64, 64) and big.dtype == torch.uint8
    assert torch.equal(explore.frames_at(images, 28), explore.frames_at(images.clone(), 28))
    assert explore.output_sides(28) == [28, 64, 128, 256, 512, 1024]
    with pytest.raises(ConfigError, match="8 to 2048"):
        explore.frames_at(images, 4)


def test_read_picture_grey_rgb_and_transparent() -> None:
    def encoded(mode: str, size=(5, 7)) -> bytes:
        buf = io.BytesIO()
        Image.new(mode, size).save(buf, format="PNG")
        return buf.getvalue()

    assert explore.read_picture(encoded("L")).shape == (1, 7, 5)
    assert explore.read_picture(encoded("RGBA")).shape == (3, 7, 5)
    with pytest.raises(ConfigError, match="not a picture"):
        explore.read_picture(b"GIF nonsense")


def test_class_views_and_their_errors() -> None:
    cgan = load_generator(_run_path("run-cgan"))
    view = explore.for_class(cgan, 1)
    assert view is explore.for_class(cgan, 1) and view.name == "run-cgan-one"
    z = cgan.latents(4, 0)
    assert torch.equal(view(z), cgan(z, 1))
    assert explore.early_features(view, z.double()).shape == (4, 28 * 28)
    with pytest.raises(ConfigError, match="class 3"):
        explore.for_class(cgan, 3)
    with pytest.raises(ConfigError, match="conditional"):
        explore.for_class(cgan, None)
    mlp = load_generator(_run_path("run-mlp"))
    assert explore.for_class(mlp, 2) is mlp
    with pytest.raises(ConfigError, match="not a conditional"):
        explore.every_class(mlp, z[0])
    with pytest.raises(ConfigError, match="at least 2 classes"):
        explore.class_sweep(cgan, z[0], [1], 4)
    assert explore.training_source(view) == ("mnist", 0, 0, "")


def test_studio_trains_an_autoencoder_with_originals_above_reconstructions(monkeypatch, tmp_path) -> None:
    from tests.helpers import held_model, wait_until
    from ganlab.train import AutoencoderTrainer
    from ui.runner import close_all
    from ui.studio import live_grid

    monkeypatch.setenv("GANLAB_RUNS", str(tmp_path / "studio-runs"))
    at = open_page(str(ROOT / "pages" / "3_MNIST_studio.py"))
    try:
        assert "adversarial autoencoder (AAE)" in at.selectbox(key="studio.model").options
        at.selectbox(key="studio.model").set_value("ae").run()
        at.number_input(key="studio.batch_size").set_value(16).run()
        at.button(key="studio.start").click().run()
        assert wait_until(lambda: held_model(at, "studio.runner").step_count >= 3, 30)
        at.button(key="studio.pause").click().run()
        assert not at.exception and not at.error
        trainer = held_model(at, "studio.runner")
        assert isinstance(trainer, AutoencoderTrainer)
        # 32 originals and their 32 reconstructions: 8 rows of 8 at 28 px (+2 px padding).
        assert tuple(live_grid(trainer).shape) == (1, 8 * 30 + 2, 8 * 30 + 2)
    finally:
        close_all()


def test_grid_latents_follow_a_runs_latent_distribution(tmp_path) -> None:
    cfg = Config(**{**SMALL, "model": "mlp", "g_layers": 1, "d_layers": 1, "latent_dist": "uniform"})
    tr = build_trainer(cfg, squares(28))
    gen = load_generator(save_run(tr, tmp_path / "uniform"))
    z = explore.grid_latents(gen, 64, 3)
    assert float(z.abs().max()) <= 1.0 and torch.equal(z, gen.latents(64, 3))
    normal = load_generator(_run_path("run-mlp"))
    assert float(explore.grid_latents(normal, 64, 3).abs().max()) > 1.0


@pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")
def test_inverting_a_real_image_of_the_runs_data_set() -> None:
    at = explorer("run-cgan")  # trained "on mnist": its real images are the MNIST split
    at.radio(key="invert.how").set_value("A real image of the data set").run()
    at.number_input(key="invert.index").set_value(7).run()
    at.slider(key="invert.steps").set_value(10).run()
    at.slider(key="invert.starts").set_value(1).run()
    at.button(key="invert.run").click().run()
    assert not at.exception and not at.error
    original, image, distance, steps = at.session_state["invert.result"]
    assert steps == 10 and 0.0 <= distance <= 1.0
    with Image.open(io.BytesIO(original)) as im:
        assert im.size == (140, 140)
