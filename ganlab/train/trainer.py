"""The GAN trainer: a step API that a UI, the CLI and benchmarks all drive.

One iteration (`Trainer.step`) is Algorithm 1 of Goodfellow et al. 2014:
  (1) update D `d_steps` times on a real batch and a fresh fake batch;
  (2) update G `g_steps` times on fresh latents;
  (3) update the EMA copy of G (if `ema` > 0);
  (4) record losses / metrics into `history` every `log_every` / `eval_every` steps.
What D and G minimise is the run's `ganlab.objective.Objective`.

Design notes:
- Every random draw (data batch, latents, dropout masks, GP interpolation) comes
  from the run's own `torch.Generator` (`rng`), never torch's global RNG: runs in
  different threads (browser sessions) stay isolated and the same seed gives
  the same numbers on CPU, also across a save / resume.
- Speed: one G forward per iteration, as in the PyTorch DCGAN example: the last
  D update's fake batch keeps its graph and G's update reuses it; D scores real
  and fake in one forward pass when it has no batch norm (batch statistics would
  mix them); D's parameters are frozen during G's update so backward skips their
  gradients.
- Divergence guard: a non-finite loss or gradient is caught BEFORE the optimizer
  step, so the parameters stay at the last good state; `DivergenceError` is raised
  and `diverged` says why.
- Several processes (`ganlab.train.distributed`): the update steps call `g_net` /
  `d_net`, which are G and D themselves or their DistributedDataParallel wrappers,
  so the gradients are averaged over ranks; G's loss calls the plain D (D is
  frozen there, and a DDP forward that no backward follows would stall the next
  one). Checkpoints, sampling and EMA always use the plain G and D.
"""
from __future__ import annotations

import contextlib
import copy
import time
from typing import Any, Callable, Iterator

import torch
from torch import Tensor, nn

from ganlab.config import LIVE_FIELDS, Config
from ganlab.data import Dataset, build_dataset
from ganlab.errors import ConfigError, DivergenceError
from ganlab.models import build_models
from ganlab.models.layers import set_generator
from ganlab.objective import Objective
from ganlab.optim import build_optimizer, set_hyperparameters
from ganlab.seeds import EVAL_SEED, FIXED_NOISE_OFFSET, RUN_RNG_OFFSET
from ganlab.train.base import (LossAverager, Progress, RunBase, TrainerBase, broken_state, divergence_message,
                               draw_latent, ema_decay, history_row, lr_factor, resolve_device, seeded_latents,
                               update_ema)


SAMPLE_BLOCK = 256  # rows of each G call in `sample` (see there)


def _has_batchnorm(m: nn.Module) -> bool:
    return any(isinstance(x, nn.modules.batchnorm._BatchNorm) for x in m.modules())


class Trainer(TrainerBase, RunBase):
    """Owns G, D, their optimizers, the data on the device, the run's rng and history."""

    # Config fields `update` may change between steps; the rest need a new run.
    live_fields: frozenset[str] = frozenset(LIVE_FIELDS)

    def __init__(self, cfg: Config, dataset: Dataset | None = None) -> None:
        cfg.validate()
        self.cfg = copy.deepcopy(cfg)
        self.device = resolve_device(cfg.device)
        data = dataset if dataset is not None else build_dataset(cfg.data_options())
        self._check_data(data)
        self.data = data.to(self.device)
        self.info = data.info
        self.G, self.D = self._build_networks()
        self.num_classes = int(getattr(self.G, "num_classes", 0))
        # What the update steps call (replaced by DDP wrappers in ganlab.train.distributed).
        self.g_net: nn.Module = self.G
        self.d_net: nn.Module = self.D
        self.rng = torch.Generator(self.device).manual_seed(cfg.seed + RUN_RNG_OFFSET)
        set_generator(self.D, self.rng)
        set_generator(self.G, self.rng)
        self.G_ema: nn.Module | None = copy.deepcopy(self.G).requires_grad_(False) if cfg.ema > 0 else None
        self._build_optimizers()
        self.objective = Objective(self.cfg)
        self._joint_d = not _has_batchnorm(self.D)
        # The fixed noise batch behind every progress view, from its own seed so it
        # is the same whatever the device.
        fixed = torch.Generator().manual_seed(cfg.seed + FIXED_NOISE_OFFSET)
        self.fixed_z = draw_latent(cfg.n_fixed, cfg.latent_dim, cfg.latent_dist, fixed).to(self.device)
        self.fixed_y = (torch.arange(cfg.n_fixed) % self.num_classes).to(self.device) \
            if self.num_classes else None
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[dict[str, float]] = []
        self.diverged: str | None = None
        self._pending: tuple[Tensor, Tensor | None] | None = None
        self.last: dict[str, float] = {"d_loss": float("nan"), "g_loss": float("nan")}
        self.losses = LossAverager()

    # --- what a subclass (the progressive trainer) replaces ---------------------
    def _check_data(self, data: Dataset) -> None:
        """ConfigError when the model cannot train on this data set (none here)."""

    def _build_networks(self) -> tuple[nn.Module, nn.Module]:
        """(G, D) on the device, initialised from cfg.seed."""
        g, d = build_models(self.cfg, self.info)
        return g.to(self.device), d.to(self.device)

    def _optimizer_slots(self) -> dict[str, tuple[str, Callable[[], Iterator[nn.Parameter]]]]:
        """Optimizer attribute -> (whose Config settings, "d" or "g"; its parameters): what
        `_build_optimizers`, `update`, the schedule and `named_optimizers` walk."""
        return {"opt_d": ("d", self.D.parameters), "opt_g": ("g", self.G.parameters)}

    def _build_optimizers(self) -> None:
        cfg = self.cfg
        for attr, (which, params) in self._optimizer_slots().items():
            settings = cfg.optimizer_settings(which)
            setattr(self, attr, build_optimizer(settings.name, params(), *settings.hyper))
        # Cached once: walking the module tree every step costs as much as a small matmul.
        self._d_params = list(self.D.parameters())
        self._g_params = list(self.G.parameters())

    def _real_batch(self, n: int) -> tuple[Tensor, Tensor | None]:
        """n real points (n, *shape) in model space and their labels (conditional runs)."""
        x, y = self.data.sample(n, self.rng)
        return x, (y if self.num_classes else None)

    def _log_fields(self) -> dict[str, float]:
        """Extra fields of each loss row (none here; the progressive trainer adds its scale)."""
        return {}

    # --- the contract: runs, sampling, metrics ---------------------------------
    @property
    def runs(self) -> list[RunBase]:
        return [self]

    def _latent(self, n: int, rng: torch.Generator, device: torch.device) -> Tensor:
        return draw_latent(n, self.cfg.latent_dim, self.cfg.latent_dist, rng, device)

    def _fake_labels(self, n: int) -> Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (n,), generator=self.rng, device=self.device)

    def _wrong_labels(self, y: Tensor) -> Tensor:
        """For labels y (N,): a uniformly drawn different class for each, (y + U{1..K-1}) mod K."""
        shift = torch.randint(1, self.num_classes, y.shape, generator=self.rng, device=y.device)
        return (y + shift) % self.num_classes

    def _autocast(self) -> Any:
        if self.cfg.amp == "bf16" and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _sampler(self, ema: bool) -> nn.Module:
        return self.G_ema if (ema and self.G_ema is not None) else self.G

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, *, ema: bool = True, labels: Tensor | None = None,
               batch: int = SAMPLE_BLOCK) -> tuple[Tensor, Tensor | None]:
        """n fresh samples -> (x (n, *shape) float on CPU in model space, y (n,) or None).

        The i-th sample of a seed is the same whatever n is, to the bit: the latents are
        drawn in fixed blocks (`seeded_latents`) and G always runs on `batch` rows (the last
        block padded), because a matrix product's rounding depends on how many rows it has.
        Uses the EMA generator when there is one and `ema`. Conditional models get `labels`
        (n,), or balanced classes 0, 1, ..., K-1, 0, ... by default.
        """
        rows = -(-n // batch) * batch
        z = seeded_latents(rows, self.cfg.latent_dim, self.cfg.latent_dist, seed)
        y = y_all = None
        if self.num_classes:
            y = labels.long().cpu() if labels is not None else torch.arange(n) % self.num_classes
            y_all = torch.cat([y, torch.zeros(rows - n, dtype=torch.long)])
        out = [self.generate(z[i:i + batch], None if y_all is None else y_all[i:i + batch], ema=ema).float().cpu()
               for i in range(0, rows, batch)]
        return torch.cat(out)[:n], y

    @torch.no_grad()
    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        """G(z) in eval mode for latents (N, latent_dim) (and labels (N,)) -> (N, *shape)
        on the trainer's device."""
        g = self._sampler(ema)
        was = g.training
        g.eval()
        try:
            return g(z.to(self.device), None if y is None else y.to(self.device))
        finally:
            g.train(was)

    def fixed_samples(self, ema: bool = False) -> Tensor:
        """G(fixed noise batch) -> (n_fixed, *shape): the same latents at every step."""
        return self.generate(self.fixed_z, self.fixed_y, ema=ema)

    def evaluate(self, n: int | None = None, seed: int = EVAL_SEED) -> dict[str, float]:
        """Quality metrics on n fresh samples (default cfg.eval_samples): the toy metrics
        for point sets, the classifier metrics (`ganlab.metrics.images`) for images."""
        n = n or self.cfg.eval_samples
        if self.info.kind == "points":
            from ganlab.metrics.toy import toy_metrics

            fake, _ = self.sample(n, seed=seed)
            return toy_metrics(self.info, self.data.draw(n, seed), fake)
        from ganlab.metrics.images import image_metrics

        return image_metrics(self, n, seed)

    # --- one update of each network ------------------------------------------
    def _check(self, loss: Tensor, params: list[nn.Parameter], who: str) -> None:
        grads = [p.grad for p in params if p.grad is not None]
        # One reduction over all gradients: a non-finite entry anywhere makes it non-finite.
        total = torch.stack(torch._foreach_norm(grads)).sum() if grads else loss
        if not bool(torch.isfinite(loss + total)):
            for p in params:
                p.grad = None
            what = "loss" if not bool(torch.isfinite(loss)) else "gradient"
            # Only on divergence (rare), so scanning every tensor costs nothing in training.
            broken = broken_state(self.named_networks(), self.named_optimizers())
            self.diverged = divergence_message(self.step_count, who, what, self.cfg, broken)
            raise DivergenceError(self.diverged, self.step_count)

    def d_step(self, keep_fake: bool = False) -> float:
        """(1) One update of D. Returns D's loss.

        keep_fake: build G's graph for this fake batch and hand it to the next
        G update (one G forward per iteration); otherwise the fakes are made under
        no_grad.
        """
        b = self.cfg.batch_size
        real, y_real = self._real_batch(b)
        z = self._latent(b, self.rng, self.device)
        y_fake = self._fake_labels(b)
        r1 = self.objective.r1_due(self.step_count)
        with self._autocast():
            with torch.set_grad_enabled(keep_fake):
                fake_graph = self.g_net(z, y_fake)
            self._pending = (fake_graph, y_fake) if keep_fake else None
            fake = fake_graph.detach().to(real.dtype)
            if r1:
                real = real.detach().requires_grad_(True)
            # Without labels there is no wrong label: the share is ignored, as label
            # smoothing is for losses without targets (a preset's model may be swapped).
            y_wrong = self._wrong_labels(y_real) if self.objective.uses_mismatch and self.num_classes else None
            if self._joint_d:
                xs, ys = [real, fake], None if y_real is None else [y_real, y_fake]
                if y_wrong is not None:
                    xs, ys = xs + [real.detach()], ys + [y_wrong]
                logits = self.d_net(torch.cat(xs), None if ys is None else torch.cat(ys)).float()
                r, f, *m = logits.chunk(len(xs))
            else:
                r, f = self.d_net(real, y_real).float(), self.d_net(fake, y_fake).float()
                m = [] if y_wrong is None else [self.d_net(real.detach(), y_wrong).float()]
            # The gradient penalty of a conditional D interpolates within matching pairs.
            loss = self.objective.d_objective(lambda x: self.d_net(x, y_real).float(), real, fake, r, f,
                                              rng=self.rng, r1=r1, d_module=self.D,
                                              mismatch_logits=m[0] if m else None)
        return self._update_d(loss)

    def _update_d(self, loss: Tensor, who: str = "D") -> float:
        """`_backward_step` for D, then the objective's constraint (weight clipping)."""
        value = self._backward_step(loss, self.opt_d, self._d_params, who)
        self.objective.constrain(self._d_params)
        return value

    def _backward_step(self, loss: Tensor, opt: torch.optim.Optimizer, params: list[nn.Parameter],
                       who: str) -> float:
        """Backward `loss`, check it and the gradients (the divergence guard, before any
        parameter moves), then step `opt`. Returns the loss."""
        opt.zero_grad(set_to_none=True)
        loss.backward()
        self._check(loss, params, who)
        opt.step()
        return float(loss.detach())

    @contextlib.contextmanager
    def _d_frozen(self) -> Iterator[None]:
        """While G (or an encoder) learns against D: D's parameters need no gradient, so
        backward skips computing them."""
        for p in self._d_params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in self._d_params:
                p.requires_grad_(True)

    def g_step(self) -> float:
        """(2) One update of G. Returns G's loss."""
        b = self.cfg.batch_size
        pending, self._pending = self._pending, None
        with self._d_frozen():
            with self._autocast():
                if pending is not None:
                    fake, y_fake = pending
                else:
                    z = self._latent(b, self.rng, self.device)
                    y_fake = self._fake_labels(b)
                    fake = self.g_net(z, y_fake)
                f = self.D(fake, y_fake).float()
                r = f  # unused by losses that do not read D(real)
                if self.objective.g_needs_real:
                    real, y_real = self._real_batch(b)
                    with torch.no_grad():
                        r = self.D(real, y_real).float()
                loss = self.objective.g_loss(r, f)
            return self._backward_step(loss, self.opt_g, self._g_params, "G")

    def step(self, d: bool = True, g: bool = True) -> dict[str, float]:
        """One iteration: (1) D x d_steps, (2) G x g_steps, (3) EMA, (4) history.

        `d=False` / `g=False` skip a network (single-stepping in a UI).
        Returns the last D and G losses of this iteration.
        """
        t0 = time.perf_counter()
        cfg = self.cfg
        if cfg.lr_schedule != "constant":
            self._apply_schedule()
        self._iteration(d, g)
        self.step_count += 1
        self.diverged = None
        self.elapsed += time.perf_counter() - t0
        self.losses.add(self.last["d_loss"], self.last["g_loss"])
        row = history_row(self.step_count, self.elapsed, cfg, self.losses, self._log_fields, self.evaluate)
        if row is not None:
            self.history.append(row)
        return dict(self.last)

    def _iteration(self, d: bool, g: bool) -> None:
        """The updates of one iteration, into `last`: (1) D x d_steps, (2) G x g_steps, (3) EMA."""
        cfg = self.cfg
        if d:
            for i in range(cfg.d_steps):
                self.last["d_loss"] = self.d_step(keep_fake=g and i == cfg.d_steps - 1)
        if g:
            for _ in range(cfg.g_steps):
                self.last["g_loss"] = self.g_step()
            if self.G_ema is not None:
                update_ema(self.G_ema, self._g_params, ema_decay(cfg.ema, self.step_count), self.G)

    def _apply_schedule(self) -> None:
        """Scale every learning rate by the schedule's factor for this step."""
        factor = lr_factor(self.cfg, self.step_count)
        for attr, (which, _) in self._optimizer_slots().items():
            for group in getattr(self, attr).param_groups:
                group["lr"] = getattr(self.cfg, f"{which}_lr") * factor

    def progress(self, total: int) -> Progress:
        metrics = {k: v for k, v in (self.history[-1] if self.history else {}).items()
                   if k not in ("step", "time", "d_loss", "g_loss")}
        return Progress(self.step_count, total if total < (1 << 61) else 0, self.elapsed,
                        self.last["d_loss"], self.last["g_loss"], metrics)

    # --- live changes and in-memory state ---------------------------------------
    def update(self, **changes: Any) -> None:
        """Change hyperparameters between steps (cheap: networks and moments kept).

        Only `live_fields` may change; others need a new Trainer (ConfigError).
        """
        frozen = sorted(set(changes) - self.live_fields)
        if frozen:
            raise ConfigError(f"changing {', '.join(frozen)} needs a reset (a new run); "
                              f"fields that can change live: {', '.join(sorted(self.live_fields))}")
        new = self.cfg.replace(**changes)
        new.validate()
        if new.ema > 0 and self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        for attr, (which, params) in self._optimizer_slots().items():
            settings = new.optimizer_settings(which)
            if settings.name != self.cfg.optimizer_settings(which).name:
                setattr(self, attr, build_optimizer(settings.name, params(), *settings.hyper))
            else:
                set_hyperparameters(getattr(self, attr), *settings.hyper)
        self.cfg = new
        self.objective = Objective(new)

    def named_networks(self) -> dict[str, nn.Module | None]:
        """The networks a checkpoint holds, by the prefix of their weights' names."""
        return {"G": self.G, "D": self.D, "G_ema": self.G_ema}

    def named_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {attr: getattr(self, attr) for attr in self._optimizer_slots()}

    def named_rngs(self) -> dict[str, torch.Generator]:
        """The generators whose state a resumed run needs (names as saved: `rng.<name>`)."""
        return {"gen": self.rng}

    def extra_state(self) -> dict[str, Any]:
        """JSON-able training state beyond weights, moments and rngs (the progressive
        trainer's growth); `prepare_load` takes it back before the weights load."""
        return {}

    def prepare_load(self, extra: dict[str, Any]) -> None:
        """Shape the trainer for a saved state's weights (nothing to do here)."""

    def state_dict(self) -> dict[str, Any]:
        """An in-memory copy of the whole training state (for undo / rewind)."""
        return {
            "cfg": copy.deepcopy(self.cfg),
            "nets": {k: None if v is None else copy.deepcopy(v.state_dict())
                     for k, v in self.named_networks().items()},
            "optimizers": {k: copy.deepcopy(v.state_dict()) for k, v in self.named_optimizers().items()},
            "rngs": {k: v.get_state() for k, v in self.named_rngs().items()},
            "extra": copy.deepcopy(self.extra_state()),
            "step": self.step_count,
            "elapsed": self.elapsed,
            "history": len(self.history),
            "losses": self.losses.state_dict(),
            "last": dict(self.last),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Return to a `state_dict()` (history rows recorded after it are dropped)."""
        if state["cfg"].to_dict() != self.cfg.to_dict():
            self.update(**state["cfg"].diff(self.cfg))
        self.prepare_load(state["extra"])
        for name, net in self.named_networks().items():
            if net is not None and state["nets"].get(name) is not None:
                net.load_state_dict(state["nets"][name])
        for name, opt in self.named_optimizers().items():
            opt.load_state_dict(state["optimizers"][name])
        for name, rng in self.named_rngs().items():
            rng.set_state(state["rngs"][name])
        self.step_count = state["step"]
        self.elapsed = state["elapsed"]
        del self.history[state["history"]:]
        self.losses.load_state_dict(state["losses"])
        self.last = dict(state["last"])
        self.diverged = None
