"""Progressive growing of GANs (Karras et al. 2018): the trainer of `model = "pgan"`.

The networks are `ganlab.models.pgan.Generator` / `Discriminator` (pixel norm,
equalized learning rate, minibatch standard deviation in D). They start at 4x4
and grow one scale at a time (x2) up to the data's resolution, following a
schedule counted in real images shown to D (`PGANSchedule`):

    4x4 stabilise | 8x8 fade-in, 8x8 stabilise | 16x16 fade-in, ... | last scale: stabilise on

- fade-in: right after a scale is added, alpha goes linearly from 1 to 0 over
  `fade_images` images, in the zoo's convention (alpha = 1: only the upsampled
  low-resolution path; 0: only the new layers). G, D and the real images use the
  same alpha: a real batch is average-pooled to the current scale and blended
  with its own 2x-blurred copy, alpha * up(pool(x)) + (1 - alpha) * x, so D
  never sees sharper reals than G can make.
- the objective is the run's (`ganlab.objective`): the `pgan` preset sets the
  paper's WGAN-GP (Gulrajani et al. 2017) plus the drift term d_drift * E[D(real)^2]
  (d_drift = 1e-3); any other loss and regulariser works too;
- optimiser: Adam with the Config's lrs and betas (the `pgan` preset: beta1 = 0,
  beta2 = 0.99); the optimisers restart at every new scale, as in pytorch_GAN_zoo;
- the averaged generator G_ema (decay cfg.ema) is what `sample` and
  `ganlab.pretrained.export.export_generator` use.

`ProgressiveTrainer` is a `ganlab.train.trainer.Trainer`: one iteration is the
same D / G update; it replaces only the networks (grown), the real batch
(blended), its optimisers (rebuilt on growth), generation (upsampled to the
data's size while the network is smaller) and its log fields.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.config import PROGRESSIVE_LIVE_FIELDS, Config
from ganlab.data import Dataset
from ganlab.errors import ConfigError
from ganlab.models.pgan import Discriminator, Generator, check_resolution, net_config, resolution_of, scale_depths
from ganlab.train.trainer import Trainer


@dataclass(frozen=True)
class PGANSchedule:
    """How a progressive run grows (everything not in Config).

    depths: channels per scale, 4x4 first (len = number of scales; the last scale's
    resolution is 4 * 2**(len - 1)). stabilize_images / fade_images: real images shown
    to D per stabilisation / fade-in phase (the drift term is the Config's d_drift).
    phase_images: optional explicit length of every phase, in order (stabilise 4x4,
    fade-in 8x8, stabilise 8x8, ..., fade-in of the last scale: 2 * scales - 2
    entries); it supersedes stabilize_images / fade_images (e.g. shorter phases at
    the costly high resolutions). The last scale's stabilisation never ends.
    """

    depths: tuple[int, ...]
    stabilize_images: int = 60_000
    fade_images: int = 60_000
    phase_images: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "depths", tuple(int(d) for d in self.depths))
        object.__setattr__(self, "phase_images", tuple(int(n) for n in self.phase_images))
        if self.phase_images and (len(self.phase_images) != 2 * len(self.depths) - 2
                                  or min(self.phase_images) < 1):
            raise ConfigError(f"phase_images needs {2 * len(self.depths) - 2} positive image counts "
                              f"(stabilise 4x4, then fade-in and stabilise per added scale), got {self.phase_images}")
        if not self.depths or any(d < 1 for d in self.depths):
            raise ConfigError(f"depths must be a non-empty list of positive channel counts, got {self.depths}")
        for name in ("stabilize_images", "fade_images"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 image, got {getattr(self, name)}")

    @classmethod
    def for_config(cls, cfg: Config, resolution: int | None = None, **changes: Any) -> "PGANSchedule":
        """The default schedule of a run: depths from the image size and cfg.g_width, and
        2 * scales - 1 equal phases filling cfg.steps (the last one: stabilising at full
        size), so that `train --model pgan --steps N` always grows to the data's size."""
        res = resolution or cfg.image_size or 32
        check_resolution(res)
        depths = scale_depths(res, cfg.g_width)
        if cfg.steps > 0:
            per_phase = max(1, cfg.steps * cfg.batch_size // (2 * len(depths) - 1))
            changes = {"stabilize_images": per_phase, "fade_images": per_phase, **changes}
        return cls(depths=depths, **changes)

    @property
    def num_scales(self) -> int:
        return len(self.depths)

    @property
    def resolution(self) -> int:
        return resolution_of(len(self.depths))

    @property
    def phases(self) -> tuple[int, ...]:
        """Images of each phase but the last: stabilise 4x4, then (fade-in, stabilise) per scale
        up to the fade-in of the last scale."""
        if self.phase_images:
            return self.phase_images
        return (self.stabilize_images,) + (self.fade_images, self.stabilize_images) * (self.num_scales - 2) \
            + ((self.fade_images,) if self.num_scales > 1 else ())

    @property
    def growth_images(self) -> int:
        """Images until the last scale is fully faded in."""
        return sum(self.phases)

    def phase(self, images: int) -> tuple[int, float]:
        """(scale index, alpha) after `images` real images; scale 0 is 4x4."""
        left = images
        for i, length in enumerate(self.phases):
            if left < length:
                scale = (i + 1) // 2
                fading = i % 2 == 1
                return scale, (1.0 - left / length) if fading else 0.0
            left -= length
        return self.num_scales - 1, 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["depths"] = list(self.depths)
        d["phase_images"] = list(self.phase_images)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PGANSchedule":
        valid = {"depths", "stabilize_images", "fade_images", "phase_images"}
        unknown = sorted(set(d) - valid)
        if unknown:
            raise ConfigError(f"unknown schedule key(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
        return cls(**d)


class ProgressiveTrainer(Trainer):
    """A Trainer whose G, D (and G_ema) grow from 4x4 to the data's resolution."""

    live_fields = frozenset(PROGRESSIVE_LIVE_FIELDS)

    def __init__(self, cfg: Config, dataset: Dataset | None = None,
                 schedule: PGANSchedule | None = None) -> None:
        if cfg.model != "pgan":
            raise ConfigError(f"ProgressiveTrainer trains model 'pgan', got {cfg.model!r}; "
                              "use ganlab.train.Trainer")
        if cfg.batch_size % 4:
            raise ConfigError(f"batch_size {cfg.batch_size} must be a multiple of 4 (the minibatch-std "
                              f"groups of D); use {cfg.batch_size - cfg.batch_size % 4 or 4}")
        self._schedule_arg = schedule
        super().__init__(cfg, dataset)
        self.images_seen = 0

    # --- what differs from the plain trainer -------------------------------------
    def _check_data(self, data: Dataset) -> None:
        if data.info.kind != "image":
            raise ConfigError(f"model 'pgan' needs an image data set; {data.info.name!r} is made of points")
        self.resolution = int(data.info.shape[-1])
        check_resolution(self.resolution)
        self.schedule = self._schedule_arg or PGANSchedule.for_config(self.cfg, self.resolution)
        if self.schedule.resolution != self.resolution:
            raise ConfigError(f"the schedule grows to {self.schedule.resolution} px but the data is "
                              f"{self.resolution} px; give {int(math.log2(self.resolution)) - 1} depths")

    def _build_networks(self) -> tuple[nn.Module, nn.Module]:
        """The 4x4 networks (grown later), weights from cfg.seed's own generator, which
        also draws the layers each growth adds."""
        net = net_config(self.cfg.latent_dim, self.schedule.depths, int(self.info.shape[0]), grown=False)
        self.init_rng = torch.Generator().manual_seed(self.cfg.seed)
        return (Generator(net, self.init_rng).to(self.device),
                Discriminator(net, generator=self.init_rng).to(self.device))

    def _build_optimizers(self) -> None:
        cfg = self.cfg
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.d_lr, betas=(cfg.d_beta1, cfg.d_beta2))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.g_lr, betas=(cfg.g_beta1, cfg.g_beta2))
        self._d_params = list(self.D.parameters())
        self._g_params = list(self.G.parameters())

    def _real_batch(self, n: int) -> tuple[Tensor, None]:
        """n real images (n, C, r, r) in [-1, 1] at the current scale, blended during a fade-in."""
        x, _ = self.data.sample(n, self.rng)
        factor = self.resolution // self.current_resolution
        if factor > 1:
            x = F.avg_pool2d(x, factor)
        if self.alpha > 0:
            x = self.alpha * F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest") \
                + (1.0 - self.alpha) * x
        return x, None

    def real_batch(self, n: int) -> Tensor:
        """The real images D sees now: (n, C, r, r), see `_real_batch`."""
        return self._real_batch(n)[0]

    def _log_fields(self) -> dict[str, float]:
        return {"resolution": float(self.current_resolution), "alpha": round(self.alpha, 4)}

    # --- growth --------------------------------------------------------
    @property
    def scale(self) -> int:
        """Index of the newest scale (0 = 4x4)."""
        return self.G.num_scales - 1

    @property
    def alpha(self) -> float:
        return self.G.alpha

    @property
    def current_resolution(self) -> int:
        return self.G.resolution

    def grow(self) -> None:
        """Add the next scale to G, G_ema and D (new layers from the run's seed); fresh optimisers."""
        if self.scale + 1 >= self.schedule.num_scales:
            raise ConfigError(f"the network is already at its final resolution {self.resolution} px")
        depth = self.schedule.depths[self.scale + 1]
        self.G.add_scale(depth, self.init_rng)
        self.D.add_scale(depth, self.init_rng)
        if self.G_ema is not None:
            self.G_ema.add_scale(depth)
            # The average of the new layers starts at G's values, not at fresh noise.
            self.G_ema.blocks[-1].load_state_dict(self.G.blocks[-1].state_dict())
            self.G_ema.to_rgb[-1].load_state_dict(self.G.to_rgb[-1].state_dict())
            self.G_ema.requires_grad_(False)
        self._build_optimizers()

    def _set_alpha(self, alpha: float) -> None:
        for net in (self.G, self.D, self.G_ema):
            if net is not None:
                net.alpha = alpha

    def _set_phase(self) -> None:
        """Grow and set alpha to where the schedule is after `images_seen` images."""
        scale, alpha = self.schedule.phase(self.images_seen)
        while self.scale < scale:
            self.grow()
        self._set_alpha(alpha)

    def step(self, d: bool = True, g: bool = True) -> dict[str, float]:
        """One iteration at the scheduled scale / alpha (see `Trainer.step`)."""
        self._set_phase()
        images = self.cfg.batch_size
        out = super().step(d, g)
        self.images_seen += images
        return out

    # --- sampling ------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        """G(z) (N, latent_dim) -> (N, C, R, R) at the data resolution R (nearest-upsampled
        while the network is still smaller), in eval mode, on the trainer's device."""
        x = super().generate(z, None, ema=ema)
        factor = self.resolution // x.shape[-1]
        return F.interpolate(x, scale_factor=factor, mode="nearest") if factor > 1 else x

    # --- live changes and state ------------------------------------------
    def update(self, **changes: Any) -> None:
        """Change hyperparameters between steps (`live_fields`); optimiser moments are kept."""
        if "batch_size" in changes and int(changes["batch_size"]) % 4:
            raise ConfigError(f"batch_size {changes['batch_size']} must be a multiple of 4")
        super().update(**changes)

    def named_rngs(self) -> dict[str, torch.Generator]:
        return {"gen": self.rng, "init": self.init_rng}

    def extra_state(self) -> dict[str, Any]:
        return {"kind": "pgan", "images_seen": self.images_seen, "scale": self.scale, "alpha": self.alpha,
                "schedule": self.schedule.to_dict()}

    def prepare_load(self, extra: dict[str, Any]) -> None:
        """Grow to the saved scale (before the weights load) and take its alpha and images;
        a state from before the last growth (a rewind) starts again from 4x4 networks."""
        if self.scale > int(extra["scale"]):
            self.G, self.D = self._build_networks()
            self.g_net, self.d_net = self.G, self.D
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False) if self.G_ema is not None else None
            self._build_optimizers()
        while self.scale < int(extra["scale"]):
            self.grow()
        self._set_alpha(float(extra["alpha"]))
        self.images_seen = int(extra["images_seen"])


__all__ = ["PGANSchedule", "ProgressiveTrainer"]
