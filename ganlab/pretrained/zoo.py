"""pytorch_GAN_zoo progressive-GAN checkpoints: published files and conversion.

A zoo checkpoint (read safely by `unpickle.load_zoo_file`) holds the training
config (attributes such as depthScale0, depthOtherScales, latentVectorDim,
dimOutput, leakyReluLeak, perChannelNormalization, equalizedlR, alpha,
lossCriterion, miniBatchStdDev) and the state dicts of the plain generator
`netG`, its moving average `avgG` and the discriminator `netD`. Their keys are
the zoo's layer names with a `.module.` step (`toRGBLayers.2.module.weight`);
very old files omit the `.module.`. Both are renamed to `ganlab.models.pgan` names.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch

from ganlab.errors import CheckpointError, ConfigError, OfflineError
from ganlab.models.pgan import Discriminator, Generator, PGANConfig
from ganlab.pretrained.unpickle import load_zoo_file
from ganlab.registry import Registry

# Loss -> the generator's last activation, as in the zoo's loss criteria.
LOSS_OUTPUT = {"WGANGP": "linear", "Logistic": "linear", "DCGAN": "tanh", "MSE": "tanh"}


# The size a person fetching a published file by hand should expect, in MB (10**6 bytes).
# No size is published: estimated from the architecture, each zoo file holding netG, avgG and
# netD of about 23 M float32 parameters each (depth 512 to 64 px, halving after).
APPROX_ZOO_MB = 277


@dataclass(frozen=True)
class PublishedCheckpoint:
    """One checkpoint published with pytorch_GAN_zoo's hubconf.py.

    The file name ends in the first hex digits of its SHA-256 (torch.hub's
    convention), checked after download. `resolution` is 4 * 2**scale, read from
    the `_s<scale>_` part of the file name.
    """

    name: str
    url: str
    resolution: int
    dataset: str
    approx_mb: int = APPROX_ZOO_MB

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def sha256_prefix(self) -> str:
        match = re.search(r"-([0-9a-f]+)\.pth$", self.filename)
        if match is None:  # a malformed table entry is a bug, not a user error
            raise ValueError(f"{self.filename} does not end in -<hex>.pth")
        return match.group(1)

    def info(self) -> dict[str, Any]:
        """JSON-able description for the CLI / UI."""
        return {"url": self.url, "filename": self.filename, "sha256_prefix": self.sha256_prefix,
                "resolution": self.resolution, "dataset": self.dataset, "approx_mb": self.approx_mb}


_BASE = "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/"
# The URLs of pytorch_GAN_zoo's hubconf.py (PGAN entry point).
_PUBLISHED_LIST = (
    PublishedCheckpoint("celebAHQ-256", _BASE + "celebaHQ_s6_i80000-6196db68.pth", 256, "CelebA-HQ faces"),
    PublishedCheckpoint("celebAHQ-512", _BASE + "celebaHQ16_december_s7_i96000-9c72988c.pth", 512,
                        "CelebA-HQ faces"),
    PublishedCheckpoint("DTD", _BASE + "testDTD_s5_i96000-04efa39f.pth", 128, "Describable Textures"),
    PublishedCheckpoint("celeba", _BASE + "celebaCropped_s5_i83000-2b0acc76.pth", 128,
                        "CelebA faces, cropped"),
)
PUBLISHED: Registry[PublishedCheckpoint] = Registry("published checkpoint")
for _entry in _PUBLISHED_LIST:
    PUBLISHED.add(_entry.name, _entry, help=f"{_entry.dataset}, {_entry.resolution}x{_entry.resolution}")


@dataclass(frozen=True)
class ZooCheckpoint:
    """A zoo checkpoint as plain data: config dict and state dicts (zoo key names)."""

    path: Path
    config: dict[str, Any]
    net_g: dict[str, torch.Tensor]
    avg_g: dict[str, torch.Tensor] | None
    net_d: dict[str, torch.Tensor] | None


def read_zoo_checkpoint(path: str | Path) -> ZooCheckpoint:
    """Load and check the structure of a zoo `.pth`; CheckpointError when it is not one."""
    path = Path(path)
    return zoo_checkpoint(path, load_zoo_file(path))


def is_zoo_checkpoint(obj: Any) -> bool:
    """True when an unpickled object has the zoo's top-level shape ('config' and 'netG')."""
    return isinstance(obj, dict) and "netG" in obj and "config" in obj


def zoo_checkpoint(path: Path, obj: Any) -> ZooCheckpoint:
    """Check the structure of an already unpickled zoo checkpoint; CheckpointError when it is not one."""
    if not is_zoo_checkpoint(obj):
        keys = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"{path} is a torch file but not a pytorch_GAN_zoo checkpoint (expected a dict with "
            f"'config' and 'netG', found {keys}); pass a .pth saved by the zoo's trainer"
        )
    config = obj["config"]
    if not isinstance(config, dict):
        raise CheckpointError(
            f"{path}: 'config' is a {type(config).__name__}, not a zoo BaseConfig; the file was "
            "not written by pytorch_GAN_zoo"
        )
    return ZooCheckpoint(
        path=path, config=config,
        net_g=_state(path, obj, "netG"),
        avg_g=_state(path, obj, "avgG") if obj.get("avgG") is not None else None,
        net_d=_state(path, obj, "netD") if obj.get("netD") is not None else None,
    )


def _state(path: Path, obj: dict, key: str) -> dict[str, torch.Tensor]:
    state = obj[key]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{path}: '{key}' is not a state dict of named tensors; the file is damaged")
    return dict(state)


def pgan_config(ckpt: ZooCheckpoint) -> PGANConfig:
    """Translate the zoo config (and the format layer's shape) into a `PGANConfig`."""
    cfg = ckpt.config
    missing = [k for k in ("depthScale0", "depthOtherScales", "dimOutput") if k not in cfg]
    if missing:
        raise CheckpointError(
            f"{ckpt.path}: the zoo config lacks {', '.join(missing)}; it is not a progressive-GAN "
            "(PGAN) checkpoint"
        )
    # Every zoo trainer records its loss; WGANGP is the zoo's default when absent.
    loss = cfg.get("lossCriterion", "WGANGP")
    if loss not in LOSS_OUTPUT:
        raise CheckpointError(
            f"{ckpt.path}: unknown lossCriterion {loss!r}; supported: {', '.join(LOSS_OUTPUT)}"
        )
    fmt = ckpt.net_g.get("formatLayer.module.weight", ckpt.net_g.get("formatLayer.weight"))
    if fmt is None or fmt.dim() != 2:
        raise CheckpointError(f"{ckpt.path}: netG has no formatLayer weight; the file is damaged")
    latent = cfg.get("latentVectorDim", fmt.shape[1])
    if latent != fmt.shape[1]:
        raise CheckpointError(
            f"{ckpt.path}: config latentVectorDim {latent} disagrees with the format layer's "
            f"input size {fmt.shape[1]}; the file is damaged"
        )
    try:
        return PGANConfig(
            latent_dim=int(fmt.shape[1]), depth_scale0=cfg["depthScale0"],
            depth_other_scales=tuple(cfg["depthOtherScales"]), channels=cfg["dimOutput"],
            leaky=cfg.get("leakyReluLeak", 0.2), pixel_norm=cfg.get("perChannelNormalization", True),
            equalized=cfg.get("equalizedlR", True), output=LOSS_OUTPUT[loss],
            alpha=cfg.get("alpha", 0.0), minibatch_std=cfg.get("miniBatchStdDev", False),
        )
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{ckpt.path}: unusable zoo config ({exc})") from None


_G_PATTERNS = (
    (r"formatLayer\.", "format_layer."),
    (r"groupScale0\.0\.", "conv0."),
    (r"scaleLayers\.(\d+)\.([01])\.", lambda m: f"blocks.{m[1]}.conv{int(m[2]) + 1}."),
    (r"toRGBLayers\.(\d+)\.", r"to_rgb.\1."),
)
_D_PATTERNS = (
    (r"fromRGBLayers\.(\d+)\.", r"from_rgb.\1."),
    (r"scaleLayers\.(\d+)\.([01])\.", lambda m: f"blocks.{m[1]}.conv{int(m[2]) + 1}."),
    (r"groupScaleZero\.0\.", "conv0."),
    (r"groupScaleZero\.1\.", "dense0."),
    (r"decisionLayer\.", "decision."),
)


def rename_state(state: dict[str, torch.Tensor], patterns: tuple, path: Path) -> dict[str, torch.Tensor]:
    """Zoo key names -> ours; `.module.` is optional. Unknown keys raise CheckpointError."""
    out = {}
    for key, value in state.items():
        key_plain = key.replace(".module.", ".")
        for pattern, repl in patterns:
            new, n = re.subn("^" + pattern, repl, key_plain)
            if n:
                out[new] = value
                break
        else:
            raise CheckpointError(f"{path}: unexpected parameter {key!r}; not a PGAN checkpoint")
    return out


def load_state_checked(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """`module.load_state_dict(state)`, with a CheckpointError naming what does not fit."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing[:4])}")
        if unexpected:
            problems.append(f"unexpected {', '.join(unexpected[:4])}")
        if wrong:
            problems.append("shape mismatch " + ", ".join(
                f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in wrong[:4]))
        raise CheckpointError(
            f"{path}: {what} weights do not match the architecture in its config "
            f"({'; '.join(problems)}); the file is damaged or from another model"
        )
    module.load_state_dict(state)


def build_generator(ckpt: ZooCheckpoint, average: bool = True) -> Generator:
    """Our generator with the zoo weights: `avgG` (the moving average) or `netG`."""
    if average and ckpt.avg_g is None:
        raise CheckpointError(
            f"{ckpt.path} has no averaged generator 'avgG'; load it with average=False"
        )
    state = ckpt.avg_g if average else ckpt.net_g
    gen = Generator(pgan_config(ckpt))
    load_state_checked(gen, rename_state(state, _G_PATTERNS, ckpt.path), ckpt.path, "avgG" if average else "netG")
    return gen.eval()


def build_discriminator(ckpt: ZooCheckpoint) -> Discriminator:
    """Our discriminator with the zoo's `netD` weights (decision size from the weights)."""
    if ckpt.net_d is None:
        raise CheckpointError(f"{ckpt.path} has no discriminator 'netD'")
    state = rename_state(ckpt.net_d, _D_PATTERNS, ckpt.path)
    decision = state.get("decision.weight")
    if decision is None:
        raise CheckpointError(f"{ckpt.path}: netD has no decisionLayer; the file is damaged")
    conv0 = state.get("conv0.weight")
    config = pgan_config(ckpt)
    if conv0 is not None:
        # The weights are the authority on the minibatch-std channel, not the config.
        config = replace(config, minibatch_std=conv0.shape[1] == config.depth_scale0 + 1)
    disc = Discriminator(config, decision_dim=int(decision.shape[0]))
    load_state_checked(disc, state, ckpt.path, "netD")
    return disc.eval()


def download_published(name: str, progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Path of a published checkpoint in `cache_dir()/pretrained/`, downloaded if absent.

    A fresh download whose SHA-256 does not start with the prefix in its file name
    is deleted and raises CheckpointError; OfflineError (`offline_error`) when the
    server cannot be reached, DataError when the download fails otherwise.
    """
    entry = PUBLISHED.get(name)
    from ganlab.download import cache_dir, fetch  # lazy: only needed when online

    dest = cache_dir() / "pretrained" / entry.filename
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(fetch([entry.url], dest, progress=progress))
    except OfflineError as exc:
        raise offline_error(name, entry.url, entry.approx_mb, dest, exc) from None
    digest = sha256_of(path)
    if not digest.startswith(entry.sha256_prefix):
        path.unlink(missing_ok=True)
        raise CheckpointError(
            f"the download of {entry.filename} is corrupt (SHA-256 {digest[:12]}..., expected "
            f"{entry.sha256_prefix}...); it was deleted: try again, or fetch {entry.url} "
            f"yourself and place it at {dest}"
        )
    return path


def offline_error(name: str, url: str, approx_mb: int, dest: Path, cause: OfflineError) -> OfflineError:
    """The message for a published file that could not be fetched because the network is out
    of reach: that the machine seems offline, the file's size, and where a copy downloaded
    elsewhere must go (`dest`, in the cache folder) to be loaded without the network."""
    reason = "; ".join(cause.reasons) or "no server could be reached"
    return OfflineError(
        f"You seem to be offline: {name} could not be downloaded ({reason}). The file is "
        f"{dest.name}, about {round(approx_mb, -1)} MB. Download it on a machine with internet from {url} "
        f"and put it at {dest} (or set GANLAB_DATA to a folder holding pretrained/{dest.name}); "
        "it is then loaded from there with no network.")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
