"""The trainer contract and the pieces every trainer shares.

Every trainer (`Trainer`, `ProgressiveTrainer`, the side-by-side trainers) is a
`TrainerBase`: it is stepped (`step`, `run`, `progress`), saved in memory
(`state_dict` / `load_state_dict`) and holds one or more runs (`runs`). Each run
is a `RunBase`: its config, data, `history`, last losses, and what it makes
(`sample`, `generate`, `fixed_samples`, `evaluate`). A single trainer is its own
one run; a side-by-side trainer holds k views into one batched computation.

Shared here, so that each exists once: the latent draw, the EMA update with its
warm-up, the divergence message, the loss accumulator behind history rows, the
learning-rate schedule, device resolution and the step loop (`drive`).
"""
from __future__ import annotations

import abc
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ganlab.errors import ConfigError
from ganlab.seeds import EVAL_SEED

if TYPE_CHECKING:
    from ganlab.config import Config
    from ganlab.data.base import DataInfo, Dataset


# --- devices and schedules -------------------------------------------------------

def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA, then MPS, then CPU; an explicit GPU that is absent -> ConfigError."""
    mps = getattr(torch.backends, "mps", None)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is visible to torch; "
                          "use device=auto or device=cpu")
    if name == "mps" and not (mps is not None and mps.is_available()):
        raise ConfigError("device 'mps' was asked for but Apple's MPS is not available; "
                          "use device=auto or device=cpu")
    return torch.device(name)


def lr_factor(cfg: "Config", step: int) -> float:
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


# --- what every run draws, averages and reports alike ----------------------------

def draw_latent(n: int, latent_dim: int, dist: str, rng: torch.Generator,
                device: torch.device | str = "cpu") -> Tensor:
    """(n, latent_dim) latents from `rng`: N(0, I) for dist "normal", U(-1, 1) for "uniform"."""
    shape = (n, latent_dim)
    if dist == "uniform":
        return torch.rand(shape, generator=rng, device=device) * 2 - 1
    return torch.randn(shape, generator=rng, device=device)


LATENT_BLOCK = 1024


def seeded_latents(n: int, latent_dim: int, dist: str, seed: int, block: int = LATENT_BLOCK) -> Tensor:
    """(n, latent_dim) latents of `seed` on the CPU, drawn in blocks of `block` rows, so
    that the i-th latent of a seed is the same whatever n is (torch's normal sampler
    draws differently for different sizes: a plain draw of n rows would not be a
    prefix of a draw of n + 1)."""
    rng = torch.Generator().manual_seed(seed)
    blocks = [draw_latent(block, latent_dim, dist, rng) for _ in range(max(1, -(-n // block)))]
    return torch.cat(blocks)[:n]


def ema_decay(ema: float, step: int) -> float:
    """The EMA decay at iteration `step`: `ema`, ramped up early as in Karras et al. 2019,
    min(ema, (1 + step) / (10 + step)), so the average follows G closely at first and is
    useful long before 1 / (1 - ema) steps have passed."""
    return min(ema, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def update_ema(average: nn.Module, params: Sequence[Tensor], decay: float, source: nn.Module) -> None:
    """average <- decay * average + (1 - decay) * params (in place); buffers are copied
    from `source` (batch-norm statistics are not averaged)."""
    torch._foreach_lerp_(list(average.parameters()), list(params), 1.0 - decay)
    for mine, theirs in zip(average.buffers(), source.buffers()):
        mine.copy_(theirs)


# A trained GAN's weights stay within about +-10; one beyond HUGE_WEIGHT has blown up.
HUGE_WEIGHT = 1e6
# Optimizer moments follow the gradients (Adam's second moment their square), which may be
# large for a while without harm: only values near float32's overflow (3.4e38) count.
HUGE_MOMENT = 1e30


def _first_broken(named: Iterable[tuple[str, Tensor]], limit: float) -> str | None:
    """'<name> holds inf / nan / values up to 3e+12' for the first tensor that is
    non-finite or beyond `limit` in absolute value, else None (integer tensors skipped)."""
    for name, t in named:
        if not torch.is_floating_point(t) or t.numel() == 0:
            continue
        t = t.detach()
        if not bool(torch.isfinite(t).all()):
            kind = "nan" if bool(torch.isnan(t).any()) else "inf"
            return f"{name} holds {kind}"
        peak = float(t.abs().max())
        if peak > limit:
            return f"{name} holds values up to {peak:.3g}"
    return None


def broken_state(networks: Mapping[str, nn.Module | None],
                 optimizers: Mapping[str, torch.optim.Optimizer] | None = None) -> str | None:
    """Which weight or optimizer moment is already non-finite or huge (in words), or None.

    Weights beyond HUGE_WEIGHT and moments beyond HUGE_MOMENT count: a state like that
    came out of a divergence, and training on from it cannot recover (see
    `divergence_message`)."""
    for prefix, net in networks.items():
        if net is not None:
            found = _first_broken(((f"{prefix}.{k}", v) for k, v in net.state_dict().items()), HUGE_WEIGHT)
            if found:
                return found
    for prefix, opt in (optimizers or {}).items():
        moments = ((f"{prefix}'s {k} of parameter {i}", v) for i, st in enumerate(opt.state.values())
                   for k, v in st.items() if isinstance(v, Tensor) and k != "step")
        found = _first_broken(moments, HUGE_MOMENT)
        if found:
            return found
    return None


def divergence_message(step: int, who: str, what: str, cfg: "Config", broken: str | None = None) -> str:
    """The one message of a run that diverged.

    broken None: `who`'s `what` (loss, gradient) turned non-finite at `step` and the
    state before it is good, so a lower learning rate helps. broken (from
    `broken_state`, e.g. "G.net.0.weight holds inf", plus where, e.g. "in run folder X"):
    the weights or moments themselves are already non-finite or huge, so nothing but
    going back helps: reset, or rewind to a snapshot from before.
    """
    if broken is None:
        return (f"training diverged at step {step}: {who}'s {what} is not finite. The last good state "
                f"is kept; lower the learning rates (d_lr={cfg.d_lr:g}, g_lr={cfg.g_lr:g}), pick a more "
                "stable loss, or reset.")
    return (f"training diverged by step {step}: the weights or optimizer moments already hold huge or "
            f"non-finite values ({broken}). A lower learning rate cannot repair a state that is already broken: reset "
            "(start a new run), or rewind to the last snapshot from before the blow-up (the "
            "playground's history).")


class LossAverager:
    """Running means of D's and G's losses between two history rows."""

    def __init__(self, state: dict[str, float] | None = None) -> None:
        self.d_loss, self.g_loss, self.n = 0.0, 0.0, 0
        if state is not None:
            self.load_state_dict(state)

    def add(self, d_loss: float, g_loss: float) -> None:
        self.d_loss += d_loss
        self.g_loss += g_loss
        self.n += 1

    def pop(self) -> dict[str, float]:
        """{"d_loss", "g_loss"}: the means since the last pop; then start again."""
        out = {"d_loss": self.d_loss / self.n, "g_loss": self.g_loss / self.n}
        self.d_loss, self.g_loss, self.n = 0.0, 0.0, 0
        return out

    def state_dict(self) -> dict[str, float]:
        return {"d_loss": self.d_loss, "g_loss": self.g_loss, "n": self.n}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.d_loss, self.g_loss, self.n = float(state["d_loss"]), float(state["g_loss"]), int(state["n"])


def history_row(step: int, elapsed: float, cfg: "Config", losses: LossAverager,
                log_fields: Callable[[], dict[str, float]],
                evaluate: Callable[[], dict[str, float]] | None) -> dict[str, float] | None:
    """The history row due after iteration `step` (None when none is): mean losses every
    `cfg.log_every` steps (plus `log_fields()`), metrics every `cfg.eval_every` steps
    (`evaluate` None: the caller evaluates in a batch and adds them itself)."""
    row: dict[str, float] = {}
    if step % cfg.log_every == 0:
        row.update(losses.pop(), **log_fields())
    if evaluate is not None and cfg.eval_every and step % cfg.eval_every == 0:
        row.update(evaluate())
    return {"step": step, "time": round(elapsed, 4), **row} if row else None


# --- the step loop ------------------------------------------------------------------

@dataclass
class Progress:
    """What a progress hook receives after each chunk of steps (one run's losses; a
    side-by-side trainer reports each run's in `runs`)."""

    step: int
    total: int
    elapsed: float
    d_loss: float
    g_loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    runs: list[dict[str, float]] = field(default_factory=list)
    diverged: list[str | None] = field(default_factory=list)


ProgressHook = Callable[[Any, Progress], None]
StepHook = Callable[[Any], None]
StopHook = Callable[[], bool]


def drive(model: "TrainerBase", target: int, *, budget: float = 0.0, on_progress: ProgressHook | None = None,
          should_stop: StopHook | None = None, on_step: StepHook | None = None,
          progress_every: float = 0.5) -> None:
    """Step `model` until its step_count reaches `target`, `budget` seconds pass (0 = no
    limit), `should_stop()`, or `model.can_step` turns False; the loop every trainer shares.

    `on_step(model)` runs after every step; `on_progress(model, model.progress(target))`
    about every `progress_every` seconds and once at the end.
    """
    t_start = time.perf_counter()
    t_last = t_start
    while model.step_count < target and model.can_step:
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


# --- the contract -------------------------------------------------------------------

class RunBase(abc.ABC):
    """One run: its settings, data, record, and what its generator makes.

    cfg: the run's Config. info / data: its data set (on the trainer's device).
    history: rows {"step", "time", losses / metrics...}. last: the latest
    {"d_loss", "g_loss"}. diverged: why the run stopped (None while it trains).
    """

    cfg: "Config"
    info: "DataInfo"
    data: "Dataset"
    history: list[dict[str, float]]
    last: dict[str, float]
    diverged: str | None
    num_classes: int = 0

    @abc.abstractmethod
    def sample(self, n: int, seed: int = 0, *, ema: bool = True, labels: Tensor | None = None
               ) -> tuple[Tensor, Tensor | None]:
        """n fresh samples from latents of `seed` -> (x (n, *shape) float on the CPU in
        model space, y (n,) class labels or None). Uses the EMA generator when there is
        one and `ema`; conditional runs get `labels`, or balanced classes 0..K-1, 0, ..."""

    @abc.abstractmethod
    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        """G(z) in eval mode, no gradients: z (N, latent_dim), y (N,) or None -> (N, *shape)
        on the trainer's device."""

    @abc.abstractmethod
    def fixed_samples(self, ema: bool = False) -> Tensor:
        """G(the fixed noise batch) -> (n_fixed, *shape): the same latents at every step."""

    @abc.abstractmethod
    def evaluate(self, n: int | None = None, seed: int = EVAL_SEED) -> dict[str, float]:
        """Quality metrics on n (default cfg.eval_samples) fresh samples of latents `seed`."""


class TrainerBase(abc.ABC):
    """What is stepped: one run, or several in lockstep (`runs`).

    step_count: iterations done. elapsed: seconds spent in `step`.
    """

    step_count: int
    elapsed: float

    @property
    @abc.abstractmethod
    def runs(self) -> list[RunBase]:
        """The runs this trainer trains (a single trainer: itself)."""

    @property
    def can_step(self) -> bool:
        """False once no run can go on (every run of a side-by-side trainer diverged)."""
        return True

    @abc.abstractmethod
    def step(self, d: bool = True, g: bool = True) -> Any:
        """One iteration: D `d_steps` times, G `g_steps` times, EMA, history rows.
        `d=False` / `g=False` skip a network (single-stepping in a UI). Returns the
        iteration's losses (`last`: a dict, or one per run side by side)."""

    @abc.abstractmethod
    def progress(self, total: int) -> Progress:
        """The report a progress hook gets; `total` 0 means open-ended."""

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """An in-memory copy of the whole training state (for undo / rewind)."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Return to a `state_dict()`; history rows recorded after it are dropped."""

    def default_target(self) -> int:
        """The step count `run()` trains to when given no `steps`."""
        return max(max(r.cfg.steps for r in self.runs), self.step_count)

    def run(self, steps: int | None = None, *, on_progress: ProgressHook | None = None,
            should_stop: StopHook | None = None, progress_every: float = 0.5,
            minutes: float | None = None, on_step: StepHook | None = None) -> None:
        """Train `steps` more iterations (default: up to cfg.steps), for at most `minutes`
        (default cfg.minutes, 0 = no limit; a budget with no `steps` trains until it is
        spent), or until `should_stop()`. `on_progress` about every `progress_every`
        seconds and at the end; `on_step` after every iteration (e.g. to save progress
        grids at exact steps)."""
        cfg = self.runs[0].cfg
        target = self.step_count + steps if steps is not None else self.default_target()
        budget = (minutes if minutes is not None else cfg.minutes) * 60.0
        if budget > 0 and steps is None:
            target = 1 << 62
        drive(self, target, budget=budget, on_progress=on_progress, should_stop=should_stop,
              on_step=on_step, progress_every=progress_every)
