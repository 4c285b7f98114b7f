"""Pretrained progressive-GAN generators behind one stable API.

`load_generator` accepts:
- a published name (`list_published()`), downloaded once into `cache_dir()/pretrained/`;
- a pytorch_GAN_zoo `.pth` file (read without running pickled code);
- a Karras et al. 2018 CelebA-HQ generator file (`karras.py`): ocaml-torch's `prog-gan.ot`
  (today's TorchScript zip or the libtorch 1.0 layout) or ptrblck's `.pth` state dict (zip
  or pre-zip), parsed by `archive.py` without running anything from the file;
- our own format, written by `save_generator`: `NAME.safetensors` (the generator's
  state dict, our module's key names) beside `NAME.json`:
  `{"format": "ganlab-pgan-generator", "version": 1, "kind": "pgan" | "karras-progan",
  "name": str, "config": PGANConfig.to_dict() | KarrasConfig.to_dict()}` (no "kind": "pgan").

Every source yields a `PretrainedGenerator`: z (N, latent_dim) -> raw images
(N, C, H, W) on the CPU, unclamped (tanh models lie in [-1, 1], linear ones roughly).
"""
from __future__ import annotations

import difflib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch

from ganlab.errors import CheckpointError, ConfigError
from ganlab.files import plain_mode
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained.karras import KARRAS_PUBLISHED, KIND as KARRAS_KIND, KarrasConfig, KarrasGenerator
from ganlab.pretrained.zoo import (
    PUBLISHED,
    build_generator,
    download_published,
    is_zoo_checkpoint,
    load_state_checked,
    pgan_config,
    zoo_checkpoint,
)

if TYPE_CHECKING:
    from ganlab.pretrained.from_run import RunGenerator

OWN_FORMAT = "ganlab-pgan-generator"
OWN_VERSION = 1
_OWN_SUFFIXES = (".safetensors", ".json")
PGAN_KIND = "pgan"
# What each reader found, for `info["format"]` and the messages.
_LAYOUTS = {"torchscript-ot": "libtorch .ot (TorchScript zip, ocaml-torch / tch-rs save_multi)",
            "legacy-ot": "libtorch 1.0 .ot (zip with model.json)",
            "torch-zip": "torch.save zip (.pth)", "torch-legacy": "torch.save pre-zip stream (.pth)"}


class PretrainedGenerator:
    """A loaded generator in eval mode: call it on latents to get raw images.

    name: published name or file stem. source: the file it came from. info: extra
    facts about the checkpoint (format, loss, sha256 of a published download, ...).
    module: the underlying `Generator` (pytorch_GAN_zoo / ganlab progressive GAN) or
    `KarrasGenerator` (Karras et al. 2018 family), on `device`. kind: "pgan" or "karras-progan".
    """

    def __init__(self, module: Generator | KarrasGenerator, name: str, source: Path,
                 info: dict[str, Any] | None = None) -> None:
        self.module = module.eval()
        self.name = name
        self.source = source
        self.info = dict(info or {})

    @property
    def latent_dim(self) -> int:
        return self.module.latent_dim

    @property
    def resolution(self) -> int:
        return self.module.resolution

    @property
    def channels(self) -> int:
        return self.module.channels

    @property
    def config(self) -> PGANConfig | KarrasConfig:
        return self.module.config

    @property
    def kind(self) -> str:
        return KARRAS_KIND if isinstance(self.module, KarrasGenerator) else PGAN_KIND

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def latents(self, n: int, seed: int) -> torch.Tensor:
        """(n, latent_dim) standard-normal latents; the same seed gives the same latents."""
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(n, self.latent_dim, generator=gen)

    def __call__(self, z: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        """z float (N, latent_dim) -> float32 (N, C, R, R) on the CPU, in batches, no grad.

        A module may cap the batch (`max_batch`, 8 for 1024 px Karras) to bound memory.
        Raises ConfigError for latents of the wrong shape or type.
        """
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.latent_dim \
                or not z.is_floating_point():
            got = f"{z.dtype} {tuple(z.shape)}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise ConfigError(
                f"{self.name} expects latents as a float tensor of shape (N, {self.latent_dim}), "
                f"got {got}; use .latents(n, seed)"
            )
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        batch_size = min(batch_size, getattr(self.module, "max_batch", batch_size))
        device = self.device
        out = torch.empty(z.shape[0], self.channels, self.resolution, self.resolution)
        with torch.inference_mode():
            for start in range(0, z.shape[0], batch_size):
                chunk = z[start:start + batch_size].to(device, torch.float32)
                out[start:start + chunk.shape[0]] = self.module(chunk).cpu()
        return out

    def __repr__(self) -> str:
        return (f"PretrainedGenerator({self.name!r}, {self.resolution}x{self.resolution}x{self.channels}, "
                f"latent {self.latent_dim})")


def list_published() -> dict[str, dict[str, Any]]:
    """Published checkpoint name -> {url, filename, sha256_prefix, resolution, dataset}
    (pytorch_GAN_zoo's, then the Karras CelebA-HQ file with sha256_prefix None, source, licence)."""
    out = {name: PUBLISHED.get(name).info() for name in PUBLISHED.names()}
    out.update({name: entry.info() for name, entry in KARRAS_PUBLISHED.items()})
    return out


def _published_names() -> list[str]:
    return [*PUBLISHED.names(), *KARRAS_PUBLISHED]


# Generators trained by this project (scripts/train_pgan_assets.py), shipped in the repo.
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "assets" / "pgan"


def list_bundled(folder: Path | None = None) -> dict[str, Path]:
    """Bundled generator name ("mnist-32", ...) -> its .safetensors (default assets/pgan/)."""
    folder = folder or BUNDLED_DIR
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.safetensors")) if p.with_suffix(".json").is_file()}


def load_generator(
    path_or_name: str | Path,
    average: bool = True,
    device: str | torch.device = "cpu",
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> "PretrainedGenerator | RunGenerator":
    """Load a generator from a published name, a zoo `.pth`, a Karras `.ot` / `.pth`, our
    `.safetensors` + `.json`, or a run folder (any model; a
    `ganlab.pretrained.from_run.RunGenerator`, which also takes labels).

    average: for zoo checkpoints, the moving-average generator `avgG` (True, the better
    one) or the trained `netG` (False); other files hold one generator and ignore it.
    progress(done_bytes, total_bytes or None) is called while a published file downloads.
    Raises ConfigError for an unknown name; CheckpointError for a missing, empty, truncated,
    unsafe file, a web page, or a checkpoint of another model family (the message names
    what was found); DataError when a download fails.
    """
    device = _device(device)
    bundled = list_bundled()
    if isinstance(path_or_name, str) and path_or_name in bundled:
        return _load_own(bundled[path_or_name], device)
    if isinstance(path_or_name, str) and path_or_name in PUBLISHED:
        path = download_published(path_or_name, progress)
        return _load_file(path, average, device, name=path_or_name)
    if isinstance(path_or_name, str) and path_or_name in KARRAS_PUBLISHED:
        from ganlab.pretrained.karras import download_karras

        path, record = download_karras(path_or_name, progress)
        entry = KARRAS_PUBLISHED[path_or_name]
        return _load_file(path, average, device, name=path_or_name,
                          extra={"sha256": record["sha256"], "size": record["size"], "url": entry.url,
                                 "source": entry.source, "licence": entry.licence, "dataset": entry.dataset})
    path = Path(path_or_name)
    if path.is_dir() and (path / "config.json").is_file():  # a run folder (save_run / train --out)
        from ganlab.pretrained.from_run import load_run_generator

        return load_run_generator(path, device)
    if not path.exists():
        if isinstance(path_or_name, str) and not _looks_like_path(path_or_name):
            names = [*bundled, *_published_names()]
            close = difflib.get_close_matches(path_or_name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown generator {path_or_name!r}{hint}; bundled: "
                              f"{', '.join(bundled) or 'none'}; published: "
                              f"{', '.join(_published_names())}; or give a file path")
        raise CheckpointError(
            f"no checkpoint file at {path}; check the path, or pass one of the published "
            f"names: {', '.join(_published_names())}"
        )
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; pass a checkpoint file (.pth, .ot, or a ganlab .safetensors)")
    if path.suffix in _OWN_SUFFIXES:
        return _load_own(path, device)
    return _load_file(path, average, device, name=path.stem)


def save_generator(gen: Generator | PretrainedGenerator, path: str | Path, name: str | None = None) -> Path:
    """Write `gen` as PATH.safetensors + PATH.json (a suffix .safetensors/.json on path is dropped).

    Works for ganlab / zoo progressive GANs ("kind": "pgan") and Karras generators
    ("kind": "karras-progan", weights stored in their folded, load-ready form). Returns the
    .safetensors path; `load_generator` on it rebuilds the same generator (bit-identical
    outputs) with no parsing beyond safetensors and JSON. Raises ConfigError for other objects.
    """
    module = gen.module if isinstance(gen, PretrainedGenerator) else gen
    if not isinstance(module, (Generator, KarrasGenerator)):
        raise ConfigError(f"save_generator needs a pgan Generator, a KarrasGenerator or a PretrainedGenerator, "
                          f"got {type(gen).__name__}")
    kind = KARRAS_KIND if isinstance(module, KarrasGenerator) else PGAN_KIND
    weights, meta = _own_paths(Path(path))
    if name is None:
        name = gen.name if isinstance(gen, PretrainedGenerator) else weights.stem
    weights.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in module.state_dict().items()}
    doc = {"format": OWN_FORMAT, "version": OWN_VERSION, "kind": kind, "name": name,
           "config": module.config.to_dict()}
    if isinstance(gen, PretrainedGenerator):
        # Provenance of a converted file (format, published SHA-256, licence): JSON-able facts only.
        facts = {k: v for k, v in gen.info.items() if isinstance(v, (str, int, float, bool)) and k != "format"}
        facts["converted_from_format"] = gen.info.get("format")
        doc["info"] = facts
    # Write both files under temporary names first so a crash never leaves a half pair.
    with tempfile.TemporaryDirectory(dir=weights.parent) as tmp:
        tmp_weights, tmp_meta = Path(tmp) / "w.safetensors", Path(tmp) / "m.json"
        save_file(state, str(tmp_weights), metadata={"format": OWN_FORMAT})
        tmp_meta.write_text(json.dumps(doc, indent=2) + "\n")
        plain_mode(tmp_weights)  # safetensors creates its files readable by their owner only
        plain_mode(tmp_meta)
        os.replace(tmp_weights, weights)
        os.replace(tmp_meta, meta)
    return weights


def _own_paths(path: Path) -> tuple[Path, Path]:
    base = path.with_suffix("") if path.suffix in _OWN_SUFFIXES else path
    return base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")


def _looks_like_path(text: str) -> bool:
    return Path(text).suffix != "" or "/" in text or os.sep in text


def _device(device: str | torch.device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"unknown device {device!r} ({exc}); use 'cpu', 'cuda' or 'cuda:0'") from None


def _to_device(module: torch.nn.Module, device: torch.device) -> Any:
    try:
        return module.to(device)
    except (RuntimeError, AssertionError) as exc:  # e.g. CUDA absent from this torch build
        raise ConfigError(f"cannot use device {device} ({exc}); use 'cpu'") from None


def _load_file(path: Path, average: bool, device: torch.device, name: str,
               extra: dict[str, Any] | None = None) -> PretrainedGenerator:
    """A zoo checkpoint or a Karras generator file, told apart by content, not by suffix."""
    from ganlab.pretrained.archive import read_checkpoint
    from ganlab.pretrained.karras import looks_like_karras

    obj, layout = read_checkpoint(path)
    if is_zoo_checkpoint(obj):
        return _load_zoo(path, obj, average, device, name)
    if isinstance(obj, dict) and looks_like_karras(obj):
        if not all(isinstance(v, torch.Tensor) for v in obj.values()):
            raise CheckpointError(f"{path}: a Karras generator state dict must hold only tensors; the file is damaged")
        module = _to_device(KarrasGenerator.from_state(obj, path), device)
        info = {"format": _LAYOUTS[layout], "family": "Karras et al. 2018 progressive GAN (CelebA-HQ family)",
                **(extra or {})}
        return PretrainedGenerator(module, name, path, info)
    raise CheckpointError(
        f"{path} is a {_LAYOUTS[layout]} but not a generator ganlab can load: not a pytorch_GAN_zoo checkpoint "
        "(a dict with 'config' and 'netG') nor a Karras et al. progressive-GAN generator (tensors "
        f"features.N.conv.weight, features.N.wscale.scale/b, output.*); found {_describe(obj)}"
    )


def _describe(obj: Any) -> str:
    if isinstance(obj, dict):
        keys = sorted(map(str, obj))
        tensors = all(isinstance(v, torch.Tensor) for v in obj.values())
        what = f"a state dict of {len(keys)} tensors" if tensors and keys else f"a dict with {len(keys)} keys"
        shown = keys[:6] + (["..."] if len(keys) > 6 else [])
        return f"{what}: {shown}"
    return f"a {type(obj).__name__}"


def _load_zoo(path: Path, obj: Any, average: bool, device: torch.device, name: str) -> PretrainedGenerator:
    ckpt = zoo_checkpoint(path, obj)
    module = _to_device(build_generator(ckpt, average=average), device)
    cfg = ckpt.config
    info = {
        "format": "pytorch_GAN_zoo", "average": average, "loss": cfg.get("lossCriterion"),
        "alpha": pgan_config(ckpt).alpha,
        # AC-GAN checkpoints append a class code to the noise: latent = noise + category.
        "noise_dim": cfg.get("noiseVectorDim", module.latent_dim),
        "category_dim": cfg.get("categoryVectorDim", 0),
    }
    return PretrainedGenerator(module, name, path, info)


def _load_own(path: Path, device: torch.device) -> PretrainedGenerator:
    weights, meta = _own_paths(path)
    for needed in (weights, meta):
        if not needed.is_file():
            raise CheckpointError(
                f"{needed.name} is missing; a ganlab generator is two files with one name, NAME.safetensors "
                "and NAME.json, saved together: keep both files together (in one folder, or both in one upload)."
            )
    try:
        doc = json.loads(meta.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta} is not valid JSON ({exc}); restore it from save_generator's output") from None
    if not isinstance(doc, dict) or doc.get("format") != OWN_FORMAT:
        raise CheckpointError(f"{meta} is not a ganlab generator description (no \"format\": \"{OWN_FORMAT}\")")
    if doc.get("version") != OWN_VERSION:
        raise CheckpointError(
            f"{meta} has format version {doc.get('version')!r}; this ganlab reads version {OWN_VERSION}: "
            "upgrade ganlab or re-export the generator"
        )
    kind = doc.get("kind", PGAN_KIND)  # files written before Karras support have no "kind"
    if kind not in (PGAN_KIND, KARRAS_KIND):
        raise CheckpointError(f"{meta} describes a generator of kind {kind!r}; this ganlab reads "
                              f"{PGAN_KIND!r} and {KARRAS_KIND!r}: upgrade ganlab")
    try:
        config = (KarrasConfig if kind == KARRAS_KIND else PGANConfig).from_dict(doc.get("config"))
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{meta}: bad generator config ({exc})") from None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights} is not a readable safetensors file ({exc}); it is truncated or corrupt") from None
    module = KarrasGenerator(config) if kind == KARRAS_KIND else Generator(config)
    load_state_checked(module, state, weights, "generator")
    name = doc.get("name") if isinstance(doc.get("name"), str) else weights.stem
    info = {"format": OWN_FORMAT, **{k: v for k, v in (doc.get("info") or {}).items() if k != "format"}} \
        if isinstance(doc.get("info"), dict) else {"format": OWN_FORMAT}
    return PretrainedGenerator(_to_device(module, device), name, weights, info)


__all__ = ["PretrainedGenerator", "list_published", "load_generator", "save_generator"]
