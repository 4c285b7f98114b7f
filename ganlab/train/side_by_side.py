"""Side-by-side training: k GANs on the same data, differing in a few settings.

`side_by_side(cfgs)` returns a `MultiTrainer` (one batched computation) when the
runs share their shapes, else a `LoopTrainer` (k ordinary `Trainer`s in turn).
Both are `ganlab.train.base.TrainerBase`s: `step()`, `run()`, `progress()`,
`state_dict()`; `runs[i]` is run i as a `RunBase` (`sample`, `generate`,
`fixed_samples`, `evaluate`, `history`), and the lab reads all runs at once
through `histories`, `last`, `diverged`, `fixed_samples()` and `evaluate(runs)`.

Semantics: run i of a MultiTrainer gives the same numbers, to float tolerance,
as `Trainer(cfgs[i])` (see ganlab/train/trainer.py, which defines them): the same
initial weights (`build_models` from the run's seed), its own torch.Generator
seeded with seed + 1 drawing the data batch, the latents, dropout masks and GP
interpolation weights in the same order, the G update reusing the last D
update's fake batch, the same optimizer maths and the same history rows.

How the batch is built (why):
- Every run's G and D are stacked: layer l's weights of all runs form one
  (k, out, in) tensor and a hidden layer is one `baddbmm` over the k runs, so a
  step issues about as many kernels for k runs as for one. What that buys
  depends on the device: on a CPU the matmuls of these MLPs are compute bound
  and scale with k, so batching removes the per-op overhead only (measured with
  `python -m ganlab bench lab`: 4 runs cost ~3.4x one run, ~1.3x faster than 4
  Trainers in turn); on a GPU, where a small step is launch overhead, k runs
  should cost little more than one (not measured here: no GPU).
- Runs differing in latent dimension do not share G's first layer. Rather than
  group runs by shape (k = 4 latent sizes would give 4 groups of one: no batch),
  every latent is zero-padded to the largest dimension and the first layer's extra
  input columns start at zero. Their gradient is (upstream grad)^T (zero inputs)
  = exactly 0, so every optimizer leaves them at exactly 0 and the padded network
  computes exactly what the smaller one does (0 * w and + 0 add nothing).
- Each run's parameters are one row of a (k, P) buffer per network (layer weights
  are views into it), so the optimizer, the EMA, weight clipping and the
  divergence check are a handful of row-wise tensor ops whatever k is. The
  optimizers are re-implemented here on that buffer, with per-run
  hyperparameters as (k, 1) columns, because torch's take one learning rate
  per parameter group. Their formulas mirror torch's Adam / SGD / RMSprop.
- Random draws cannot be batched (each run owns a generator), so they are k small
  calls per update; the numbers they produce then travel as one (k, ...) tensor.
- Why not `torch.func.stack_module_state` + `vmap`: vmap over `functional_call`
  adds per-call cost on a CPU, and torch's optimizers would still need one
  learning rate per run. The stacked MLP is short; a one-off check at start
  (`_matches_modules`) makes sure it computes what ganlab.models.mlp computes,
  and `side_by_side` falls back to separate Trainers if it ever does not.

What batches: model `mlp` on point data (2-D / 3-D) with equal data options and
seed, network sizes, activation, dropout, pack, batch size, optimizer types, amp
and device. Per run may differ: latent_dim, latent_dist, loss (every loss,
weight clipping and the gradient penalty included), label smoothing, d_l2,
d_steps, g_steps, learning rates, lr_schedule, betas, momentum, ema, log and
eval settings.
Anything else (another model, different data or seeds, sizes, pack or optimizer
types, or a Config field this module does not know, such as d_mbstd) runs as a
`LoopTrainer`; `batch_blockers(cfgs)` says why.

A run whose loss or gradient turns non-finite stops there (its last good state is
kept and `diverged[i]` says why); the others go on. Live hyperparameter changes
(`Trainer.update`) are not offered: a lab comparison changes by a reset.
"""
from __future__ import annotations

import contextlib
import copy
import time
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.collapse import Diagnosis, collapse_metrics, diagnose, real_eigenvalues, reference_metrics
from ganlab.config import PER_RUN_FIELDS, SHARED_FIELDS, Config, field_types
from ganlab.data import Dataset, build_dataset
from ganlab.data.base import DataInfo
from ganlab.errors import ConfigError, DivergenceError
from ganlab.metrics.toy import toy_metrics
from ganlab.models import build_models
from ganlab.objective import Objective
from ganlab.seeds import EVAL_SEED, FIXED_NOISE_OFFSET, RUN_RNG_OFFSET
from ganlab.train.base import (LossAverager, Progress, RunBase, TrainerBase, divergence_message, draw_latent,
                               ema_decay, history_row, lr_factor, resolve_device, seeded_latents)
from ganlab.train.trainer import Trainer

MAX_RUNS = 8


class BatchMismatch(RuntimeError):
    """The stacked networks do not match the model family's (a bug, not a user error)."""


def batch_blockers(cfgs: Sequence[Config]) -> list[str]:
    """Why these runs cannot train as one batch ([] when they can)."""
    out = []
    for name in SHARED_FIELDS:
        values = sorted({str(getattr(c, name)) for c in cfgs})
        if len(values) > 1:
            out.append(f"{name} differs between runs ({', '.join(values)})")
    models = {c.model for c in cfgs}
    if models != {"mlp"}:
        out.append(f"model {', '.join(sorted(models))} (only model 'mlp' batches)")
    # A field this module does not know (e.g. one added to Config later) may change
    # what a step computes: such runs train unbatched rather than differently.
    default, known = Config(), set(SHARED_FIELDS) | set(PER_RUN_FIELDS)
    for name in field_types():
        used = sorted({str(getattr(c, name)) for c in cfgs if getattr(c, name) != getattr(default, name)})
        if name not in known and used:
            out.append(f"{name} = {', '.join(used)} is not batched")
    return out


def _check_runs(cfgs: Sequence[Config]) -> None:
    if not 1 <= len(cfgs) <= MAX_RUNS:
        raise ConfigError(f"side-by-side training takes 1 to {MAX_RUNS} runs, got {len(cfgs)}; "
                          "compare fewer values at once")
    for c in cfgs:
        c.validate()


def _check_points(info: DataInfo) -> None:
    if info.kind != "points":
        raise ConfigError(f"side-by-side runs train on 2-D / 3-D point sets; {info.name!r} is an "
                          "image set: use the MNIST studio page or `python -m ganlab train`")


class RunView(RunBase):
    """Run i of a side-by-side trainer, as a `RunBase` (reads the shared computation)."""

    def __init__(self, owner: "SideBySide", i: int) -> None:
        self.owner, self.i = owner, i

    @property
    def cfg(self) -> Config:  # type: ignore[override]
        return self.owner.cfgs[self.i]

    @property
    def info(self) -> DataInfo:  # type: ignore[override]
        return self.owner.infos[self.i]

    @property
    def data(self) -> Dataset:  # type: ignore[override]
        return self.owner._real(self.i)

    @property
    def history(self) -> list[dict[str, float]]:  # type: ignore[override]
        return self.owner.histories[self.i]

    @property
    def last(self) -> dict[str, float]:  # type: ignore[override]
        return self.owner.last[self.i]

    @property
    def diverged(self) -> str | None:  # type: ignore[override]
        return self.owner.diverged[self.i]

    def sample(self, n: int, seed: int = 0, *, ema: bool = True, labels: Tensor | None = None
               ) -> tuple[Tensor, None]:
        return self.owner._samples([self.i], n, seed, ema)[0], None

    def generate(self, z: Tensor, y: Tensor | None = None, *, ema: bool = False) -> Tensor:
        return self.owner._generate_run(self.i, z, ema)

    def fixed_samples(self, ema: bool = False) -> Tensor:
        return self.owner.fixed_samples(ema)[self.i]

    def evaluate(self, n: int | None = None, seed: int = EVAL_SEED) -> dict[str, float]:
        return self.owner.evaluate([self.i], n, seed)[0]


# --------------------------------------------------------------------------
# What both kinds of side-by-side trainer share: history, metrics, driving loop
# --------------------------------------------------------------------------


class SideBySide(TrainerBase):
    """k runs trained in lockstep; subclasses say how one iteration is done."""

    def __init__(self, cfgs: Sequence[Config], labels: Sequence[str] | None) -> None:
        _check_runs(cfgs)
        self.cfgs = [copy.deepcopy(c) for c in cfgs]
        self.k = len(cfgs)
        self.labels = list(labels) if labels is not None else [f"run {i + 1}" for i in range(self.k)]
        if len(self.labels) != self.k:
            raise ConfigError(f"{len(self.labels)} labels for {self.k} runs; give one label per run")
        self.step_count = 0
        self.elapsed = 0.0
        self.run_steps = [0] * self.k  # a diverged run stops counting
        self.histories: list[list[dict[str, float]]] = [[] for _ in range(self.k)]
        self.last = [{"d_loss": float("nan"), "g_loss": float("nan")} for _ in range(self.k)]
        self.diverged: list[str | None] = [None] * self.k
        self.losses = [LossAverager() for _ in range(self.k)]
        self._references: dict[tuple[int, int], dict[str, float]] = {}
        self._views = [RunView(self, i) for i in range(self.k)]

    # subclasses set these; `info` and `data` are (the first run's) data set, so that
    # views written for a Trainer (ganlab.probe.view_box, real_points) read them too
    batched: bool = False
    infos: list[DataInfo]
    info: DataInfo
    data: Dataset

    def _train(self, d: bool, g: bool) -> None:
        raise NotImplementedError

    def _samples(self, runs: list[int], n: int, seed: int, ema: bool) -> list[Tensor]:
        """Fresh samples of the given runs, each (n, *shape) float on CPU."""
        raise NotImplementedError

    def _generate_run(self, i: int, z: Tensor, ema: bool) -> Tensor:
        """Run i's G(z) for latents (N, latent_dim_i) -> (N, *shape)."""
        raise NotImplementedError

    def _real(self, i: int) -> Dataset:
        raise NotImplementedError

    def _training_state(self) -> dict[str, Any]:
        """The subclass's networks, optimizers and generators, copied."""
        raise NotImplementedError

    def _load_training_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- the contract ----------------------------------------------------
    @property
    def runs(self) -> list[RunBase]:
        return list(self._views)

    @property
    def alive(self) -> list[bool]:
        return [d is None for d in self.diverged]

    @property
    def can_step(self) -> bool:
        return any(self.alive)

    def step(self, d: bool = True, g: bool = True) -> list[dict[str, float]]:
        """One iteration of every live run (as Trainer.step); returns each run's last losses.

        Raises DivergenceError only when no run is left alive.
        """
        if not any(self.alive):
            raise DivergenceError("every run has diverged; reset to start again", self.step_count)
        t0 = time.perf_counter()
        before = self.alive
        self._train(d, g)
        self.step_count += 1
        self.elapsed += time.perf_counter() - t0
        for i in range(self.k):
            if before[i] and self.alive[i]:
                self.run_steps[i] += 1
        self._record([i for i in range(self.k) if before[i] and self.alive[i]])
        return [dict(x) for x in self.last]

    def progress(self, total: int) -> Progress:
        """Run 1's losses in `d_loss` / `g_loss`; every run's in `runs`, with `diverged`."""
        return Progress(self.step_count, total if total < (1 << 61) else 0, self.elapsed,
                        self.last[0]["d_loss"], self.last[0]["g_loss"],
                        runs=[dict(x) for x in self.last], diverged=list(self.diverged))

    def state_dict(self) -> dict[str, Any]:
        return {"training": self._training_state(), "step": self.step_count, "elapsed": self.elapsed,
                "run_steps": list(self.run_steps), "histories": [len(h) for h in self.histories],
                "last": copy.deepcopy(self.last), "diverged": list(self.diverged),
                "losses": [a.state_dict() for a in self.losses]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._load_training_state(state["training"])
        self.step_count, self.elapsed = state["step"], state["elapsed"]
        self.run_steps = list(state["run_steps"])
        for h, n in zip(self.histories, state["histories"]):
            del h[n:]
        self.last = copy.deepcopy(state["last"])
        self.diverged = list(state["diverged"])
        for a, s in zip(self.losses, state["losses"]):
            a.load_state_dict(s)

    def _record(self, runs: list[int]) -> None:
        """Trainer's history rows for each run that just stepped; the metric rows due are
        evaluated together (one batched sampling)."""
        rows: dict[int, dict[str, float] | None] = {}
        due = []
        for i in runs:
            cfg, s = self.cfgs[i], self.run_steps[i]
            self.losses[i].add(self.last[i]["d_loss"], self.last[i]["g_loss"])
            rows[i] = history_row(s, self.elapsed, cfg, self.losses[i], dict, None)
            if cfg.eval_every and s % cfg.eval_every == 0:
                due.append(i)
        for i, metrics in zip(due, self.evaluate(due)):
            row = rows[i] or {"step": self.run_steps[i], "time": round(self.elapsed, 4)}
            row.update(metrics)
            rows[i] = row
        for i, row in rows.items():
            if row is not None:
                self.histories[i].append(row)

    # --- samples and metrics -------------------------------------------
    def fixed_samples(self, ema: bool = False) -> list[Tensor]:
        """G(each run's fixed noise batch), k tensors (n_fixed, *shape) on CPU."""
        raise NotImplementedError

    def evaluate(self, runs: Sequence[int] | None = None, n: int | None = None,
                 seed: int = EVAL_SEED) -> list[dict[str, float]]:
        """Metrics of the given runs (default all): Trainer.evaluate's toy metrics plus the
        collapse measures (covariance eigenvalues eig1.., local_dim) of `collapse_metrics`."""
        runs = list(range(self.k)) if runs is None else list(runs)
        sizes = {i: n or self.cfgs[i].eval_samples for i in runs}
        fakes: dict[int, Tensor] = {}
        for size in sorted(set(sizes.values())):
            group = [i for i in runs if sizes[i] == size]
            fakes.update(zip(group, self._samples(group, size, seed, True)))
        out = []
        for i in runs:
            metrics = toy_metrics(self.infos[i], self._real(i).draw(sizes[i], seed), fakes[i])
            metrics.update(collapse_metrics(fakes[i]))
            out.append(metrics)
        return out

    def real_eigs(self, i: int = 0) -> np.ndarray:
        """Eigenvalues of the real data's covariance for run i's data set, ascending (D,)."""
        return real_eigenvalues(self.infos[i], self._real(i).x)

    def reference(self, i: int = 0, n: int = 2500) -> dict[str, float]:
        """`collapse_metrics` of n real points of run i's data (true eigenvalues when known)."""
        key = (id(self._real(i)), n)
        if key not in self._references:
            self._references[key] = reference_metrics(self.infos[i], self._real(i).draw(n, EVAL_SEED))
        return self._references[key]

    def diagnoses(self) -> list[Diagnosis]:
        """The collapse detector's verdict on each run's latest metric row."""
        out = []
        for i, rows in enumerate(self.histories):
            scored = [r for r in rows if "js" in r]
            if not scored:
                every = self.cfgs[i].eval_every
                when = f"at step {every}" if every else "when metrics are on (eval_every > 0)"
                out.append(Diagnosis("learning", note=f"no metrics yet: they come {when}"))
            else:
                out.append(diagnose(scored[-1], self.reference(i), scored[:-1]))
        return out


# --------------------------------------------------------------------------
# The fallback: k ordinary Trainers in turn
# --------------------------------------------------------------------------


class LoopTrainer(SideBySide):
    """k `Trainer`s stepped one after another (any settings; k times the cost of one)."""

    batched = False

    def __init__(self, cfgs: Sequence[Config], labels: Sequence[str] | None = None,
                 dataset: Dataset | None = None) -> None:
        super().__init__(cfgs, labels)
        shared = dataset
        if shared is None and len({c.data_options() for c in self.cfgs}) == 1:
            shared = build_dataset(self.cfgs[0].data_options())
        # History rows are recorded here (with the lab's extra metrics), not by the Trainers.
        self.trainers = [Trainer(c.replace(eval_every=0), shared) for c in self.cfgs]
        self.infos = [t.info for t in self.trainers]
        for info in self.infos:
            _check_points(info)
        self.info, self.data = self.infos[0], self.trainers[0].data  # the first run's

    def _train(self, d: bool, g: bool) -> None:
        for i, t in enumerate(self.trainers):
            if self.diverged[i] is not None:
                continue
            try:
                t.step(d, g)
            except DivergenceError as exc:
                self.diverged[i] = str(exc)
            self.last[i] = dict(t.last)

    def _samples(self, runs: list[int], n: int, seed: int, ema: bool) -> list[Tensor]:
        return [self.trainers[i].sample(n, seed, ema=ema)[0] for i in runs]

    def _generate_run(self, i: int, z: Tensor, ema: bool) -> Tensor:
        return self.trainers[i].generate(z, ema=ema)

    def _real(self, i: int) -> Dataset:
        return self.trainers[i].data

    def _training_state(self) -> dict[str, Any]:
        return {"trainers": [t.state_dict() for t in self.trainers]}

    def _load_training_state(self, state: dict[str, Any]) -> None:
        for t, s in zip(self.trainers, state["trainers"]):
            t.load_state_dict(s)

    def fixed_samples(self, ema: bool = False) -> list[Tensor]:
        return [t.fixed_samples(ema).float().cpu() for t in self.trainers]


# --------------------------------------------------------------------------
# Stacked networks and optimizers
# --------------------------------------------------------------------------


class StackedMLP:
    """k MLPs of one architecture as (k, P) parameters; forward (k, N, n_in) -> (k, N, n_out).

    The layer structure is that of ganlab.models.mlp._stack: Linear, activation
    (+ dropout) per hidden layer, then a Linear. `flat` row i holds run i's
    parameters, layer by layer (weight (out, in) then bias (out,)); the layer
    weights are leaf views into it, so autograd fills one .grad per layer.
    """

    def __init__(self, nets: Sequence[nn.Module], in_features: int, act: str, slope: float,
                 dropout: float, device: torch.device) -> None:
        layers = [[m for m in net.modules() if isinstance(m, nn.Linear)] for net in nets]
        self.sizes = [(lin.out_features, in_features if j == 0 else lin.in_features)
                      for j, lin in enumerate(layers[0])]
        self.flat = torch.zeros(len(nets), sum(o * i + o for o, i in self.sizes), device=device)
        self.weights, self.biases = self._views(self.flat)
        with torch.no_grad():
            for r, run_layers in enumerate(layers):
                for w, b, lin in zip(self.weights, self.biases, run_layers):
                    # A narrower first layer (smaller latent) fills the leading columns.
                    w[r, :, :lin.in_features].copy_(lin.weight)
                    b[r].copy_(lin.bias)
        self.leaves = [t for pair in zip(self.weights, self.biases) for t in pair]
        self.requires_grad_(True)
        self.act, self.slope, self.dropout = act, slope, dropout

    def requires_grad_(self, flag: bool) -> None:
        for t in self.leaves:
            t.requires_grad_(flag)

    def zero_grad(self) -> None:
        for t in self.leaves:
            t.grad = None

    def flat_grad(self) -> Tensor:
        """All layers' gradients as one (k, P) tensor, in `flat`'s layout."""
        k = self.flat.shape[0]
        return torch.cat([torch.zeros_like(t).reshape(k, -1) if t.grad is None else t.grad.reshape(k, -1)
                          for t in self.leaves], 1)

    def l2(self) -> Tensor:
        """Per run, the sum of squares of the weight matrices (penalties.l2_penalty) -> (k,)."""
        return torch.stack([w.square().sum((1, 2)) for w in self.weights]).sum(0)

    def _views(self, flat: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Per layer, weight (k, out, in) and bias (k, out) views into a (k, P) buffer."""
        k, ws, bs, off = flat.shape[0], [], [], 0
        for o, i in self.sizes:
            ws.append(flat[:, off:off + o * i].view(k, o, i))
            bs.append(flat[:, off + o * i:off + o * i + o])
            off += o * i + o
        return ws, bs

    def forward(self, x: Tensor, flat: Tensor | None = None,
                masks: Callable[[tuple[int, int]], Tensor] | None = None) -> Tensor:
        """x (k, N, n_in) -> (k, N, n_out); `flat` swaps in other parameters (the EMA copy);
        `masks(shape)` returns dropout keep masks (k, *shape) for each hidden layer."""
        ws, bs = (self.weights, self.biases) if flat is None else self._views(flat)
        h = x
        last = len(ws) - 1
        for j, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            if j < last:
                h = F.leaky_relu(h, self.slope) if self.act == "leaky_relu" else F.relu(h)
                if self.dropout > 0 and masks is not None:
                    h = h * masks(tuple(h.shape[1:])) / (1.0 - self.dropout)
        return h

    def export(self, i: int, net: nn.Module, flat: Tensor | None = None) -> nn.Module:
        """Copy run i's parameters into `net` (an MLP of the run's own, unpadded shape)."""
        ws, bs = self._views(self.flat if flat is None else flat)
        lins = [m for m in net.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for w, b, lin in zip(ws, bs, lins):
                lin.weight.copy_(w[i, :, :lin.in_features])
                lin.bias.copy_(b[i])
        return net


class StackedOptimizer:
    """Adam / SGD / RMSprop on a (k, P) parameter buffer, one hyperparameter set per row.

    The update of each row is torch's (torch.optim.Adam / SGD / RMSprop, default
    eps, no weight decay); rows not `active` in a step keep parameters, moments
    and step count untouched, as a run that did not update.
    """

    def __init__(self, name: str, flat: Tensor, lr: list[float], beta1: list[float],
                 beta2: list[float], momentum: list[float]) -> None:
        self.name, self.flat = name, flat
        self.lr, self.beta1, self.beta2, self.momentum = lr, beta1, beta2, momentum
        self.k = flat.shape[0]
        self.steps = [0] * self.k
        self.state: dict[str, Tensor] = {}
        if name == "adam":
            self.state = {"m": torch.zeros_like(flat), "v": torch.zeros_like(flat)}
        elif name == "rmsprop":
            self.state = {"v": torch.zeros_like(flat)}
        if name in ("sgd", "rmsprop") and any(m > 0 for m in momentum):
            self.state["buf"] = torch.zeros_like(flat)

    def _col(self, values: list[float]) -> float | Tensor:
        """A per-row coefficient: a Python float when all rows agree (fast scalar kernels)."""
        if all(v == values[0] for v in values):
            return values[0]
        return torch.tensor(values, dtype=self.flat.dtype, device=self.flat.device).unsqueeze(1)

    def state_dict(self) -> dict[str, Any]:
        """Moments, step counts and rates, copied."""
        return {"state": {k: v.clone() for k, v in self.state.items()}, "steps": list(self.steps),
                "lr": list(self.lr)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, v in state["state"].items():
            self.state[k].copy_(v)
        self.steps, self.lr = list(state["steps"]), list(state["lr"])

    @torch.no_grad()
    def step(self, grad: Tensor, active: list[bool]) -> None:
        """grad (k, P); rows with active False are left exactly as they are."""
        if not any(active):
            return
        if not all(active):  # where, not a product: a diverged row's NaN * 0 is NaN
            grad = torch.where(torch.tensor(active, device=grad.device).unsqueeze(1), grad, 0.0)
        on = [1.0 if a else 0.0 for a in active]
        lr = [lr * a for lr, a in zip(self.lr, on)]
        for i, a in enumerate(active):
            self.steps[i] += int(a)
        if self.name == "adam":
            self._adam(grad, active, lr)
        elif self.name == "sgd":
            self._sgd(grad, active, lr)
        else:
            self._rmsprop(grad, active, lr)

    def _adam(self, g: Tensor, active: list[bool], lr: list[float]) -> None:
        m, v = self.state["m"], self.state["v"]
        # The step count of an inactive row is irrelevant (its coefficients are 0 / 1).
        t = [max(s, 1) for s in self.steps]
        w1 = [(1.0 - b) if a else 0.0 for b, a in zip(self.beta1, active)]
        b2 = [b if a else 1.0 for b, a in zip(self.beta2, active)]
        c2 = [1.0 - b for b in b2]
        bc1 = [1.0 - b ** s for b, s in zip(self.beta1, t)]
        bc2_sqrt = [(1.0 - b ** s) ** 0.5 for b, s in zip(self.beta2, t)]
        step = [-lr_i / bc for lr_i, bc in zip(lr, bc1)]
        m.lerp_(g, self._col(w1))
        b2c, c2c = self._col(b2), self._col(c2)
        v.mul_(b2c)
        if isinstance(c2c, float):
            v.addcmul_(g, g, value=c2c)
        else:
            v.add_(g * g * c2c)
        denom = v.sqrt().div_(self._col(bc2_sqrt)).add_(1e-8)
        step_c = self._col(step)
        if isinstance(step_c, float):
            self.flat.addcdiv_(m, denom, value=step_c)
        else:
            self.flat.add_(m.div(denom).mul_(step_c))

    def _sgd(self, g: Tensor, active: list[bool], lr: list[float]) -> None:
        if "buf" in self.state:
            buf = self.state["buf"]
            buf.mul_(self._col([mo if a else 1.0 for mo, a in zip(self.momentum, active)])).add_(g)
            g = buf
        self._add(g, [-x for x in lr])

    def _rmsprop(self, g: Tensor, active: list[bool], lr: list[float]) -> None:
        v = self.state["v"]
        alpha = [b if a else 1.0 for b, a in zip(self.beta2, active)]
        v.mul_(self._col(alpha))
        c = self._col([1.0 - a for a in alpha])
        if isinstance(c, float):
            v.addcmul_(g, g, value=c)
        else:
            v.add_(g * g * c)
        avg = v.sqrt().add_(1e-8)
        if "buf" in self.state:
            buf = self.state["buf"]
            buf.mul_(self._col([mo if a else 1.0 for mo, a in zip(self.momentum, active)]))
            buf.addcdiv_(g, avg)
            self._add(buf, [-x for x in lr])
        else:
            self._add(g / avg, [-x for x in lr])

    def _add(self, upd: Tensor, scale: list[float]) -> None:
        c = self._col(scale)
        if isinstance(c, float):
            self.flat.add_(upd, alpha=c)
        else:
            self.flat.add_(upd * c)


# --------------------------------------------------------------------------
# The batched trainer
# --------------------------------------------------------------------------


class MultiTrainer(SideBySide):
    """k runs of one MLP architecture trained as one batched computation."""

    batched = True

    def __init__(self, cfgs: Sequence[Config], labels: Sequence[str] | None = None,
                 dataset: Dataset | None = None) -> None:
        super().__init__(cfgs, labels)
        blockers = batch_blockers(self.cfgs)
        if blockers:
            raise ConfigError("these runs cannot train as one batch: " + "; ".join(blockers) +
                              "; use side_by_side(...) to fall back to separate trainers")
        c0 = self.cfgs[0]
        self.device = resolve_device(c0.device)
        data = dataset if dataset is not None else build_dataset(c0.data_options())
        self.data = data.to(self.device)
        self.info = data.info
        _check_points(self.info)
        self.infos = [self.info] * self.k
        self.latent_dims = [c.latent_dim for c in self.cfgs]
        self.latent_max = max(self.latent_dims)
        gs, ds = zip(*(build_models(c, self.info) for c in self.cfgs))
        self.n_out = self.info.dim
        try:
            self.G = StackedMLP(gs, self.latent_max, c0.activation, c0.leaky_slope, 0.0, self.device)
            self.D = StackedMLP(ds, self.n_out * c0.pack, c0.activation, c0.leaky_slope, c0.d_dropout,
                                self.device)
        except RuntimeError as exc:  # layers of unexpected shapes: the MLP changed
            raise BatchMismatch(f"cannot stack these runs' networks ({exc})") from exc
        # MLPs standardise points with fixed buffers (x * scale + center out of G, the
        # inverse into D); the data is shared, so one pair serves every run.
        self.center = getattr(gs[0], "center", None)
        self.scale = getattr(gs[0], "scale", None)
        if self.center is not None:
            self.center, self.scale = self.center.to(self.device), self.scale.to(self.device)
        self._templates = (gs, ds)  # unpadded modules to export a run into
        self.G_ema = self.G.flat.detach().clone()
        self.has_ema = [c.ema > 0 for c in self.cfgs]
        self.rngs = [torch.Generator(self.device).manual_seed(c.seed + RUN_RNG_OFFSET) for c in self.cfgs]
        self.objectives = [Objective(c) for c in self.cfgs]
        self.opt_d = StackedOptimizer(c0.d_opt, self.D.flat, *self._hp("d_"))
        self.opt_g = StackedOptimizer(c0.g_opt, self.G.flat, *self._hp("g_"))
        self.batch, self.pack = c0.batch_size, c0.pack
        fixed = []
        for c in self.cfgs:
            f = torch.Generator().manual_seed(c.seed + FIXED_NOISE_OFFSET)
            fixed.append(draw_latent(c.n_fixed, c.latent_dim, c.latent_dist, f))
        self.fixed_z = self._pad(fixed).to(self.device)
        self._pending: Tensor | None = None
        if not self._matches_modules(gs, ds):
            raise BatchMismatch("the stacked MLP does not reproduce ganlab.models.mlp's networks; "
                                "train these runs with side_by_side(...) (separate trainers)")
        self._scheduled = any(c.lr_schedule != "constant" for c in self.cfgs)

    def _hp(self, p: str) -> list[list[float]]:
        return [[float(getattr(c, p + name)) for c in self.cfgs]
                for name in ("lr", "beta1", "beta2", "momentum")]

    def _autocast(self) -> Any:
        if self.cfgs[0].amp == "bf16" and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # --- random draws, per run in Trainer's order -------------------------
    def _pad(self, zs: list[Tensor]) -> Tensor:
        """Per-run latents (n, L_i) -> (k, n, L_max), zero-padded."""
        return torch.stack([F.pad(z, (0, self.latent_max - z.shape[1])) for z in zs])

    def _real_batch(self, active: list[bool]) -> Tensor:
        """(k, b, *shape): Dataset.sample's draw for each active run, zeros index otherwise."""
        n, b = len(self.data), self.batch
        idle = torch.zeros(b, dtype=torch.long, device=self.device)
        idx = torch.stack([torch.randint(n, (b,), generator=g, device=self.device) if a else idle
                           for g, a in zip(self.rngs, active)])
        return self.data.decode(self.data.x[idx])

    def _latents(self, active: list[bool]) -> Tensor:
        b = self.batch
        return self._pad([draw_latent(b, c.latent_dim, c.latent_dist, g, self.device) if a else
                          torch.zeros(b, c.latent_dim, device=self.device)
                          for c, g, a in zip(self.cfgs, self.rngs, active)])

    def _masks(self, active: list[bool]) -> Callable[[tuple[int, int]], Tensor]:
        """Dropout keep masks drawn as SeededDropout does, from each active run's generator."""
        p = self.cfgs[0].d_dropout

        def draw(shape: tuple[int, int]) -> Tensor:
            return torch.stack([
                torch.rand(shape, generator=g, device=self.device) >= p if a else
                torch.ones(shape, dtype=torch.bool, device=self.device)
                for g, a in zip(self.rngs, active)])
        return draw

    # --- the networks --------------------------------------------------
    def _g(self, z: Tensor, flat: Tensor | None = None) -> Tensor:
        """z (k, N, L_max) -> samples (k, N, *shape), in data units as MLPGenerator's."""
        x = self.G.forward(z, flat)
        if self.center is not None:
            x = torch.addcmul(self.center, x, self.scale)
        return x.view(x.shape[0], x.shape[1], *self.info.shape)

    def _d(self, x: Tensor, active: list[bool] | None) -> Tensor:
        """x (k, N, *shape) -> logits (k, N // pack), standardised as MLPDiscriminator's.

        active: the runs whose dropout masks are drawn (None: eval mode, no dropout)."""
        k, n = x.shape[:2]
        h = x.reshape(k, n, self.n_out)
        if self.center is not None:
            h = (h - self.center) / self.scale
        h = h.reshape(k, n // self.pack, self.n_out * self.pack)
        return self.D.forward(h, masks=None if active is None else self._masks(active)).squeeze(-1)

    @torch.no_grad()
    def _matches_modules(self, gs: Sequence[nn.Module], ds: Sequence[nn.Module]) -> bool:
        """Do the stacked networks compute what each run's own G and D compute?

        A guard against ganlab.models.mlp changing in a way this module does not
        mirror: checked once on a few points, from a generator of its own.
        """
        try:
            return self._compare(gs, ds)
        except RuntimeError:  # e.g. a layer of another shape
            return False

    def _compare(self, gs: Sequence[nn.Module], ds: Sequence[nn.Module]) -> bool:
        gen = torch.Generator().manual_seed(0)
        n = 4 * self.pack
        zs = [torch.randn(n, c.latent_dim, generator=gen) for c in self.cfgs]
        x = torch.randn(self.k, n, *self.info.shape, generator=gen).to(self.device)
        mine_g = self._g(self._pad(zs).to(self.device))
        mine_d = self._d(x, None)
        for i in range(self.k):
            was = ds[i].training
            ds[i].eval()  # dropout off on both sides
            theirs_g = gs[i].to(self.device)(zs[i].to(self.device))
            theirs_d = ds[i].to(self.device)(x[i])
            ds[i].train(was)
            if not (torch.allclose(mine_g[i], theirs_g, rtol=1e-4, atol=1e-5) and
                    torch.allclose(mine_d[i], theirs_d, rtol=1e-4, atol=1e-5)):
                return False
        return True

    def _gp(self, real: Tensor, fake: Tensor, runs: list[bool]) -> Tensor:
        """penalties.gradient_penalty per run -> (k,), eps drawn for `runs` only."""
        b = real.shape[1]
        shape = (b,) + (1,) * (real.dim() - 2)
        eps = torch.stack([torch.rand(shape, generator=g, device=self.device, dtype=real.dtype) if a
                           else torch.zeros(shape, device=self.device, dtype=real.dtype)
                           for g, a in zip(self.rngs, runs)])
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        out = self._d(x_hat, runs).float()
        (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
        grad = grad.reshape(self.k, out.shape[1], -1)
        return (grad.norm(2, dim=2) - 1.0).square().mean(1)

    # --- one iteration -------------------------------------------------
    def _apply_schedule(self) -> None:
        """Trainer._apply_schedule per run: each run's rates scaled by its schedule's factor."""
        factors = [lr_factor(c, s) for c, s in zip(self.cfgs, self.run_steps)]
        self.opt_d.lr = [c.d_lr * f for c, f in zip(self.cfgs, factors)]
        self.opt_g.lr = [c.g_lr * f for c, f in zip(self.cfgs, factors)]

    def _train(self, d: bool, g: bool) -> None:
        if self._scheduled:
            self._apply_schedule()
        if d:
            for j in range(max(c.d_steps for c, a in zip(self.cfgs, self.alive) if a)):
                act = [a and j < c.d_steps for c, a in zip(self.cfgs, self.alive)]
                keep = [g and a and j == c.d_steps - 1 for c, a in zip(self.cfgs, act)]
                self._d_step(act, keep)
        if not g or not any(self.alive):
            self._pending = None
            return
        for j in range(max(c.g_steps for c, a in zip(self.cfgs, self.alive) if a)):
            self._g_step([a and j < c.g_steps for c, a in zip(self.cfgs, self.alive)])
        self._update_ema()

    def _check(self, losses: dict[int, Tensor], net: StackedMLP, who: str) -> tuple[Tensor, list[bool]]:
        """Trainer._check per run: a run with a non-finite loss or gradient is marked diverged."""
        grad = net.flat_grad()
        norms = torch.linalg.vector_norm(grad, dim=1)
        ok = [False] * self.k
        vals = torch.stack(list(losses.values())).detach()
        finite = torch.isfinite(vals + norms[list(losses)]).tolist()
        for (i, _), fin in zip(losses.items(), finite):
            if fin:
                ok[i] = True
                continue
            what = "loss" if not torch.isfinite(losses[i].detach()) else "gradient"
            self.diverged[i] = divergence_message(self.run_steps[i], who, what, self.cfgs[i])
        return grad, ok

    def _d_step(self, act: list[bool], keep: list[bool]) -> None:
        """(1) One D update of the active runs; keeps the fakes of `keep` runs for G."""
        if not any(act):  # the runs with more D steps diverged earlier in this iteration
            return
        real = self._real_batch(act)
        z = self._latents(act)
        with self._autocast():
            with torch.set_grad_enabled(any(keep)):
                fake_graph = self._g(z)
            fake = fake_graph.detach()
            logits = self._d(torch.cat([real, fake.to(real.dtype)], 1), act).float()
            r, f = logits.chunk(2, dim=1)
            # The penalty terms of every run at once; each run's objective weighs its own.
            gp_runs = [act[i] and self.objectives[i].uses_gp for i in range(self.k)]
            gp = self._gp(real, fake.to(real.dtype), gp_runs) if any(gp_runs) else None
        l2 = self.D.l2() if any(act[i] and self.objectives[i].uses_l2 for i in range(self.k)) else None
        losses = {i: self.objectives[i].d_loss(
                      r[i], f[i], gp=gp[i] if gp_runs[i] else None,
                      l2=l2[i] if l2 is not None and self.objectives[i].uses_l2 else None)
                  for i in range(self.k) if act[i]}
        self.D.zero_grad()
        torch.stack(list(losses.values())).sum().backward()
        grad, ok = self._check(losses, self.D, "D")
        self.opt_d.step(grad, ok)
        self.D.zero_grad()
        self._clip(ok)
        self._keep_fakes(fake_graph, [k_ and o for k_, o in zip(keep, ok)])
        for i, v in zip(losses, torch.stack(list(losses.values())).tolist()):
            if ok[i]:
                self.last[i]["d_loss"] = v

    @torch.no_grad()
    def _clip(self, ok: list[bool]) -> None:
        runs = [i for i in range(self.k) if ok[i] and self.objectives[i].loss.constraint == "clip"]
        if len(runs) == self.k and len({self.cfgs[i].clip_value for i in runs}) == 1:
            c = self.cfgs[0].clip_value
            self.D.flat.clamp_(-c, c)
            return
        for i in runs:
            c = self.cfgs[i].clip_value
            self.D.flat[i].clamp_(-c, c)

    def _keep_fakes(self, fake_graph: Tensor, keep: list[bool]) -> None:
        """The G update reuses each run's last fake batch (graph included), as Trainer does."""
        if not any(keep):
            return
        if all(keep) or self._pending is None:
            self._pending = fake_graph
            if all(keep):
                return
        mask = torch.tensor(keep, device=self.device).view(self.k, *([1] * (fake_graph.dim() - 1)))
        self._pending = torch.where(mask, fake_graph, self._pending)

    def _g_step(self, act: list[bool]) -> None:
        """(2) One G update of the active runs."""
        pending, self._pending = self._pending, None
        if not any(act):
            return
        self.D.requires_grad_(False)
        try:
            with self._autocast():
                fake = pending if pending is not None else self._g(self._latents(act))
                f = self._d(fake, act).float()
                r = f  # unused by losses that do not read D(real)
                needs = [act[i] and self.objectives[i].g_needs_real for i in range(self.k)]
                if any(needs):
                    real = self._real_batch(needs)
                    with torch.no_grad():
                        r = self._d(real, needs).float()
                losses = {i: self.objectives[i].g_loss(r[i], f[i]) for i in range(self.k) if act[i]}
            self.G.zero_grad()
            torch.stack(list(losses.values())).sum().backward()
        finally:
            self.D.requires_grad_(True)
        grad, ok = self._check(losses, self.G, "G")
        self.opt_g.step(grad, ok)
        self.G.zero_grad()
        for i, v in zip(losses, torch.stack(list(losses.values())).tolist()):
            if ok[i]:
                self.last[i]["g_loss"] = v

    @torch.no_grad()
    def _update_ema(self) -> None:
        """Trainer._update_ema per run (warm-up decay from the run's own step count)."""
        w = []
        for i, c in enumerate(self.cfgs):
            s = self.run_steps[i]
            on = self.has_ema[i] and self.alive[i]
            w.append(1.0 - ema_decay(c.ema, s) if on else 0.0)
        if any(w):
            self.G_ema.lerp_(self.G.flat, w[0] if len(set(w)) == 1 else
                             torch.tensor(w, device=self.device).unsqueeze(1))

    # --- samples ---------------------------------------------------------
    @torch.no_grad()
    def _generate(self, z: Tensor, ema_rows: list[bool], chunk: int = 8192) -> Tensor:
        """G of each run on z (k, N, L_max) -> (k, N, *shape) float on CPU; rows with
        ema_rows True use the run's EMA weights."""
        flat = self.G.flat
        if any(ema_rows):
            mask = torch.tensor(ema_rows, device=self.device).unsqueeze(1)
            flat = torch.where(mask, self.G_ema, self.G.flat)
        out = [self._g(z[:, i:i + chunk].to(self.device), flat).float().cpu()
               for i in range(0, z.shape[1], chunk)]
        return torch.cat(out, 1)

    def _samples(self, runs: list[int], n: int, seed: int, ema: bool) -> list[Tensor]:
        zs = []
        for i, c in enumerate(self.cfgs):
            if i in runs:
                zs.append(seeded_latents(n, c.latent_dim, c.latent_dist, seed))
            else:
                zs.append(torch.zeros(n, c.latent_dim))
        x = self._generate(self._pad(zs), [ema and h for h in self.has_ema])
        return [x[i] for i in runs]

    def fixed_samples(self, ema: bool = False) -> list[Tensor]:
        return list(self._generate(self.fixed_z, [ema and h for h in self.has_ema]).unbind(0))

    def _real(self, i: int) -> Dataset:
        return self.data

    def _generate_run(self, i: int, z: Tensor, ema: bool) -> Tensor:
        zs = [z if j == i else torch.zeros(z.shape[0], c.latent_dim) for j, c in enumerate(self.cfgs)]
        return self._generate(self._pad([x.cpu() for x in zs]), [ema and h for h in self.has_ema])[i]

    def _training_state(self) -> dict[str, Any]:
        return {"G": self.G.flat.detach().clone(), "D": self.D.flat.detach().clone(),
                "G_ema": self.G_ema.clone(), "rngs": [r.get_state() for r in self.rngs],
                "opt_d": self.opt_d.state_dict(), "opt_g": self.opt_g.state_dict()}

    def _load_training_state(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.G.flat.copy_(state["G"])
            self.D.flat.copy_(state["D"])
            self.G_ema.copy_(state["G_ema"])
        for r, s in zip(self.rngs, state["rngs"]):
            r.set_state(s)
        self.opt_d.load_state_dict(state["opt_d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self._pending = None

    def models(self, i: int, ema: bool = False) -> tuple[nn.Module, nn.Module]:
        """Run i's (G, D) as ordinary modules (copies at its current weights)."""
        gs, ds = self._templates
        g = self.G.export(i, copy.deepcopy(gs[i]), self.G_ema if ema and self.has_ema[i] else None)
        return g, self.D.export(i, copy.deepcopy(ds[i]))


def side_by_side(cfgs: Sequence[Config], labels: Sequence[str] | None = None,
                 dataset: Dataset | None = None) -> SideBySide:
    """A MultiTrainer when the runs batch (see `batch_blockers`), else a LoopTrainer."""
    _check_runs(cfgs)
    if not batch_blockers(cfgs):
        try:
            return MultiTrainer(cfgs, labels, dataset)
        except BatchMismatch:
            pass  # the engine's MLP changed under this module: still train, unbatched
    return LoopTrainer(cfgs, labels, dataset)
