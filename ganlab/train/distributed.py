"""Training on several processes with DistributedDataParallel (DDP).

    torchrun --nproc_per_node=N -m ganlab train ...

torchrun starts N copies of the command and sets RANK, WORLD_SIZE, LOCAL_RANK
and the rendezvous address in their environment; `init_from_env` joins the
process group (NCCL on CUDA GPUs, one GPU per local rank; gloo on the CPU).

What each rank does:
- builds the same data set and keeps its shard (every world-th image, `shard`);
- builds the same G and D from the run's seed (DDP also broadcasts rank 0's
  weights when it wraps them), then `wrap` points the trainer's update steps at
  DDP wrappers, so each step averages the gradients of all ranks;
- draws its batches and latents from its own stream: rank 0 keeps the run's
  generator (its state is the one saved), rank r > 0 reseeds it from (seed, r, step);
- batch_size is per rank (the global batch is world_size * batch_size);
- only rank 0 evaluates and writes outputs; all ranks stop together (`synced_stop`).
A resumed multi-process run continues rank 0's stream exactly; the other ranks'
streams restart from their (seed, rank, step) seed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ganlab.data.base import Dataset
from ganlab.errors import ConfigError

if TYPE_CHECKING:
    from ganlab.train.trainer import Trainer


@dataclass(frozen=True)
class DistContext:
    """This process's place in the group."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when the environment describes a group of more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str = "auto") -> DistContext | None:
    """Join the process group described by torchrun's environment; None for a single process.

    device: the run's device setting. "cpu" forces gloo; otherwise CUDA (NCCL) is
    used when GPUs are visible, each local rank taking its own GPU.
    """
    if not launched_by_torchrun():
        return None
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if device == "mps":
        raise ConfigError("multi-process training runs on CUDA GPUs (NCCL) or the CPU (gloo), not MPS; "
                          "use device=cpu or device=cuda")
    if use_cuda:
        if local >= torch.cuda.device_count():
            raise ConfigError(f"local rank {local} has no GPU ({torch.cuda.device_count()} visible); "
                              "start at most one process per GPU (--nproc_per_node)")
        torch.cuda.set_device(local)
    backend = "nccl" if use_cuda else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return DistContext(rank, world, local, backend)


def shard(data: Dataset, ctx: DistContext) -> Dataset:
    """This rank's share of a data set: samples rank, rank + world, rank + 2 world, ..."""
    if len(data) < ctx.world_size:
        raise ConfigError(f"the data set has {len(data)} samples, fewer than the {ctx.world_size} "
                          "processes; use fewer processes")
    idx = torch.arange(ctx.rank, len(data), ctx.world_size)
    y = None if data.y is None else data.y[idx]
    return Dataset(data.x[idx], data.info, y, dict(data.extras, shard=f"{ctx.rank}/{ctx.world_size}"))


def rank_seed(seed: int, rank: int, step: int) -> int:
    """A seed for rank r's batches and latents, distinct per (seed, rank, step)."""
    return (seed * 1_000_003 + rank * 7_919 + step * 104_729 + 1) % (1 << 63)


def wrap(trainer: "Trainer", ctx: DistContext) -> None:
    """Make `trainer` one rank of a DDP run (see the module docstring)."""
    ids = [ctx.local_rank] if trainer.device.type == "cuda" else None
    # Fakes are made in D's step and reused by G's, and G's loss calls the plain D:
    # every DDP forward is followed by exactly one backward, so no unused-parameter search.
    trainer.d_net = DistributedDataParallel(trainer.D, device_ids=ids)
    trainer.g_net = DistributedDataParallel(trainer.G, device_ids=ids)
    if ctx.rank > 0:
        trainer.rng.manual_seed(rank_seed(trainer.cfg.seed, ctx.rank, trainer.step_count))
        # Metrics are rank 0's job; evaluating draws nothing from the run's stream.
        trainer.cfg.eval_every = 0


def synced_stop(ctx: DistContext, local: Callable[[], bool], device: torch.device) -> Callable[[], bool]:
    """A `should_stop` for `Trainer.run` that is true on every rank as soon as it is on one
    (a time budget or Ctrl-C must not leave one rank waiting for the others)."""
    def stop() -> bool:
        flag = torch.tensor([1.0 if local() else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    return stop


def barrier_and_close(ctx: DistContext | None) -> None:
    """Leave the process group (after a last barrier so rank 0's files are complete)."""
    if ctx is not None and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
