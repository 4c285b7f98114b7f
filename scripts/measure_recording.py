"""What the playground's recording costs: one capture of D's surface (`ganlab.probe.frame`)
at several grid sizes, against the 25 training steps between two captures, in one run on
one core (ratios, not seconds: these machines are shared).

    python -m scripts.measure_recording
"""
from __future__ import annotations

import time
from typing import Callable

import torch

from ganlab import probe
from ganlab.presets import resolve_config
from ganlab.train import Trainer

CAPTURE_EVERY = 25  # pages/1_Gaussian_playground.py


def seconds_per_call(f: Callable[[], object], n: int) -> float:
    f()  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n


def main() -> None:
    torch.set_num_threads(1)
    trainer = Trainer(resolve_config("ring8"))
    box = probe.view_box(trainer)
    step = seconds_per_call(trainer.step, 200)
    print(f"{CAPTURE_EVERY} training steps (ring8 preset): {CAPTURE_EVERY * step * 1e3:.1f} ms")
    for res in (48, 96, 144):
        capture = seconds_per_call(lambda: probe.frame(trainer, res=res, box=box * (res / 48)), 30)
        print(f"capture, {res} x {res} grid: {capture * 1e3:.1f} ms = "
              f"{capture / (CAPTURE_EVERY * step):.0%} of the steps between two captures")


if __name__ == "__main__":
    main()
