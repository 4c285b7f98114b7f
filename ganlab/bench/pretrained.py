"""`python -m ganlab bench pretrained`: generation time per image of progressive GANs.

Models: the published celebAHQ-256 / celebAHQ-512 architectures of
pytorch_GAN_zoo with random weights (no download: the time depends on the
architecture only), and the bundled 32x32 generators of assets/pgan/. For each
device (CPU, and CUDA where available) it times:
- batch 1: one image per call (a slider move), median of --repeats calls;
- an interpolation of --frames frames rendered as 1-image calls versus one
  batched call (how the latent explorer renders them), in ms per image, and the
  speed-up of batching.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from ganlab.bench import format_table
from ganlab.models.pgan import Generator, PGANConfig
from ganlab.pretrained import PretrainedGenerator

# The published celebaHQ checkpoints: depthScales of the zoo's celebaHQ training config
# (512, 512, 512, 512, 256, 128, 64, ...), latent 512, RGB, WGAN-GP (linear output).
ZOO_ARCHITECTURES = {
    "celebAHQ-256": PGANConfig(latent_dim=512, depth_scale0=512, depth_other_scales=(512, 512, 512, 256, 128, 64),
                               channels=3),
    "celebAHQ-512": PGANConfig(latent_dim=512, depth_scale0=512,
                               depth_other_scales=(512, 512, 512, 256, 128, 64, 32), channels=3),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default="celebAHQ-256,celebAHQ-512,mnist-32,fashion-32",
                   help="comma-separated: zoo architectures and/or bundled model names")
    p.add_argument("--frames", type=int, default=30, help="frames of the interpolation timing")
    p.add_argument("--repeats", type=int, default=5, help="batch-1 calls timed (the median is reported)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--devices", default="auto", help="cpu, cuda or auto (CPU, plus CUDA when available)")


def _generator(name: str, device: str) -> PretrainedGenerator:
    if name in ZOO_ARCHITECTURES:
        module = Generator(ZOO_ARCHITECTURES[name], torch.Generator().manual_seed(0))
        return PretrainedGenerator(module.to(device), name + " (random weights)", None)
    from ganlab.explore import load_bundled

    return load_bundled(name) if device == "cpu" else _to(load_bundled(name), device)


def _to(gen: PretrainedGenerator, device: str) -> PretrainedGenerator:
    gen.module.to(device)
    return gen


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _seconds(gen: PretrainedGenerator, z: torch.Tensor, device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    gen(z, batch_size=z.shape[0])
    _sync(device)
    return time.perf_counter() - t0


def time_model(name: str, device: str, frames: int, repeats: int) -> dict:
    """One row: ms per image at batch 1, for `frames` single calls and one batched call."""
    gen = _generator(name, device)
    z = gen.latents(frames, seed=0)
    _seconds(gen, z[:1], device)  # warm-up (allocations, cuDNN autotuning)
    single = statistics.median(_seconds(gen, z[i % frames:i % frames + 1], device) for i in range(repeats))
    separate = sum(_seconds(gen, z[i:i + 1], device) for i in range(frames))
    batched = _seconds(gen, z, device)
    return {"model": name, "device": device, "resolution": gen.resolution,
            "batch1_ms": round(1000 * single, 2),
            f"{frames}_separate_ms_per_image": round(1000 * separate / frames, 2),
            f"{frames}_batched_ms_per_image": round(1000 * batched / frames, 2),
            f"{frames}_frames_batched_s": round(batched, 3),
            "batching_speedup": round(separate / batched, 2)}


def run(args: argparse.Namespace) -> dict:
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.devices == "auto" \
        else [d.strip() for d in args.devices.split(",")]
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    rows = [time_model(name, device, args.frames, args.repeats) for device in devices for name in names]
    return {"threads": torch.get_num_threads(), "frames": args.frames, "rows": rows,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def table(result: dict) -> str:
    head = f"torch threads: {result['threads']}; GPU: {result['cuda'] or 'none'}\n"
    return head + format_table(result["rows"])
