"""The GAN trainer: a step API that a UI, the CLI and benchmarks all drive.

One iteration (`Trainer.step`) is Algorithm 1 of Goodfellow et al. 2014:
  (1) update D `d_steps` times on a real batch and a fresh fake batch;
  (2) update G `g_steps` times on fresh latents;
  (3) update the EMA copy of G (if `ema` > 0);
  (4) record losses / metrics into `history` every `log_every` / `eval_every` steps.

Design notes:
- Every random draw (data batch, latents, dropout masks, GP interpolation) comes
  from the run's own `torch.Generator`, never torch's global RNG: runs in
  different threads (browser sessions) stay isolated and the same seed gives
  the same numbers on CPU, also across a save / resume.
- Speed: fakes for D's update are made under no_grad (no G graph is built);
  D scores real and fake in one forward pass when it has no batch norm (batch
  statistics would mix them); D's parameters are frozen during G's update so
  backward skips their gradients.
- Divergence guard: a non-finite loss or gradient is caught BEFORE the optimizer
  step, so the parameters stay at the last good state; `DivergenceError` is raised
  and `diverged` says why.
- Several processes (`ganlab.distributed`): the update steps call `g_net` / `d_net`,
  which are G and D themselves or their DistributedDataParallel wrappers, so the
  gradients are averaged over ranks; G's loss calls the plain D (D is frozen
  there, and a DDP forward that no backward follows would stall the next one).
  Checkpoints, sampling and EMA always use the plain G and D.
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ganlab.config import LIVE_FIELDS, Config
from ganlab.data import Dataset, build_dataset
from ganlab.errors import ConfigError, DivergenceError
from ganlab.losses import build_loss
from ganlab.models import build_models
from ganlab.models.layers import set_generator
from ganlab.optim import build_optimizer, set_hyperparameters
from ganlab.penalties import adaptive_l2_scale, gradient_penalty, l2_penalty, r1_penalty


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA, then MPS, then CPU; an explicit GPU that is absent -> ConfigError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is visible to torch; "
                          "use device=auto or device=cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' was asked for but Apple's MPS is not available; "
                          "use device=auto or device=cpu")
    return torch.device(name)


def lr_factor(cfg: Config, step: int) -> float:
    """The learning-rate multiplier of `cfg.lr_schedule` at iteration `step`.

    Decaying the step size late in training lets G settle onto the modes instead
    of orbiting them, which sharpens samples (more high-quality points). Linear and
    cosine schedules both end at 1% of the base rate at `cfg.steps` and stay there.
    """
    if cfg.lr_schedule == "constant":
        return 1.0
    frac = min(step / max(cfg.steps, 1), 1.0)
    if cfg.lr_schedule == "linear":
        return 1.0 - 0.99 * frac
    return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * frac))


@dataclass
class Progress:
    """What a progress hook receives after each chunk of steps."""

    step: int
    total: int
    elapsed: float
    d_loss: float
    g_loss: float
    metrics: dict[str, float] = field(default_factory=dict)


ProgressHook = Callable[["Trainer", Progress], None]
StepHook = Callable[["Trainer"], None]
StopHook = Callable[[], bool]


def drive(model: Any, target: int, *, budget: float = 0.0, on_progress: Callable | None = None,
          should_stop: StopHook | None = None, on_step: Callable | None = None,
          progress_every: float = 0.5, keep_going: Callable[[], bool] | None = None) -> None:
    """Step `model` until its step_count reaches `target`, `budget` seconds pass (0 =
    no limit), `should_stop()` or not `keep_going()`; the loop every trainer shares.

    `on_step(model)` runs after every step; `on_progress(model, model.progress(target))`
    about every `progress_every` seconds and once at the end.
    """
    t_start = time.perf_counter()
    t_last = t_start
    while model.step_count < target and (keep_going is None or keep_going()):
        if should_stop is not None and should_stop():
            break
        if budget > 0 and time.perf_counter() - t_start >= budget:
            break
        model.step()
        if on_step is not None:
            on_step(model)
        now = time.perf_counter()
        if on_progress is not None and now - t_last >= progress_every:
            t_last = now
            on_progress(model, model.progress(target))
    if on_progress is not None:
        on_progress(model, model.progress(target))


def _has_batchnorm(m: nn.Module) -> bool:
    return any(isinstance(x, nn.modules.batchnorm._BatchNorm) for x in m.modules())


class Trainer:
    """Owns G, D, their optimizers, the data on the device, RNG state and history."""

    def __init__(self, cfg: Config, dataset: Dataset | None = None) -> None:
        cfg.validate()
        self.cfg = copy.deepcopy(cfg)
        self.device = resolve_device(cfg.device)
        data = dataset if dataset is not None else build_dataset(cfg.data_options())
        self.data = data.to(self.device)
        self.info = data.info
        self.G, self.D = build_models(self.cfg, self.info)
        self.G.to(self.device)
        self.D.to(self.device)
        self.num_classes = getattr(self.G, "num_classes", 0)
        # What the update steps call (replaced by DDP wrappers in ganlab.distributed).
        self.g_net: nn.Module = self.G
        self.d_net: nn.Module = self.D
        self.gen = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        set_generator(self.D, self.gen)
        set_generator(self.G, self.gen)
        self.G_ema: nn.Module | None = None
        if cfg.ema > 0:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        self.opt_d = build_optimizer(cfg.d_opt, self.D.parameters(), cfg.d_lr, cfg.d_beta1,
                                     cfg.d_beta2, cfg.d_momentum)
        self.opt_g = build_optimizer(cfg.g_opt, self.G.parameters(), cfg.g_lr, cfg.g_beta1,
                                     cfg.g_beta2, cfg.g_momentum)
        self.loss = build_loss(cfg.loss)
        # Cached once: walking the module tree every step costs as much as a small matmul.
        self._d_params = list(self.D.parameters())
        self._g_params = list(self.G.parameters())
        self._joint_d = not _has_batchnorm(self.D)
        # The fixed noise batch behind every progress view, from its own seed so it
        # is the same whatever the device.
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = self._latent(cfg.n_fixed, fixed, torch.device("cpu")).to(self.device)
        self.fixed_y = (torch.arange(cfg.n_fixed) % self.num_classes).to(self.device) \
            if self.num_classes else None
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[dict[str, float]] = []
        self.diverged: str | None = None
        self._pending: tuple[Tensor, Tensor | None] | None = None
        self.last: dict[str, float] = {"d_loss": float("nan"), "g_loss": float("nan")}
        self._acc = {"d_loss": 0.0, "g_loss": 0.0, "n": 0}

    # --- sampling ------------------------------------------------------
    def _latent(self, n: int, gen: torch.Generator, device: torch.device) -> Tensor:
        shape = (n, self.cfg.latent_dim)
        if self.cfg.latent_dist == "uniform":
            return torch.rand(shape, generator=gen, device=device) * 2 - 1
        return torch.randn(shape, generator=gen, device=device)

    def _fake_labels(self, n: int) -> Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (n,), generator=self.gen, device=self.device)

    def _real_batch(self, n: int) -> tuple[Tensor, Tensor | None]:
        x, y = self.data.sample(n, self.gen)
        return x, (y if self.num_classes else None)

    def _autocast(self) -> Any:
        if self.cfg.amp == "bf16" and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, *, ema: bool = True, labels: Tensor | None = None,
               batch: int = 8192) -> tuple[Tensor, Tensor | None]:
        """n fresh samples -> (x (n, *shape) float on CPU in model space, y (n,) or None).

        Uses the EMA generator when there is one and `ema`. Conditional models
        get `labels` (n,), or balanced classes 0, 1, ..., K-1, 0, ... by default.
        """
        g = self.G_ema if (ema and self.G_ema is not None) else self.G
        gen = torch.Generator().manual_seed(seed)
        z = self._latent(n, gen, torch.device("cpu"))
        y = None
        if self.num_classes:
            y = labels.long().cpu() if labels is not None else torch.arange(n) % self.num_classes
        was = g.training
        g.eval()
        try:
            out = [g(z[i:i + batch].to(self.device),
                     None if y is None else y[i:i + batch].to(self.device)).float().cpu()
                   for i in range(0, n, batch)]
        finally:
            g.train(was)
        return torch.cat(out), y

    @torch.no_grad()
    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        """G(z) for given latents (N, latent_dim) -> (N, *shape) on the trainer's device."""
        g = self.G_ema if (ema and self.G_ema is not None) else self.G
        return g(z.to(self.device), None if y is None else y.to(self.device))

    def fixed_samples(self, ema: bool = False) -> Tensor:
        """G(fixed noise batch) -> (n_fixed, *shape): the same latents at every step."""
        return self.generate(self.fixed_z, self.fixed_y, ema=ema)

    # --- one update of each network ------------------------------------------
    def _check(self, loss: Tensor, params: list[nn.Parameter], who: str) -> None:
        grads = [p.grad for p in params if p.grad is not None]
        # One reduction over all gradients: a non-finite entry anywhere makes it non-finite.
        total = torch.stack(torch._foreach_norm(grads)).sum() if grads else loss
        if not bool(torch.isfinite(loss + total)):
            for p in params:
                p.grad = None
            what = "loss" if not bool(torch.isfinite(loss)) else "gradient"
            self.diverged = (f"training diverged at step {self.step_count}: {who}'s {what} is not "
                             f"finite. The last good state is kept; lower the learning rates "
                             f"(d_lr={self.cfg.d_lr:g}, g_lr={self.cfg.g_lr:g}), pick a more stable "
                             "loss, or reset.")
            raise DivergenceError(self.diverged, self.step_count)

    def d_step(self, keep_fake: bool = False) -> float:
        """(1) One update of D. Returns D's loss.

        keep_fake: build G's graph for this fake batch and hand it to the next
        G update (one G forward per iteration, as in the PyTorch DCGAN example);
        otherwise the fakes are made under no_grad.
        """
        cfg = self.cfg
        b = cfg.batch_size
        real, y_real = self._real_batch(b)
        z = self._latent(b, self.gen, self.device)
        y_fake = self._fake_labels(b)
        with self._autocast():
            with torch.set_grad_enabled(keep_fake):
                fake_graph = self.g_net(z, y_fake)
            self._pending = (fake_graph, y_fake) if keep_fake else None
            fake = fake_graph.detach()
            # Lazy R1 (Karras et al. 2020): in every d_r1_every-th iteration, weighted
            # up to match; keyed on step_count so that a resumed run is the same.
            r1 = cfg.d_r1 > 0 and self.step_count % cfg.d_r1_every == 0
            if r1:
                real = real.detach().requires_grad_(True)
            if self._joint_d:
                y = None if y_real is None else torch.cat([y_real, y_fake])
                logits = self.d_net(torch.cat([real, fake.to(real.dtype)]), y).float()
                r, f = logits.chunk(2)
            else:
                r, f = self.d_net(real, y_real).float(), self.d_net(fake, y_fake).float()
            loss = self.loss.d(r, f, cfg.label_smoothing)
            if self.loss.constraint == "gp" and cfg.gp_weight > 0:
                # GP needs labels for conditional D: interpolate within matching pairs.
                yy = y_real if self.num_classes else None
                loss = loss + cfg.gp_weight * gradient_penalty(
                    lambda x: self.d_net(x, yy).float(), real, fake.to(real.dtype), self.gen)
            if r1:
                loss = loss + cfg.d_r1 * cfg.d_r1_every / 2 * r1_penalty(r, real)
        if cfg.d_l2 > 0:
            scale = adaptive_l2_scale(r, f) if cfg.d_l2_adaptive else 1.0
            loss = loss + cfg.d_l2 * scale * l2_penalty(self.D)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self._check(loss, self._d_params, "D")
        self.opt_d.step()
        if self.loss.constraint == "clip":
            with torch.no_grad():
                torch._foreach_clamp_min_(self._d_params, -cfg.clip_value)
                torch._foreach_clamp_max_(self._d_params, cfg.clip_value)
        return float(loss.detach())

    def g_step(self) -> float:
        """(2) One update of G. Returns G's loss."""
        cfg = self.cfg
        b = cfg.batch_size
        pending, self._pending = self._pending, None
        for p in self._d_params:
            p.requires_grad_(False)
        try:
            with self._autocast():
                if pending is not None:
                    fake, y_fake = pending
                else:
                    z = self._latent(b, self.gen, self.device)
                    y_fake = self._fake_labels(b)
                    fake = self.g_net(z, y_fake)
                f = self.D(fake, y_fake).float()
                r = f  # unused by losses that do not read D(real)
                if self.loss.g_needs_real:
                    real, y_real = self._real_batch(b)
                    with torch.no_grad():
                        r = self.D(real, y_real).float()
                loss = self.loss.g(r, f)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p in self._d_params:
                p.requires_grad_(True)
        self._check(loss, self._g_params, "G")
        self.opt_g.step()
        return float(loss.detach())

    @torch.no_grad()
    def _update_ema(self) -> None:
        assert self.G_ema is not None
        ema_p = list(self.G_ema.parameters())
        # Warm-up (as in Karras et al. 2019's ramp): early on the average follows G
        # closely, so it is useful long before 1 / (1 - ema) steps have passed.
        decay = min(self.cfg.ema, (1.0 + self.step_count) / (10.0 + self.step_count))
        torch._foreach_lerp_(ema_p, self._g_params, 1.0 - decay)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    def step(self, d: bool = True, g: bool = True) -> dict[str, float]:
        """One iteration: (1) D x d_steps, (2) G x g_steps, (3) EMA, (4) history.

        `d=False` / `g=False` skip a network (single-stepping in a UI).
        Returns the last D and G losses of this iteration.
        """
        t0 = time.perf_counter()
        cfg = self.cfg
        if cfg.lr_schedule != "constant":
            self._apply_schedule()
        if d:
            for i in range(cfg.d_steps):
                self.last["d_loss"] = self.d_step(keep_fake=g and i == cfg.d_steps - 1)
        if g:
            for _ in range(cfg.g_steps):
                self.last["g_loss"] = self.g_step()
            if self.G_ema is not None:
                self._update_ema()
        self.step_count += 1
        self.diverged = None
        self.elapsed += time.perf_counter() - t0
        self._record()
        return dict(self.last)

    def _apply_schedule(self) -> None:
        """Scale both learning rates by the schedule's factor for this step."""
        factor = lr_factor(self.cfg, self.step_count)
        for opt, lr in ((self.opt_d, self.cfg.d_lr), (self.opt_g, self.cfg.g_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * factor

    def _log_fields(self) -> dict[str, float]:
        """Extra fields of each loss row (none here; the progressive trainer adds its scale)."""
        return {}

    def _record(self) -> None:
        acc = self._acc
        acc["d_loss"] += self.last["d_loss"]
        acc["g_loss"] += self.last["g_loss"]
        acc["n"] += 1
        s, cfg = self.step_count, self.cfg
        row: dict[str, float] = {}
        if s % cfg.log_every == 0:
            row.update(d_loss=acc["d_loss"] / acc["n"], g_loss=acc["g_loss"] / acc["n"],
                       **self._log_fields())
            self._acc = {"d_loss": 0.0, "g_loss": 0.0, "n": 0}
        if cfg.eval_every and s % cfg.eval_every == 0:
            row.update(self.evaluate())
        if row:
            self.history.append({"step": s, "time": round(self.elapsed, 4), **row})

    # --- metrics -------------------------------------------------------
    def evaluate(self, n: int | None = None, seed: int = 12345) -> dict[str, float]:
        """Quality metrics on n fresh samples (default cfg.eval_samples)."""
        n = n or self.cfg.eval_samples
        if self.info.kind == "points":
            from ganlab.metrics.toy import toy_metrics

            fake, _ = self.sample(n, seed=seed)
            gen = torch.Generator().manual_seed(seed)
            idx = torch.randint(len(self.data), (n,), generator=gen)
            real = self.data.x[idx.to(self.device)].cpu()
            return toy_metrics(self.info, real, fake)
        from ganlab.metrics import image_metrics  # the image evaluator

        return image_metrics(self, n, seed)

    # --- driving the loop ----------------------------------------------
    def run(self, steps: int | None = None, *, on_progress: ProgressHook | None = None,
            should_stop: StopHook | None = None, progress_every: float = 0.5,
            minutes: float | None = None, on_step: StepHook | None = None) -> None:
        """Train until `steps` more iterations (default cfg.steps - done), the time
        budget `minutes` (default cfg.minutes, 0 = none) or `should_stop()`.

        `on_progress` is called about every `progress_every` seconds and at the end;
        `on_step` after every iteration (e.g. to save progress grids at exact steps).
        """
        cfg = self.cfg
        target = self.step_count + (steps if steps is not None else max(cfg.steps - self.step_count, 0))
        budget = (minutes if minutes is not None else cfg.minutes) * 60.0
        if budget > 0 and steps is None:
            target = 1 << 62
        drive(self, target, budget=budget, on_progress=on_progress, should_stop=should_stop,
              on_step=on_step, progress_every=progress_every)

    def progress(self, total: int) -> Progress:
        metrics = {k: v for k, v in (self.history[-1] if self.history else {}).items()
                   if k not in ("step", "time", "d_loss", "g_loss")}
        return Progress(self.step_count, total if total < (1 << 61) else 0, self.elapsed,
                        self.last["d_loss"], self.last["g_loss"], metrics)

    # --- live changes and snapshots --------------------------------------
    def update(self, **changes: Any) -> None:
        """Change hyperparameters between steps (cheap: networks and moments kept).

        Only fields in config.LIVE_FIELDS may change; others need a new Trainer.
        """
        frozen = sorted(set(changes) - LIVE_FIELDS)
        if frozen:
            raise ConfigError(f"changing {', '.join(frozen)} needs a reset (a new run); "
                              f"fields that can change live: {', '.join(sorted(LIVE_FIELDS))}")
        new = self.cfg.replace(**changes)
        new.validate()
        if (new.ema > 0) != (self.cfg.ema > 0) and self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        for net, opt, p in ((self.D, "opt_d", "d_"), (self.G, "opt_g", "g_")):
            hp = [getattr(new, p + k) for k in ("lr", "beta1", "beta2", "momentum")]
            if getattr(new, p + "opt") != getattr(self.cfg, p + "opt"):
                setattr(self, opt, build_optimizer(getattr(new, p + "opt"), net.parameters(), *hp))
            else:
                set_hyperparameters(getattr(self, opt), *hp)
        self.cfg = new
        self.loss = build_loss(new.loss)

    def snapshot(self) -> dict[str, Any]:
        """An in-memory copy of the whole training state (for undo / rewind)."""
        return {
            "cfg": copy.deepcopy(self.cfg),
            "G": copy.deepcopy(self.G.state_dict()),
            "D": copy.deepcopy(self.D.state_dict()),
            "G_ema": None if self.G_ema is None else copy.deepcopy(self.G_ema.state_dict()),
            "opt_d": copy.deepcopy(self.opt_d.state_dict()),
            "opt_g": copy.deepcopy(self.opt_g.state_dict()),
            "gen": self.gen.get_state(),
            "step": self.step_count,
            "elapsed": self.elapsed,
            "history": len(self.history),
            "acc": dict(self._acc),
            "last": dict(self.last),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Return to a `snapshot()` (history rows recorded after it are dropped)."""
        if snap["cfg"].to_dict() != self.cfg.to_dict():
            self.update(**{k: v for k, v in snap["cfg"].diff(self.cfg).items()})
        self.G.load_state_dict(snap["G"])
        self.D.load_state_dict(snap["D"])
        if snap["G_ema"] is not None and self.G_ema is not None:
            self.G_ema.load_state_dict(snap["G_ema"])
        self.opt_d.load_state_dict(snap["opt_d"])
        self.opt_g.load_state_dict(snap["opt_g"])
        self.gen.set_state(snap["gen"])
        self.step_count = snap["step"]
        self.elapsed = snap["elapsed"]
        del self.history[snap["history"]:]
        self._acc = dict(snap["acc"])
        self.last = dict(snap["last"])
        self.diverged = None
