"""What a latent direction changes, in words (`ganlab.describe`), on hand-made generators whose
answer is known: a ring whose stroke thickness is one latent coordinate and whose slant is
the other, and a picture that turns from a drawn 0 into a drawn 1, judged by the MNIST
classifier. Also the image statistics on pictures with known values, the first sample, and
the latent explorer showing the words beside its sliders."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlab import describe, explore, pretrained
from ganlab.classifier import has_classifier
from ganlab.errors import ConfigError
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import save_generator

needs_mnist_classifier = pytest.mark.skipif(not has_classifier("mnist"), reason="no MNIST classifier asset")
AXES = explore.Directions(vectors=torch.eye(2), sigma=torch.ones(2), explained=torch.tensor([0.5, 0.3]))
SIDE = 28


def _grid() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(float(SIDE))[None, :, None], torch.arange(float(SIDE))[None, None, :]


class Ring:
    """z (N, 2) -> a white ring on black (N, 1, 28, 28) in [-1, 1]: z[0] sets the stroke's
    thickness (1.5 + 0.5 z0 px), z[1] the slant (a shear of 0.25 z1: top to the right)."""

    latent_dim, resolution, channels = 2, SIDE, 1

    def __call__(self, z: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        y, x = _grid()
        c = (SIDE - 1) / 2
        thick = (1.5 + 0.5 * z[:, 0]).clamp_min(0.3)[:, None, None]
        shear = (0.25 * z[:, 1])[:, None, None]
        r = ((x - c - shear * (c - y)) ** 2 + ((y - c) * 0.8) ** 2).sqrt()
        return ((thick - (r - 8).abs()).clamp(0, 1) * 2 - 1)[:, None]


class ZeroToOne:
    """z (N, 2) -> a drawn 0 (a ring) for z0 << 0 blending into a drawn 1 (a bar) for z0 >> 0;
    z1 changes nothing."""

    latent_dim, resolution, channels = 2, SIDE, 1

    def __call__(self, z: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        ring = Ring()(torch.zeros_like(z))
        y, x = _grid()
        bar = ((2.0 - (x - (SIDE - 1) / 2).abs()).clamp(0, 1) * ((y > 4) & (y < 23)).float()) * 2 - 1
        a = torch.sigmoid(4 * z[:, 0])[:, None, None, None]
        return a * bar[:, None] + (1 - a) * ring


def test_thickness_and_slant_directions_are_named() -> None:
    thick, slant = describe.describe_directions(Ring(), AXES, disk=False)
    assert thick.text.startswith("thicker strokes")
    assert thick.stats["ink"] > 3 and abs(thick.stats["slant"]) < 0.1 and thick.classes == ()
    assert slant.text == "leaning right"
    assert slant.stats["slant"] > 3 and abs(slant.stats["ink"]) < 0.1
    # The opposite direction says the opposite.
    flipped = explore.Directions(vectors=-torch.eye(2), sigma=torch.ones(2), explained=AXES.explained)
    thin, left = describe.describe_directions(Ring(), flipped, disk=False)
    assert thin.text.startswith("thinner strokes") and left.text == "leaning left"


@needs_mnist_classifier
def test_the_mnist_classifier_says_more_1s_fewer_0s() -> None:
    to_one, nothing = describe.describe_directions(ZeroToOne(), AXES, data="mnist", disk=False)
    assert to_one.text.startswith("more 1s, fewer 0s")
    assert to_one.classes[1] > 0.9 and to_one.classes[0] < -0.9
    assert max(abs(c) for i, c in enumerate(to_one.classes) if i not in (0, 1)) < 0.05
    assert nothing.text == "little visible change" and max(abs(c) for c in nothing.classes) < 1e-6


def test_image_statistics_of_known_pictures() -> None:
    line = torch.full((2, 1, 20, 20), -1.0)
    line[0, 0, 5:15, 10] = 1.0                     # a vertical stroke: 10 px of 400
    line[1, 0, torch.arange(20), torch.arange(20)] = 1.0  # top-left to bottom-right: leans left
    s = describe.image_stats(line)
    assert s["ink"][0].item() == pytest.approx(10 / 400)
    assert s["width"][0].item() == pytest.approx(0.0, abs=1e-9)
    assert s["height"][0].item() == pytest.approx(math.sqrt((10 ** 2 - 1) / 12) / 20)
    assert s["slant"][0].item() == pytest.approx(0.0, abs=1e-9) and s["slant"][1].item() == pytest.approx(-1.0)
    top = torch.full((1, 3, 10, 10), -1.0)
    top[:, 0, :5] = 1.0                            # red top half
    t = describe.image_stats(top)
    assert t["top"].item() == pytest.approx(1 / 3) and t["left"].item() == pytest.approx(0.0)
    assert t["warmth"].item() == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="image statistics need"):
        describe.image_stats(torch.zeros(2, 2, 4, 4))


def test_phrases_and_plurals() -> None:
    assert describe.class_phrase([-0.4, 0.3, 0.05], ["0", "1", "2"]) == "more 1s, fewer 0s"
    assert describe.class_phrase([0.02, -0.05], ["0", "1"]) == ""
    assert describe.plural("Dress") == "Dresses" and describe.plural("Trouser") == "Trousers"
    assert describe.stats_phrase({"ink": -2.0, "width": 0.7, "slant": 0.1}) == "thinner strokes, wider"
    assert describe.stats_phrase({"ink": 0.2}) == ""


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="at least 2 samples"):
        describe.describe_directions(Ring(), AXES, n=1, disk=False)
    with pytest.raises(ConfigError, match="must be positive"):
        describe.describe_directions(Ring(), AXES, amount=0.0, disk=False)
    with pytest.raises(ConfigError, match="a direction for 2 latent dimensions"):
        describe.describe_direction(Ring(), torch.zeros(3))


@needs_mnist_classifier
def test_first_sample_is_the_clearest_or_the_most_typical() -> None:
    z = torch.tensor([[0.2, 0.0], [3.0, 0.0], [-0.1, 0.0]])  # a blend, a clean 1, a blend
    assert describe.clearest_sample(z, ZeroToOne()(z), "mnist") == 1
    # Without a classifier: the latent nearest the centre of the distribution.
    assert describe.clearest_sample(z, None, None) == 2
    with pytest.raises(ConfigError, match="at least one latent"):
        describe.clearest_sample(torch.zeros(0, 2))


def test_descriptions_are_kept_on_disk_per_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(describe, "directions_dir", lambda: tmp_path)
    gen = pretrained.PretrainedGenerator(Generator(PGANConfig(latent_dim=4, depth_scale0=4, channels=1),
                                                   torch.Generator().manual_seed(0)), "tiny", None)
    monkeypatch.setattr(describe, "model_key", lambda g: "tiny-key")
    dirs = explore.ganspace(gen, k=2, n=64, disk=False)
    first = describe.describe_directions(gen, dirs, n=8)
    [saved] = tmp_path.glob("tiny-key-effects-*.json")
    doc = json.loads(saved.read_text())
    assert [e["text"] for e in doc["effects"]] == [e.text for e in first]
    doc["effects"][0]["text"] = "read from disk"
    saved.write_text(json.dumps(doc))
    # Another load of the same weights reads the file instead of rendering again.
    again = describe.describe_directions(pretrained.PretrainedGenerator(gen.module, "tiny", None), dirs, n=8)
    assert [e.text for e in again] == ["read from disk", first[1].text]
    saved.write_text("{damaged")  # a damaged file is recomputed, never an error
    third = describe.describe_directions(pretrained.PretrainedGenerator(gen.module, "tiny", None), dirs, n=8)
    assert [e.text for e in third] == [e.text for e in first]


@needs_mnist_classifier
def test_the_explorer_opens_with_a_sentence_and_labelled_sliders(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "pgan"
    cfg = PGANConfig(latent_dim=8, depth_scale0=8, depth_other_scales=(8, 4, 4), channels=1)
    save_generator(Generator(cfg, torch.Generator().manual_seed(0)), folder / "tiny-32", name="tiny-32")
    monkeypatch.setattr(explore, "BUNDLED_DIR", folder)
    monkeypatch.setattr(pretrained, "BUNDLED_DIR", folder)
    monkeypatch.setattr(explore, "BUNDLED_DATA", {"tiny-32": "mnist"})
    monkeypatch.setattr(explore, "directions_dir", lambda: folder / "directions")
    monkeypatch.setattr(describe, "directions_dir", lambda: folder / "directions")
    page = str(Path(__file__).resolve().parents[1] / "pages" / "4_Latent_explorer.py")
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception and not at.error
    assert any(m.value.startswith("A generator turns every point of its latent space into a picture")
               for m in at.markdown)
    gen = explore.load_bundled("tiny-32")
    effects = describe.describe_directions(gen, explore.ganspace(gen, k=6), data="mnist")
    labels = [at.slider(key=f"dir{k}").label for k in range(6)]
    assert [label.split(": to the right, ", 1)[1] for label in labels] == [e.text for e in effects]
    assert any("compare samples at -2 and +2" in c.value for c in at.caption)


def test_a_large_model_describes_its_sliders_when_asked(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "pgan"
    cfg = PGANConfig(latent_dim=8, depth_scale0=4, depth_other_scales=(4, 4, 4, 4, 2), channels=1)  # 128 px
    save_generator(Generator(cfg, torch.Generator().manual_seed(0)), folder / "big-128", name="big-128")
    for module in (explore, pretrained):
        monkeypatch.setattr(module, "BUNDLED_DIR", folder)
    monkeypatch.setattr(explore, "BUNDLED_DATA", {})
    monkeypatch.setattr(explore, "directions_dir", lambda: folder / "directions")
    monkeypatch.setattr(describe, "directions_dir", lambda: folder / "directions")
    page = str(Path(__file__).resolve().parents[1] / "pages" / "4_Latent_explorer.py")
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception and not at.error
    assert ": to the right, " not in at.slider(key="dir0").label  # 128 px: not described unasked
    at.button(key="describe").click().run()
    assert not at.exception and not at.error
    gen = explore.load_bundled("big-128")
    effects = describe.describe_directions(gen, explore.ganspace(gen, k=6), n=8)
    assert [at.slider(key=f"dir{k}").label.split(": to the right, ", 1)[1] for k in range(6)] == \
        [e.text for e in effects]
    assert not [b for b in at.button if b.key == "describe"]
