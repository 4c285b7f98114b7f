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
- loss: WGAN-GP (Gulrajani et al. 2017) plus the drift term eps_drift * E[D(real)^2]
  that keeps D's output near 0 (eps_drift = 1e-3 as in the paper);
- optimiser: Adam(beta1 = 0, beta2 = 0.99), lr 1e-3 by default (Config's g_lr /
  d_lr / betas; the `pgan` preset sets them); the optimisers restart at every new
  scale, as in pytorch_GAN_zoo;
- the averaged generator G_ema (decay cfg.ema) is what `sample` and
  `export_generator` use.

The trainer has the surface of `ganlab.trainer.Trainer` where it applies (step,
run, sample, evaluate, history, fixed_z, ...), so the CLI, the metrics and the
pages drive both alike. `save_progressive_run` / `load_progressive_run` write
and read a run directory; `build_trainer` picks the trainer for a Config.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab import __version__
from ganlab.config import LIVE_FIELDS, Config
from ganlab.data import Dataset, build_dataset
from ganlab.data.base import DataInfo
from ganlab.errors import CheckpointError, ConfigError, DivergenceError
from ganlab.models.pgan import Discriminator, Generator, PGANConfig, resolution_of
from ganlab.penalties import gradient_penalty
from ganlab.trainer import Trainer, resolve_device

EPS_DRIFT = 1e-3
MIN_DEPTH = 16
# Live changes that make sense for a progressive run (architecture and loss are fixed).
PGAN_LIVE_FIELDS = frozenset({
    "batch_size", "d_lr", "g_lr", "d_beta1", "d_beta2", "g_beta1", "g_beta2", "ema", "gp_weight",
    "steps", "eval_every", "eval_samples", "log_every", "minutes", "progress_every",
}) & LIVE_FIELDS


def scale_depths(resolution: int, width: int) -> tuple[int, ...]:
    """Channels of each scale 4, 8, ..., resolution: `width` at 4x4 and 8x8, then halved
    per scale down to MIN_DEPTH (e.g. 32 px, width 128 -> (128, 128, 64, 32))."""
    k = int(math.log2(resolution // 4))
    floor = min(MIN_DEPTH, width)
    return (width, *(max(floor, width >> (i - 1)) for i in range(1, k + 1)))


@dataclass(frozen=True)
class PGANSchedule:
    """How a progressive run grows (everything not in Config).

    depths: channels per scale, 4x4 first (len = number of scales; the last scale's
    resolution is 4 * 2**(len - 1)). stabilize_images / fade_images: real images shown
    to D per stabilisation / fade-in phase. eps_drift: weight of E[D(real)^2].
    phase_images: optional explicit length of every phase, in order (stabilise 4x4,
    fade-in 8x8, stabilise 8x8, ..., fade-in of the last scale: 2 * scales - 2
    entries); it supersedes stabilize_images / fade_images (e.g. shorter phases at
    the costly high resolutions). The last scale's stabilisation never ends.
    """

    depths: tuple[int, ...]
    stabilize_images: int = 60_000
    fade_images: int = 60_000
    eps_drift: float = EPS_DRIFT
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
        if not 0.0 <= self.eps_drift < 1.0:
            raise ConfigError(f"eps_drift must be in [0, 1), got {self.eps_drift} (the paper uses 1e-3)")

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
        valid = {"depths", "stabilize_images", "fade_images", "eps_drift", "phase_images"}
        unknown = sorted(set(d) - valid)
        if unknown:
            raise ConfigError(f"unknown schedule key(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
        return cls(**d)


def check_resolution(res: int) -> None:
    if res < 8 or res & (res - 1):
        raise ConfigError(f"a progressive GAN needs a square image side that is a power of two >= 8 "
                          f"(8, 16, 32, 64, ...), got {res}; set image_size=32 (or 64)")


def _net_config(cfg: Config, schedule: PGANSchedule, channels: int) -> PGANConfig:
    """The 4x4 network (grown later); linear output as in the zoo's WGAN-GP models."""
    return PGANConfig(latent_dim=cfg.latent_dim, depth_scale0=schedule.depths[0], depth_other_scales=(),
                      channels=channels, leaky=0.2, output="linear", minibatch_std=True)


class _Conditionless(nn.Module):
    """Adapter with the registry's call signature: G(z, y) / D(x, y) ignore y (no classes)."""

    def __init__(self, net: nn.Module, flatten: bool) -> None:
        super().__init__()
        self.net = net
        self.flatten = flatten

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        out = self.net(x)
        return out.flatten() if self.flatten else out


def build_pgan_models(cfg: Config, info: DataInfo, gen: torch.Generator) -> tuple[nn.Module, nn.Module]:
    """The fully grown (G, D) with the registry's signature (for tools that want plain networks).

    Training grows them instead: see `ProgressiveTrainer`.
    """
    if info.kind != "image":
        raise ConfigError(f"model 'pgan' needs an image data set; {info.name!r} is made of points "
                          "(use mnist, fashion_mnist or image_folder)")
    schedule = PGANSchedule.for_config(cfg, info.shape[-1])
    base = _net_config(cfg, schedule, info.shape[0])
    full = PGANConfig(**{**base.to_dict(), "depth_other_scales": schedule.depths[1:]})
    return (_Conditionless(Generator(full, gen), flatten=False),
            _Conditionless(Discriminator(full, generator=gen), flatten=True))


class ProgressiveTrainer:
    """Owns the growing G, D, G_ema, their optimisers, the data on the device and the history."""

    def __init__(self, cfg: Config, dataset: Dataset | None = None,
                 schedule: PGANSchedule | None = None) -> None:
        cfg.validate()
        if cfg.model != "pgan":
            raise ConfigError(f"ProgressiveTrainer trains model 'pgan', got {cfg.model!r}; use ganlab.trainer.Trainer")
        if cfg.loss != "wgan-gp":
            raise ConfigError(f"model 'pgan' trains with WGAN-GP plus the drift term (Karras et al. 2018), "
                              f"not loss {cfg.loss!r}; set loss=wgan-gp (the pgan preset does)")
        self.cfg = copy.deepcopy(cfg)
        self.device = resolve_device(cfg.device)
        data = dataset if dataset is not None else build_dataset(cfg.data_options())
        if data.info.kind != "image":
            raise ConfigError(f"model 'pgan' needs an image data set; {data.info.name!r} is made of points")
        self.data = data.to(self.device)
        self.info = data.info
        self.resolution = int(self.info.shape[-1])
        check_resolution(self.resolution)
        self.schedule = schedule or PGANSchedule.for_config(self.cfg, self.resolution)
        if self.schedule.resolution != self.resolution:
            raise ConfigError(f"the schedule grows to {self.schedule.resolution} px but the data is "
                              f"{self.resolution} px; give {int(math.log2(self.resolution)) - 1} depths")
        if cfg.batch_size % 4:
            raise ConfigError(f"batch_size {cfg.batch_size} must be a multiple of 4 (the minibatch-std "
                              f"groups of D); use {cfg.batch_size - cfg.batch_size % 4 or 4}")
        self.num_classes = 0
        self.fixed_y = None
        net = _net_config(self.cfg, self.schedule, self.info.shape[0])
        self._init_gen = torch.Generator().manual_seed(cfg.seed)  # weights, also of added scales
        self.G = Generator(net, self._init_gen).to(self.device)
        self.D = Discriminator(net, generator=self._init_gen).to(self.device)
        self.G_ema: Generator | None = copy.deepcopy(self.G).requires_grad_(False) if cfg.ema > 0 else None
        self.gen = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = torch.randn(cfg.n_fixed, cfg.latent_dim, generator=fixed).to(self.device)
        self._build_optimizers()
        self.images_seen = 0
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[dict[str, float]] = []
        self.diverged: str | None = None
        self.last: dict[str, float] = {"d_loss": float("nan"), "g_loss": float("nan")}
        self._acc = {"d_loss": 0.0, "g_loss": 0.0, "n": 0}

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

    def _build_optimizers(self) -> None:
        cfg = self.cfg
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.d_lr, betas=(cfg.d_beta1, cfg.d_beta2))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.g_lr, betas=(cfg.g_beta1, cfg.g_beta2))
        self._d_params = list(self.D.parameters())
        self._g_params = list(self.G.parameters())

    def grow(self) -> None:
        """Add the next scale to G, G_ema and D (new layers from the run's seed); fresh optimisers."""
        if self.scale + 1 >= self.schedule.num_scales:
            raise ConfigError(f"the network is already at its final resolution {self.resolution} px")
        depth = self.schedule.depths[self.scale + 1]
        self.G.add_scale(depth, self._init_gen)
        self.D.add_scale(depth, self._init_gen)
        if self.G_ema is not None:
            self.G_ema.add_scale(depth)
            # The average of the new layers starts at G's values, not at fresh noise.
            self.G_ema.blocks[-1].load_state_dict(self.G.blocks[-1].state_dict())
            self.G_ema.to_rgb[-1].load_state_dict(self.G.to_rgb[-1].state_dict())
            self.G_ema.requires_grad_(False)
        self._build_optimizers()

    def _set_phase(self) -> None:
        """Grow and set alpha to where the schedule is after `images_seen` images."""
        scale, alpha = self.schedule.phase(self.images_seen)
        while self.scale < scale:
            self.grow()
        for net in (self.G, self.D, self.G_ema):
            if net is not None:
                net.alpha = alpha

    # --- batches -------------------------------------------------------
    def real_batch(self, n: int) -> Tensor:
        """n real images (n, C, r, r) in [-1, 1] at the current scale, blended during a fade-in."""
        x, _ = self.data.sample(n, self.gen)
        factor = self.resolution // self.current_resolution
        if factor > 1:
            x = F.avg_pool2d(x, factor)
        if self.alpha > 0:
            x = self.alpha * F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest") \
                + (1.0 - self.alpha) * x
        return x

    def _latent(self, n: int) -> Tensor:
        return torch.randn(n, self.cfg.latent_dim, generator=self.gen, device=self.device)

    # --- one iteration -----------------------------------------------
    def _check(self, loss: Tensor, who: str) -> None:
        if not bool(torch.isfinite(loss)):
            self.diverged = (f"training diverged at step {self.step_count}: {who}'s loss is not finite. "
                             f"The last good state is kept; lower the learning rates "
                             f"(d_lr={self.cfg.d_lr:g}, g_lr={self.cfg.g_lr:g}) or raise gp_weight.")
            raise DivergenceError(self.diverged, self.step_count)

    def d_step(self) -> float:
        """One update of D: WGAN-GP + drift. Returns D's loss."""
        b = self.cfg.batch_size
        real = self.real_batch(b)
        with torch.no_grad():
            fake = self.G(self._latent(b))
        scores = self.D(torch.cat([real, fake])).flatten()
        r, f = scores[:b], scores[b:]
        loss = f.mean() - r.mean() + self.schedule.eps_drift * r.square().mean()
        if self.cfg.gp_weight > 0:
            loss = loss + self.cfg.gp_weight * gradient_penalty(
                lambda x: self.D(x).flatten(), real, fake, self.gen)
        self._check(loss, "D")
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return float(loss.detach())

    def g_step(self) -> float:
        """One update of G: minimise -E[D(G(z))]. Returns G's loss."""
        for p in self._d_params:
            p.requires_grad_(False)
        try:
            loss = -self.D(self.G(self._latent(self.cfg.batch_size))).mean()
            self._check(loss, "G")
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p in self._d_params:
                p.requires_grad_(True)
        self.opt_g.step()
        return float(loss.detach())

    @torch.no_grad()
    def _update_ema(self) -> None:
        assert self.G_ema is not None
        decay = min(self.cfg.ema, (1.0 + self.step_count) / (10.0 + self.step_count))
        torch._foreach_lerp_(list(self.G_ema.parameters()), self._g_params, 1.0 - decay)

    def step(self, d: bool = True, g: bool = True) -> dict[str, float]:
        """One iteration at the scheduled scale / alpha: D update, G update, EMA, history."""
        t0 = time.perf_counter()
        self._set_phase()
        if d:
            self.last["d_loss"] = self.d_step()
        if g:
            self.last["g_loss"] = self.g_step()
            if self.G_ema is not None:
                self._update_ema()
        self.images_seen += self.cfg.batch_size
        self.step_count += 1
        self.diverged = None
        self.elapsed += time.perf_counter() - t0
        self._record()
        return dict(self.last)

    def _log_fields(self) -> dict[str, float]:
        return {"resolution": float(self.current_resolution), "alpha": round(self.alpha, 4)}

    # --- sampling ------------------------------------------------------
    def _sampler(self, ema: bool) -> Generator:
        return self.G_ema if (ema and self.G_ema is not None) else self.G

    @torch.no_grad()
    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        """G(z) (N, latent_dim) -> (N, C, R, R) at the data resolution R (nearest-upsampled
        while the network is still smaller), on the trainer's device."""
        g = self._sampler(ema)
        was = g.training
        g.eval()
        try:
            x = g(z.to(self.device))
        finally:
            g.train(was)
        factor = self.resolution // x.shape[-1]
        return F.interpolate(x, scale_factor=factor, mode="nearest") if factor > 1 else x

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, *, ema: bool = True, labels: Tensor | None = None,
               batch: int = 1024) -> tuple[Tensor, None]:
        """n samples from N(0, I) latents of `seed` -> (x (n, C, R, R) float on CPU, None)."""
        z = torch.randn(n, self.cfg.latent_dim, generator=torch.Generator().manual_seed(seed))
        out = [self.generate(z[i:i + batch], ema=ema).float().cpu() for i in range(0, n, batch)]
        return torch.cat(out), None

    def fixed_samples(self, ema: bool = False) -> Tensor:
        return self.generate(self.fixed_z, ema=ema)

    def evaluate(self, n: int | None = None, seed: int = 12345) -> dict[str, float]:
        """The image metrics of `ganlab.metrics` on n samples of the averaged generator."""
        from ganlab.metrics import image_metrics

        return image_metrics(self, n or self.cfg.eval_samples, seed)

    # --- driving the loop ----------------------------------------------
    # The loop and the progress report only use the members both trainers share.
    # The step loop, history rows and progress reports are Trainer's own.
    run = Trainer.run
    progress = Trainer.progress
    _record = Trainer._record

    def update(self, **changes: Any) -> None:
        """Change hyperparameters between steps (PGAN_LIVE_FIELDS); optimiser moments are kept."""
        frozen = sorted(set(changes) - PGAN_LIVE_FIELDS)
        if frozen:
            raise ConfigError(f"changing {', '.join(frozen)} needs a new progressive run; fields that can "
                              f"change live: {', '.join(sorted(PGAN_LIVE_FIELDS))}")
        new = self.cfg.replace(**changes)
        new.validate()
        if new.batch_size % 4:
            raise ConfigError(f"batch_size {new.batch_size} must be a multiple of 4")
        if new.ema > 0 and self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        for opt, p in ((self.opt_d, "d_"), (self.opt_g, "g_")):
            for group in opt.param_groups:
                group["lr"] = getattr(new, p + "lr")
                group["betas"] = (getattr(new, p + "beta1"), getattr(new, p + "beta2"))
        self.cfg = new


# --- build / export / save / resume ---------------------------------------------

def build_trainer(cfg: Config, dataset: Dataset | None = None) -> Trainer | ProgressiveTrainer:
    """The trainer of a Config: ProgressiveTrainer for model 'pgan', else the plain Trainer."""
    if cfg.model == "pgan":
        return ProgressiveTrainer(cfg, dataset)
    return Trainer(cfg, dataset)


def export_generator(trainer: ProgressiveTrainer, path: str | Path, name: str | None = None,
                     ema: bool = True) -> Path:
    """Write the (averaged) generator as PATH.safetensors + PATH.json for `load_generator`.

    The network is exported as grown so far with alpha as it is now (a run stopped
    mid fade-in exports the blended network). Returns the .safetensors path.
    """
    from ganlab.pretrained import save_generator

    return save_generator(trainer._sampler(ema), path, name=name)


def _net_state(trainer: ProgressiveTrainer) -> dict[str, Tensor]:
    weights = {}
    for prefix, net in (("G", trainer.G), ("D", trainer.D), ("G_ema", trainer.G_ema)):
        if net is not None:
            weights.update({f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()})
    return weights


def save_progressive_run(trainer: ProgressiveTrainer, run_dir: str | Path) -> Path:
    """Write a run directory: config.json, model.safetensors (G.*, D.*, G_ema.*),
    state.safetensors (Adam moments, RNG), state.json (step, images, scale, alpha,
    schedule), history.jsonl. Every file is replaced atomically."""
    from safetensors.torch import save_file

    from ganlab.checkpoint import _atomic_write, _flat_optimizer, info_to_json, write_text_atomic

    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    state: dict[str, Tensor] = {"rng.gen": trainer.gen.get_state().cpu(),
                                "rng.init": trainer._init_gen.get_state()}
    meta = {
        "format": 1, "kind": "pgan", "ganlab_version": __version__,
        "step": trainer.step_count, "elapsed": trainer.elapsed, "images_seen": trainer.images_seen,
        "scale": trainer.scale, "alpha": trainer.alpha, "schedule": trainer.schedule.to_dict(),
        "acc": trainer._acc, "last": trainer.last, "data_info": info_to_json(trainer.info),
        "opt_d": _flat_optimizer("opt_d", trainer.opt_d, state),
        "opt_g": _flat_optimizer("opt_g", trainer.opt_g, state),
    }
    weights = _net_state(trainer)
    _atomic_write(run / "model.safetensors", lambda p: save_file(weights, str(p)))
    _atomic_write(run / "state.safetensors", lambda p: save_file(state, str(p)))
    write_text_atomic(run / "state.json", json.dumps(meta, indent=1))
    write_text_atomic(run / "config.json", trainer.cfg.to_json() + "\n")
    write_text_atomic(run / "history.jsonl", "".join(json.dumps(r) + "\n" for r in trainer.history))
    return run


def is_progressive_run(run_dir: str | Path) -> bool:
    """True when run_dir's state.json was written by `save_progressive_run`."""
    try:
        return json.loads((Path(run_dir) / "state.json").read_text(encoding="utf-8")).get("kind") == "pgan"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def load_progressive_run(run_dir: str | Path, *, device: str | None = None, with_data: bool = True,
                         dataset: Dataset | None = None,
                         schedule: PGANSchedule | None = None) -> ProgressiveTrainer:
    """Rebuild a ProgressiveTrainer from its run directory, grown to the saved scale.

    with_data=False skips loading the training data (enough to sample / export).
    schedule: replaces the saved one for the rest of the run (same depths), e.g. to
    shorten the remaining phases.
    """
    from ganlab.checkpoint import (_load_tensors, info_from_json, load_nets, read_run_meta,
                                   restore_training_state)

    run = Path(run_dir)
    cfg, meta = read_run_meta(run, device)
    if meta.get("kind") != "pgan":
        raise CheckpointError(f"{run} is not a progressive-GAN run (state.json has no \"kind\": \"pgan\"); "
                              "load it with ganlab.checkpoint.load_run")
    if dataset is None and not with_data:
        info = info_from_json(meta["data_info"])
        dataset = Dataset(torch.zeros((4, *info.shape), dtype=torch.uint8), info)
    saved = PGANSchedule.from_dict(meta["schedule"])
    if schedule is not None and schedule.depths != saved.depths:
        raise ConfigError(f"a new schedule must keep the run's depths {list(saved.depths)}, got {list(schedule.depths)}")
    trainer = ProgressiveTrainer(cfg, dataset, schedule or saved)
    state = _load_tensors(run / "state.safetensors")
    while trainer.scale < int(meta["scale"]):
        trainer.grow()
    nets = {"G": trainer.G, "D": trainer.D, "G_ema": trainer.G_ema}
    load_nets(run, nets)
    for net in nets.values():
        if net is not None:
            net.alpha = float(meta["alpha"])
    restore_training_state(trainer, run, meta, state)
    trainer._init_gen.set_state(state["rng.init"])
    trainer.images_seen = int(meta["images_seen"])
    return trainer


def save_any_run(trainer: Trainer | ProgressiveTrainer, run_dir: str | Path) -> Path:
    """`save_progressive_run` for a ProgressiveTrainer, else `ganlab.checkpoint.save_run`."""
    if isinstance(trainer, ProgressiveTrainer):
        return save_progressive_run(trainer, run_dir)
    from ganlab.checkpoint import save_run

    return save_run(trainer, run_dir)


def load_any_run(run_dir: str | Path, *, device: str | None = None, with_data: bool = True,
                 dataset: Dataset | None = None) -> Trainer | ProgressiveTrainer:
    """The trainer of any run directory: progressive runs by `load_progressive_run`, others by
    `ganlab.checkpoint.load_run`."""
    if is_progressive_run(run_dir):
        return load_progressive_run(run_dir, device=device, with_data=with_data, dataset=dataset)
    from ganlab.checkpoint import load_run

    return load_run(run_dir, device=device, with_data=with_data, dataset=dataset)


__all__ = ["PGANSchedule", "ProgressiveTrainer", "build_pgan_models", "build_trainer", "export_generator",
           "is_progressive_run", "load_any_run", "load_progressive_run", "save_any_run", "save_progressive_run",
           "scale_depths"]
