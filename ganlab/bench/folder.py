"""`python -m ganlab bench folder`: training speed of the RaLSGAN DCGAN at 64 and 128 px.

Writes a synthetic image folder (--images random RGB pictures of 128 x 128 px: coloured
discs on noise, PNG) into a temporary directory, loads it through the image_folder
data set at each --sizes side, and trains the `ralsgan` / `ralsgan128` preset
(Jolicoeur-Martineau 2019: DCGAN at g_width = d_width = 64, batch 32, RaLSGAN) for
--steps timed iterations after --warmup untimed ones. Reported per size:
- img_per_s: real images shown to D per second (batch_size x steps / seconds); each
  iteration is one D update (a real and a fake batch) and one G update;
- s_per_step, the parameter counts of G and D, the device and threads.
The figures depend on the machine; docs/benchmarks.md records them with the command.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganlab.bench import at_least, format_table, int_list
from ganlab.errors import ConfigError
from ganlab.presets import resolve_config
from ganlab.train import Trainer, resolve_device

PRESET_OF_SIZE = {64: "ralsgan", 128: "ralsgan128"}
DEVICES = ("cpu", "cuda", "auto", "mps")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", default="64,128", help="comma-separated image sides (64 and / or 128)")
    p.add_argument("--steps", type=int, default=1, help="timed iterations per size (1 keeps a CPU run under a minute)")
    p.add_argument("--warmup", type=int, default=1, help="untimed iterations first (allocations, cuDNN)")
    p.add_argument("--images", type=int, default=64, help="pictures in the synthetic folder")
    p.add_argument("--batch", type=int, default=0, help="batch size (0 = the preset's 32)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")


def write_synthetic_folder(folder: Path, n: int, side: int = 128, seed: int = 0) -> Path:
    """n RGB PNGs (side x side) of a coloured disc on noise into `folder`; returns it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = rng.integers(0, 60, (side, side, 3), dtype=np.uint8)
        cy, cx, r = rng.integers(side // 4, 3 * side // 4, 2).tolist() + [int(rng.integers(side // 8, side // 3))]
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(80, 256, 3, dtype=np.uint8)
        Image.fromarray(img).save(folder / f"{i:04d}.png")
    return folder


def run(args: argparse.Namespace) -> dict:
    supported = " and ".join(map(str, PRESET_OF_SIZE))
    sizes = int_list(args.sizes, "--sizes", example="64,128")
    unsupported = [s for s in sizes if s not in PRESET_OF_SIZE]
    if unsupported:
        raise ConfigError(f"--sizes {unsupported[0]} is not supported; bench folder has presets for "
                          f"{supported} px (e.g. --sizes 64,128)")
    at_least(args.steps, "--steps")
    at_least(args.warmup, "--warmup", 0)
    at_least(args.images, "--images")
    at_least(args.batch, "--batch", 0)
    at_least(args.threads, "--threads", 0)
    if args.device not in DEVICES:  # resolve_device would hand an unknown name to torch
        raise ConfigError(f"--device {args.device!r} is not known; use one of {', '.join(DEVICES)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_synthetic_folder(Path(tmp) / "pictures", args.images)
        for size in sizes:
            overrides = {"data_path": str(folder), "device": args.device}
            if args.batch:
                overrides["batch_size"] = args.batch
            cfg = resolve_config(None, PRESET_OF_SIZE[size], overrides)
            tr = Trainer(cfg)
            for _ in range(args.warmup):
                tr.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                tr.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
            rows.append({"size": size, "batch": cfg.batch_size, "steps": args.steps,
                         "s_per_step": seconds / args.steps,
                         "img_per_s": cfg.batch_size * args.steps / seconds,
                         "g_params": sum(p.numel() for p in tr.G.parameters()),
                         "d_params": sum(p.numel() for p in tr.D.parameters()),
                         "device": str(device), "threads": torch.get_num_threads()})
    return {"rows": rows}


def table(result: dict) -> str:
    return format_table(result["rows"])
