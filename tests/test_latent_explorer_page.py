"""The latent explorer page (AppTest): bundled model, sliders, samples, interpolation, upload."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import describe, explore, pretrained
from ganlab.data.images import available_splits
from ganlab.errors import DataError
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import save_generator

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Latent_explorer.py")
LATENT = 8


def tiny_generator(seed: int) -> Generator:
    cfg = PGANConfig(latent_dim=LATENT, depth_scale0=8, depth_other_scales=(8, 4, 4), channels=1)
    return Generator(cfg, torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def bundled_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pgan")
    save_generator(tiny_generator(0), folder / "tiny-32", name="tiny-32")
    return folder


@pytest.fixture
def app(bundled_dir, monkeypatch) -> AppTest:
    # The page lists the bundled models of explore.BUNDLED_DIR; a tiny 32 px one trained
    # on nothing stands in, "trained" on MNIST so that the nearest-image view appears.
    monkeypatch.setattr(explore, "BUNDLED_DIR", bundled_dir)
    monkeypatch.setattr(pretrained, "BUNDLED_DIR", bundled_dir)
    monkeypatch.setattr(explore, "BUNDLED_DATA", {"tiny-32": "mnist"})
    monkeypatch.setattr(explore, "directions_dir", lambda: bundled_dir / "directions")
    return AppTest.from_file(PAGE, default_timeout=60).run()


def current(at: AppTest) -> torch.Tensor:
    return torch.tensor(at.session_state["z"])


def test_bundled_model_shows_samples_and_the_current_latent(app) -> None:
    assert not app.exception and not app.error
    assert "tiny-32: 32x32, 1 channel(s), latent 8" in [c.value for c in app.sidebar.caption]
    grid_z = explore.random_latents(LATENT, 8, seed=0)
    # The page starts from the grid's clearest sample (the MNIST classifier's surest picture).
    first = describe.clearest_sample(grid_z, explore.render(explore.load_bundled("tiny-32"), grid_z), "mnist")
    assert torch.allclose(current(app), grid_z[first])
    assert any(c.value.startswith("rendered in") for c in app.caption)
    app.button(key="use3").click().run()
    assert torch.allclose(current(app), grid_z[3])
    app.button(key="new_sample").click().run()
    assert app.number_input(key="seed").value == 1
    grid_z = explore.random_latents(LATENT, 8, seed=1)
    first = describe.clearest_sample(grid_z, explore.render(explore.load_bundled("tiny-32"), grid_z), "mnist")
    assert torch.allclose(current(app), grid_z[first])


def test_sliders_move_along_directions_truncate_and_set_coordinates(app) -> None:
    z0 = current(app)
    app.slider(key="dir1").set_value(2.0).run()
    from ganlab.pretrained import load_generator

    dirs = explore.ganspace(load_generator(explore.BUNDLED_DIR / "tiny-32.safetensors"), k=6)
    expected = explore.edit_latent(z0, dirs, [0.0, 2.0, 0, 0, 0, 0])
    assert torch.allclose(current(app), expected, atol=1e-6)
    app.select_slider(key="truncation").set_value(1.0).run()
    assert float(current(app).abs().max()) <= 1.0
    app.slider(key="dir1").set_value(0.0).run()
    app.select_slider(key="truncation").set_value("off").run()
    before = current(app)
    app.toggle(key="coords").set_value(True).run()
    assert app.slider(key="coord1").value == pytest.approx(float(before[1]), abs=0.005)
    app.slider(key="coord0").set_value(3.5).run()
    after = current(app)
    assert float(after[0]) == pytest.approx(3.5) and torch.equal(after[1:], before[1:])


@pytest.mark.skipif(not available_splits("mnist"), reason="no MNIST split on this machine")
def test_nearest_training_image(app) -> None:
    app.checkbox(key="nearest").check().run()
    assert not app.exception
    assert any("nearest of the" in c.value and "training images" in c.value for c in app.caption)


def test_nearest_training_image_without_the_data_says_so(app, monkeypatch, tmp_path) -> None:
    import ganlab.data.images as images

    def offline(*args, **kwargs):
        raise DataError("no network")

    monkeypatch.setattr(images, "_search_dirs", lambda spec: [])
    monkeypatch.setattr(images, "download", offline)
    # Another set than the other tests use: the page caches a loaded index.
    monkeypatch.setattr(explore, "BUNDLED_DATA", {"tiny-32": "fashion_mnist"})
    app.checkbox(key="nearest").check().run()
    assert not app.exception
    assert any("not on this machine" in e.value for e in app.error)


def test_interpolation_between_keyframes_and_gif(app) -> None:
    app.button(key="add_key").click().run()
    assert any("Add 2 to 4 keyframes" in i.value for i in app.info)
    app.button(key="new_sample").click().run()
    app.button(key="add_key").click().run()
    assert len(app.session_state["keys"]) == 2
    app.slider(key="frames").set_value(12).run()
    app.slider(key="frame").set_value(11).run()
    app.radio(key="mode").set_value("lerp").run()
    app.select_slider(key="export.side").set_value(64).run()
    app.button(key="export.make_gif").click().run()
    assert not app.exception
    gif = app.session_state["export.gif"]
    assert gif[:6] == b"GIF89a"
    from PIL import Image
    import io
    with Image.open(io.BytesIO(gif)) as im:
        assert im.size == (64, 64) and im.n_frames == 12
    # A short label: "Download the GIF (12 frames)" was cut at 1280 px; the frames are said below.
    assert [b.label for b in app.get("download_button") if b.key.startswith("export.")] == ["Download GIF"]
    assert "GIF: 12 frames of 64 x 64 px at 24 frames per second." in [c.value for c in app.caption]
    app.button(key="export.make_mp4").click().run()
    assert [b.label for b in app.get("download_button") if b.key.startswith("export.")] == [
        "Download GIF", "Download MP4"]
    assert "GIF and MP4: 12 frames of 64 x 64 px at 24 frames per second." in [c.value for c in app.caption]
    app.button(key="clear_keys").click().run()
    assert app.session_state["keys"] == [] and "export.gif" not in app.session_state


def test_upload_of_a_generator_pair_and_of_a_bad_file(app, tmp_path) -> None:
    path = save_generator(tiny_generator(7), tmp_path / "mine", name="mine")
    app.radio(key="source").set_value("Upload").run()
    assert any("Upload a checkpoint" in i.value for i in app.info)
    app.file_uploader(key="upload").set_value([
        ("mine.safetensors", path.read_bytes(), "application/octet-stream"),
        ("mine.json", path.with_suffix(".json").read_bytes(), "application/json")]).run()
    assert not app.exception and not app.error
    assert any(c.value.startswith("mine: 32x32") for c in app.sidebar.caption)
    app.file_uploader(key="upload").set_value(("broken.pth", b"not a checkpoint", "application/octet-stream")).run()
    assert not app.exception and app.error


def test_a_generator_uploaded_without_its_json_is_one_sentence_then_the_next(app, tmp_path) -> None:
    path = save_generator(tiny_generator(7), tmp_path / "mine", name="mine")
    app.radio(key="source").set_value("Upload").run()
    app.file_uploader(key="upload").set_value(("mine.safetensors", path.read_bytes(), "application/octet-stream"))
    app.run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    # The engine's sentence ends before the page adds its own (it read "...together The explorer ...").
    assert error.startswith("mine.json is missing; ") and "upload). The explorer still shows" in error, error
    assert tmp_path.name not in error and "ganlab-upload-" not in error  # not the server's temporary copy
    assert error.endswith("meanwhile.")


def walk(node) -> list:
    """The page's elements in the order they are drawn (depth first)."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [leaf for key in sorted(children) for leaf in walk(children[key])]


def test_projector_mode_puts_the_current_sample_before_the_strip(app) -> None:
    # Off: the strip of samples leads, then the directions and the current sample.
    order = [getattr(e, "key", None) or getattr(e, "value", None) for e in walk(app.main)]
    assert order.index("use0") < order.index("Current sample")
    app.session_state["projector.on"] = True
    app.run()
    assert not app.exception and not app.error
    order = [getattr(e, "key", None) or getattr(e, "value", None) for e in walk(app.main)]
    # On a projector the current sample and its sliders come first, above the fold.
    assert order.index("Principal directions (GANSpace)") < order.index("Current sample") < order.index("use0")
    assert ("A generator turns every point of its latent space into a picture: move through that space."
            in [m.value for m in app.markdown])
    heading = next(h for h in app.subheader if h.value == "Principal directions (GANSpace)")
    assert "Härkönen et al. 2020" in heading.help
    assert not any("Härkönen" in c.value for c in app.caption)  # the explanation moved behind the "?"
