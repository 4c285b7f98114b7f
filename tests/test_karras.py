"""Karras et al. 2018 progressive-GAN generator files: every layout, a second size, unsafe and bad files,
own-format round trip through the CLI, the published-name record, the latent explorer page."""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import types
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlab.cli import main
from ganlab.errors import CheckpointError
from ganlab.pretrained import load_generator, save_generator
from ganlab.pretrained.karras import (
    KarrasConfig,
    KarrasGenerator,
    download_karras,
    plain_forward,
    random_state,
    record_path,
)
from tests.helpers import fake_download_module

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures" / "karras"
EXPECTED = FIXTURES / "prog_gan_small.expected.pt"
LAYOUTS = {
    "prog_gan_small.ot": "libtorch .ot (TorchScript zip, ocaml-torch / tch-rs save_multi)",
    "prog_gan_small_legacy.ot": "libtorch 1.0 .ot (zip with model.json)",
    "prog_gan_small.pth": "torch.save zip (.pth)",
    "prog_gan_small_legacy.pth": "torch.save pre-zip stream (.pth)",
}
HTML_CASE = SHARED / "cases" / "case16_celebAHQ_html.pth"
needs_fixtures = pytest.mark.skipif(not EXPECTED.is_file(), reason=f"Karras fixtures not found in {FIXTURES}")


# -- the reference fixtures -----------------------------------------------------------------------

@needs_fixtures
@pytest.mark.parametrize("filename", list(LAYOUTS))
def test_every_fixture_layout_matches_the_reference_output(filename):
    expected = torch.load(EXPECTED, weights_only=True)
    g = load_generator(FIXTURES / filename)
    assert (g.latent_dim, g.resolution, g.channels, g.kind) == (32, 32, 3, "karras-progan")
    assert g.config == KarrasConfig(32, (32, 32, 32, 32, 32, 32, 16, 16), 3)
    assert g.info["format"] == LAYOUTS[filename]
    out = g(expected["z"], batch_size=3)
    assert out.shape == (4, 3, 32, 32) and out.dtype == torch.float32
    assert float((out - expected["out"]).abs().max()) <= 1e-4


# -- a second size, written here in every layout ----------------------------------------------------

SECOND = KarrasConfig(latent_dim=12, depths=(24, 24, 16, 16, 8, 8), channels=3)  # 16 px


def reference_forward(state: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    """The network as described in the fixture README, written independently of ganlab."""
    x = z.double().view(z.shape[0], -1, 1, 1)
    n = sum(1 for k in state if k.endswith("conv.weight")) - 1
    for i in range(n + 1):
        p = f"features.{i}" if i < n else "output"
        x = x / torch.sqrt((x * x).mean(1, keepdim=True) + 1e-8)
        if 2 <= i < n and i % 2 == 0:
            x = x.repeat_interleave(2, 2).repeat_interleave(2, 3)
        w = state[f"{p}.conv.weight"].double()
        x = F.conv2d(x, w, padding=(3 if i == 0 else 1 if i < n else 0))
        x = x * state[f"{p}.wscale.scale"].double() + state[f"{p}.wscale.b"].double().view(1, -1, 1, 1)
        if i < n:
            x = torch.where(x > 0, x, 0.2 * x)
    return x.float()


@contextmanager
def torchscript_module_class():
    """A class pickled as `__torch__.Module`, as libtorch's OutputArchive writes it."""
    saved = sys.modules.get("__torch__")
    mod = types.ModuleType("__torch__")

    class Module:
        pass

    Module.__module__, Module.__qualname__ = "__torch__", "Module"
    mod.Module = Module
    sys.modules["__torch__"] = mod
    try:
        yield Module
    finally:
        if saved is None:
            sys.modules.pop("__torch__", None)
        else:
            sys.modules["__torch__"] = saved


def write_torchscript_ot(path: Path, state: dict[str, torch.Tensor] | None, payload: object = None) -> None:
    """Today's libtorch .ot: <name>/data.pkl (protocol 2, a __torch__.Module whose BUILD state
    maps '|'-escaped names to tensors of persistent storages) + data/<k> + the other records."""
    storages: dict[str, bytes] = {}

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, torch.storage.TypedStorage):
                key = str(len(storages))
                raw = torch.empty(0, dtype=torch.uint8).set_(obj._untyped_storage)
                storages[key] = raw.numpy().tobytes()
                return ("storage", torch.FloatStorage, key, "cpu", obj.size())
            return None

    buf = io.BytesIO()
    with torchscript_module_class() as Module, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
        if payload is not None:
            top = payload
        else:
            top = Module.__new__(Module)
            top.__dict__.update({k.replace(".", "|"): v.contiguous() for k, v in state.items()})
        Pickler(buf, protocol=2).dump(top)
    name = path.stem
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for key, raw in storages.items():
            zf.writestr(f"{name}/data/{key}", raw)
        zf.writestr(f"{name}/data.pkl", buf.getvalue())
        zf.writestr(f"{name}/code/__torch__.py", "class Module(Module):\n  pass\n")
        zf.writestr(f"{name}/constants.pkl", pickle.dumps((), protocol=2))
        zf.writestr(f"{name}/version", "3\n")
        zf.writestr(f"{name}/byteorder", "little")


def write_legacy_ot(path: Path, state: dict[str, torch.Tensor]) -> None:
    """The libtorch 1.0 .ot: version, tensors/<i> raw storages, model.json (int64 as strings)."""
    name = path.stem
    params, table = [], []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}/version", "1\n")
        for i, (key, t) in enumerate(state.items()):
            t = t.contiguous()
            zf.writestr(f"{name}/tensors/{i}", t.numpy().tobytes())
            params.append({"isBuffer": False, "tensorId": str(i), "name": key.replace(".", "|")})
            table.append({"dims": [str(d) for d in t.shape], "offset": "0", "strides": [str(s) for s in t.stride()],
                          "requiresGrad": False, "dataType": "FLOAT", "data": {"key": f"tensors/{i}"},
                          "device": "cpu"})
        zf.writestr(f"{name}/model.json", json.dumps({"protoVersion": "1", "mainModule": {
            "name": name, "optimize": True, "parameters": params}, "producerName": "test", "tensors": table}))


def write_layout(layout: str, path: Path, state: dict[str, torch.Tensor]) -> None:
    if layout == "zip-pth":
        torch.save(state, path)
    elif layout == "legacy-pth":
        torch.save(state, path, _use_new_zipfile_serialization=False)
    elif layout == "torchscript-ot":
        write_torchscript_ot(path, state)
    else:
        write_legacy_ot(path, state)


@pytest.mark.parametrize("layout, suffix", [("zip-pth", ".pth"), ("legacy-pth", ".pth"),
                                            ("torchscript-ot", ".ot"), ("legacy-ot", ".ot")])
def test_second_size_is_inferred_from_the_tensors_in_every_layout(tmp_path, layout, suffix):
    state = random_state(SECOND, seed=3)
    path = tmp_path / f"second{suffix}"
    write_layout(layout, path, state)
    g = load_generator(path)
    assert (g.latent_dim, g.resolution, g.channels) == (12, 16, 3) and g.config == SECOND
    z = torch.randn(5, 12, generator=torch.Generator().manual_seed(0))
    ref = reference_forward(state, z)
    out = g(z, batch_size=2)
    assert out.shape == (5, 3, 16, 16)
    assert float((out - ref).abs().max()) <= 1e-5
    assert float(ref.std()) > 0.1  # a real picture, not a constant


def test_fast_network_equals_the_plain_forward_and_the_reference():
    state = random_state(SECOND, seed=5)
    z = torch.randn(3, 12, generator=torch.Generator().manual_seed(1))
    fast = KarrasGenerator.from_state(state)
    ref = reference_forward(state, z)
    assert float((fast(z) - ref).abs().max()) <= 1e-5
    assert float((plain_forward(state, z) - ref).abs().max()) <= 1e-5
    assert torch.equal(fast(z.view(3, 12, 1, 1)), fast(z))  # (N, latent, 1, 1) is accepted too
    # GANSpace features: features.1's 4x4 conv output, before its activation.
    feats = fast.early_features(z)
    assert feats.shape == (3, 16 * 24)


def test_full_size_config_has_the_published_parameter_count():
    cfg = KarrasConfig.full_size()
    n = sum(v.numel() for v in random_state(cfg).values())
    assert (cfg.resolution, n) == (1024, 23_071_526)


# -- unsafe and bad files --------------------------------------------------------------------------

class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("layout", ["torchscript-ot", "zip-pth", "legacy-pth"])
def test_malicious_payload_is_refused_and_never_runs(tmp_path, layout):
    marker = tmp_path / "marker"
    path = tmp_path / ("evil.ot" if layout.endswith("ot") else "evil.pth")
    state = {"features.0.conv.weight": RunsShell(marker)}
    if layout == "torchscript-ot":
        write_torchscript_ot(path, None, payload=state)
    else:
        torch.save(state, path, _use_new_zipfile_serialization=layout == "zip-pth")
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="refusing to load") as err:
        load_generator(path)
    assert "`os.system`" in str(err.value) and str(path) in str(err.value)
    assert not marker.exists()


@pytest.mark.skipif(not HTML_CASE.is_file(), reason="shared cases not found")
def test_a_saved_web_page_is_named_as_such(tmp_path):
    with pytest.raises(CheckpointError) as err:
        load_generator(HTML_CASE)
    msg = str(err.value)
    assert msg.startswith(f"{HTML_CASE} is a web page titled 'Google Drive - Virus scan warning', not a checkpoint")
    assert "delete it and download it again" in msg


def test_a_text_file_or_bytes_of_no_known_kind_are_told_apart(tmp_path) -> None:
    notes = tmp_path / "notes.pth"
    notes.write_text("my generator, trained on Tuesday\nlr 2e-4\n")
    with pytest.raises(CheckpointError) as e:
        load_generator(notes)
    assert str(e.value) == (f"{notes} is a text file (it begins 'my generator, trained on Tuesday'), not a "
                            "checkpoint; give the generator's weights: a ganlab .safetensors, a pytorch_GAN_zoo "
                            ".pth or a Karras .ot / .pth")
    garbage = tmp_path / "g.pth"
    garbage.write_bytes(bytes([0, 1, 2]) + b"rest")
    with pytest.raises(CheckpointError, match=r"neither a zip archive \(.ot, .pth\) nor a torch pickle "
                                              r"\(first bytes 00 01 02 72 65 73 74\)"):
        load_generator(garbage)



@needs_fixtures
@pytest.mark.parametrize("filename", list(LAYOUTS))
def test_truncated_and_empty_files_say_so(tmp_path, filename):
    data = (FIXTURES / filename).read_bytes()
    cut = tmp_path / filename
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CheckpointError, match="truncated or corrupt: download it again"):
        load_generator(cut)
    cut.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"is empty \(0 bytes\).*download it again"):
        load_generator(cut)


def test_checkpoints_of_other_families_name_what_was_found(tmp_path):
    torch.save({"encoder.weight": torch.ones(2, 2), "encoder.bias": torch.ones(2)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError) as err:
        load_generator(tmp_path / "other.pth")
    assert "not a pytorch_GAN_zoo checkpoint" in str(err.value) and "nor a Karras" in str(err.value)
    assert str(err.value).endswith("found a state dict of 2 tensors: ['encoder.bias', 'encoder.weight']")
    write_torchscript_ot(tmp_path / "other.ot", {"fc.weight": torch.ones(3)})
    with pytest.raises(CheckpointError, match=r"is a libtorch \.ot .* found a state dict of 1 tensors: \['fc\|weight'\]"):
        load_generator(tmp_path / "other.ot")
    damaged = random_state(SECOND)
    del damaged["features.3.wscale.b"]
    torch.save(damaged, tmp_path / "damaged.pth")
    with pytest.raises(CheckpointError, match=r"features\.3\.wscale\.b is missing; the file is damaged"):
        load_generator(tmp_path / "damaged.pth")
    odd = random_state(SECOND)
    odd["features.2.conv.weight"] = torch.ones(16, 20, 3, 3)
    torch.save(odd, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match=r"features\.2\.conv\.weight has shape \(16, 20, 3, 3\), expected \(C, 24, 3, 3\)"):
        load_generator(tmp_path / "odd.pth")


# -- our own format, through the CLI ---------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganlab", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_convert_round_trip_via_the_cli(tmp_path):
    src = tmp_path / "second.ot"
    state = random_state(SECOND, seed=7)
    write_torchscript_ot(src, state)
    r = run_cli("convert", str(src), "--out", str(tmp_path / "faces"))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert summary["out"] == str(tmp_path / "faces.safetensors") and summary["kind"] == "karras-progan"
    assert summary["source_sha256"] == digest and f"SHA-256 of second.ot: {digest}" in r.stderr
    doc = json.loads((tmp_path / "faces.json").read_text())
    assert (doc["format"], doc["version"], doc["kind"], doc["name"]) == \
        ("ganlab-pgan-generator", 1, "karras-progan", "faces")
    assert doc["config"] == {"latent_dim": 12, "depths": [24, 24, 16, 16, 8, 8], "channels": 3}
    mine = load_generator(tmp_path / "faces.safetensors")
    z = torch.randn(4, 12, generator=torch.Generator().manual_seed(2))
    assert mine.kind == "karras-progan" and mine.name == "faces"
    assert torch.equal(mine(z), load_generator(src)(z))
    assert float((mine(z) - reference_forward(state, z)).abs().max()) <= 1e-5


@needs_fixtures
def test_save_generator_round_trips_a_fixture_and_a_zoo_file(tmp_path):
    g = load_generator(FIXTURES / "prog_gan_small_legacy.pth")
    z = torch.load(EXPECTED, weights_only=True)["z"]
    assert torch.equal(load_generator(save_generator(g, tmp_path / "k"))(z), g(z))
    zoo = SHARED / "fixtures" / "pgan_zoo" / "pgan_zoo_random_32px.pth"
    if zoo.is_file():
        assert main(["convert", str(zoo), "--out", str(tmp_path / "zoo")]) == 0
        assert json.loads((tmp_path / "zoo.json").read_text())["kind"] == "pgan"
        z64 = torch.randn(2, 64)
        assert torch.equal(load_generator(tmp_path / "zoo.safetensors")(z64), load_generator(zoo)(z64))


def test_convert_user_errors_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "page.pth"
    bad.write_text("<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    assert main(["convert", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad} is a web page titled 'Sign in'") and err.count("\n") == 1
    assert main(["convert", str(tmp_path / "none.ot"), "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith(f"error: no checkpoint file at {tmp_path / 'none.ot'}")
    assert not list(tmp_path.glob("x*"))
    (tmp_path / "afile").write_text("")  # --out inside a file: refused before anything is loaded
    assert main(["convert", str(bad), "--out", str(tmp_path / "afile" / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and "is a file" in err and err.count("\n") == 1


# -- the published name: download once, record, verify ------------------------------------------


def test_published_name_records_then_verifies_the_download(tmp_path, monkeypatch):
    src = tmp_path / "src.ot"
    write_legacy_ot(src, random_state(SECOND, seed=1))
    payload = src.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    calls = fake_download_module(monkeypatch, tmp_path / "cache", payload)
    seen = []
    g = load_generator("karras-celebahq-1024", progress=lambda d, t: seen.append((d, t)))
    dest = tmp_path / "cache" / "pretrained" / "prog-gan.ot"
    assert [c[0] for c in calls] == [["https://github.com/LaurentMazare/ocaml-torch/releases/download/v0.1-unstable/prog-gan.ot"]]
    assert seen == [(len(payload), len(payload))] and g.source == dest and g.name == "karras-celebahq-1024"
    assert g.info["sha256"] == digest and g.info["size"] == len(payload) and "CC BY-NC 4.0" in g.info["licence"]
    record = json.loads(record_path(dest).read_text())
    assert record == {"url": calls[0][0][0], "filename": "prog-gan.ot", "size": len(payload), "sha256": digest}
    fake_download_module(monkeypatch, tmp_path / "cache", None)  # cached: no second download
    assert load_generator("karras-celebahq-1024").info["sha256"] == digest
    data = bytearray(payload)
    data[-40] ^= 0xFF  # same size, other content
    dest.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=rf"changed since it was first downloaded \(recorded {len(payload)} "
                                              rf"bytes, SHA-256 {digest}; now {len(payload)} bytes, SHA-256 "):
        download_karras("karras-celebahq-1024")
    dest.write_bytes(payload[:100])
    with pytest.raises(CheckpointError, match=f"now 100 bytes\\)"):
        download_karras("karras-celebahq-1024")


def test_a_downloaded_web_page_is_deleted_and_not_recorded(tmp_path, monkeypatch):
    fake_download_module(monkeypatch, tmp_path, b"<html><title>Quota exceeded</title></html>")
    with pytest.raises(CheckpointError, match="is a web page titled 'Quota exceeded'"):
        load_generator("karras-celebahq-1024")
    dest = tmp_path / "pretrained" / "prog-gan.ot"
    assert not dest.exists() and not record_path(dest).exists()


# -- the latent explorer page ------------------------------------------------------------------------

@needs_fixtures
def test_latent_explorer_with_a_fixture_file(tmp_path, monkeypatch):
    import os

    from streamlit.testing.v1 import AppTest

    from ganlab import describe, explore

    # A server file is read only under the folders the person running the server allows.
    monkeypatch.delenv("GANLAB_SERVER_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "pages" / "4_Latent_explorer.py"), default_timeout=60).run()
    at.radio(key="source").set_value("Local file").run()
    assert any("Type the path of a checkpoint" in i.value and "switched off" in i.value for i in at.info)
    assert at.text_input(key="local_path").disabled
    monkeypatch.setenv("GANLAB_SERVER_DATA", os.pathsep.join([str(FIXTURES), str(tmp_path)]))
    at.run()
    assert not at.text_input(key="local_path").disabled
    at.text_input(key="local_path").set_value(str(FIXTURES / "prog_gan_small.ot")).run()
    assert not at.exception and not at.error
    assert "prog_gan_small: 32x32, 3 channel(s), latent 32" in [c.value for c in at.sidebar.caption]
    about = " ".join(i.value for i in at.sidebar.info)
    for words in ("Karras et al. 2018", "CelebA-HQ", "as published by ocaml-torch", "CC BY-NC 4.0", "biases"):
        assert words in about
    z = torch.tensor(at.session_state["z"])
    grid_z = explore.random_latents(32, 8, seed=0)  # no classifier for faces: the most typical latent first
    assert torch.allclose(z, grid_z[describe.clearest_sample(grid_z)])
    png = at.get("download_button")
    assert png and png[0].proto.label == "Download PNG (32x32)"
    at.text_input(key="local_path").set_value(str(tmp_path / "missing.ot")).run()
    assert not at.exception and any("no checkpoint file at" in e.value for e in at.error)
    at.text_input(key="local_path").set_value("/etc/hostname").run()
    assert not at.exception and any("outside the folders this server allows" in e.value for e in at.error)


def test_inversion_runs_through_a_karras_generator():
    # The fast forward used to run under inference_mode always, so inverting a Karras model
    # (gradients through G to z) failed; with z requiring grad it now runs the plain path.
    from ganlab.invert import invert
    from ganlab.pretrained import PretrainedGenerator

    state = random_state(SECOND, seed=3)
    gen = PretrainedGenerator(KarrasGenerator.from_state(state), "small", None)
    z = gen.latents(1, seed=5)
    target = gen(z)[0]
    torch.testing.assert_close(target, plain_forward(state, z)[0], rtol=0, atol=1e-4)
    found = invert(gen, target, starts=2, steps=30, feature_weight=0.0, seed=0)
    far = ((gen(gen.latents(1, seed=9))[0] - target) / 2).square().mean()
    assert found.steps == 30 and found.distance < float(far)
