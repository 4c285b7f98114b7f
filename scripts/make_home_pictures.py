"""Draw the home page's lab cards (assets/home/*.png) with the engine: short real runs
of each lab's preset and the bundled MNIST generator. Deterministic (fixed seeds).

    python -m scripts.make_home_pictures            # about a minute on one CPU core
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganlab import probe
from ganlab.imageio import make_grid, to_pil
from ganlab.latent import slerp
from ganlab.presets import resolve_config
from ganlab.pretrained import load_generator
from ganlab.train import Trainer
from ui.render import rasterise

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "assets" / "home"
SIZE = (360, 240)  # every card's picture: 3:2


def _trained(preset: str, steps: int, **overrides: object) -> Trainer:
    trainer = Trainer(resolve_config(preset=preset, overrides={"eval_every": 0, **overrides}))
    for _ in range(steps):
        trainer.step()
    return trainer


def _points_card(trainer: Trainer, surface: bool = True) -> Image.Image:
    box = probe.view_box(trainer)
    surf = probe.d_surface(trainer, box, 64) if surface else None
    kind = probe.surface_kind(trainer.cfg.loss)
    rng = probe.surface_range(surf, kind) if surf is not None else (0.0, 1.0)
    img = rasterise(box, probe.real_points(trainer, 1500), probe.fake_points(trainer), surf, rng,
                    size=SIZE[1], dot=2)
    canvas = Image.new("RGB", SIZE, tuple(int(v) for v in img[0, 0]))
    canvas.paste(Image.fromarray(img), ((SIZE[0] - SIZE[1]) // 2, 0))
    return canvas


def one_d_card() -> Image.Image:
    """Figure 1 of Goodfellow et al. mid-run: data (dotted), G's density, D, z -> x lines."""
    frame = probe.frame_1d(_trained("gan1d", 250))
    w, h = SIZE
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    lo, hi = float(frame.xs[0]), float(frame.xs[-1])

    def px(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - lo) / (hi - lo) * (w - 20) + 10

    top = max(float(frame.real_pdf.max()), min(float(frame.fake_pdf.max()), 2.5)) * 1.1
    base = 150  # the x axis of the density panel

    def curve(y: np.ndarray, scale: float, colour: str, dotted: bool = False) -> None:
        pts = list(zip(px(frame.xs).tolist(), (base - np.minimum(y, scale) / scale * 130).tolist()))
        step = 2 if dotted else 1
        for i in range(0, len(pts) - 1, step):
            draw.line([pts[i], pts[i + 1]], fill=colour, width=3)

    z0, z1 = frame.z_range
    for z, x in zip(frame.z, frame.zx):
        zx = 10 + (z - z0) / (z1 - z0) * (w - 20)
        draw.line([(zx, 225), (float(px(np.clip(x, lo, hi))), 175)], fill=(120, 190, 120), width=1)
    draw.line([(10, 225), (w - 10, 225)], fill="black")
    draw.line([(10, 175), (w - 10, 175)], fill="black")
    draw.line([(10, base), (w - 10, base)], fill=(150, 150, 150))
    curve(frame.real_pdf, top, "#111111", dotted=True)
    curve(frame.fake_pdf, top, "#2ca02c")
    curve(frame.d, 1.0, "#1f77b4", dotted=True)
    return img


def digits_card(interpolate: bool) -> Image.Image:
    gen = load_generator("mnist-32")
    z = gen.latents(12, seed=3)
    if interpolate:  # one straight walk in latent space, a row of 6, twice
        t = torch.linspace(0, 1, 6)
        z = torch.cat([slerp(z[0], z[1], t), slerp(z[2], z[3], t)])
    grid = make_grid(gen(z), nrow=6, padding=2)
    return to_pil(grid).convert("RGB").resize(SIZE, Image.NEAREST)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    cards = {
        "gan_in_1d": one_d_card,
        "gaussian_playground": lambda: _points_card(_trained("ring8", 2500)),
        "latent_lab": lambda: _points_card(_trained("lab-latent-2d", 800, latent_dim=1), surface=False),
        "mnist_studio": lambda: digits_card(False),
        "latent_explorer": lambda: digits_card(True),
    }
    for name, make in cards.items():
        path = OUT / f"{name}.png"
        make().save(path, optimize=True)
        print(path.relative_to(ROOT), path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
