"""`python -m ganlab bench toy`: quality of the tuned presets and trainer speed.

Quality: each tuned default preset (ring8, grid25) is trained from several seeds
on one CPU thread, then 2,500 samples are scored with the VEEGAN / PacGAN
protocol (modes captured, % high quality). Published reference figures are
printed beside ours.

Speed: steps/s (batch 256, 3 hidden layers of 128, one D and one G update) of
`Trainer` and of the plain textbook PyTorch loop of the same model (the PyTorch
DCGAN example's pattern: BCEWithLogitsLoss against freshly made label tensors,
D on real and on fake.detach() separately, G's loss through a D that also
accumulates its own gradients), measured in alternating rounds in one process.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from ganlab.bench import at_least, choices, format_table, int_list
from ganlab.config import Config
from ganlab.presets import resolve_config
from ganlab.train import Trainer

# The quality runs score modes captured and % high quality: only mixtures (data sets with
# mode centres, `DataInfo.modes`) have those figures.
MIXTURES = ("ring8", "grid25", "two_blobs", "cube8", "mixture1d")
PUBLISHED = {  # best published figures, 2,500 samples (VEEGAN / PacGAN / GDPP tables)
    "ring8": "8.0 modes / 71.7% HQ (GDPP); 7.9 / 95.6% (PacGAN2)",
    "grid25": "24.8 modes / 93.6% HQ (PacGAN4)",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds for the quality runs")
    p.add_argument("--data", default="ring8,grid25", help="data sets for the quality runs")
    p.add_argument("--rounds", type=int, default=5, help="alternating speed rounds")
    p.add_argument("--round-steps", type=int, default=300, help="steps per speed round")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")


def quality(data: str, seed: int) -> dict:
    cfg = resolve_config(data, None, {"seed": seed, "eval_every": 0})
    t = Trainer(cfg)
    t0 = time.perf_counter()
    t.run()
    seconds = time.perf_counter() - t0
    m = t.evaluate(2500, seed=10_000 + seed)
    return {"data": data, "seed": seed, "steps": t.step_count, "seconds": round(seconds, 1),
            "modes": int(m["modes_captured"]), "of": int(m["modes_total"]),
            "hq_pct": round(m["hq_pct"], 1), "js_bits": round(m["js"], 3)}


def _mlp(n_in: int, n_out: int, width: int = 128, layers: int = 3) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*mods, nn.Linear(width, n_out))


class TextbookLoop:
    """The classic loop, written the way the PyTorch examples write it."""

    def __init__(self, data: torch.Tensor, latent_dim: int = 2, batch: int = 256) -> None:
        torch.manual_seed(0)
        self.data, self.latent_dim, self.batch = data, latent_dim, batch
        self.G, self.D = _mlp(latent_dim, data.shape[1]), _mlp(data.shape[1], 1)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()

    def step(self) -> tuple[float, float]:
        b = self.batch
        real = self.data[torch.randint(len(self.data), (b,))]
        fake = self.G(torch.randn(b, self.latent_dim))
        self.opt_d.zero_grad()
        loss_d = self.criterion(self.D(real), torch.ones(b, 1)) + \
            self.criterion(self.D(fake.detach()), torch.zeros(b, 1))
        loss_d.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        loss_g = self.criterion(self.D(fake), torch.ones(b, 1))
        loss_g.backward()
        self.opt_g.step()
        return loss_d.item(), loss_g.item()


def speed(rounds: int, round_steps: int) -> dict:
    cfg = Config(data="ring8", g_layers=3, g_width=128, d_layers=3, d_width=128, batch_size=256,
                 latent_dim=2, d_steps=1, g_steps=1, eval_every=0, log_every=10**6)
    ours = Trainer(cfg)
    base = TextbookLoop(ours.data.x)
    for _ in range(20):  # warm-up: allocator and kernel caches
        ours.step()
        base.step()
    t_ours = t_base = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(round_steps):
            base.step()
        t1 = time.perf_counter()
        for _ in range(round_steps):
            ours.step()
        t2 = time.perf_counter()
        t_base += t1 - t0
        t_ours += t2 - t1
    n = rounds * round_steps
    return {"ganlab_steps_per_s": round(n / t_ours, 1), "textbook_steps_per_s": round(n / t_base, 1),
            "ratio": round(t_base / t_ours, 3)}


def run(args: argparse.Namespace) -> dict:
    # Every option is checked before the speed rounds: a typo in --seeds is not found minutes in.
    seeds = int_list(args.seeds, "--seeds")
    data = choices(args.data, "--data", MIXTURES)
    at_least(args.rounds, "--rounds")
    at_least(args.round_steps, "--round-steps")
    at_least(args.threads, "--threads")
    torch.set_num_threads(args.threads)
    out: dict = {"threads": args.threads}
    if not args.skip_speed:
        out["speed"] = speed(args.rounds, args.round_steps)
    if not args.skip_quality:
        rows = [quality(d, s) for d in data for s in seeds]
        out["quality"] = rows
        out["summary"] = {d: {"min_modes": min(r["modes"] for r in rows if r["data"] == d),
                              "min_hq_pct": min(r["hq_pct"] for r in rows if r["data"] == d),
                              "max_seconds": max(r["seconds"] for r in rows if r["data"] == d)}
                          for d in data}
    return out


def table(result: dict) -> str:
    parts = [f"torch threads: {result['threads']}"]
    if "speed" in result:
        s = result["speed"]
        parts.append("training speed (batch 256, 3x128 MLPs, 1 D + 1 G update per step)\n" + format_table([
            {"loop": "ganlab Trainer", "steps/s": s["ganlab_steps_per_s"]},
            {"loop": "textbook PyTorch", "steps/s": s["textbook_steps_per_s"]},
        ]) + f"\nratio ganlab / textbook: {s['ratio']:.2f}x")
    if "quality" in result:
        parts.append("quality of the tuned presets (2,500 samples)\n" + format_table(result["quality"]))
        parts.append("\n".join(
            f"{d}: worst seed {v['min_modes']} modes, {v['min_hq_pct']}% HQ, slowest {v['max_seconds']} s"
            f"   | published: {PUBLISHED.get(d, '-')}" for d, v in result["summary"].items()))
    return "\n\n".join(parts)
