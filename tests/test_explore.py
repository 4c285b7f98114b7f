"""Latent-space tools: interpolation paths, truncation, GANSpace directions, cached batched
rendering, nearest real image, uploads and the bundled models."""
from __future__ import annotations

import json
import math

import pytest
import torch

from ganlab import explore
from ganlab.errors import CheckpointError, ConfigError
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import PretrainedGenerator, save_generator


def tiny_generator(seed: int = 0, latent: int = 16) -> PretrainedGenerator:
    cfg = PGANConfig(latent_dim=latent, depth_scale0=8, depth_other_scales=(8, 4), channels=1)
    return PretrainedGenerator(Generator(cfg, torch.Generator().manual_seed(seed)), "tiny", None)


def test_slerp_keeps_the_norm_where_lerp_dips() -> None:
    a, b = explore.random_latents(512, 2, seed=0)
    t = torch.linspace(0, 1, 11)
    s, line = explore.slerp(a, b, t), explore.lerp(a, b, t)
    assert torch.allclose(s[0], a, atol=1e-5) and torch.allclose(s[-1], b, atol=1e-4)
    assert torch.allclose(line[5], (a + b) / 2)
    # Independent Gaussian latents are nearly orthogonal: the straight midpoint shrinks by ~1/sqrt(2).
    assert float(line[5].norm() / a.norm()) == pytest.approx(1 / math.sqrt(2), abs=0.05)
    assert float(s[5].norm()) == pytest.approx(float((a.norm() + b.norm()) / 2), rel=1e-4)
    # Constant angular speed along the great circle.
    cos = torch.nn.functional.cosine_similarity(s[:-1], s[1:])
    assert torch.allclose(cos, cos[0].expand_as(cos), atol=1e-5)


def test_keyframe_path_passes_through_every_key() -> None:
    keys = explore.random_latents(8, 3, seed=1)
    path = explore.keyframe_path(keys, 9, "lerp")
    assert path.shape == (9, 8)
    assert torch.allclose(path[0], keys[0]) and torch.allclose(path[4], keys[1]) and torch.allclose(path[8], keys[2])
    assert torch.allclose(path[2], (keys[0] + keys[1]) / 2)
    assert torch.allclose(explore.keyframe_path(keys, 9, "slerp")[4], keys[1], atol=1e-5)
    with pytest.raises(ConfigError, match="at least 2 keyframe"):
        explore.keyframe_path(keys[:1], 5)
    with pytest.raises(ConfigError, match="unknown interpolation"):
        explore.keyframe_path(keys, 5, "cubic")


def test_truncation_clips_coordinates_and_edit_latent_moves_along_directions() -> None:
    z = torch.tensor([-3.0, 0.5, 2.5])
    assert torch.equal(explore.truncate(z, 1.0), torch.tensor([-1.0, 0.5, 1.0]))
    assert explore.truncate(z, None) is z
    with pytest.raises(ConfigError):
        explore.truncate(z, 0.0)
    dirs = explore.Directions(vectors=torch.eye(3)[:2], sigma=torch.tensor([2.0, 0.5]),
                              explained=torch.tensor([0.6, 0.3]))
    assert torch.allclose(explore.edit_latent(z, dirs, [1.0, -2.0]), torch.tensor([-1.0, -0.5, 2.5]))
    assert torch.allclose(explore.edit_latent(z, dirs, [1.0], threshold=2.0), torch.tensor([-1.0, 0.5, 2.0]))


def test_ganspace_directions_move_their_own_principal_component() -> None:
    gen = tiny_generator()
    dirs = explore.ganspace(gen, k=4, n=512, seed=0)
    assert dirs.vectors.shape == (4, 16) and dirs.sigma.shape == (4,)
    assert bool((dirs.explained[:-1] >= dirs.explained[1:]).all()) and float(dirs.explained.sum()) < 1
    assert explore.ganspace(gen, k=4, n=512, seed=0) is dirs  # cached per generator
    # Moving z along direction 0 by one sigma changes the early features along
    # component 0 more than along the others (on average over latents).
    z = explore.random_latents(16, 64, seed=5)
    feats = explore.early_features(gen, z)
    moved = explore.early_features(gen, z + dirs.sigma[0] * dirs.vectors[0])
    z_all = explore.random_latents(16, 512, seed=0).double()
    f_all = explore.early_features(gen, z_all)
    comps, _ = explore._top_components(f_all - f_all.mean(0), 4)
    delta = ((moved - feats) @ comps.T).abs().mean(0)
    assert int(delta.argmax()) == 0


def test_image_cache_renders_only_new_latents_in_one_batch() -> None:
    gen = tiny_generator()
    calls = []
    forward = gen.module.forward

    def counting(z):
        calls.append(z.shape[0])
        return forward(z)

    gen.module.forward = counting
    cache = explore.ImageCache(gen, capacity=40, batch_size=64)
    z = explore.random_latents(16, 30, seed=0)
    first = cache.render(z)
    assert calls == [30] and first.shape == (30, 1, 16, 16)
    again = cache.render(torch.cat([z[:5], explore.random_latents(16, 2, seed=9)]))
    assert calls == [30, 2] and torch.equal(again[:5], first[:5])
    assert torch.allclose(first, gen(z), atol=1e-6)
    assert len(cache) == 32
    cache.render(explore.random_latents(16, 20, seed=3))
    assert len(cache) == 40  # least recently used dropped


def test_interpolation_frames_are_one_forward() -> None:
    gen = tiny_generator()
    calls = []
    gen.module.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    keys = explore.random_latents(16, 3, seed=2)
    frames = explore.interpolation_frames(gen, keys, 30, "slerp")
    assert frames.shape == (30, 1, 16, 16) and calls == [30]
    assert torch.allclose(frames[0], gen(keys[:1])[0], atol=1e-4)
    assert torch.allclose(frames[-1], gen(keys[2:])[0], atol=1e-4)


def test_nearest_real_finds_the_copy_and_resizes() -> None:
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (300, 1, 8, 8), generator=gen, dtype=torch.uint8)
    query = data[[17, 250]].float() * (2 / 255) - 1
    idx, dist = explore.NearestIndex(data, chunk=64).query(query)
    assert idx.tolist() == [17, 250] and float(dist.max()) < 1e-2
    big = torch.nn.functional.interpolate(query, scale_factor=2, mode="nearest")
    assert explore.nearest_real(big, data)[0].tolist() == [17, 250]
    with pytest.raises(ConfigError, match="channel"):
        explore.nearest_real(torch.zeros(1, 3, 8, 8), data)


def test_display_images_upscale_by_whole_pixels() -> None:
    x = torch.tensor([[[[-1.0, 1.0], [1.0, -1.0]]]])  # (1, 1, 2, 2)
    out = explore.display_images(x, min_side=3)
    assert out.dtype == torch.uint8 and out.shape == (1, 1, 4, 4)
    assert out[0, 0, :2, :2].eq(0).all() and out[0, 0, :2, 2:].eq(255).all() and out[0, 0, 2:, :2].eq(255).all()


def test_upload_loads_our_pair_and_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = save_generator(tiny_generator(seed=4).module, tmp_path / "mine", name="mine")
    files = [(path.name, path.read_bytes()), ("mine.json", path.with_suffix(".json").read_bytes())]
    gen = explore.load_upload(files)
    z = explore.random_latents(16, 2, seed=0)
    assert gen.name == "mine" and torch.allclose(gen(z), tiny_generator(seed=4)(z), atol=1e-6)
    assert list((tmp_path / "tmp").iterdir()) == []
    with pytest.raises(ConfigError, match="over the 0 MB limit"):
        explore.load_upload(files, max_bytes=10)
    with pytest.raises(ConfigError, match="cannot read"):
        explore.load_upload([("evil.pkl", b"x")])
    with pytest.raises(CheckpointError, match="missing"):
        explore.load_upload(files[:1])
    with pytest.raises(CheckpointError):
        explore.load_upload([("broken.pth", b"not a zip")])


@pytest.mark.parametrize("name", ["mnist-32", "fashion-32"])
def test_bundled_models_load_by_name_and_are_small(name) -> None:
    path = explore.bundled_models().get(name)
    if path is None:
        pytest.fail(f"assets/pgan/{name}.safetensors is missing; run scripts/train_pgan_assets.py")
    assert path.stat().st_size < 20 << 20
    gen = explore.load_bundled(name)
    assert (gen.resolution, gen.channels) == (32, 1)
    out = gen(gen.latents(4, seed=0))
    assert out.shape == (4, 1, 32, 32) and bool(torch.isfinite(out).all())
    assert float(out.std()) > 0.1  # not a constant picture
    training = json.loads(path.with_name(f"{name}.training.json").read_text())
    assert training["resolution"] == 32 and training["steps"] > 0


def test_read_picture_scales_a_16_bit_picture_instead_of_clipping_it():
    import io

    import numpy as np
    from PIL import Image

    raw = np.array([[0, 30000], [65535, 257]], dtype=np.uint16)
    buf = io.BytesIO()
    Image.fromarray(raw).save(buf, format="PNG")
    from ganlab.explore import read_picture

    pic = read_picture(buf.getvalue())
    assert pic.dtype == torch.uint8 and pic.shape == (1, 2, 2)
    assert pic[0].tolist() == [[0, 117], [255, 1]]  # x / 257, rounded: 30000 -> 117 (was 255)
