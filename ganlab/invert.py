"""GAN inversion: the latent whose generation looks most like a given picture.

A generator maps latents to images; inversion goes back by optimisation (the
"projection" of Zhu et al. 2016, "Generative Visual Manipulation on the Natural
Image Manifold", and of Karras et al. 2020, StyleGAN2 section 5): starting from
`starts` random latents at once, Adam moves every latent to lower
    pixel loss + feature_weight * feature loss
where the pixel loss is the mean squared error per pixel with pixels in [0, 1] and the
feature loss the mean squared difference of the project's classifier features
(`ganlab.classifier`, 64 features; given when the data set has a classifier) of the
generation and the target. After `steps` updates (a bounded number: a slider-speed
answer, not a perfect one) the start with the lowest loss wins.

An autoencoder needs no search: its encoder gives the code directly (`invert` uses
`encode` when the source has one).

How well it can work: a generator reproduces only what its training data resembles;
a face generator turns a digit into its nearest face. The distance says how close
the answer came.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.errors import ConfigError

Generate = Callable[[Tensor], Tensor]
Features = Callable[[Tensor], Tensor]
OnProgress = Callable[[int, int, float], None]


@dataclass
class Inversion:
    """latent: (1, latent_dim) the best latent found (CPU). image: (C, H, W) its generation
    in model space [-1, 1] (CPU). distance: mean squared error per pixel between image and
    target, pixels in [0, 1] (0 = identical, 1 = black vs white everywhere). loss: the
    optimised objective of the winner (pixel + weighted feature loss). steps: Adam updates
    done (0 for an encoder). start: the index of the winning start."""

    latent: Tensor
    image: Tensor
    distance: float
    loss: float
    steps: int
    start: int


def pixel_distance(a: Tensor, b: Tensor) -> Tensor:
    """Mean squared error per pixel of images (N, C, H, W) in [-1, 1], in [0, 1]-pixel units -> (N,)."""
    return (a - b).square().flatten(1).mean(1) / 4.0


def as_target(image: Tensor, channels: int, side: int) -> Tensor:
    """A picture (C, H, W) or (1, C, H, W), uint8 or float in [-1, 1] -> float (1, channels, side, side)
    (float input is taken as it is, not clipped: a generator's own outputs may overshoot):
    resized (area / bilinear) and converted grey <-> RGB to fit the generator."""
    x = image if image.dim() == 4 else image[None]
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ConfigError(f"a target picture is (C, H, W) with C = 1 or 3; got shape {tuple(image.shape)}")
    x = x.float() * (2.0 / 255.0) - 1.0 if image.dtype == torch.uint8 else x.float()
    if x.shape[1] != channels:
        x = x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, 3, -1, -1)
    if x.shape[-1] != side or x.shape[-2] != side:
        mode = "area" if x.shape[-1] > side else "bilinear"
        x = F.interpolate(x, size=(side, side), mode=mode, **({} if mode == "area" else {"align_corners": False}))
    return x


def classifier_features(data_name: str) -> Features | None:
    """The features (N, 64) of data set `data_name`'s classifier as a differentiable function of
    images (N, C, S, S) in [-1, 1]; None when the data set has no classifier."""
    from ganlab.classifier import has_classifier, load_classifier, to_classifier_input

    if not has_classifier(data_name):
        return None
    clf = load_classifier(data_name)
    clf.requires_grad_(False)
    return lambda x: clf.features(to_classifier_input(x))


def generator_of(source: Any, *, ema: bool = True) -> tuple[Generate, int, str, nn.Module]:
    """(differentiable generate z (N, d) -> images (N, C, S, S) in [-1, 1], d, latent
    distribution, the network) of a `PretrainedGenerator` (its `module`) or a trainer (its
    G, the EMA copy when `ema`). ConfigError for anything else."""
    module = getattr(source, "module", None)
    if isinstance(module, nn.Module) and hasattr(source, "latent_dim"):
        device = source.device
        return (lambda z: module(z.to(device))), int(source.latent_dim), "normal", module
    sampler = getattr(source, "_sampler", None)
    if sampler is not None:
        net = sampler(ema)
        device = source.device
        return (lambda z: net(z.to(device), None)), int(source.cfg.latent_dim), source.cfg.latent_dist, net
    raise ConfigError(f"cannot invert a {type(source).__name__}: give a loaded generator or a trainer")


def invert(source: Any, target: Tensor, *, starts: int = 4, steps: int = 200, lr: float = 0.05,
           feature_weight: float = 0.1, features: Features | None = None, seed: int = 0,
           on_progress: OnProgress | None = None, ema: bool = True) -> Inversion:
    """Find the latent of `source` (see `generator_of`; an autoencoder is encoded directly)
    whose image is closest to `target` (C, H, W) (uint8, or float in [-1, 1]; resized to fit).

    starts: random latents optimised together (seeded by `seed`, from the source's latent
    distribution). steps: Adam updates at learning rate `lr`. features: a differentiable
    feature map of images (e.g. `classifier_features(data_name)`), weighted by
    feature_weight; None = pixel loss only. on_progress(step, steps, best loss so far)
    after every update. Raises ConfigError for bad counts or an unusable source.
    """
    if starts < 1 or steps < 0:
        raise ConfigError(f"inversion needs starts >= 1 and steps >= 0; got starts={starts}, steps={steps}")
    if hasattr(source, "encode") and hasattr(source, "reconstruct"):
        return _encode(source, target, ema)
    generate, dim, dist, net = generator_of(source, ema=ema)
    was = net.training
    net.eval()  # batch-norm statistics of training, not of the latents being searched
    try:
        return _search(generate, dim, dist, target, starts, steps, lr, feature_weight, features, seed,
                       on_progress)
    finally:
        net.train(was)


def _search(generate: Generate, dim: int, dist: str, target: Tensor, starts: int, steps: int, lr: float,
            feature_weight: float, features: Features | None, seed: int,
            on_progress: OnProgress | None) -> Inversion:
    """`invert`'s optimisation over latents (see there)."""
    with torch.no_grad():
        probe = generate(torch.zeros(1, dim))
    goal = as_target(target, probe.shape[1], probe.shape[-1]).to(probe.device)
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn(starts, dim, generator=gen) if dist == "normal" else torch.rand(starts, dim, generator=gen) * 2 - 1
    z = z0.to(probe.device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    goal_feats = None if features is None else features(goal).detach()

    def losses(z: Tensor) -> Tensor:
        x = generate(z).float()
        loss = pixel_distance(x, goal)
        if goal_feats is not None:
            loss = loss + feature_weight * (features(x) - goal_feats).square().mean(1)
        return loss

    best = float("inf")
    for step in range(1, steps + 1):
        per_start = losses(z)
        (grad,) = torch.autograd.grad(per_start.sum(), z)  # only z: the generator's .grad stays untouched
        opt.zero_grad(set_to_none=True)
        z.grad = grad
        opt.step()
        best = min(best, float(per_start.detach().min()))
        if on_progress is not None:
            on_progress(step, steps, best)
    with torch.no_grad():
        final = losses(z)
        i = int(final.argmin())
        image = generate(z[i:i + 1]).float()
        return Inversion(z[i:i + 1].detach().cpu(), image[0].cpu(), float(pixel_distance(image, goal)),
                         float(final[i]), steps, i)


def _encode(source: Any, target: Tensor, ema: bool) -> Inversion:
    """An autoencoder's answer: code = encoder(target), image = decoder(code)."""
    shape = tuple(source.info.shape)
    goal = as_target(target, shape[0], shape[-1])
    code = source.encode(goal, ema=ema)
    image = source.generate(code, ema=ema).float().cpu()
    d = float(pixel_distance(image, goal)[0])
    return Inversion(code.cpu(), image[0], d, d, 0, 0)


__all__ = ["Inversion", "as_target", "classifier_features", "generator_of", "invert", "pixel_distance"]
