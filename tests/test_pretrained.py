"""Loading pytorch_GAN_zoo checkpoints safely, our own generator format, published names."""
from __future__ import annotations

import json
import math
import os
import pickle
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlab.errors import CheckpointError, ConfigError
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import PretrainedGenerator, list_published, load_generator, save_generator
from ganlab.pretrained.zoo import build_discriminator, download_published, read_zoo_checkpoint
from tests.helpers import fake_download_module

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "pgan_zoo"
FIXTURE = FIXTURES / "pgan_zoo_random_32px.pth"
EXPECTED = FIXTURES / "pgan_zoo_random_32px.expected.pt"
needs_fixture = pytest.mark.skipif(
    not (FIXTURE.is_file() and EXPECTED.is_file()),
    reason=f"zoo fixture not found in {FIXTURES} (clone the shared/ folder beside the repo)",
)


# -- writing zoo-format files (test only) -------------------------------------------------

@contextmanager
def fake_zoo_config_class():
    """A class pickled as `models.utils.config.BaseConfig`, as the zoo writes its config."""
    names = ["models", "models.utils", "models.utils.config"]
    saved = {n: sys.modules.get(n) for n in names}
    mods = {n: types.ModuleType(n) for n in names}

    class BaseConfig:
        pass

    BaseConfig.__module__, BaseConfig.__qualname__ = "models.utils.config", "BaseConfig"
    mods["models.utils.config"].BaseConfig = BaseConfig
    sys.modules.update(mods)
    try:
        yield BaseConfig
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def zoo_config(**attrs):
    """Pickle-ready zoo config object (use inside fake_zoo_config_class)."""
    cfg = sys.modules["models.utils.config"].BaseConfig()
    cfg.__dict__.update(attrs)
    return cfg


def random_zoo_g_state(latent, d0, depths, channels, seed, module=True):
    """Zoo GNet state dict (zoo key names) with random weights AND biases."""
    gen = torch.Generator().manual_seed(seed)
    m = ".module" if module else ""
    shapes = {"formatLayer": (16 * d0, latent), "groupScale0.0": (d0, d0, 3, 3), "toRGBLayers.0": (channels, d0, 1, 1)}
    prev = d0
    for i, d in enumerate(depths):
        shapes[f"scaleLayers.{i}.0"] = (d, prev, 3, 3)
        shapes[f"scaleLayers.{i}.1"] = (d, d, 3, 3)
        shapes[f"toRGBLayers.{i + 1}"] = (channels, d, 1, 1)
        prev = d
    state = {}
    for name, shape in shapes.items():
        state[f"{name}{m}.weight"] = torch.randn(shape, generator=gen)
        state[f"{name}{m}.bias"] = 0.3 * torch.randn(shape[0], generator=gen)
    return state


def random_zoo_d_state(d0, depths, channels, mbstd, seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = {"fromRGBLayers.0": (d0, channels, 1, 1), "groupScaleZero.0": (d0, d0 + int(mbstd), 3, 3),
              "groupScaleZero.1": (d0, 16 * d0), "decisionLayer": (1, d0)}
    prev = d0
    for i, d in enumerate(depths):
        shapes[f"scaleLayers.{i}.0"] = (d, d, 3, 3)
        shapes[f"scaleLayers.{i}.1"] = (prev, d, 3, 3)
        shapes[f"fromRGBLayers.{i + 1}"] = (d, channels, 1, 1)
        prev = d
    return {f"{k}.module.{p}": torch.randn(s if p == "weight" else s[:1], generator=gen)
            for k, s in shapes.items() for p in ("weight", "bias")}


def zoo_reference_forward(state, depths, alpha, leak, tanh, z, module=True):
    """The zoo's GNet.forward, written out on its state dict (independent of ganlab.models.pgan)."""
    m = "module." if module else ""

    def eq(x, name, pad=None):
        w, b = state[f"{name}.{m}weight"], state[f"{name}.{m}bias"]
        out = F.linear(x, w, b) if pad is None else F.conv2d(x, w, b, padding=pad)
        return out * math.sqrt(2.0 / w[0].numel())

    def norm(x):
        return x * ((x ** 2).mean(dim=1, keepdim=True) + 1e-8).rsqrt()

    def up(x):
        return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)

    def act(x):
        return F.leaky_relu(x, leak)

    n = len(depths)
    x = norm(act(eq(norm(z), "formatLayer")).view(z.shape[0], -1, 4, 4))
    x = norm(act(eq(x, "groupScale0.0", 1)))
    y = None
    if alpha > 0 and n == 1:
        y = up(eq(x, "toRGBLayers.0", 0))
    for s in range(n):
        x = up(x)
        for j in range(2):
            x = norm(act(eq(x, f"scaleLayers.{s}.{j}", 1)))
        if alpha > 0 and s == n - 2:
            y = up(eq(x, f"toRGBLayers.{n - 1}", 0))
    x = eq(x, f"toRGBLayers.{n}", 0)
    if alpha > 0:
        x = alpha * y + (1.0 - alpha) * x
    return torch.tanh(x) if tanh else x


# Second configuration: grey, tanh (DCGAN loss), mid fade-in, other depths and slope.
SECOND = dict(latent=12, d0=16, depths=[12, 8], channels=1, alpha=0.5, leak=0.1)


def write_second_zoo_file(path: Path, legacy: bool = False, module: bool = True) -> dict:
    s = SECOND
    avg = random_zoo_g_state(s["latent"], s["d0"], s["depths"], s["channels"], seed=1, module=module)
    net = random_zoo_g_state(s["latent"], s["d0"], s["depths"], s["channels"], seed=2, module=module)
    with fake_zoo_config_class():
        cfg = zoo_config(depthScale0=s["d0"], depthOtherScales=list(s["depths"]), dimOutput=s["channels"],
                         latentVectorDim=s["latent"], noiseVectorDim=s["latent"], categoryVectorDim=0,
                         leakyReluLeak=s["leak"], perChannelNormalization=True, equalizedlR=True,
                         alpha=s["alpha"], lossCriterion="DCGAN", miniBatchStdDev=False, attribKeysOrder=None)
        obj = {"config": cfg, "netG": net, "avgG": avg,
               "netD": random_zoo_d_state(s["d0"], s["depths"], s["channels"], False, seed=3)}
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return {"avgG": avg, "netG": net}


# -- the reference fixture ------------------------------------------------------------------

@needs_fixture
@pytest.mark.parametrize("average, key", [(True, "avgG_out"), (False, "netG_out")])
def test_fixture_outputs_match_the_reference_implementation(average, key):
    expected = torch.load(EXPECTED, weights_only=True)
    g = load_generator(FIXTURE, average=average)
    assert (g.latent_dim, g.resolution, g.channels, g.name) == (64, 32, 3, "pgan_zoo_random_32px")
    assert g.config.depth_other_scales == (64, 32, 16) and g.config.output == "linear"
    out = g(expected["z"], batch_size=3)  # batches of 3 and 1
    assert out.shape == (4, 3, 32, 32) and out.dtype == torch.float32
    assert (out - expected[key]).abs().max() <= 1e-4
    assert "models.utils.config" not in sys.modules  # nothing of the reference code was imported


@needs_fixture
def test_fixture_discriminator_loads_with_its_weights():
    ckpt = read_zoo_checkpoint(FIXTURE)
    d = build_discriminator(ckpt)
    assert d.minibatch_std and d.resolution == 32
    assert torch.equal(d.decision.weight, ckpt.net_d["decisionLayer.module.weight"])
    assert torch.equal(d.blocks[2].conv2.weight, ckpt.net_d["scaleLayers.2.1.module.weight"])
    assert torch.isfinite(d(torch.randn(4, 3, 32, 32))).all()


# -- a second configuration, written here -----------------------------------------------------

@pytest.mark.parametrize("legacy, module", [(False, True), (True, True), (False, False)],
                         ids=["zip", "legacy-format", "keys-without-module"])
def test_second_config_matches_an_independent_forward(tmp_path, legacy, module):
    path = tmp_path / "grey_tanh.pth"
    states = write_second_zoo_file(path, legacy=legacy, module=module)
    z = torch.randn(5, SECOND["latent"], generator=torch.Generator().manual_seed(9))
    for average, key in ((True, "avgG"), (False, "netG")):
        g = load_generator(path, average=average)
        assert (g.latent_dim, g.resolution, g.channels) == (12, 16, 1)
        assert g.info["loss"] == "DCGAN" and g.config.output == "tanh" and g.module.alpha == 0.5
        ref = zoo_reference_forward(states[key], SECOND["depths"], 0.5, 0.1, True, z, module=module)
        out = g(z)
        assert (out - ref).abs().max() <= 1e-5
        assert out.abs().max() <= 1.0
    assert not torch.allclose(load_generator(path)(z), load_generator(path, average=False)(z))


def test_second_config_alpha_blends_before_tanh(tmp_path):
    path = tmp_path / "grey_tanh.pth"
    write_second_zoo_file(path)
    g = load_generator(path).module
    z = torch.randn(3, 12, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        mixed = g(z)
        g.output = "linear"  # look at the pre-activation images
        pre = {}
        for a in (0.0, 0.5, 1.0):
            g.alpha = a
            pre[a] = g(z)
    torch.testing.assert_close(mixed, torch.tanh(pre[0.5]))
    torch.testing.assert_close(pre[0.5], 0.5 * pre[0.0] + 0.5 * pre[1.0], atol=1e-5, rtol=1e-5)
    low = pre[1.0]  # only the upsampled 8x8 path: constant on 2x2 blocks
    assert torch.equal(low[..., 0::2, 0::2], low[..., 1::2, 1::2])


def test_second_config_discriminator_without_minibatch_std(tmp_path):
    path = tmp_path / "grey_tanh.pth"
    write_second_zoo_file(path)
    d = build_discriminator(read_zoo_checkpoint(path))
    assert not d.minibatch_std and d.conv0.weight.shape == (16, 16, 3, 3)
    assert d(torch.randn(2, 1, 16, 16)).shape == (2, 1)


# -- refusing unsafe or broken files ----------------------------------------------------------

def plant_marker(path):
    """Stands for any code an attacker would run: creates a file."""
    Path(path).write_text("pwned")


class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class RunsPython:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (plant_marker, (str(self.marker),))


def _write_payload(kind: str, path: Path, marker: Path) -> None:
    if kind == "zip-os-system":
        torch.save({"config": RunsShell(marker), "netG": {}}, path)
    elif kind == "zip-function-in-config":
        with fake_zoo_config_class():
            torch.save({"config": zoo_config(depthScale0=4, hook=RunsPython(marker)), "netG": {}}, path)
    elif kind == "legacy-os-system":
        torch.save({"netG": RunsShell(marker)}, path, _use_new_zipfile_serialization=False)
    elif kind == "plain-pickle-protocol2":
        path.write_bytes(pickle.dumps({"config": RunsShell(marker)}, protocol=2))
    elif kind == "plain-pickle-protocol4":
        path.write_bytes(pickle.dumps({"config": RunsPython(marker)}, protocol=4))


@pytest.mark.parametrize("kind, named", [
    ("zip-os-system", "`os.system`"),
    ("zip-function-in-config", "plant_marker`"),
    ("legacy-os-system", "`os.system`"),
    ("plain-pickle-protocol2", "`os.system`"),
    ("plain-pickle-protocol4", "Unsupported operand"),
])
def test_malicious_payload_is_refused_and_never_runs(tmp_path, kind, named):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    _write_payload(kind, path, marker)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="refusing to load") as err:
        load_generator(path)
    assert named in str(err.value) and str(path) in str(err.value)
    assert not marker.exists()
    assert not any("models.utils.config" in str(g) for g in torch.serialization.get_safe_globals())


@needs_fixture
def test_broken_files_raise_checkpoint_error(tmp_path):
    data = FIXTURE.read_bytes()
    (tmp_path / "truncated.pth").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pth").write_bytes(b"")
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps({"netG": 1}, protocol=2))
    for name in ("truncated.pth", "empty.pth", "plain.pkl"):
        with pytest.raises(CheckpointError, match="truncated or corrupt: download it again"):
            load_generator(tmp_path / name)
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not a pytorch_GAN_zoo checkpoint.*'weights'"):
        load_generator(tmp_path / "other.pth")


def test_missing_file_and_unknown_name():
    with pytest.raises(CheckpointError, match="no checkpoint file at nowhere/g.pth; check the path"):
        load_generator("nowhere/g.pth")
    with pytest.raises(ConfigError) as err:
        load_generator("celebAHQ256")
    msg = str(err.value)
    assert "unknown generator 'celebAHQ256' (did you mean 'celebAHQ-256'?)" in msg
    assert "published: celebAHQ-256, celebAHQ-512, DTD, celeba, karras-celebahq-1024" in msg


# -- our own format ----------------------------------------------------------------------------

def test_save_and_load_own_format_round_trip(tmp_path):
    cfg = PGANConfig(latent_dim=6, depth_scale0=8, depth_other_scales=(4,), channels=2, output="tanh", alpha=0.25)
    gen = Generator(cfg, torch.Generator().manual_seed(0))
    weights = save_generator(gen, tmp_path / "mine.safetensors", name="my-gan")
    assert weights == tmp_path / "mine.safetensors"
    doc = json.loads((tmp_path / "mine.json").read_text())
    assert doc == {"format": "ganlab-pgan-generator", "version": 1, "kind": "pgan", "name": "my-gan",
                   "config": cfg.to_dict()}
    loaded = load_generator(weights)
    assert isinstance(loaded, PretrainedGenerator) and loaded.name == "my-gan" and loaded.config == cfg
    z = loaded.latents(3, seed=1)
    assert torch.equal(z, loaded.latents(3, seed=1))
    with torch.no_grad():
        assert torch.equal(loaded(z), gen(z))
    assert torch.equal(load_generator(tmp_path / "mine.json")(z), loaded(z))
    with pytest.raises(ConfigError, match="unknown device 'bogus'"):
        load_generator(weights, device="bogus")


@needs_fixture
def test_export_zoo_generator_to_own_format(tmp_path):
    zoo = load_generator(FIXTURE)
    path = save_generator(zoo, tmp_path / "exported")
    mine = load_generator(path)
    z = torch.load(EXPECTED, weights_only=True)["z"]
    assert mine.name == "pgan_zoo_random_32px" and torch.equal(mine(z), zoo(z))


def test_own_format_errors(tmp_path):
    gen = Generator(PGANConfig(latent_dim=4, depth_scale0=4))
    weights = save_generator(gen, tmp_path / "g")
    meta = tmp_path / "g.json"
    good = meta.read_text()
    meta.unlink()
    with pytest.raises(CheckpointError, match=r"g\.json is missing; .* keep both files together"):
        load_generator(weights)
    meta.write_text("{not json")
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        load_generator(weights)
    meta.write_text(good.replace('"latent_dim": 4', '"latent_dim": 5'))
    with pytest.raises(CheckpointError, match=r"shape mismatch format_layer.weight \(64, 4\) vs \(64, 5\)"):
        load_generator(weights)
    meta.write_text(good.replace('"output": "linear"', '"output": "relu"'))
    with pytest.raises(CheckpointError, match="bad generator config.*unknown output 'relu'"):
        load_generator(weights)
    meta.write_text(good)
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_generator(weights)


def test_call_rejects_wrong_latents():
    g = PretrainedGenerator(Generator(PGANConfig(latent_dim=4, depth_scale0=4)), "tiny", Path("tiny"))
    with pytest.raises(ConfigError, match=r"expects latents as a float tensor of shape \(N, 4\), got .*\(2, 5\)"):
        g(torch.zeros(2, 5))
    assert g(torch.zeros(0, 4)).shape == (0, 3, 4, 4)


# -- published checkpoints ---------------------------------------------------------------------

def test_list_published_names_urls_and_hash_prefixes():
    pub = list_published()
    assert list(pub) == ["celebAHQ-256", "celebAHQ-512", "DTD", "celeba", "karras-celebahq-1024"]
    assert pub["celebAHQ-256"]["url"] == "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/celebaHQ_s6_i80000-6196db68.pth"
    assert [p["sha256_prefix"] for p in pub.values()] == ["6196db68", "9c72988c", "04efa39f", "2b0acc76", None]
    assert [p["resolution"] for p in pub.values()] == [256, 512, 128, 128, 1024]


def test_published_download_with_wrong_hash_is_deleted(tmp_path, monkeypatch):
    calls = fake_download_module(monkeypatch, tmp_path, b"not the real checkpoint")
    seen = []
    with pytest.raises(CheckpointError, match=r"download of celebaCropped_s5_i83000-2b0acc76.pth is corrupt"):
        download_published("celeba", progress=lambda done, total: seen.append((done, total)))
    dest = tmp_path / "pretrained" / "celebaCropped_s5_i83000-2b0acc76.pth"
    assert calls[0][:2] == (["https://dl.fbaipublicfiles.com/gan_zoo/PGAN/celebaCropped_s5_i83000-2b0acc76.pth"], dest)
    assert seen == [(23, 23)] and not dest.exists()


@needs_fixture
def test_published_name_uses_the_cached_file(tmp_path, monkeypatch):
    fake_download_module(monkeypatch, tmp_path, None)
    dest = tmp_path / "pretrained" / "celebaCropped_s5_i83000-2b0acc76.pth"
    dest.parent.mkdir()
    dest.write_bytes(FIXTURE.read_bytes())
    g = load_generator("celeba")
    assert g.name == "celeba" and g.source == dest and g.resolution == 32
