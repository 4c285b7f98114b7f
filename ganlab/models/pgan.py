"""Progressive GAN (Karras et al. 2018): a growable generator and discriminator.

The layers, their order and their arithmetic follow facebookresearch/pytorch_GAN_zoo
(`models/networks/progressive_conv_net.py`), so a zoo checkpoint loads into these
classes after renaming its keys (see `ganlab.pretrained.zoo`) and reproduces the
zoo's outputs:

- equalized learning rate: weights are stored N(0, 1) and the layer OUTPUT (bias
  included) is multiplied by He's constant sqrt(2 / fan_in);
- pixel norm ("NormalizationLayer"): x / sqrt(mean over channels of x^2 + 1e-8);
- G: pixel-normed latent -> linear to (depth0, 4, 4) -> 3x3 conv; then per added
  scale: nearest x2 upsample + two 3x3 convs; every layer is followed by LeakyReLU
  and pixel norm; a 1x1 "to RGB" conv per scale;
- fade-in: with alpha > 0 the output is alpha * upsampled(RGB of the previous
  scale) + (1 - alpha) * RGB of the newest scale, so alpha = 1 shows only the
  low-resolution path; the output activation (tanh or none) comes after blending.

Resolution of a network with k added scales: 4 * 2**k.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError
from ganlab.models.base import MODELS

if TYPE_CHECKING:
    from ganlab.config import Config

OUTPUTS = ("linear", "tanh")
PIXEL_NORM_EPS = 1e-8


def resolution_of(num_scales: int) -> int:
    """Image side of a progressive network with `num_scales` resolutions (4x4 is the first)."""
    return 4 * 2 ** (num_scales - 1)


@dataclass(frozen=True)
class PGANConfig:
    """Architecture of a progressive GAN; JSON-able through `to_dict` / `from_dict`.

    latent_dim: size of z. depth_scale0: channels at 4x4. depth_other_scales: channels
    of each added scale (8x8, 16x16, ...). channels: image channels (3 RGB, 1 grey).
    leaky: LeakyReLU slope. pixel_norm: normalise z and every G feature map.
    equalized: equalized learning rate. output: "linear" or "tanh" (G's last layer).
    alpha: fade-in weight of the previous scale, in [0, 1]. minibatch_std: D appends
    the minibatch standard-deviation channel at 4x4.
    """

    latent_dim: int = 512
    depth_scale0: int = 512
    depth_other_scales: tuple[int, ...] = ()
    channels: int = 3
    leaky: float = 0.2
    pixel_norm: bool = True
    equalized: bool = True
    output: str = "linear"
    alpha: float = 0.0
    minibatch_std: bool = True

    def __post_init__(self) -> None:
        # JSON gives lists; a tuple keeps the frozen config hashable.
        object.__setattr__(self, "depth_other_scales", tuple(self.depth_other_scales))
        for name in ("latent_dim", "depth_scale0", "channels"):
            _check_positive_int(name, getattr(self, name))
        for i, depth in enumerate(self.depth_other_scales):
            _check_positive_int(f"depth_other_scales[{i}]", depth)
        if self.output not in OUTPUTS:
            raise ConfigError(
                f"unknown output {self.output!r}; use one of {', '.join(OUTPUTS)}"
            )
        _check_alpha(self.alpha)
        if not isinstance(self.leaky, (int, float)) or not 0.0 <= self.leaky < 1.0:
            raise ConfigError(f"leaky must be a slope in [0, 1), got {self.leaky!r}")

    @property
    def resolution(self) -> int:
        """Side of the generated image in pixels."""
        return resolution_of(1 + len(self.depth_other_scales))

    def to_dict(self) -> dict:
        """Plain JSON-able dict (lists, not tuples)."""
        d = asdict(self)
        d["depth_other_scales"] = list(self.depth_other_scales)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "PGANConfig":
        """Inverse of `to_dict`; unknown keys raise ConfigError naming the valid ones."""
        if not isinstance(data, dict):
            raise ConfigError(f"a PGAN config must be a JSON object, got {type(data).__name__}")
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ConfigError(
                f"unknown PGAN config key(s) {', '.join(unknown)}; valid keys: {', '.join(valid)}"
            )
        return cls(**data)


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _check_alpha(alpha: object) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}")


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """(N, C, ...) -> same shape, each position scaled to unit mean square over C."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + PIXEL_NORM_EPS)


def upscale2d(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W), nearest neighbour (each pixel becomes 2x2)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """(N, C, H, W) -> (N, C + 1, H, W): append the mean feature std of the sample's group.

    Groups are consecutive samples; the group size is min(N, group_size), or N when
    that does not divide N (as in the zoo). A batch of one gets a zero channel.
    The std is sqrt(unbiased variance + 1e-8), averaged over C, H and W.
    """
    n, c, h, w = x.shape
    size = min(n, group_size)
    if n % size != 0:
        size = n
    if size == 1:
        extra = x.new_zeros(n, 1, h, w)
    else:
        groups = x.view(n // size, size, c, h, w)
        std = torch.sqrt(groups.var(dim=1) + 1e-8).mean(dim=(1, 2, 3))  # (G,)
        extra = std.repeat_interleave(size).view(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, extra], dim=1)


def he_constant(weight: torch.Tensor) -> float:
    """sqrt(2 / fan_in), fan_in = product of all weight dims but the first."""
    return math.sqrt(2.0 / math.prod(weight.shape[1:]))


class _EqualizedLayer(nn.Module):
    """Shared init for the equalized layers: weight, zero bias, runtime scale.

    With `equalized` the weight is N(0, 1) and outputs are scaled by He's constant;
    without it the weight is drawn N(0, he^2) directly (He init) and not rescaled.
    """

    def __init__(self, shape: tuple[int, ...], equalized: bool, generator: torch.Generator | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(shape[0]))
        self.equalized = equalized
        he = he_constant(self.weight)
        self.scale = he if equalized else 1.0
        with torch.no_grad():
            self.weight.normal_(0.0, 1.0 if equalized else he, generator=generator)

    def _scaled(self, out: torch.Tensor) -> torch.Tensor:
        return out * self.scale if self.equalized else out


class EqualizedLinear(_EqualizedLayer):
    """(N, in_features) -> (N, out_features); output (bias included) times sqrt(2 / in)."""

    def __init__(self, in_features: int, out_features: int, *, equalized: bool = True,
                 generator: torch.Generator | None = None) -> None:
        super().__init__((out_features, in_features), equalized, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._scaled(F.linear(x, self.weight, self.bias))


class EqualizedConv2d(_EqualizedLayer):
    """(N, in, H, W) -> (N, out, H', W'); output (bias included) times sqrt(2 / (in k k))."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0,
                 equalized: bool = True, generator: torch.Generator | None = None) -> None:
        super().__init__((out_channels, in_channels, kernel_size, kernel_size), equalized, generator)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._scaled(F.conv2d(x, self.weight, self.bias, padding=self.padding))


class ConvPair(nn.Module):
    """The two 3x3 convolutions of one added scale (activations are applied by the caller)."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, *, equalized: bool,
                 generator: torch.Generator | None) -> None:
        super().__init__()
        self.conv1 = EqualizedConv2d(in_channels, mid_channels, 3, padding=1,
                                     equalized=equalized, generator=generator)
        self.conv2 = EqualizedConv2d(mid_channels, out_channels, 3, padding=1,
                                     equalized=equalized, generator=generator)


class _Progressive(nn.Module):
    """What G and D share: the config fields, the scale list and a validated alpha."""

    def __init__(self, config: PGANConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.channels = config.channels
        self.leaky = float(config.leaky)
        self.pixel_norm = config.pixel_norm
        self.equalized = config.equalized
        self.output = config.output
        self.minibatch_std = config.minibatch_std
        self.depths = [config.depth_scale0]
        self._alpha = 0.0

    @property
    def alpha(self) -> float:
        """Fade-in weight of the previous scale: 0 = newest scale only, 1 = previous only.

        Ignored while the network has no added scale.
        """
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        _check_alpha(value)
        self._alpha = float(value)

    @property
    def num_scales(self) -> int:
        """Number of resolutions, 4x4 included."""
        return len(self.depths)

    @property
    def resolution(self) -> int:
        return resolution_of(len(self.depths))

    @property
    def config(self) -> PGANConfig:
        """The config that rebuilds this network as grown so far (weights aside)."""
        return PGANConfig(
            latent_dim=self.latent_dim, depth_scale0=self.depths[0],
            depth_other_scales=tuple(self.depths[1:]), channels=self.channels,
            leaky=self.leaky, pixel_norm=self.pixel_norm, equalized=self.equalized,
            output=self.output, alpha=self._alpha, minibatch_std=self.minibatch_std,
        )

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.leaky)

    def _new_layer_device(self) -> tuple[torch.device, torch.dtype]:
        p = next(self.parameters())
        return p.device, p.dtype


class Generator(_Progressive):
    """z (N, latent_dim) -> images (N, channels, R, R), R = 4 * 2**len(depth_other_scales).

    Parameters (names): format_layer (linear to 16 * depth0), conv0 (3x3 at 4x4),
    blocks[i].conv1/conv2 (scale i+1), to_rgb[i] (1x1, scale i). Weights are drawn
    from `generator` so the same seed gives the same network.
    """

    def __init__(self, config: PGANConfig, generator: torch.Generator | None = None) -> None:
        super().__init__(config)
        d0, eq = config.depth_scale0, config.equalized
        self.format_layer = EqualizedLinear(config.latent_dim, 16 * d0, equalized=eq, generator=generator)
        self.conv0 = EqualizedConv2d(d0, d0, 3, padding=1, equalized=eq, generator=generator)
        self.blocks = nn.ModuleList()
        self.to_rgb = nn.ModuleList([EqualizedConv2d(d0, config.channels, 1, equalized=eq, generator=generator)])
        for depth in config.depth_other_scales:
            self.add_scale(depth, generator)
        self.alpha = config.alpha

    def add_scale(self, depth: int, generator: torch.Generator | None = None) -> None:
        """Grow by one scale (resolution x2) whose convolutions have `depth` channels.

        alpha is left unchanged; a trainer usually sets alpha = 1 right after growing
        and lowers it to 0 during the fade-in.
        """
        _check_positive_int("depth", depth)
        device, dtype = self._new_layer_device()
        block = ConvPair(self.depths[-1], depth, depth, equalized=self.equalized, generator=generator)
        rgb = EqualizedConv2d(depth, self.channels, 1, equalized=self.equalized, generator=generator)
        self.blocks.append(block.to(device, dtype))
        self.to_rgb.append(rgb.to(device, dtype))
        self.depths.append(depth)

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(x) if self.pixel_norm else x

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent_dim) (or (N, latent_dim, 1, 1)) -> raw images (N, C, R, R).

        y: ignored (no classes); there so that trainers call every family alike.
        """
        x = self._norm(z.flatten(1))
        x = self._act(self.format_layer(x)).view(x.shape[0], -1, 4, 4)
        # The zoo normalises here unconditionally (and so cannot run without pixel
        # norm); with pixel_norm on, which every zoo checkpoint uses, this matches it.
        x = self._norm(x)
        x = self._norm(self._act(self.conv0(x)))
        low = None
        blend = self._alpha > 0 and len(self.blocks) > 0
        for i, block in enumerate(self.blocks):
            if blend and i == len(self.blocks) - 1:
                low = upscale2d(self.to_rgb[-2](x))
            x = upscale2d(x)
            x = self._norm(self._act(block.conv1(x)))
            x = self._norm(self._act(block.conv2(x)))
        x = self.to_rgb[-1](x)
        if low is not None:
            x = self._alpha * low + (1.0 - self._alpha) * x
        if self.output == "tanh":
            x = torch.tanh(x)
        return x


class Discriminator(_Progressive):
    """images (N, channels, R, R) -> scores (N, decision_dim), linear (losses add activations).

    Parameters (names): from_rgb[i] (1x1, scale i), blocks[i].conv1 (depth_{i+1} ->
    depth_{i+1}) and .conv2 (depth_{i+1} -> depth_i) for scale i+1, conv0 (3x3 at
    4x4, one extra input channel with minibatch_std), dense0 (16 * depth0 -> depth0),
    decision (depth0 -> decision_dim). No pixel norm in D.

    Fade-in: with alpha > 0 the features entering the previous scale are
    alpha * fromRGB(avgpool(x)) + (1 - alpha) * (newest block's output). The zoo's D
    skips this blend while exactly one scale has been added (8x8); we always blend.
    """

    def __init__(self, config: PGANConfig, decision_dim: int = 1,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(config)
        _check_positive_int("decision_dim", decision_dim)
        d0, eq = config.depth_scale0, config.equalized
        self.decision_dim = decision_dim
        self.from_rgb = nn.ModuleList([EqualizedConv2d(config.channels, d0, 1, equalized=eq, generator=generator)])
        self.blocks = nn.ModuleList()
        extra = 1 if config.minibatch_std else 0
        self.conv0 = EqualizedConv2d(d0 + extra, d0, 3, padding=1, equalized=eq, generator=generator)
        self.dense0 = EqualizedLinear(16 * d0, d0, equalized=eq, generator=generator)
        self.decision = EqualizedLinear(d0, decision_dim, equalized=eq, generator=generator)
        for depth in config.depth_other_scales:
            self.add_scale(depth, generator)
        self.alpha = config.alpha

    def add_scale(self, depth: int, generator: torch.Generator | None = None) -> None:
        """Grow by one scale (input resolution x2) whose convolutions have `depth` channels."""
        _check_positive_int("depth", depth)
        device, dtype = self._new_layer_device()
        block = ConvPair(depth, depth, self.depths[-1], equalized=self.equalized, generator=generator)
        rgb = EqualizedConv2d(self.channels, depth, 1, equalized=self.equalized, generator=generator)
        self.blocks.append(block.to(device, dtype))
        self.from_rgb.append(rgb.to(device, dtype))
        self.depths.append(depth)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x (N, channels, R, R) -> (N, decision_dim)."""
        r = self.resolution
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, r, r):
            raise ConfigError(
                f"the discriminator expects images of shape (N, {self.channels}, {r}, {r}), "
                f"got {tuple(x.shape)}; resize the images or grow/shrink the network"
            )
        low = None
        if self._alpha > 0 and len(self.blocks) > 0:
            low = self._act(self.from_rgb[-2](F.avg_pool2d(x, 2)))
        x = self._act(self.from_rgb[-1](x))
        for i, block in enumerate(reversed(self.blocks)):
            x = self._act(block.conv1(x))
            x = self._act(block.conv2(x))
            x = F.avg_pool2d(x, 2)
            if i == 0 and low is not None:
                x = self._alpha * low + (1 - self._alpha) * x
        if self.minibatch_std:
            x = minibatch_stddev(x)
        x = self._act(self.conv0(x))
        x = self._act(self.dense0(x.flatten(1)))
        return self.decision(x)


# --- the registered builder: networks sized for a run -------------------------

MIN_DEPTH = 16


def check_resolution(res: int) -> None:
    """ConfigError unless `res` is a power of two >= 8 (the sides a progressive GAN grows to)."""
    if res < 8 or res & (res - 1):
        raise ConfigError(f"a progressive GAN needs a square image side that is a power of two >= 8 "
                          f"(8, 16, 32, 64, ...), got {res}; set image_size=32 (or 64)")


def scale_depths(resolution: int, width: int) -> tuple[int, ...]:
    """Channels of each scale 4, 8, ..., resolution: `width` at 4x4 and 8x8, then halved
    per scale down to MIN_DEPTH (e.g. 32 px, width 128 -> (128, 128, 64, 32))."""
    k = int(math.log2(resolution // 4))
    floor = min(MIN_DEPTH, width)
    return (width, *(max(floor, width >> (i - 1)) for i in range(1, k + 1)))


def net_config(latent_dim: int, depths: tuple[int, ...], channels: int, grown: bool = True) -> PGANConfig:
    """The network of a run: linear output as in the zoo's WGAN-GP models, minibatch std in D.

    grown=False gives the 4x4 start a trainer grows from (depths[0] channels only)."""
    return PGANConfig(latent_dim=latent_dim, depth_scale0=depths[0],
                      depth_other_scales=tuple(depths[1:]) if grown else (),
                      channels=channels, leaky=0.2, output="linear", minibatch_std=True)


@MODELS.register("pgan", help="progressive GAN (Karras et al. 2018), grown 4x4 -> image size while it trains")
def build_pgan(cfg: "Config", info: DataInfo, rng: torch.Generator) -> tuple[nn.Module, nn.Module]:
    """The fully grown (G, D) of a run (for tools that want plain networks); training
    grows them from 4x4 instead (`ganlab.train.progressive.ProgressiveTrainer`)."""
    if info.kind != "image":
        raise ConfigError(f"model 'pgan' needs an image data set; {info.name!r} is made of points "
                          "(use mnist, fashion_mnist or image_folder)")
    res = int(info.shape[-1])
    check_resolution(res)
    full = net_config(cfg.latent_dim, scale_depths(res, cfg.g_width), int(info.shape[0]))
    return Generator(full, rng), Discriminator(full, generator=rng)
