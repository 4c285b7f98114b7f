"""The Karras et al. progressive-GAN generator (CelebA-HQ 1024x1024 family), inference only.

Sources: T. Karras, T. Aila, S. Laine, J. Lehtinen, "Progressive Growing of GANs for
Improved Quality, Stability, and Variation", ICLR 2018; the PyTorch port
ptrblck/prog_gans_pytorch_inference (`100_celeb_hq_network-snapshot-010403.pth`);
ocaml-torch's `examples/gan/progressive_growing_gan.ml` and its `prog-gan.ot`.

The network, on a state dict with names `features.<i>.conv.weight`, `features.<i>.wscale.scale`
(shape [1]), `features.<i>.wscale.b` ([C]) and `output.*` ('|' instead of '.' in `.ot` files):
- z (N, latent) seen as (N, latent, 1, 1);
- features.0: pixel norm -> conv 4x4, padding 3, no bias (1x1 -> 4x4) -> wscale -> leaky ReLU 0.2;
- features.1: pixel norm -> conv 3x3 -> wscale -> lReLU;
- per resolution 8, 16, ...: features.2j = pixel norm -> x2 nearest upsample -> conv 3x3 -> wscale
  -> lReLU, features.2j+1 = pixel norm -> conv 3x3 -> wscale -> lReLU;
- output: pixel norm -> conv 1x1 (no bias) -> wscale; no tanh (roughly [-1, 1]).
wscale is `x * scale + b`; pixel norm is `x / sqrt(mean_c(x^2) + 1e-8)`.

`KarrasGenerator` is the fast form, built once at load time by exact transforms:
- the wscale is folded into the conv: conv(x, W) * s + b == conv(x, W * s) + b;
- "x2 nearest upsample, then 3x3 conv" is one stride-2 transposed conv with a 4x4 kernel
  (K = M W M^T, M below): every output pixel takes 2x2 taps of the low-resolution input
  instead of 3x3 taps of the upsampled one, 2.25x fewer multiply-adds in the upsampling
  convs (two thirds of the work of every block) and no upsampled tensor in memory;
- the last pixel norm commutes with the 1x1 output conv (a per-pixel factor), so it is
  applied to the 3-channel output rather than to the 16-channel features;
- activations are channels-last (contiguous over channels: the pixel norm's mean and the
  convs read memory in order), leaky ReLU in place, under `torch.inference_mode`.
`plain_forward` is the straightforward implementation on the original state dict, kept as
the benchmark's baseline and the reference of the tests.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.errors import CheckpointError, ConfigError

EPS = 1e-8          # pixel norm epsilon, inside the square root (Karras et al. 2018)
LEAK = 0.2          # leaky ReLU slope of every hidden layer
KIND = "karras-progan"

# Upsample-then-3x3-conv as a stride-2 transposed conv: per dimension, the 4 taps of the
# transposed kernel are sums of the 3 conv taps (output 2i takes x[i-1]*W0 + x[i]*(W1+W2),
# output 2i+1 takes x[i]*(W0+W1) + x[i+1]*W2).
_UP = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)

_NAME = re.compile(r"^(features\.(\d+)|output)\.(conv\.weight|wscale\.scale|wscale\.b)$")


@dataclass(frozen=True)
class KarrasConfig:
    """Architecture of one generator of the family, read from its tensors' shapes.

    latent_dim: length of z. depths: output channels of features.0 .. features.{2L-1}
    (two per resolution 4, 8, ..., so the resolution is 4 * 2**(L - 1)). channels: of the
    image (3 for CelebA-HQ). Full size (prog-gan.ot): latent 512, depths 512 at 4..32 px,
    256 at 64, 128 at 128, 64 at 256, 32 at 512, 16 at 1024.
    """

    latent_dim: int
    depths: tuple[int, ...]
    channels: int = 3

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or self.channels < 1:
            raise ConfigError(f"latent_dim and channels must be positive, got {self.latent_dim}, {self.channels}")
        if len(self.depths) < 2 or len(self.depths) % 2 or min(self.depths) < 1:
            raise ConfigError(f"depths must be an even, non-empty list of positive sizes, got {self.depths}")

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.depths) // 2 - 1)

    def to_dict(self) -> dict[str, Any]:
        return {"latent_dim": self.latent_dim, "depths": list(self.depths), "channels": self.channels}

    @classmethod
    def from_dict(cls, doc: Any) -> "KarrasConfig":
        """Inverse of to_dict; ConfigError on anything else."""
        if not isinstance(doc, dict) or set(doc) != {"latent_dim", "depths", "channels"}:
            raise ConfigError(f"a Karras config is {{latent_dim, depths, channels}}, got {doc!r}")
        depths = doc["depths"]
        if not isinstance(depths, list) or not all(isinstance(d, int) for d in depths) \
                or not isinstance(doc["latent_dim"], int) or not isinstance(doc["channels"], int):
            raise ConfigError(f"a Karras config holds integers, got {doc!r}")
        return cls(doc["latent_dim"], tuple(depths), doc["channels"])

    @classmethod
    def full_size(cls) -> "KarrasConfig":
        """The CelebA-HQ 1024x1024 generator's shapes (for benchmarks with random weights)."""
        return cls(512, (512,) * 8 + (256, 256, 128, 128, 64, 64, 32, 32, 16, 16), 3)


# --- reading a state dict ----------------------------------------------------------------

def normalise_names(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """'|'-escaped `.ot` names and a DataParallel `module.` prefix -> plain dotted names."""
    out = {}
    for key, value in state.items():
        name = key.replace("|", ".")
        out[name[len("module."):] if name.startswith("module.") else name] = value
    return out


def looks_like_karras(state: Mapping[str, Any]) -> bool:
    """True when the names are this family's (`features.N.wscale...` / `output.wscale...`)."""
    names = normalise_names({str(k): v for k, v in state.items()})
    return any(".wscale." in k and (k.startswith("features.") or k.startswith("output.")) for k in names)


def infer_config(state: Mapping[str, Tensor], source: Path | str) -> KarrasConfig:
    """The architecture of a state dict (names already normalised), from names and shapes only.

    Raises CheckpointError naming the first tensor that is missing, unexpected or of a
    shape that does not chain (the file is damaged or of another model).
    """
    bad = [k for k in state if not _NAME.match(k)]
    if bad:
        raise CheckpointError(f"{source}: unexpected tensors {', '.join(sorted(bad)[:4])} for a Karras "
                              "progressive-GAN generator; the file is damaged or from another model")
    layers = sorted({int(m.group(2)) for m in map(_NAME.match, state) if m.group(2) is not None})
    if not layers or layers != list(range(len(layers))) or len(layers) % 2:
        raise CheckpointError(f"{source}: the generator's layers are features.{layers}, not an even run "
                              "0..2L-1 (two per resolution); the file is damaged")
    for prefix in [f"features.{i}" for i in layers] + ["output"]:
        for part in ("conv.weight", "wscale.scale", "wscale.b"):
            if f"{prefix}.{part}" not in state:
                raise CheckpointError(f"{source}: {prefix}.{part} is missing; the file is damaged")
    first = state["features.0.conv.weight"]
    if first.dim() != 4 or tuple(first.shape[2:]) != (4, 4):
        raise CheckpointError(f"{source}: features.0.conv.weight has shape {tuple(first.shape)}, "
                              "expected (C, latent, 4, 4)")
    latent, prev, depths = int(first.shape[1]), int(first.shape[1]), []
    for i in layers:
        w = state[f"features.{i}.conv.weight"]
        k = 4 if i == 0 else 3
        if w.dim() != 4 or int(w.shape[1]) != prev or tuple(w.shape[2:]) != (k, k):
            raise CheckpointError(f"{source}: features.{i}.conv.weight has shape {tuple(w.shape)}, expected "
                                  f"(C, {prev}, {k}, {k}); the file is damaged or from another model")
        prev = int(w.shape[0])
        depths.append(prev)
    out = state["output.conv.weight"]
    if out.dim() != 4 or int(out.shape[1]) != prev or tuple(out.shape[2:]) != (1, 1):
        raise CheckpointError(f"{source}: output.conv.weight has shape {tuple(out.shape)}, expected (3, {prev}, 1, 1)")
    for prefix, c in [(f"features.{i}", d) for i, d in zip(layers, depths)] + [("output", int(out.shape[0]))]:
        if state[f"{prefix}.wscale.scale"].numel() != 1 or tuple(state[f"{prefix}.wscale.b"].shape) != (c,):
            raise CheckpointError(f"{source}: {prefix}.wscale has scale {tuple(state[prefix + '.wscale.scale'].shape)} "
                                  f"and b {tuple(state[prefix + '.wscale.b'].shape)}, expected [1] and [{c}]")
    bad_dtype = [k for k, v in state.items() if not v.is_floating_point()]
    if bad_dtype:
        raise CheckpointError(f"{source}: {bad_dtype[0]} is {state[bad_dtype[0]].dtype}, not floating point")
    return KarrasConfig(latent, tuple(depths), int(out.shape[0]))


# --- the network ----------------------------------------------------------------------------

def pixel_norm_(x: Tensor) -> Tensor:
    """x / sqrt(mean over channels of x^2 + 1e-8), for (N, C, H, W) in any memory format."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True).add_(EPS))


class KarrasGenerator(nn.Module):
    """The generator in its fast form (wscale folded, fused upsampling convs); eval only.

    forward(z): z float (N, latent_dim) or (N, latent_dim, 1, 1) -> raw images float
    (N, channels, R, R), R = config.resolution, roughly in [-1, 1] (no tanh). Parameters:
    `weights[i]` is the folded conv weight of features.i (the 4x4 transposed kernel for the
    upsampling ones) and `biases[i]` its wscale bias; the last entry is the output layer.
    """

    # Frames per forward for 1024 px: 8 keeps the peak under 1.5 GB; PretrainedGenerator
    # splits larger batches.
    max_batch = 8

    def __init__(self, config: KarrasConfig) -> None:
        super().__init__()
        self.config = config
        shapes, prev = [], config.latent_dim
        for i, d in enumerate(config.depths):
            upsampling = i >= 2 and i % 2 == 0
            # conv_transpose2d weights are (in, out, k, k); conv2d weights (out, in, k, k).
            shapes.append((prev, d, 4, 4) if upsampling else (d, prev, 4 if i == 0 else 3, 4 if i == 0 else 3))
            prev = d
        shapes.append((config.channels, prev, 1, 1))
        self.weights = nn.ParameterList([nn.Parameter(torch.zeros(s), requires_grad=False) for s in shapes])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(c), requires_grad=False)
                                        for c in (*config.depths, config.channels)])
        self.eval()

    latent_dim = property(lambda self: self.config.latent_dim)
    resolution = property(lambda self: self.config.resolution)
    channels = property(lambda self: self.config.channels)

    @classmethod
    def from_state(cls, state: Mapping[str, Tensor], source: Path | str = "<state>") -> "KarrasGenerator":
        """Build from an original state dict (names normalised): infer, fold, fuse.

        Raises CheckpointError when the tensors are not this family's.
        """
        state = normalise_names(state)
        config = infer_config(state, source)
        gen = cls(config)
        with torch.no_grad():
            for i in range(len(config.depths) + 1):
                prefix = f"features.{i}" if i < len(config.depths) else "output"
                # Fold in float64, then round once: exact up to float32 rounding.
                w = state[f"{prefix}.conv.weight"].double() * state[f"{prefix}.wscale.scale"].double().reshape(())
                if i >= 2 and i % 2 == 0 and i < len(config.depths):
                    up = _UP.to(w.device)
                    w = torch.einsum("ak,bl,oikl->ioab", up, up, w)
                gen.weights[i].copy_(w.float())
                gen.biases[i].copy_(state[f"{prefix}.wscale.b"].float())
        return gen

    def features(self, z: Tensor, upto: int, inplace: bool = True) -> Tensor:
        """Activations after features.{upto - 1} (channels-last), upto in 1..len(depths)."""
        x = z.reshape(z.shape[0], self.config.latent_dim, 1, 1).to(self.weights[0].dtype)
        for i in range(upto):
            x = pixel_norm_(x)
            w, b = self.weights[i], self.biases[i]
            if i == 0:
                x = F.conv2d(x, w, b, padding=3)
                x = x.contiguous(memory_format=torch.channels_last)
            elif i % 2 == 0:
                x = F.conv_transpose2d(x, w, b, stride=2, padding=1)
            else:
                x = F.conv2d(x, w, b, padding=1)
            x = F.leaky_relu_(x, LEAK) if inplace else F.leaky_relu(x, LEAK)
        return x

    def forward(self, z: Tensor) -> Tensor:
        """z (N, latent) -> images (N, channels, R, R) float32 (see the class docstring).

        Under inference_mode with in-place ops; differentiable (out of place) when z requires
        grad and grad is enabled, as inversion (`ganlab.invert`) optimises z through it."""
        grad = torch.is_grad_enabled() and z.requires_grad
        with torch.inference_mode(not grad):
            x = self.features(z, len(self.config.depths), inplace=not grad)
            n = len(self.config.depths)
            # pixel norm then 1x1 conv == 1x1 conv scaled by the per-pixel norm factor.
            factor = torch.rsqrt(x.square().mean(dim=1, keepdim=True).add_(EPS))
            y = F.conv2d(x, self.weights[n])
            y = y * factor + self.biases[n].view(1, -1, 1, 1) if grad \
                else y.mul_(factor).add_(self.biases[n].view(1, -1, 1, 1))
            return y.float().contiguous()

    def early_features(self, z: Tensor) -> Tensor:
        """z (N, latent) -> features.1's 4x4 conv output before its activation, flattened
        (N, 16 * depths[1]) float32: what GANSpace takes PCA of (cheap: two small layers)."""
        with torch.inference_mode():
            x = pixel_norm_(self.features(z, 1))
            return F.conv2d(x, self.weights[1], self.biases[1], padding=1).contiguous().flatten(1)


def plain_forward(state: Mapping[str, Tensor], z: Tensor) -> Tensor:
    """The straightforward implementation, step by step as published, on the ORIGINAL
    state dict (any naming): z (N, latent) -> (N, channels, R, R) float32. The benchmark's
    baseline and the tests' reference; slower than KarrasGenerator."""
    state = normalise_names(state)
    n = len({k.split(".")[1] for k in state if k.startswith("features.")})
    x = z.reshape(z.shape[0], -1, 1, 1).float()

    def layer(x: Tensor, prefix: str, padding: int, up: bool, act: bool) -> Tensor:
        x = x / torch.sqrt((x ** 2).mean(dim=1, keepdim=True) + EPS)
        if up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = F.conv2d(x, state[f"{prefix}.conv.weight"], padding=padding)
        x = x * state[f"{prefix}.wscale.scale"] + state[f"{prefix}.wscale.b"].view(1, -1, 1, 1)
        return F.leaky_relu(x, LEAK) if act else x

    with torch.no_grad():
        for i in range(n):
            x = layer(x, f"features.{i}", 3 if i == 0 else 1, i >= 2 and i % 2 == 0, True)
        return layer(x, "output", 0, False, False)


def random_state(config: KarrasConfig, seed: int = 0) -> dict[str, Tensor]:
    """An original-layout state dict of random weights with `config`'s shapes (benchmarks,
    tests): He-normal convs with scale sqrt(2 / fan_in) as the network was trained, small biases."""
    gen = torch.Generator().manual_seed(seed)
    state, prev = {}, config.latent_dim
    specs = [(f"features.{i}", d, 4 if i == 0 else 3) for i, d in enumerate(config.depths)]
    specs.append(("output", config.channels, 1))
    for prefix, d, k in specs:
        state[f"{prefix}.conv.weight"] = torch.randn(d, prev, k, k, generator=gen)
        # features.0 sees a 1x1 input: its fan-in is the latent size, as in the original wscale.
        fan_in = prev if k == 4 else prev * k * k
        gain = 1.0 if prefix == "output" else math.sqrt(2.0)
        state[f"{prefix}.wscale.scale"] = torch.tensor([gain / math.sqrt(fan_in)])
        state[f"{prefix}.wscale.b"] = 0.1 * torch.randn(d, generator=gen)
        prev = d
    return state


# --- the published file, by name ------------------------------------------------------------

@dataclass(frozen=True)
class KarrasPublished:
    """A published weights file of this family. No checksum is published for it: the first
    download's size and SHA-256 are recorded beside it in the cache (`<file>.record.json`)
    and checked on every later load (trust on first use)."""

    name: str
    url: str
    resolution: int
    dataset: str
    source: str
    licence: str
    approx_mb: int = 92  # the 1024 px generator alone: about 23 M float32 parameters

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]

    def info(self) -> dict[str, Any]:
        """JSON-able description for the CLI / UI (sha256_prefix None: none is published)."""
        return {"url": self.url, "filename": self.filename, "sha256_prefix": None, "resolution": self.resolution,
                "dataset": self.dataset, "source": self.source, "licence": self.licence,
                "approx_mb": self.approx_mb}


KARRAS_PUBLISHED = {
    "karras-celebahq-1024": KarrasPublished(
        "karras-celebahq-1024",
        "https://github.com/LaurentMazare/ocaml-torch/releases/download/v0.1-unstable/prog-gan.ot",
        1024, "CelebA-HQ faces",
        "Karras et al. 2018 (Progressive Growing of GANs), CelebA-HQ generator as published by ocaml-torch "
        "(release v0.1-unstable, prog-gan.ot)",
        "CC BY-NC 4.0 (NVIDIA's original weights; non-commercial use)"),
}
RECORD_SUFFIX = ".record.json"


def record_path(path: Path) -> Path:
    """Where the size + SHA-256 of a cached download are recorded: `<file>.record.json`."""
    return path.with_name(path.name + RECORD_SUFFIX)


def record_download(path: Path, url: str) -> dict[str, Any]:
    """Hash `path` and write {url, filename, size, sha256} beside it (atomically); -> the record."""
    import json
    import os
    import tempfile

    from ganlab.pretrained.zoo import sha256_of

    record = {"url": url, "filename": path.name, "size": path.stat().st_size, "sha256": sha256_of(path)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=2)
        os.replace(tmp, record_path(path))
    finally:
        Path(tmp).unlink(missing_ok=True)
    return record


def verify_recorded(path: Path) -> dict[str, Any] | None:
    """Check `path` against its record: -> the record, None when there is none.

    Raises CheckpointError when the size or SHA-256 differ from the recorded ones (the file
    changed since its first download) or the record is unreadable.
    """
    import json

    from ganlab.pretrained.zoo import sha256_of

    rec_path = record_path(path)
    if not rec_path.is_file():
        return None
    try:
        record = json.loads(rec_path.read_text())
        size, digest = int(record["size"]), str(record["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{rec_path} is unreadable ({exc}); delete it and {path.name} to download "
                              "again") from None
    actual_size = path.stat().st_size
    actual = sha256_of(path) if actual_size == size else None
    if actual_size != size or actual != digest:
        found = f"{actual_size} bytes" + (f", SHA-256 {actual}" if actual else "")
        raise CheckpointError(
            f"{path} changed since it was first downloaded (recorded {size} bytes, SHA-256 {digest}; now {found}); "
            f"delete it and {rec_path.name} to download it again, or restore the original file"
        )
    return record


def download_karras(name: str, progress: Any = None) -> tuple[Path, dict[str, Any]]:
    """Path of a published Karras file in `cache_dir()/pretrained/` and its size/SHA-256 record.

    Downloads it when absent (ganlab.download.fetch: progress, atomic), checks it is a
    checkpoint at all (a web page is deleted), then records its size and SHA-256; a cached
    file is verified against its record (recorded now if the file was put there by hand).
    Raises OfflineError when the server cannot be reached (`zoo.offline_error`: size, where to
    put a copy), DataError when every download fails, CheckpointError for a bad or changed file.
    """
    entry = KARRAS_PUBLISHED[name]
    from ganlab.download import cache_dir, fetch  # lazy: only needed when online
    from ganlab.errors import OfflineError
    from ganlab.pretrained.archive import sniff
    from ganlab.pretrained.zoo import offline_error

    dest = cache_dir() / "pretrained" / entry.filename
    if dest.is_file():
        record = verify_recorded(dest)
        return dest, record if record is not None else record_download(dest, entry.url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(fetch([entry.url], dest, progress=progress))
    except OfflineError as exc:
        raise offline_error(name, entry.url, entry.approx_mb, dest, exc) from None
    try:
        sniff(path)
    except CheckpointError:
        path.unlink(missing_ok=True)  # never keep (or record) a web page as the weights
        raise
    return path, record_download(path, entry.url)
